# lib/neutron.sh — neutron-server on :$NEUTRON_PORT: ML2 with the mini_noop
# mechanism driver (pylib/mini_noop_mech.py binds every port: no agents), the
# router service plugin, SQLite. Without Neutron, Nova's server API is broken
# (see ENABLE_NEUTRON in common.sh). python3-neutron ships no api-paste.ini.

neutron_config() {
  mkscript neutron-server neutron.cmd.eventlet.server
  mkscript neutron-db-manage neutron.db.migration.cli
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
# the L3 router plugin: routers, external gateways and floating IPs at the API level. No L3
# agent runs, so nothing is ever plumbed: routers read ACTIVE, their ports and every floating
# IP stay DOWN (README: "Neutron without an L3 agent")
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
[quotas]
# per project; upstream's defaults unless NEUTRON_QUOTA_* say otherwise (-1 = unlimited).
# Stated here so that a test of "quota exceeded" knows its limit (GET /v2.0/quotas/{project}).
quota_network = ${NEUTRON_QUOTA_NETWORK:-100}
quota_subnet = ${NEUTRON_QUOTA_SUBNET:-100}
quota_port = ${NEUTRON_QUOTA_PORT:-500}
quota_router = ${NEUTRON_QUOTA_ROUTER:-10}
quota_floatingip = ${NEUTRON_QUOTA_FLOATINGIP:-50}
quota_security_group = ${NEUTRON_QUOTA_SECURITY_GROUP:-10}
quota_security_group_rule = ${NEUTRON_QUOTA_SECURITY_GROUP_RULE:-100}
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
}

# `neutron-db-manage upgrade heads` fails on SQLite ("No support for ALTER of
# constraints in SQLite dialect"): create the schema from the models (as
# neutron's own SQLite tests do) and stamp the alembic heads instead.
neutron_db_steps() {
  $PY -c 'import sys, sqlalchemy as sa
from neutron.db.migration.models import head
head.get_metadata().create_all(sa.create_engine(sys.argv[1]))' "sqlite:///$RUN/db/neutron.sqlite" &&
    "$RUN/bin/neutron-db-manage" --config-file "$RUN/etc/neutron/neutron.conf" \
      --config-file "$RUN/etc/neutron/plugins/ml2/ml2_conf.ini" stamp heads
}
neutron_db_sync() {
  db_sync_bg neutron-db-manage neutron_db_steps
}

neutron_start() {
  start_bg neutron-server env MINI_OS_SQLITE_IMMEDIATE=1 "$RUN/bin/neutron-server" --config-file "$RUN/etc/neutron/neutron.conf" \
    --config-file "$RUN/etc/neutron/plugins/ml2/ml2_conf.ini"
}

neutron_wait() {
  wait_http neutron-server "http://$HOST_IP:$NEUTRON_PORT/" 90
}

neutron_network() {
  say "neutron up; creating demo network 'private' 10.0.0.0/24 and external network 'public' ${FLOATING_CIDR:-203.0.113.0/24}"
  bootstrap_step network network
  bootstrap_step external-network "external network"
}
