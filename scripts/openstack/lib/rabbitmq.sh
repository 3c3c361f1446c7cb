# lib/rabbitmq.sh — epmd + RabbitMQ, entirely from the run dir (own HOME for
# the cookie, RABBITMQ_* variables, loopback only), as root. The package's
# postinst never started a broker (install.sh's policy-rc.d).

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

rabbitmq_start() {
  cat >"$RUN/etc/rabbitmq/rabbitmq.conf" <<EOF
listeners.tcp.default = $HOST_IP:$RABBIT_PORT
loopback_users.guest = true
log.file.level = warning
EOF
  echo '[].' >"$RUN/etc/rabbitmq/enabled_plugins"
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
}

# rabbit must be up before the nova services
rabbitmq_wait() {
  say "waiting for rabbitmq"
  "$RUN/bin/rabbitmq-server" rabbitmqctl -q wait --timeout 60 "$RUN/state/rabbitmq/beam.pid" >>"$RUN/log/rabbitmq.out" 2>&1 \
    || die "rabbitmq did not start"
  say "rabbitmq up"
}

# rabbitmq_wait_consumer QUEUE — until QUEUE has a consumer (30 s at most;
# goes on regardless, as the services retry)
rabbitmq_wait_consumer() {
  local i
  for i in $(seq 1 120); do
    "$RUN/bin/rabbitmq-server" rabbitmqctl -q list_queues name consumers 2>/dev/null \
      | grep -qE "^$1[[:space:]]+[1-9]" && break
    sleep 0.25
  done
}
