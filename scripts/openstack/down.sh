#!/usr/bin/env bash
# down.sh — stop the local OpenStack that up.sh started, by the PIDs up.sh
# recorded in $MINI_OS_RUN/pids (default /tmp/mini-openstack/pids).
#
# Each service was started with setsid, so its recorded PID is also its
# process-group id: we signal the whole group (the service and whatever it
# forked: uwsgi workers, neutron's workers, rabbit's beam/erl_child_setup).
# It never matches processes by name, so it cannot hit anything else on the
# machine. SIGTERM first, SIGKILL to groups still alive after 15 s.
#
# Safe to run twice, or when nothing runs. Logs, databases and configs stay
# in the run dir for post-mortems (PURGE=1 deletes the run dir). Exits 1 if
# a port the stack uses is still listening afterwards.
set -uo pipefail
RUN=${MINI_OS_RUN:-/tmp/mini-openstack}
[ -d "$RUN/pids" ] || { echo "down.sh: nothing to stop ($RUN/pids missing)"; exit 0; }

# consumers first, the broker last
ORDER="cinder-volume cinder-scheduler cinder-api nova-compute nova-scheduler nova-conductor nova-api neutron-server placement glance-api keystone rabbitmq epmd"
alive() { kill -0 "$1" 2>/dev/null; }
grp_alive() { kill -0 -- "-$1" 2>/dev/null; }

T0=$(date +%s%N)
pids=()
for name in $ORDER; do
  f="$RUN/pids/$name.pid"; [ -e "$f" ] || continue
  pid=$(cat "$f")
  case $pid in ''|*[!0-9]*|0|1) echo "down.sh: ignoring bad pid '$pid' in $f" >&2; continue ;; esac
  if grp_alive "$pid" || alive "$pid"; then
    if [ "$name" = rabbitmq ] && [ -x "$RUN/bin/rabbitmq-server" ]; then
      # a clean broker stop; the group signal below catches what is left
      timeout 20 "$RUN/bin/rabbitmq-server" rabbitmqctl -q shutdown >/dev/null 2>&1 || true
    fi
    echo "stopping $name (pgid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    pids+=("$name:$pid")
  fi
done
for _ in $(seq 1 60); do
  left=0
  for np in "${pids[@]}"; do grp_alive "${np#*:}" && left=1; done
  [ $left = 0 ] && break
  sleep 0.25
done
for np in "${pids[@]}"; do
  if grp_alive "${np#*:}"; then
    echo "killing ${np%%:*} (pgid ${np#*:}): still alive after 15 s"
    kill -KILL -- "-${np#*:}" 2>/dev/null || true
  fi
done
sleep 0.2
rm -f "$RUN"/pids/*.pid

# Report any port of the stack still listening (e.g. a service that was not
# started by this run dir). Ports as in up.sh's defaults / env.
rc=0
for p in ${RABBIT_PORT:-5672} ${RABBIT_DIST_PORT:-25672} ${EPMD_PORT:-4369} ${KEYSTONE_PORT:-5000} \
         ${GLANCE_PORT:-9292} ${PLACEMENT_PORT:-8778} ${NOVA_PORT:-8774} ${NEUTRON_PORT:-9696} ${CINDER_PORT:-8776}; do
  if command -v ss >/dev/null && ss -Hltn "sport = :$p" | grep -q .; then
    echo "down.sh: WARNING: port $p still listening: $(ss -Hltnp "sport = :$p" | head -1)" >&2; rc=1
  fi
done
if [ "${PURGE:-0}" = 1 ] && [ -e "$RUN/.mini-openstack" ]; then rm -rf "$RUN"; echo "purged $RUN"; fi
d=$(( ($(date +%s%N) - T0) / 1000000 ))
echo "down.sh: done in $((d / 1000)).$(printf '%03d' $((d % 1000)))s"
exit $rc
