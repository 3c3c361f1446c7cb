# lib/placement.sh — Placement under uwsgi on :$PLACEMENT_PORT.

placement_config() {
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
}

placement_db_sync() {
  db_sync_bg placement-manage placement-manage --config-file "$RUN/etc/placement/placement.conf" db sync
}

placement_start() {
  start_bg placement "${UWSGI_COMMON[@]}" --http-socket "$HOST_IP:$PLACEMENT_PORT" \
    --wsgi-file /usr/bin/placement-api --env "OS_PLACEMENT_CONFIG_DIR=$RUN/etc/placement" \
    --procname-prefix-spaced "[placement]"
}

placement_wait() {
  wait_http placement "http://$HOST_IP:$PLACEMENT_PORT/" 60
}
