# lib/cinder.sh — Cinder: api (:$CINDER_PORT, eventlet), scheduler and volume
# with cinder.tests.fake_driver.FakeLoggingVolumeDriver, completed by
# pylib/mini_fake_volume.py (backend "fake": volumes are database records, no
# storage, no iSCSI; the counterpart of Nova's fake virt driver). Registered in the catalog as volumev3 and block-storage.
# python3-cinder (the library package, no postinst) ships no console scripts,
# no api-paste.ini and no resource_filters.json: all three made here.
# ENABLE_CINDER=0 leaves it out (and out of the catalog).

cinder_config() {
  mkscript cinder-manage cinder.cmd.manage
  mkscript cinder-api cinder.cmd.api
  mkscript cinder-scheduler cinder.cmd.scheduler
  mkscript cinder-volume cinder.cmd.volume
  mkdir -p "$RUN/etc/cinder" "$RUN/state/cinder/lock"
  cat >"$RUN/etc/cinder/cinder.conf" <<EOF
[DEFAULT]
debug = $DEBUG
my_ip = $HOST_IP
# the volume service's host; volumes land on mini-cinder@fake#fake
host = mini-cinder
state_path = $RUN/state/cinder
transport_url = rabbit://guest:guest@$HOST_IP:$RABBIT_PORT/
auth_strategy = keystone
osapi_volume_listen = $HOST_IP
osapi_volume_listen_port = $CINDER_PORT
osapi_volume_workers = 1
api_paste_config = $RUN/etc/cinder/api-paste.ini
resource_query_filters_file = $RUN/etc/cinder/resource_filters.json
glance_api_servers = http://$HOST_IP:$GLANCE_PORT
enabled_backends = fake
# as nova.conf: report often, start periodic tasks at once
report_interval = 5
periodic_fuzzy_delay = 0
[database]
connection = sqlite:///$RUN/db/cinder.sqlite
[fake]
# cinder.tests.fake_driver.FakeLoggingVolumeDriver plus extend and create-from-image as records
# (pylib/mini_fake_volume.py: the stock one ends both in error_extending / error)
volume_driver = mini_fake_volume.MiniFakeVolumeDriver
volume_backend_name = fake
[keystone_authtoken]
$(authtoken cinder)
[nova]
# for the volume-extended event Nova needs when an attached volume grows
$(authtoken cinder)
interface = public
[oslo_concurrency]
lock_path = $RUN/state/cinder/lock
[oslo_messaging_notifications]
driver = noop
EOF
  # the keystone pipeline of cinder-common's /etc/cinder/api-paste.ini
  cat >"$RUN/etc/cinder/api-paste.ini" <<'EOF'
[composite:osapi_volume]
use = call:cinder.api:root_app_factory
/: apiversions
/v3: openstack_volume_api_v3
[composite:openstack_volume_api_v3]
use = call:cinder.api.middleware.auth:pipeline_factory
keystone = request_id cors http_proxy_to_wsgi faultwrap sizelimit osprofiler authtoken keystonecontext apiv3
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = cinder
[filter:faultwrap]
paste.filter_factory = cinder.api.middleware.fault:FaultWrapper.factory
[filter:osprofiler]
paste.filter_factory = osprofiler.web:WsgiMiddleware.factory
[filter:sizelimit]
paste.filter_factory = oslo_middleware.sizelimit:RequestBodySizeLimiter.factory
[app:apiv3]
paste.app_factory = cinder.api.v3.router:APIRouter.factory
[pipeline:apiversions]
pipeline = request_id cors http_proxy_to_wsgi faultwrap osvolumeversionapp
[app:osvolumeversionapp]
paste.app_factory = cinder.api.versions:Versions.factory
[filter:keystonecontext]
paste.filter_factory = cinder.api.middleware.auth:CinderKeystoneContext.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
[filter:request_id]
paste.filter_factory = cinder.api.middleware.request_id:RequestId.factory
EOF
  # cinder-common's file: which query parameters list calls accept as filters
  cat >"$RUN/etc/cinder/resource_filters.json" <<'EOF'
{
    "volume": ["name", "status", "metadata", "bootable", "migration_status", "availability_zone",
               "group_id", "size", "created_at", "updated_at", "consumes_quota"],
    "backup": ["name", "status", "volume_id"],
    "snapshot": ["name", "status", "volume_id", "metadata", "availability_zone", "consumes_quota"],
    "group": ["name"],
    "group_snapshot": ["name", "status", "group_id"],
    "attachment": ["volume_id", "status", "instance_id", "attach_status"],
    "message": ["resource_uuid", "resource_type", "event_id", "request_id", "message_level"],
    "pool": ["name", "volume_type"],
    "volume_type": ["is_public", "extra_specs"]
}
EOF
}

cinder_db_sync() {
  db_sync_bg cinder-manage "$RUN/bin/cinder-manage" --config-file "$RUN/etc/cinder/cinder.conf" db sync
}

# api, scheduler, volume (they meet on rabbit, which must be up)
cinder_start() {
  local svc
  for svc in api scheduler volume; do
    start_bg "cinder-$svc" env MINI_OS_SQLITE_IMMEDIATE=1 "$RUN/bin/cinder-$svc" \
      --config-file "$RUN/etc/cinder/cinder.conf" --log-file "$RUN/log/cinder-$svc.log"
  done
}

cinder_wait() {
  wait_http cinder-api "http://$HOST_IP:$CINDER_PORT/" 90
  say "cinder-api up; waiting for cinder-volume to report"
  bootstrap_step wait-cinder "cinder-volume not up"
}
