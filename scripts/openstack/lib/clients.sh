# lib/clients.sh — what clients of the stack read: openrc (admin),
# openrc.demo, clouds.yaml (clouds mini-admin, mini-demo); stack.json comes
# from bootstrap.py verify.

write_client_files() {
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
}
