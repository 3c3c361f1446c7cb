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
#   with pylib/mini_noop_mech.py, no agents). Databases are SQLite files.
# Nothing listens on anything but 127.0.0.1; no traffic leaves the machine.
#
# Then bootstrap.py creates what the tests need: users admin and demo, the
# catalog, images cirros-0.6 and cirros, flavors m1.tiny..m1.xlarge, huge and
# quota-buster, the demo network "private" and the demo project's quotas.
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
#   ENABLE_NEUTRON (1; 0 is NOT usable by clients, see README).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
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
# ENABLE_NEUTRON=0 is NOT usable for clients: without a `network` endpoint
# GET /servers/{id} and /servers/detail answer 500 (EndpointNotFound from the
# security-group lookup), os-start is a no-op and DELETE leaves ERROR.
ENABLE_NEUTRON=${ENABLE_NEUTRON:-1}
DEBUG=${DEBUG:-False}
REGION=RegionOne
export DEMO_QUOTA_INSTANCES=${DEMO_QUOTA_INSTANCES:-200}
export DEMO_QUOTA_CORES=${DEMO_QUOTA_CORES:-200}
export DEMO_QUOTA_RAM=${DEMO_QUOTA_RAM:--1}
export HOST_IP ADMIN_PASSWORD SERVICE_PASSWORD DEMO_PASSWORD KEYSTONE_PORT \
  GLANCE_PORT PLACEMENT_PORT NOVA_PORT NEUTRON_PORT ENABLE_NEUTRON REGION RUN
export KEYSTONE_URL="http://$HOST_IP:$KEYSTONE_PORT"
SERVICE_USERS="nova glance placement"
[ "$ENABLE_NEUTRON" = 1 ] && SERVICE_USERS="$SERVICE_USERS neutron"
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
for p in $PORTS; do
  if ss -Hltn "sport = :$p" | grep -q .; then pdie "port $p already in use: $(ss -Hltnp "sport = :$p" | head -1)"; fi
done
$PY -c 'import nova, keystone, glance, placement' 2>/dev/null || pdie "python3-* OpenStack libs missing; run install.sh"
if [ "$ENABLE_NEUTRON" = 1 ]; then $PY -c 'import neutron' 2>/dev/null || pdie "python3-neutron missing; run install.sh"; fi

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
trap on_exit EXIT
trap 'exit 130' INT TERM
die() { echo "[$(elapsed)s] ERROR: $*" >&2; exit 1; }

rm -rf "$RUN"
mkdir -p "$RUN"/{etc/keystone/fernet-keys,etc/keystone/credential-keys,etc/glance,etc/placement,etc/nova,etc/neutron/plugins/ml2,etc/rabbitmq,log,db,pids,bin,state/glance/images,state/nova/instances,state/nova/lock,state/neutron/lock,state/rabbitmq/mnesia}
chmod 700 "$RUN/etc/keystone/fernet-keys" "$RUN/etc/keystone/credential-keys"
echo "made by scripts/openstack/up.sh; wiped by its next run" >"$RUN/.mini-openstack"

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
mkscript nova-manage nova.cmd.manage
mkscript nova-conductor nova.cmd.conductor
mkscript nova-scheduler nova.cmd.scheduler
mkscript nova-compute nova.cmd.compute
mkscript glance-manage glance.cmd.manage
mkscript glance-api glance.cmd.api
printf '#!%s\nimport sys\nsys.path.insert(0, %s)\nimport mini_sqlite_fix\nmini_sqlite_fix.install()\nfrom nova.api.openstack.compute.wsgi import init_application\napplication = init_application()\n' "$PY" "'$HERE/pylib'" >"$RUN/bin/nova-api-wsgi"
if [ "$ENABLE_NEUTRON" = 1 ]; then
  mkscript neutron-server neutron.cmd.eventlet.server
  mkscript neutron-db-manage neutron.db.migration.cli
fi

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

# ---------------------------------------------------------------- RabbitMQ
cat >"$RUN/etc/rabbitmq/rabbitmq.conf" <<EOF
listeners.tcp.default = $HOST_IP:$RABBIT_PORT
loopback_users.guest = true
log.file.level = warning
EOF
echo '[].' >"$RUN/etc/rabbitmq/enabled_plugins"
rabbit_env() {
  env HOME="$RUN/state/rabbitmq" ERL_EPMD_ADDRESS=$HOST_IP ERL_EPMD_PORT=$EPMD_PORT \
    RABBITMQ_NODENAME=mini@localhost RABBITMQ_NODE_IP_ADDRESS=$HOST_IP \
    RABBITMQ_NODE_PORT=$RABBIT_PORT RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT \
    RABBITMQ_MNESIA_BASE="$RUN/state/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$RUN/log" \
    RABBITMQ_CONFIG_FILE="$RUN/etc/rabbitmq/rabbitmq.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$RUN/etc/rabbitmq/enabled_plugins" \
    RABBITMQ_PID_FILE="$RUN/state/rabbitmq/beam.pid" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    "$@"
}
say "starting epmd + rabbitmq"
# wrapper so that the server and rabbitmqctl see the same environment
{
  echo '#!/bin/bash'
  printf 'HOST_IP=%q EPMD_PORT=%q RABBIT_PORT=%q RABBIT_DIST_PORT=%q RUN=%q\n' \
    "$HOST_IP" "$EPMD_PORT" "$RABBIT_PORT" "$RABBIT_DIST_PORT" "$RUN"
  declare -f rabbit_env
  echo 'tool=${1:-rabbitmq-server}; shift || true'
  echo 'rabbit_env /usr/lib/rabbitmq/bin/$tool "$@"'
} >"$RUN/bin/rabbitmq-server"
chmod +x "$RUN/bin/rabbitmq-server"
start_bg epmd epmd -address $HOST_IP -port "$EPMD_PORT"
start_bg rabbitmq "$RUN/bin/rabbitmq-server"

# ---------------------------------------------------------------- Keystone
cat >"$RUN/etc/keystone/keystone.conf" <<EOF
[DEFAULT]
debug = $DEBUG
log_file = $RUN/log/keystone.log
[database]
connection = sqlite:///$RUN/db/keystone.sqlite
[token]
provider = fernet
[fernet_tokens]
key_repository = $RUN/etc/keystone/fernet-keys
[fernet_receipts]
key_repository = $RUN/etc/keystone/fernet-keys
[identity]
# bcrypt cost 4 (minimum) instead of 12: token issue and user create take
# ~1.8 s each on this 2-core box with the default
password_hash_rounds = 4
[credential]
key_repository = $RUN/etc/keystone/credential-keys
[cache]
enabled = false
EOF
KM=(keystone-manage --config-file "$RUN/etc/keystone/keystone.conf")
say "keystone: db_sync + fernet + bootstrap"
"${KM[@]}" db_sync >>"$RUN/log/keystone-manage.out" 2>&1 || die "keystone db_sync"
"${KM[@]}" fernet_setup --keystone-user root --keystone-group root >>"$RUN/log/keystone-manage.out" 2>&1
"${KM[@]}" credential_setup --keystone-user root --keystone-group root >>"$RUN/log/keystone-manage.out" 2>&1
"${KM[@]}" bootstrap --bootstrap-password "$ADMIN_PASSWORD" \
  --bootstrap-admin-url "$KEYSTONE_URL/v3/" --bootstrap-internal-url "$KEYSTONE_URL/v3/" \
  --bootstrap-public-url "$KEYSTONE_URL/v3/" --bootstrap-region-id "$REGION" \
  >>"$RUN/log/keystone-manage.out" 2>&1 || die "keystone bootstrap"
wal "$RUN/db/keystone.sqlite"

# threads=1: with >1 thread, SQLAlchemy (NullPool) + pysqlite leak connections
# across threads ("SQLite objects created in a thread can only be used in that
# same thread") and then every writer gets "database is locked".
UWSGI_COMMON=(uwsgi --plugin python3 --master --processes 1 --threads 1 --enable-threads
  --die-on-term --need-app --lazy-apps --buffer-size 65535 --thunder-lock
  --add-header "Connection: close" --disable-logging)
start_bg keystone "${UWSGI_COMMON[@]}" --http-socket "$HOST_IP:$KEYSTONE_PORT" \
  --wsgi-file /usr/bin/keystone-wsgi-public --env "OS_KEYSTONE_CONFIG_DIR=$RUN/etc/keystone" \
  --procname-prefix-spaced "[keystone]"

# ---------------------------------------------------------------- configs
cat >"$RUN/etc/glance/glance-api.conf" <<EOF
[DEFAULT]
debug = $DEBUG
bind_host = $HOST_IP
bind_port = $GLANCE_PORT
workers = 0
log_file = $RUN/log/glance-api.log
image_cache_dir = $RUN/state/glance/cache
[database]
connection = sqlite:///$RUN/db/glance.sqlite
[glance_store]
stores = file
default_store = file
filesystem_store_datadir = $RUN/state/glance/images
[paste_deploy]
flavor = keystone
config_file = $RUN/etc/glance/glance-api-paste.ini
[oslo_concurrency]
lock_path = $RUN/state/glance
[keystone_authtoken]
$(authtoken glance)
EOF
cat >"$RUN/etc/glance/glance-api-paste.ini" <<'EOF'
[pipeline:glance-api-keystone]
pipeline = cors healthcheck http_proxy_to_wsgi versionnegotiation osprofiler authtoken context rootapp
[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/: apiversions
/v2: apiv2app
[app:apiversions]
paste.app_factory = glance.api.versions:create_resource
[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory
[filter:healthcheck]
paste.filter_factory = oslo_middleware:Healthcheck.factory
backends = disable_by_file
disable_by_file_path = /nonexistent/healthcheck_disable
[filter:versionnegotiation]
paste.filter_factory = glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory
[filter:context]
paste.filter_factory = glance.api.middleware.context:ContextMiddleware.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
delay_auth_decision = true
[filter:osprofiler]
paste.filter_factory = osprofiler.web:WsgiMiddleware.factory
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = glance
oslo_config_program = glance-api
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware:HTTPProxyToWSGI.factory
EOF

cat >"$RUN/etc/placement/placement.conf" <<EOF
[DEFAULT]
debug = $DEBUG
log_file = $RUN/log/placement.log
[placement_database]
connection = sqlite:///$RUN/db/placement.sqlite
[api]
auth_strategy = keystone
[keystone_authtoken]
$(authtoken placement)
EOF

cat >"$RUN/etc/nova/nova.conf" <<EOF
[DEFAULT]
debug = $DEBUG
host = mini-compute
my_ip = $HOST_IP
state_path = $RUN/state/nova
instances_path = $RUN/state/nova/instances
transport_url = rabbit://guest:guest@$HOST_IP:$RABBIT_PORT/
compute_driver = fake.FakeDriver
allow_resize_to_same_host = True
osapi_compute_listen = $HOST_IP
osapi_compute_listen_port = $NOVA_PORT
osapi_compute_workers = 1
metadata_listen = $HOST_IP
enabled_apis = osapi_compute
report_interval = 5
service_down_time = 30
# default 60: every nova service delays its periodic tasks by random(0..60) s,
# so the scheduler's discover_hosts (and compute's resource update) ran up to
# a minute late; up.sh waited 29 s for the host mapping because of it
periodic_fuzzy_delay = 0
# the fake driver boots instantly; don't slow the lifecycle down
reboot_timeout = 0
resize_confirm_window = 0
graceful_shutdown_timeout = 5
[api]
auth_strategy = keystone
[wsgi]
api_paste_config = $RUN/etc/nova/api-paste.ini
[api_database]
connection = sqlite:///$RUN/db/nova_api.sqlite
[database]
connection = sqlite:///$RUN/db/nova.sqlite
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 2
[filter_scheduler]
track_instance_changes = False
[compute]
resource_provider_association_refresh = 60
[oslo_concurrency]
lock_path = $RUN/state/nova/lock
[oslo_messaging_rabbit]
heartbeat_timeout_threshold = 0
[quota]
# upstream defaults are 10 instances / 20 cores / 51200 MB per project
instances = ${NOVA_QUOTA_INSTANCES:-10}
cores = ${NOVA_QUOTA_CORES:-20}
ram = ${NOVA_QUOTA_RAM:-51200}
[keystone_authtoken]
$(authtoken nova)
[placement]
$(authtoken nova)
[glance]
valid_interfaces = public
[neutron]
$(authtoken nova)
valid_interfaces = public
[vnc]
enabled = False
[spice]
enabled = False
[serial_console]
enabled = False
[cinder]
catalog_info = volumev3::publicURL
[os_vif_linux_bridge]
[notifications]
notification_format = unversioned
[oslo_messaging_notifications]
driver = noop
EOF
cat >"$RUN/etc/nova/api-paste.ini" <<'EOF'
[composite:osapi_compute]
use = call:nova.api.openstack.urlmap:urlmap_factory
/: oscomputeversions
/v2: oscomputeversion_legacy_v2
/v2.1: oscomputeversion_v2
/v2/+: openstack_compute_api_v21_legacy_v2_compatible
/v2.1/+: openstack_compute_api_v21
[composite:openstack_compute_api_v21]
use = call:nova.api.auth:pipeline_factory_v21
keystone = cors http_proxy_to_wsgi compute_req_id faultwrap request_log sizelimit osprofiler authtoken keystonecontext osapi_compute_app_v21
[composite:openstack_compute_api_v21_legacy_v2_compatible]
use = call:nova.api.auth:pipeline_factory_v21
keystone = cors http_proxy_to_wsgi compute_req_id faultwrap request_log sizelimit osprofiler authtoken keystonecontext legacy_v2_compatible osapi_compute_app_v21
[filter:request_log]
paste.filter_factory = nova.api.openstack.requestlog:RequestLog.factory
[filter:compute_req_id]
paste.filter_factory = nova.api.compute_req_id:ComputeReqIdMiddleware.factory
[filter:faultwrap]
paste.filter_factory = nova.api.openstack:FaultWrapper.factory
[filter:osprofiler]
paste.filter_factory = nova.profiler:WsgiMiddleware.factory
[filter:sizelimit]
paste.filter_factory = oslo_middleware:RequestBodySizeLimiter.factory
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory
[filter:legacy_v2_compatible]
paste.filter_factory = nova.api.openstack:LegacyV2CompatibleWrapper.factory
[app:osapi_compute_app_v21]
paste.app_factory = nova.api.openstack.compute:APIRouterV21.factory
[pipeline:oscomputeversions]
pipeline = cors faultwrap request_log http_proxy_to_wsgi oscomputeversionapp
[pipeline:oscomputeversion_v2]
pipeline = cors compute_req_id faultwrap request_log http_proxy_to_wsgi oscomputeversionapp_v2
[pipeline:oscomputeversion_legacy_v2]
pipeline = cors compute_req_id faultwrap request_log http_proxy_to_wsgi legacy_v2_compatible oscomputeversionapp_v2
[app:oscomputeversionapp]
paste.app_factory = nova.api.openstack.compute.versions:Versions.factory
[app:oscomputeversionapp_v2]
paste.app_factory = nova.api.openstack.compute.versions:VersionsV2.factory
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = nova
[filter:keystonecontext]
paste.filter_factory = nova.api.auth:NovaKeystoneContext.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
EOF

if [ "$ENABLE_NEUTRON" = 1 ]; then
  cat >"$RUN/etc/neutron/neutron.conf" <<EOF
[DEFAULT]
debug = $DEBUG
bind_host = $HOST_IP
bind_port = $NEUTRON_PORT
api_workers = 0
rpc_workers = 0
rpc_state_report_workers = 0
log_file = $RUN/log/neutron-server.log
state_path = $RUN/state/neutron
core_plugin = ml2
service_plugins = router
transport_url = rabbit://guest:guest@$HOST_IP:$RABBIT_PORT/
auth_strategy = keystone
notify_nova_on_port_status_changes = False
notify_nova_on_port_data_changes = False
api_paste_config = $RUN/etc/neutron/api-paste.ini
[database]
connection = sqlite:///$RUN/db/neutron.sqlite
[oslo_concurrency]
lock_path = $RUN/state/neutron/lock
[keystone_authtoken]
$(authtoken neutron)
[nova]
$(authtoken nova)
[agent]
root_helper = /bin/false
EOF
  # python3-neutron ships no api-paste.ini (neutron-common does, with dbconfig)
  cat >"$RUN/etc/neutron/api-paste.ini" <<'EOF'
[composite:neutron]
use = egg:Paste#urlmap
/: neutronversions_composite
/v2.0: neutronapi_v2_0
[composite:neutronapi_v2_0]
use = call:neutron.auth:pipeline_factory
keystone = cors http_proxy_to_wsgi request_id catch_errors authtoken keystonecontext extensions neutronapiapp_v2_0
[composite:neutronversions_composite]
use = call:neutron.auth:pipeline_factory
keystone = cors http_proxy_to_wsgi neutronversions
[filter:request_id]
paste.filter_factory = oslo_middleware:RequestId.factory
[filter:catch_errors]
paste.filter_factory = oslo_middleware:CatchErrors.factory
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = neutron
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory
[filter:keystonecontext]
paste.filter_factory = neutron.auth:NeutronKeystoneContext.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
[filter:extensions]
paste.filter_factory = neutron.api.extensions:plugin_aware_extension_middleware_factory
[app:neutronversions]
paste.app_factory = neutron.pecan_wsgi.app:versions_factory
[app:neutronapiapp_v2_0]
paste.app_factory = neutron.api.v2.router:APIRouter.factory
EOF
  cat >"$RUN/etc/neutron/plugins/ml2/ml2_conf.ini" <<EOF
[ml2]
type_drivers = flat,vlan,local
tenant_network_types = local
# no agents: the stock drivers (openvswitch, linuxbridge) only bind ports on hosts
# with a live agent, so every boot failed with PortBindingFailed. mini_noop
# (pylib/mini_noop_mech.py, on PYTHONPATH) binds every port (vif_type ovs, status ACTIVE).
mechanism_drivers = mini_noop
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
EOF
fi

# ---------------------------------------------------------------- DB syncs
NM=("$RUN/bin/nova-manage" --config-file "$RUN/etc/nova/nova.conf")
say "db syncs (glance, placement, nova_api, cells, nova$([ "$ENABLE_NEUTRON" = 1 ] && echo ", neutron"))"
( "$RUN/bin/glance-manage" --config-file "$RUN/etc/glance/glance-api.conf" db_sync >"$RUN/log/glance-manage.out" 2>&1 \
    || echo FAIL >"$RUN/log/glance-manage.fail" ) &
P1=$!
( placement-manage --config-file "$RUN/etc/placement/placement.conf" db sync >"$RUN/log/placement-manage.out" 2>&1 \
    || echo FAIL >"$RUN/log/placement-manage.fail" ) &
P2=$!
(
  set -e
  "${NM[@]}" api_db sync
  "${NM[@]}" cell_v2 map_cell0 --database_connection "sqlite:///$RUN/db/nova_cell0.sqlite"
  "${NM[@]}" cell_v2 create_cell --name cell1 --verbose
  "${NM[@]}" db sync
) >"$RUN/log/nova-manage.out" 2>&1 || echo FAIL >"$RUN/log/nova-manage.fail" &
P3=$!
if [ "$ENABLE_NEUTRON" = 1 ]; then
  # `neutron-db-manage upgrade heads` fails on SQLite ("No support for ALTER of
  # constraints in SQLite dialect"): create the schema from the models (as
  # neutron's own SQLite tests do) and stamp the alembic heads instead.
  ( set -e
    $PY -c 'import sys, sqlalchemy as sa
from neutron.db.migration.models import head
head.get_metadata().create_all(sa.create_engine(sys.argv[1]))' "sqlite:///$RUN/db/neutron.sqlite"
    "$RUN/bin/neutron-db-manage" --config-file "$RUN/etc/neutron/neutron.conf" \
      --config-file "$RUN/etc/neutron/plugins/ml2/ml2_conf.ini" stamp heads
  ) >"$RUN/log/neutron-db-manage.out" 2>&1 || echo FAIL >"$RUN/log/neutron-db-manage.fail" &
  P4=$!
fi

wait_http keystone "$KEYSTONE_URL/v3" 60
say "keystone up; creating projects/users/catalog"
$PY "$HERE/bootstrap.py" keystone >>"$RUN/log/bootstrap.out" 2>&1 || { cat "$RUN/log/bootstrap.out"; die "keystone bootstrap.py"; }

wait $P1 $P2 $P3 ${P4:-}
for f in "$RUN"/log/*.fail; do [ -e "$f" ] && { tail -40 "${f%.fail}.out"; die "db sync failed: $f"; }; done
wal "$RUN"/db/*.sqlite
say "db syncs done"

# ---------------------------------------------------------------- services
start_bg glance-api "$RUN/bin/glance-api" --config-file "$RUN/etc/glance/glance-api.conf"
start_bg placement "${UWSGI_COMMON[@]}" --http-socket "$HOST_IP:$PLACEMENT_PORT" \
  --wsgi-file /usr/bin/placement-api --env "OS_PLACEMENT_CONFIG_DIR=$RUN/etc/placement" \
  --procname-prefix-spaced "[placement]"
if [ "$ENABLE_NEUTRON" = 1 ]; then
  start_bg neutron-server env MINI_OS_SQLITE_IMMEDIATE=1 "$RUN/bin/neutron-server" --config-file "$RUN/etc/neutron/neutron.conf" \
    --config-file "$RUN/etc/neutron/plugins/ml2/ml2_conf.ini"
fi

# rabbit must be up before the nova services
say "waiting for rabbitmq"
"$RUN/bin/rabbitmq-server" rabbitmqctl -q wait --timeout 60 "$RUN/state/rabbitmq/beam.pid" >>"$RUN/log/rabbitmq.out" 2>&1 \
  || die "rabbitmq did not start"
say "rabbitmq up"

start_bg nova-api "${UWSGI_COMMON[@]}" --http-socket "$HOST_IP:$NOVA_PORT" \
  --wsgi-file "$RUN/bin/nova-api-wsgi" --env "OS_NOVA_CONFIG_DIR=$RUN/etc/nova" \
  --procname-prefix-spaced "[nova-api]"
start_bg nova-conductor env MINI_OS_SQLITE_IMMEDIATE=1 "$RUN/bin/nova-conductor" --config-file "$RUN/etc/nova/nova.conf" --log-file "$RUN/log/nova-conductor.log"
start_bg nova-scheduler env MINI_OS_SQLITE_IMMEDIATE=1 "$RUN/bin/nova-scheduler" --config-file "$RUN/etc/nova/nova.conf" --log-file "$RUN/log/nova-scheduler.log"
# nova-compute pings the conductor at start; if the conductor's queue does not
# exist yet the ping is lost and compute waits a fixed 10 s before retrying.
for i in $(seq 1 120); do
  "$RUN/bin/rabbitmq-server" rabbitmqctl -q list_queues name consumers 2>/dev/null \
    | grep -qE '^conductor[[:space:]]+[1-9]' && break
  sleep 0.25
done
start_bg nova-compute env MINI_OS_SQLITE_IMMEDIATE=1 "$RUN/bin/nova-compute" --config-file "$RUN/etc/nova/nova.conf" --log-file "$RUN/log/nova-compute.log"

wait_http glance-api "http://$HOST_IP:$GLANCE_PORT/" 60
say "glance up; uploading images cirros-0.6 and cirros"
$PY "$HERE/bootstrap.py" image >>"$RUN/log/bootstrap.out" 2>&1 || { cat "$RUN/log/bootstrap.out"; die "image upload"; }
wait_http placement "http://$HOST_IP:$PLACEMENT_PORT/" 60
[ "$ENABLE_NEUTRON" = 1 ] && wait_http neutron-server "http://$HOST_IP:$NEUTRON_PORT/" 90
wait_http nova-api "http://$HOST_IP:$NOVA_PORT/" 90
if [ "$ENABLE_NEUTRON" = 1 ]; then
  say "neutron up; creating demo network 'private' 10.0.0.0/24"
  $PY "$HERE/bootstrap.py" network >>"$RUN/log/bootstrap.out" 2>&1 || { cat "$RUN/log/bootstrap.out"; die "network"; }
fi
say "nova-api up; creating flavors"
$PY "$HERE/bootstrap.py" flavors >>"$RUN/log/bootstrap.out" 2>&1 || { cat "$RUN/log/bootstrap.out"; die "flavors"; }

say "waiting for nova-compute + host discovery"
WAIT_NOVA_TIMEOUT=120 $PY "$HERE/bootstrap.py" wait-nova >>"$RUN/log/bootstrap.out" 2>&1 || { cat "$RUN/log/bootstrap.out"; die "nova-compute not up"; }
# the scheduler discovers hosts every 2 s; wait for the host mapping, and
# run discover_hosts ourselves if it has not happened after 5 s
for i in $(seq 1 120); do
  n=$(sqlite3 "$RUN/db/nova_api.sqlite" "select count(*) from host_mappings" 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 1 ] && break
  if [ "$i" = 10 ]; then "${NM[@]}" cell_v2 discover_hosts --verbose >>"$RUN/log/nova-manage.out" 2>&1 || true; fi
  sleep 0.5
done
[ "${n:-0}" -ge 1 ] || die "compute host never mapped to cell1"
# and for placement to know the compute node (inventory reported)
for i in $(seq 1 120); do
  n=$(sqlite3 "$RUN/db/placement.sqlite" "select count(*) from inventories" 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 1 ] && break
  sleep 0.5
done
[ "${n:-0}" -ge 1 ] || die "no inventory in placement"

say "demo project: quotas instances=$DEMO_QUOTA_INSTANCES cores=$DEMO_QUOTA_CORES ram=$DEMO_QUOTA_RAM"
$PY "$HERE/bootstrap.py" quotas >>"$RUN/log/bootstrap.out" 2>&1 || { cat "$RUN/log/bootstrap.out"; die "quotas"; }

if [ "${WARMUP:-1}" = 1 ]; then
  # the first boot after start-up is 3-4x slower (5 s to 202, 4 s more to
  # ACTIVE) than later ones: pay for it here, as admin, not in the first test
  say "warm-up boot (admin project; WARMUP=0 skips)"
  $PY "$HERE/bootstrap.py" warmup >>"$RUN/log/bootstrap.out" 2>&1 || { cat "$RUN/log/bootstrap.out"; die "warm-up boot"; }
fi

# ---------------------------------------------------------------- client env
cat >"$RUN/openrc" <<EOT
# admin credentials for the stack in $RUN (written by scripts/openstack/up.sh)
export OS_AUTH_URL=$KEYSTONE_URL/v3
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=admin
export OS_PASSWORD=$ADMIN_PASSWORD
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=$REGION
export OS_INTERFACE=public
EOT
sed -e 's/^# admin /# demo (member) /' -e 's/OS_USERNAME=admin/OS_USERNAME=demo/' \
    -e "s/OS_PASSWORD=.*/OS_PASSWORD=$DEMO_PASSWORD/" \
    -e 's/OS_PROJECT_NAME=admin/OS_PROJECT_NAME=demo/' "$RUN/openrc" >"$RUN/openrc.demo"
cat >"$RUN/clouds.yaml" <<EOT
# written by scripts/openstack/up.sh; use with OS_CLIENT_CONFIG_FILE=$RUN/clouds.yaml
clouds:
  mini-admin:
    auth:
      auth_url: $KEYSTONE_URL/v3
      username: admin
      password: $ADMIN_PASSWORD
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: $REGION
    interface: public
    identity_api_version: 3
  mini-demo:
    auth:
      auth_url: $KEYSTONE_URL/v3
      username: demo
      password: $DEMO_PASSWORD
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: $REGION
    interface: public
    identity_api_version: 3
EOT
chmod 600 "$RUN/openrc" "$RUN/openrc.demo" "$RUN/clouds.yaml"

# Final check, as the demo user the tests use: token, flavors, images,
# network and quotas all visible; writes $RUN/stack.json (ids and endpoints).
say "verifying as demo; writing stack.json"
$PY "$HERE/bootstrap.py" verify >>"$RUN/log/bootstrap.out" 2>&1 || { cat "$RUN/log/bootstrap.out"; die "verify as demo"; }

elapsed >"$RUN/up.seconds"
READY=1
say "READY"
[ "$ENABLE_NEUTRON" = 1 ] || echo "WARNING: ENABLE_NEUTRON=0: GET /servers/{id} and /servers/detail will answer 500 (no network endpoint)" >&2
echo
echo "# mini-openstack is up (run dir $RUN). Client environment (demo user):"
grep '^export' "$RUN/openrc.demo"
echo "# admin: source $RUN/openrc ; clouds.yaml: $RUN/clouds.yaml (clouds mini-admin, mini-demo) ; ids: $RUN/stack.json"
echo "# compute: http://$HOST_IP:$NOVA_PORT/v2.1  image: http://$HOST_IP:$GLANCE_PORT  network: http://$HOST_IP:$NEUTRON_PORT  placement: http://$HOST_IP:$PLACEMENT_PORT"
