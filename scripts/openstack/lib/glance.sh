# lib/glance.sh — glance-api on :$GLANCE_PORT, file store in the run dir.
# python3-glance ships no console scripts and no api-paste.ini: both made here.

glance_config() {
  mkscript glance-manage glance.cmd.manage
  mkscript glance-api glance.cmd.api
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
}

glance_db_sync() {
  db_sync_bg glance-manage "$RUN/bin/glance-manage" --config-file "$RUN/etc/glance/glance-api.conf" db_sync
}

glance_start() {
  start_bg glance-api "$RUN/bin/glance-api" --config-file "$RUN/etc/glance/glance-api.conf"
}

glance_wait_and_images() {
  wait_http glance-api "http://$HOST_IP:$GLANCE_PORT/" 60
  say "glance up; uploading images cirros-0.6, cirros, needs-10g-disk, needs-1g-ram"
  bootstrap_step image "image upload"
}
