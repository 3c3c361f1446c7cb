# lib/keystone.sh — Keystone under uwsgi on :$KEYSTONE_PORT (fernet tokens,
# SQLite), bootstrapped with keystone-manage; bootstrap.py keystone then makes
# the projects, users, roles and the catalog.

keystone_setup() {
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
  local KM=(keystone-manage --config-file "$RUN/etc/keystone/keystone.conf")
  say "keystone: db_sync + fernet + bootstrap"
  "${KM[@]}" db_sync >>"$RUN/log/keystone-manage.out" 2>&1 || die "keystone db_sync"
  "${KM[@]}" fernet_setup --keystone-user root --keystone-group root >>"$RUN/log/keystone-manage.out" 2>&1
  "${KM[@]}" credential_setup --keystone-user root --keystone-group root >>"$RUN/log/keystone-manage.out" 2>&1
  "${KM[@]}" bootstrap --bootstrap-password "$ADMIN_PASSWORD" \
    --bootstrap-admin-url "$KEYSTONE_URL/v3/" --bootstrap-internal-url "$KEYSTONE_URL/v3/" \
    --bootstrap-public-url "$KEYSTONE_URL/v3/" --bootstrap-region-id "$REGION" \
    >>"$RUN/log/keystone-manage.out" 2>&1 || die "keystone bootstrap"
  wal "$RUN/db/keystone.sqlite"
}

# MINI_OS_SQLITE_FK=1: SQLite foreign keys on (pylib/mini_sqlite_fix.py), so that deleting an
# application credential also deletes its roles, as on MySQL
keystone_start() {
  start_bg keystone env MINI_OS_SQLITE_FK=1 "${UWSGI_COMMON[@]}" --http-socket "$HOST_IP:$KEYSTONE_PORT" \
    --wsgi-file /usr/bin/keystone-wsgi-public --env "OS_KEYSTONE_CONFIG_DIR=$RUN/etc/keystone" \
    --procname-prefix-spaced "[keystone]"
}

keystone_wait_and_bootstrap() {
  wait_http keystone "$KEYSTONE_URL/v3" 60
  say "keystone up; creating projects/users/catalog"
  bootstrap_step keystone "keystone bootstrap.py"
}
