# lib/nova.sh — Nova: api (uwsgi, :$NOVA_PORT), conductor, scheduler and
# compute with fake.FakeDriver (host "mini-compute": servers cost nothing, every
# API, scheduler, placement and quota path is the real one). Cells v2 with
# cell0 + cell1, SQLite. python3-nova ships no console scripts and no
# api-paste.ini: both made here.

NM=("$RUN/bin/nova-manage" --config-file "$RUN/etc/nova/nova.conf")

nova_config() {
  mkscript nova-manage nova.cmd.manage
  mkscript nova-conductor nova.cmd.conductor
  mkscript nova-scheduler nova.cmd.scheduler
  mkscript nova-compute nova.cmd.compute
  printf '#!%s\nimport sys\nsys.path.insert(0, %s)\nimport mini_sqlite_fix\nmini_sqlite_fix.install()\nfrom nova.api.openstack.compute.wsgi import init_application\napplication = init_application()\n' "$PY" "'$HERE/pylib'" >"$RUN/bin/nova-api-wsgi"
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
# for the calls Nova makes to Cinder without a user's token
$(authtoken nova)
[service_user]
# Nova sends its own service token along with the user's. Cinder (with the fix for OSSA-2023-003,
# in Debian's 21.3.1) deletes an in-use attachment only for a request carrying a token with the
# service role: without this every detach through Nova stayed "detaching" (nova-compute: 409
# ConflictNovaUsingAttachment from Cinder)
send_service_user_token = True
$(authtoken nova)
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
}

# api_db, cell0 + cell1, main db: one after the other, in the background
nova_db_steps() {
  "${NM[@]}" api_db sync &&
    "${NM[@]}" cell_v2 map_cell0 --database_connection "sqlite:///$RUN/db/nova_cell0.sqlite" &&
    "${NM[@]}" cell_v2 create_cell --name cell1 --verbose &&
    "${NM[@]}" db sync
}
nova_db_sync() {
  db_sync_bg nova-manage nova_db_steps
}

# api, conductor, scheduler, then compute once the conductor consumes: rabbit must be up
nova_start() {
  start_bg nova-api "${UWSGI_COMMON[@]}" --http-socket "$HOST_IP:$NOVA_PORT" \
    --wsgi-file "$RUN/bin/nova-api-wsgi" --env "OS_NOVA_CONFIG_DIR=$RUN/etc/nova" \
    --procname-prefix-spaced "[nova-api]"
  start_bg nova-conductor env MINI_OS_SQLITE_IMMEDIATE=1 "$RUN/bin/nova-conductor" --config-file "$RUN/etc/nova/nova.conf" --log-file "$RUN/log/nova-conductor.log"
  start_bg nova-scheduler env MINI_OS_SQLITE_IMMEDIATE=1 "$RUN/bin/nova-scheduler" --config-file "$RUN/etc/nova/nova.conf" --log-file "$RUN/log/nova-scheduler.log"
  # nova-compute pings the conductor at start; if the conductor's queue does not
  # exist yet the ping is lost and compute waits a fixed 10 s before retrying.
  rabbitmq_wait_consumer conductor
  start_bg nova-compute env MINI_OS_SQLITE_IMMEDIATE=1 "$RUN/bin/nova-compute" --config-file "$RUN/etc/nova/nova.conf" --log-file "$RUN/log/nova-compute.log"
}

nova_wait_api() {
  wait_http nova-api "http://$HOST_IP:$NOVA_PORT/" 90
}

nova_flavors() {
  say "nova-api up; creating flavors"
  bootstrap_step flavors flavors
}

# compute service up, its host mapped to cell1 and its inventory in placement
nova_wait_compute() {
  local i n
  say "waiting for nova-compute + host discovery"
  WAIT_NOVA_TIMEOUT=120 bootstrap_step wait-nova "nova-compute not up"
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
}

nova_quotas() {
  say "demo project: quotas instances=$DEMO_QUOTA_INSTANCES cores=$DEMO_QUOTA_CORES ram=$DEMO_QUOTA_RAM"
  bootstrap_step quotas quotas
}

nova_warmup() {
  if [ "${WARMUP:-1}" = 1 ]; then
    # the first boot after start-up is 3-4x slower (5 s to 202, 4 s more to
    # ACTIVE) than later ones: pay for it here, as admin, not in the first test
    say "warm-up boot (admin project; WARMUP=0 skips)"
    bootstrap_step warmup "warm-up boot"
  fi
}
