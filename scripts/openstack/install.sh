#!/usr/bin/env bash
# install.sh — install the Debian 12 (bookworm, OpenStack Zed) packages that
# up.sh needs to run a real, single-machine OpenStack on 127.0.0.1 for the
# OpenStack backend's integration/contract tests.
#
# Run as root. Non-interactive and idempotent: when every package is already
# installed it returns at once without touching apt.
#
# Why the *library* packages (python3-nova, python3-keystone, ...) and not the
# service packages (nova-api, keystone, glance-api, neutron-server, ...): the
# library packages have no postinst logic (no dbconfig-common, no debconf
# questions, no daemons, no endpoint registration), so there is nothing to
# preseed and nothing starts. up.sh runs every service itself, from the Python
# entry points, with its own configs in its own run directory.
#
# The only package that ships a daemon is rabbitmq-server. A temporary
# /usr/sbin/policy-rc.d (exit 101) stops its postinst from starting a broker;
# it is removed again afterwards if this script created it.
#
# Env knobs:
#   SKIP_APT_UPDATE=1   never run "apt-get update" (default: run it once before
#                       installing, or when the package lists are missing)
#   APT_EXTRA_OPTS      extra options for apt-get
#   INSTALL_NEUTRON=0   skip python3-neutron (up.sh then needs ENABLE_NEUTRON=0,
#                       which is NOT usable for the client tests)
#   INSTALL_CINDER=0    skip python3-cinder (up.sh then needs ENABLE_CINDER=0)
set -euo pipefail

PKGS=(
  python3-keystone python3-glance python3-placement python3-nova
  rabbitmq-server
  uwsgi-core uwsgi-plugin-python3
  python3-openstackclient
  sqlite3 curl jq iproute2 procps
)
[ "${INSTALL_NEUTRON:-1}" = 1 ] && PKGS+=(python3-neutron)
# the library only (no cinder-common: dbconfig, debconf, daemons); it ships the fake volume
# driver up.sh uses (cinder.tests.fake_driver.FakeLoggingVolumeDriver)
[ "${INSTALL_CINDER:-1}" = 1 ] && PKGS+=(python3-cinder)

if [ "$(id -u)" != 0 ]; then echo "install.sh: must run as root" >&2; exit 1; fi

export DEBIAN_FRONTEND=noninteractive
export DEBCONF_NONINTERACTIVE_SEEN=true

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install.sh: all ${#PKGS[@]} packages already installed"
  exit 0
fi
echo "install.sh: installing: ${missing[*]}"

created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# temporary, from scripts/openstack/install.sh: start no daemons\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

if [ "${SKIP_APT_UPDATE:-0}" != 1 ]; then
  # shellcheck disable=SC2086
  apt-get update -qq ${APT_EXTRA_OPTS:-}
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  ${APT_EXTRA_OPTS:-} "${PKGS[@]}"

# Sanity: the libraries must import in Debian's own interpreter (python3 on
# PATH may be pyenv, which cannot see /usr/lib/python3/dist-packages).
/usr/bin/python3 -c 'import keystone, glance, placement, nova' \
  || { echo "install.sh: OpenStack libraries do not import in /usr/bin/python3" >&2; exit 1; }
if [ "${INSTALL_NEUTRON:-1}" = 1 ]; then /usr/bin/python3 -c 'import neutron'; fi
if [ "${INSTALL_CINDER:-1}" = 1 ]; then /usr/bin/python3 -c 'import cinder.tests.fake_driver'; fi
echo "install.sh: done"
