# lib/common.sh — settings, helpers, preflight and failure cleanup shared by
# up.sh and the per-service files next to it. Sourced, never run.
#
# Every service file defines functions only (nothing runs when it is sourced);
# up.sh calls them in order. They share these globals: RUN, PY, HOST_IP, the
# *_PORT and *_PASSWORD settings, HERE (scripts/openstack), UWSGI_COMMON.

RUN=${MINI_OS_RUN:-/tmp/mini-openstack}
PY=/usr/bin/python3            # NOT the python3 on PATH (may be pyenv)
HOST_IP=127.0.0.1
ADMIN_PASSWORD=${ADMIN_PASSWORD:-secret}
SERVICE_PASSWORD=${SERVICE_PASSWORD:-secret}
DEMO_PASSWORD=${DEMO_PASSWORD:-secret}
RABBIT_PORT=${RABBIT_PORT:-5672}
RABBIT_DIST_PORT=${RABBIT_DIST_PORT:-25672}
EPMD_PORT=${EPMD_PORT:-4369}
KEYSTONE_PORT=${KEYSTONE_PORT:-5000}
GLANCE_PORT=${GLANCE_PORT:-9292}
PLACEMENT_PORT=${PLACEMENT_PORT:-8778}
NOVA_PORT=${NOVA_PORT:-8774}
NEUTRON_PORT=${NEUTRON_PORT:-9696}
CINDER_PORT=${CINDER_PORT:-8776}
# ENABLE_NEUTRON=0 is NOT usable for clients: without a `network` endpoint
# GET /servers/{id} and /servers/detail answer 500 (EndpointNotFound from the
# security-group lookup), os-start is a no-op and DELETE leaves ERROR.
ENABLE_NEUTRON=${ENABLE_NEUTRON:-1}
# Cinder (api, scheduler, volume with the fake driver): volumes for issue 10; 0 leaves it out
ENABLE_CINDER=${ENABLE_CINDER:-1}
DEBUG=${DEBUG:-False}
REGION=RegionOne
export DEMO_QUOTA_INSTANCES=${DEMO_QUOTA_INSTANCES:-200}
export DEMO_QUOTA_CORES=${DEMO_QUOTA_CORES:-200}
export DEMO_QUOTA_RAM=${DEMO_QUOTA_RAM:--1}
export HOST_IP ADMIN_PASSWORD SERVICE_PASSWORD DEMO_PASSWORD KEYSTONE_PORT \
  GLANCE_PORT PLACEMENT_PORT NOVA_PORT NEUTRON_PORT CINDER_PORT ENABLE_NEUTRON ENABLE_CINDER REGION RUN
export KEYSTONE_URL="http://$HOST_IP:$KEYSTONE_PORT"
SERVICE_USERS="nova glance placement"
[ "$ENABLE_NEUTRON" = 1 ] && SERVICE_USERS="$SERVICE_USERS neutron"
[ "$ENABLE_CINDER" = 1 ] && SERVICE_USERS="$SERVICE_USERS cinder"
export SERVICE_USERS
# Keep pyenv & co. out of the services' way.
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV || true
export PYTHONDONTWRITEBYTECODE=1
# pylib/: sitecustomize.py -> mini_sqlite_fix.py (SQLite "BEGIN IMMEDIATE" +
# busy_timeout 30 s, for nova-* and neutron only: MINI_OS_SQLITE_IMMEDIATE=1;
# without it nova-api randomly answered 500 "database is locked") and the
# mini_noop ML2 mechanism driver.
export PYTHONPATH="$HERE/pylib"


T0=$(date +%s%N)
elapsed() { local d=$(( ($(date +%s%N) - T0) / 1000000 )); printf '%d.%03d' $((d / 1000)) $((d % 1000)); }
say() { printf '[%8ss] %s\n' "$(elapsed)" "$*"; }

# ---------------------------------------------------------------- preflight
# Refusals here stop nothing: nothing has been started yet.
pdie() { echo "up.sh: $*" >&2; exit 1; }
preflight() {
  [ "$(id -u)" = 0 ] || pdie "must run as root (RabbitMQ and the services run as root, from the run dir)"
  case $RUN in /|/tmp|/tmp/|/root|/home|/usr*|/etc*|/var|"") pdie "refusing MINI_OS_RUN=$RUN" ;; esac
  if [ -d "$RUN/pids" ]; then
    for f in "$RUN"/pids/*.pid; do
      [ -e "$f" ] || continue
      if kill -0 "$(cat "$f")" 2>/dev/null; then
        pdie "a stack is already running ($f is alive); run down.sh first"
      fi
    done
  fi
  # up.sh wipes the run dir: only ever wipe one that up.sh made (marker file)
  if [ -e "$RUN" ] && [ ! -e "$RUN/.mini-openstack" ] && [ -n "$(ls -A "$RUN" 2>/dev/null)" ]; then
    pdie "$RUN exists, is not empty and was not made by up.sh; refusing to wipe it"
  fi
  for t in ss curl sqlite3 setsid uwsgi epmd; do command -v $t >/dev/null || pdie "$t missing; run install.sh"; done
  PORTS="$RABBIT_PORT $RABBIT_DIST_PORT $EPMD_PORT $KEYSTONE_PORT $GLANCE_PORT $PLACEMENT_PORT $NOVA_PORT"
  [ "$ENABLE_NEUTRON" = 1 ] && PORTS="$PORTS $NEUTRON_PORT"
  [ "$ENABLE_CINDER" = 1 ] && PORTS="$PORTS $CINDER_PORT"
  for p in $PORTS; do
    if ss -Hltn "sport = :$p" | grep -q .; then pdie "port $p already in use: $(ss -Hltnp "sport = :$p" | head -1)"; fi
  done
  $PY -c 'import nova, keystone, glance, placement' 2>/dev/null || pdie "python3-* OpenStack libs missing; run install.sh"
  if [ "$ENABLE_NEUTRON" = 1 ]; then $PY -c 'import neutron' 2>/dev/null || pdie "python3-neutron missing; run install.sh"; fi
  if [ "$ENABLE_CINDER" = 1 ]; then $PY -c 'import cinder.tests.fake_driver' 2>/dev/null || pdie "python3-cinder missing; run install.sh"; fi
}

# ---------------------------------------------------------------- cleanup on failure
# From here on, any failure (die, or a command failing under set -e, or
# Ctrl-C) stops everything started so far, unless KEEP_ON_FAIL=1.
READY=0
on_exit() {
  local rc=$?
  [ "$READY" = 1 ] && return 0
  echo "[$(elapsed)s] up.sh FAILED (exit $rc); logs: $RUN/log/" >&2
  if [ "${KEEP_ON_FAIL:-0}" = 1 ]; then
    echo "KEEP_ON_FAIL=1: leaving the half-started stack running; stop it with down.sh" >&2
  elif [ -d "$RUN/pids" ]; then
    echo "stopping what was started..." >&2
    MINI_OS_RUN=$RUN bash "$HERE/down.sh" >&2 || true
  fi
  [ "$rc" = 0 ] && rc=1
  exit "$rc"
}
arm_cleanup() {
  trap on_exit EXIT
  trap 'exit 130' INT TERM
}
die() { echo "[$(elapsed)s] ERROR: $*" >&2; exit 1; }

# A fresh run dir for every run (up.sh never reuses one).
make_run_dir() {
  rm -rf "$RUN"
  mkdir -p "$RUN"/{etc/keystone/fernet-keys,etc/keystone/credential-keys,etc/glance,etc/placement,etc/nova,etc/neutron/plugins/ml2,etc/rabbitmq,log,db,pids,bin,state/glance/images,state/nova/instances,state/nova/lock,state/neutron/lock,state/rabbitmq/mnesia}
  chmod 700 "$RUN/etc/keystone/fernet-keys" "$RUN/etc/keystone/credential-keys"
  echo "made by scripts/openstack/up.sh; wiped by its next run" >"$RUN/.mini-openstack"
}

# start_bg NAME CMD...   — own session/process group, pid recorded
start_bg() {
  local name=$1; shift
  setsid "$@" >>"$RUN/log/$name.out" 2>&1 </dev/null &
  echo $! >"$RUN/pids/$name.pid"
}
# wait_http NAME URL [TIMEOUT]  — until the URL answers with any HTTP status < 500
wait_http() {
  local name=$1 url=$2 t=${3:-90} i=0 code
  while :; do
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$url" || true)
    case $code in 2??|3??|4??) return 0 ;; esac
    if ! kill -0 "$(cat "$RUN/pids/$name.pid")" 2>/dev/null; then
      tail -30 "$RUN/log/$name.out" "$RUN/log/$name.log" 2>/dev/null >&2 || true
      die "$name died"
    fi
    i=$((i+1)); [ $i -gt $((t*4)) ] && die "$name not answering at $url after ${t}s"
    sleep 0.25
  done
}
# SQLite in WAL mode: readers never block the writer. Without it keystone
# fails its first catalog write with "database is locked" (a read statement of
# the same request is still open on another connection).
wal() { for db in "$@"; do sqlite3 "$db" 'PRAGMA journal_mode=WAL;' >/dev/null; done; }
# console-script wrappers (python3-nova ships no /usr/bin entry points)
mkscript() { # name module
  printf '#!%s\nimport sys\nfrom %s import main\nsys.exit(main())\n' "$PY" "$2" >"$RUN/bin/$1"
  chmod +x "$RUN/bin/$1"
}

# threads=1: with >1 thread, SQLAlchemy (NullPool) + pysqlite leak connections
# across threads ("SQLite objects created in a thread can only be used in that
# same thread") and then every writer gets "database is locked".
UWSGI_COMMON=(uwsgi --plugin python3 --master --processes 1 --threads 1 --enable-threads
  --die-on-term --need-app --lazy-apps --buffer-size 65535 --thunder-lock
  --add-header "Connection: close" --disable-logging)

authtoken() { # section body for keystonemiddleware / keystoneauth
  cat <<EOF
www_authenticate_uri = $KEYSTONE_URL
auth_url = $KEYSTONE_URL
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $SERVICE_PASSWORD
region_name = $REGION
EOF
}
# bootstrap_step STEP WHAT — one idempotent bootstrap.py step; its log is
# shown if it fails
bootstrap_step() {
  $PY "$HERE/bootstrap.py" "$1" >>"$RUN/log/bootstrap.out" 2>&1 || { cat "$RUN/log/bootstrap.out"; die "$2"; }
}

# A background db sync: its output goes to log/NAME.out, a failure leaves
# log/NAME.fail for wait_db_syncs (the syncs run in parallel: ~2x faster).
SYNC_PIDS=()
db_sync_bg() { # NAME CMD...
  local name=$1; shift
  ( "$@" >"$RUN/log/$name.out" 2>&1 || echo FAIL >"$RUN/log/$name.fail" ) &
  SYNC_PIDS+=($!)
}
wait_db_syncs() {
  wait "${SYNC_PIDS[@]}"
  for f in "$RUN"/log/*.fail; do [ -e "$f" ] && { tail -40 "${f%.fail}.out"; die "db sync failed: $f"; }; done
  wal "$RUN"/db/*.sqlite
}
