#!/usr/bin/env bash
# up.sh — start a small but REAL OpenStack (Zed, from Debian 12's packages) on
# 127.0.0.1, for the OpenStack backend's integration and contract tests.
#
# Why: the API's OpenStack backend must be proven against Nova's real REST API
# (microversions, task_state, faults, quotas), not a mock. Nova's fake virt
# driver and a no-op ML2 driver make "servers" that cost nothing while every
# API, scheduler, placement, quota and network code path is the real one.
#
# Services (each its own process group, PID recorded in $RUN/pids/):
#   epmd + RabbitMQ :5672   Keystone :5000 (uwsgi)   Glance :9292
#   Placement :8778 (uwsgi) Nova api :8774 (uwsgi), conductor, scheduler,
#   compute (fake.FakeDriver, host "mini-compute")   neutron-server :9696 (ML2
#   with pylib/mini_noop_mech.py and the L3 router plugin, no agents)
#   Cinder api :8776, scheduler, volume (pylib/mini_fake_volume.py, ENABLE_CINDER).
#   Databases are SQLite files.
# Nothing listens on anything but 127.0.0.1; no traffic leaves the machine.
#
# Then bootstrap.py creates what the tests need: users admin and demo, the
# catalog, images cirros-0.6, cirros, needs-10g-disk, needs-1g-ram, flavors m1.tiny..m1.xlarge, huge and
# quota-buster, the demo network "private" (shared with every project), the
# external network "public" (203.0.113.0/24) and the quotas (demo's, and the
# same as every project's default).
#
# Everything lives in $MINI_OS_RUN (default /tmp/mini-openstack): etc/ log/ db/
# pids/ state/ bin/, plus openrc, openrc.demo, clouds.yaml and stack.json for
# clients. Every run starts from an empty run dir. Stop with down.sh.
#
# Robustness: refuses to start over a running stack or on a busy port (and
# then stops nothing); if anything fails half-way it stops everything it
# started (KEEP_ON_FAIL=1 keeps it for debugging).
#
# Env knobs (defaults): MINI_OS_RUN (/tmp/mini-openstack), ADMIN_PASSWORD,
#   DEMO_PASSWORD, SERVICE_PASSWORD (secret), DEMO_QUOTA_INSTANCES (200),
#   DEMO_QUOTA_CORES (200), DEMO_QUOTA_RAM (-1 = unlimited), NOVA_QUOTA_* (the
#   defaults for other projects: 10/20/51200), *_PORT, DEBUG (False),
#   KEEP_ON_FAIL (0), WARMUP (1: boot+delete one server as admin at the end),
#   ENABLE_NEUTRON (1; 0 is NOT usable by clients, see README), ENABLE_CINDER (1),
#   NEUTRON_QUOTA_*, FLOATING_* (README).
#
# Layout: this file is the order of things; what each service needs (config,
# db sync, start, wait, bootstrap) lives in lib/<service>.sh as functions,
# with the settings and helpers in lib/common.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# One file per service, in the order up.sh uses them; common.sh first (settings, helpers).
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
for lib in rabbitmq keystone glance placement nova neutron cinder clients; do
  # shellcheck disable=SC1090
  . "$HERE/lib/$lib.sh"
done

preflight
arm_cleanup
make_run_dir

rabbitmq_start
keystone_setup
keystone_start

glance_config
placement_config
nova_config
[ "$ENABLE_NEUTRON" = 1 ] && neutron_config
[ "$ENABLE_CINDER" = 1 ] && cinder_config

# the databases, in parallel, while keystone starts and is bootstrapped
say "db syncs (glance, placement, nova_api, cells, nova$([ "$ENABLE_NEUTRON" = 1 ] && echo ", neutron")$([ "$ENABLE_CINDER" = 1 ] && echo ", cinder"))"
glance_db_sync
placement_db_sync
nova_db_sync
[ "$ENABLE_NEUTRON" = 1 ] && neutron_db_sync
[ "$ENABLE_CINDER" = 1 ] && cinder_db_sync
keystone_wait_and_bootstrap
wait_db_syncs
say "db syncs done"

glance_start
placement_start
[ "$ENABLE_NEUTRON" = 1 ] && neutron_start
rabbitmq_wait
nova_start
[ "$ENABLE_CINDER" = 1 ] && cinder_start

glance_wait_and_images
placement_wait
[ "$ENABLE_NEUTRON" = 1 ] && neutron_wait
nova_wait_api
[ "$ENABLE_CINDER" = 1 ] && cinder_wait
[ "$ENABLE_NEUTRON" = 1 ] && neutron_network
nova_flavors
nova_wait_compute
nova_quotas
nova_warmup

write_client_files
# Final check, as the demo user the tests use: token, flavors, images,
# network and quotas all visible; writes $RUN/stack.json (ids and endpoints).
say "verifying as demo; writing stack.json"
bootstrap_step verify "verify as demo"

elapsed >"$RUN/up.seconds"
READY=1
say "READY"
[ "$ENABLE_NEUTRON" = 1 ] || echo "WARNING: ENABLE_NEUTRON=0: GET /servers/{id} and /servers/detail will answer 500 (no network endpoint)" >&2
echo
echo "# mini-openstack is up (run dir $RUN). Client environment (demo user):"
grep '^export' "$RUN/openrc.demo"
echo "# admin: source $RUN/openrc ; clouds.yaml: $RUN/clouds.yaml (clouds mini-admin, mini-demo) ; ids: $RUN/stack.json"
echo "# compute: http://$HOST_IP:$NOVA_PORT/v2.1  image: http://$HOST_IP:$GLANCE_PORT  network: http://$HOST_IP:$NEUTRON_PORT  placement: http://$HOST_IP:$PLACEMENT_PORT  block-storage: http://$HOST_IP:$CINDER_PORT/v3"
