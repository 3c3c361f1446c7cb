#!/usr/bin/env bash
# smoke.sh — prove the stack that up.sh started does what the API's tests
# need, with curl + jq only, as the demo user (member role), microversion 2.93:
#   token; create on m1.tiny (networks auto) -> ACTIVE with an IP; stop ->
#   SHUTOFF; start -> ACTIVE; delete -> 404; create on `huge` -> ERROR with
#   fault "No valid host was found"; create on `quota-buster` -> 403 "Quota
#   exceeded for cores". Prints the time of each step. Exits non-zero on any
#   mismatch. Leaves no server behind when it succeeds.
# Env: KS (http://127.0.0.1:5000/v3), OS_USERNAME/OS_PASSWORD/OS_PROJECT_NAME
#   (demo/secret/demo), IMAGE (cirros-0.6).
set -euo pipefail
KS=${KS:-http://127.0.0.1:5000/v3}
USER_=${OS_USERNAME:-demo} PASS=${OS_PASSWORD:-secret} PROJ=${OS_PROJECT_NAME:-demo}
IMAGE=${IMAGE:-cirros-0.6}
MV=2.93
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
now() { date +%s%N; }
ms() { echo $(( ($(now) - $1) / 1000000 )); }
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }

t=$(now)
TOK=$(curl -sf -D - -o "$TMP/token.json" -H 'Content-Type: application/json' -d "{
  \"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": {
    \"name\": \"$USER_\", \"domain\": {\"id\": \"default\"}, \"password\": \"$PASS\"}}},
   \"scope\": {\"project\": {\"name\": \"$PROJ\", \"domain\": {\"id\": \"default\"}}}}}" \
  "$KS/auth/tokens" | awk 'tolower($1)=="x-subject-token:"{print $2}' | tr -d '\r')
[ -n "$TOK" ] || fail "no token"
NOVA=$(jq -r '.token.catalog[]|select(.type=="compute").endpoints[]|select(.interface=="public").url' "$TMP/token.json")
GLANCE=$(jq -r '.token.catalog[]|select(.type=="image").endpoints[]|select(.interface=="public").url' "$TMP/token.json")
echo "token ($USER_/$PROJ): $(ms "$t") ms; compute $NOVA"
H=(-H "X-Auth-Token: $TOK" -H "OpenStack-API-Version: compute $MV" -H 'Content-Type: application/json')
IMG=$(curl -sf -H "X-Auth-Token: $TOK" "$GLANCE/v2/images?name=$IMAGE" | jq -r '.images[0].id')
[ "$IMG" != null ] || fail "image $IMAGE not found"

state() { curl -sf "${H[@]}" "$NOVA/servers/$1" | jq -r '.server|"\(.status) \(."OS-EXT-STS:task_state")"'; }
wait_for() { # ID STATUS -> waits (max 60 s) for STATUS with task_state null
  local i s
  for i in $(seq 1 300); do
    s=$(state "$1") || true
    [ "$s" = "$2 null" ] && return 0
    case $s in "ERROR "*) [ "$2" = ERROR ] && return 0; fail "server $1 went ERROR" ;; esac
    sleep 0.1
  done
  fail "server $1 not $2 after 30 s (last: $s)"
}
create() { # NAME FLAVOR -> writes $TMP/create.json, prints HTTP code
  curl -s -o "$TMP/create.json" -w '%{http_code}' "${H[@]}" -d "{\"server\": {\"name\": \"$1\",
    \"imageRef\": \"$IMG\", \"flavorRef\": \"$2\", \"networks\": \"auto\"}}" "$NOVA/servers"
}
act() { curl -s -o "$TMP/act.json" -w '%{http_code}' "${H[@]}" -d "$2" "$NOVA/servers/$1/action"; }
flavor_id() { curl -sf "${H[@]}" "$NOVA/flavors" | jq -r --arg n "$1" '.flavors[]|select(.name==$n).id'; }

# --- lifecycle on m1.tiny
t=$(now); c=$(create smoke-tiny "$(flavor_id m1.tiny)"); [ "$c" = 202 ] || fail "create m1.tiny: $c $(cat "$TMP/create.json")"
ID=$(jq -r .server.id "$TMP/create.json"); echo "create m1.tiny: 202 in $(ms "$t") ms ($ID)"
t=$(now); wait_for "$ID" ACTIVE
IP=$(curl -sf "${H[@]}" "$NOVA/servers/$ID" | jq -r '[.server.addresses[][]|.addr][0]')
[ -n "$IP" ] && [ "$IP" != null ] || fail "ACTIVE without an IP"
echo "  -> ACTIVE in $(ms "$t") ms, ip $IP"
t=$(now); c=$(act "$ID" '{"os-stop": null}'); [ "$c" = 202 ] || fail "os-stop: $c"; wait_for "$ID" SHUTOFF; echo "stop: SHUTOFF in $(ms "$t") ms"
t=$(now); c=$(act "$ID" '{"os-start": null}'); [ "$c" = 202 ] || fail "os-start: $c"; wait_for "$ID" ACTIVE; echo "start: ACTIVE in $(ms "$t") ms"
t=$(now); c=$(curl -s -o /dev/null -w '%{http_code}' "${H[@]}" -X DELETE "$NOVA/servers/$ID"); [ "$c" = 204 ] || fail "delete: $c"
for i in $(seq 1 300); do c=$(curl -s -o /dev/null -w '%{http_code}' "${H[@]}" "$NOVA/servers/$ID"); [ "$c" = 404 ] && break; sleep 0.1; done
[ "$c" = 404 ] || fail "still there after delete"; echo "delete: 404 in $(ms "$t") ms"

# --- no valid host (huge: 1,000,000 MB > placement max_unit 800000)
t=$(now); c=$(create smoke-huge "$(flavor_id huge)"); [ "$c" = 202 ] || fail "create huge: $c $(cat "$TMP/create.json")"
ID=$(jq -r .server.id "$TMP/create.json"); wait_for "$ID" ERROR
F=$(curl -sf "${H[@]}" "$NOVA/servers/$ID" | jq -r '.server.fault.message')
case $F in "No valid host was found"*) ;; *) fail "huge: fault '$F'" ;; esac
echo "create huge: 202 -> ERROR in $(ms "$t") ms, fault '$F'"
curl -s -o /dev/null "${H[@]}" -X DELETE "$NOVA/servers/$ID"

# --- quota (quota-buster: 500 vCPUs > demo's cores quota)
t=$(now); c=$(create smoke-quota "$(flavor_id quota-buster)")
M=$(jq -r '.forbidden.message // empty' "$TMP/create.json")
[ "$c" = 403 ] && case $M in "Quota exceeded for cores"*) true ;; *) false ;; esac || fail "quota-buster: $c $(cat "$TMP/create.json")"
echo "create quota-buster: 403 in $(ms "$t") ms, '$M'"
echo "smoke: OK"
