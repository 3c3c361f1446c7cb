#!/usr/bin/python3
"""record-fixtures.py — record REAL OpenStack responses from the stack that
scripts/openstack/up.sh started, as fixtures for the OpenStack client's unit
tests (test/fixtures/openstack/ by default; one pretty-printed JSON response
body per file, plus README.md listing each file with the request behind it).

Every request is made as the demo user (member role, like the tests) with
`OpenStack-API-Version: compute 2.93`. Only tokens and secrets are scrubbed
(X-Subject-Token -> "<X-Subject-Token>", adminPass -> "<adminPass>",
application credential secret never written). It creates servers and deletes
them all again at the end.

Usage: /usr/bin/python3 scripts/openstack/record-fixtures.py [OUT_DIR]
"""
import atexit
import datetime
import json
import os
import sys
import time
import uuid

import requests

KS = os.environ.get("KS", "http://127.0.0.1:5000/v3")
USER, PW, PROJECT = "demo", os.environ.get("DEMO_PASSWORD", "secret"), "demo"
MV = "2.93"
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "openstack")
OUT = os.path.normpath(OUT)
os.makedirs(OUT, exist_ok=True)
INDEX = []  # (file, request, status, note)


def save(name, resp, request, note="", scrub=None):
    body = resp.json()
    if scrub:
        scrub(body)
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(body, f, indent=2)
        f.write("\n")
    INDEX.append((name, request, resp.status_code, note))
    print("%-44s %s  %s" % (name, resp.status_code, request))


def password_auth(user=USER, pw=PW):
    return {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": pw}}},
        "scope": {"project": {"name": PROJECT, "domain": {"id": "default"}}}}}


# ------------------------------------------------------------------ keystone
r = requests.post(KS + "/auth/tokens", json=password_auth(), timeout=30)
r.raise_for_status()
TOKEN = r.headers["X-Subject-Token"]
save("keystone-token-password.json", r, "POST /v3/auth/tokens (password, project-scoped demo)",
     "201; the token itself is only in the X-Subject-Token header (value not recorded: use \"<X-Subject-Token>\")")
tok_body = r.json()["token"]
USER_ID = tok_body["user"]["id"]
CAT = {s["type"]: [e["url"] for e in s["endpoints"] if e["interface"] == "public"][0]
       for s in tok_body["catalog"]}
NOVA, GLANCE = CAT["compute"], CAT["image"]
NOVA_ROOT = NOVA.rsplit("/v2.1", 1)[0]

r = requests.post(KS + "/auth/tokens", json=password_auth(pw="wrong-password"), timeout=30)
assert r.status_code == 401, r.status_code
save("keystone-error-401.json", r, "POST /v3/auth/tokens (demo, wrong password)")

kh = {"X-Auth-Token": TOKEN}
r = requests.post(KS + "/users/%s/application_credentials" % USER_ID, headers=kh, timeout=30,
                  json={"application_credential": {"name": "fixture-%s" % uuid.uuid4().hex[:8]}})
r.raise_for_status()
ac = r.json()["application_credential"]
r = requests.post(KS + "/auth/tokens", timeout=30, json={"auth": {"identity": {
    "methods": ["application_credential"],
    "application_credential": {"id": ac["id"], "secret": ac["secret"]}}}})
r.raise_for_status()
save("keystone-token-appcred.json", r, "POST /v3/auth/tokens (application_credential id + secret, made by demo)",
     "201; token in X-Subject-Token (not recorded)")
requests.delete(KS + "/users/%s/application_credentials/%s" % (USER_ID, ac["id"]), headers=kh, timeout=30)

# ------------------------------------------------------------------ compute
H = {"X-Auth-Token": TOKEN, "OpenStack-API-Version": "compute " + MV}
S = requests.Session()
S.headers.update(H)

r = requests.get(NOVA_ROOT + "/", timeout=30)
save("compute-versions.json", r, "GET http://127.0.0.1:8774/ (no token)")
r = requests.get(NOVA + "/", timeout=30)
save("compute-version-v2.1.json", r, "GET http://127.0.0.1:8774/v2.1/ (no token)")
r = S.get(NOVA + "/flavors/detail", timeout=30)
save("compute-flavors-detail.json", r, "GET /v2.1/flavors/detail")
FLAVOR = {f["name"]: f["id"] for f in r.json()["flavors"]}

r = requests.get(GLANCE + "/v2/images", headers=kh, timeout=30)
save("image-images.json", r, "GET http://127.0.0.1:9292/v2/images")
IMAGE = {i["name"]: i["id"] for i in r.json()["images"]}["cirros-0.6"]

CREATED = []


@atexit.register
def _cleanup():
    for sid in CREATED:
        S.delete(NOVA + "/servers/" + sid, timeout=30)


def create(name, flavor, **extra):
    body = {"server": dict({"name": name, "imageRef": IMAGE, "flavorRef": FLAVOR[flavor],
                            "networks": "auto"}, **extra)}
    resp = S.post(NOVA + "/servers", json=body, timeout=60)
    if resp.status_code == 202:
        CREATED.append(resp.json()["server"]["id"])
    return resp


def get(sid):
    return S.get(NOVA + "/servers/" + sid, timeout=30)


def wait(sid, status, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        s = get(sid).json()["server"]
        if s["status"] == status and s["OS-EXT-STS:task_state"] is None:
            return
        if s["status"] == "ERROR" and status != "ERROR":
            raise SystemExit("server went ERROR: %s" % s.get("fault"))
        time.sleep(0.1)
    raise SystemExit("timeout waiting for %s" % status)


def action(sid, body):
    return S.post(NOVA + "/servers/%s/action" % sid, json=body, timeout=30)


def scrub_pass(b):
    if "adminPass" in b.get("server", {}):
        b["server"]["adminPass"] = "<adminPass>"


r = create("fixture-server", "m1.tiny", metadata={"owner": "fixtures"})
assert r.status_code == 202, r.text
save("compute-server-create-202.json", r,
     'POST /v2.1/servers {"server":{"name":"fixture-server","imageRef":<cirros-0.6>,"flavorRef":"1","networks":"auto","metadata":{"owner":"fixtures"}}}',
     "202; adminPass replaced by \"<adminPass>\"", scrub=scrub_pass)
SID = r.json()["server"]["id"]
r = get(SID)
assert r.json()["server"]["status"] == "BUILD", r.json()["server"]["status"]
save("compute-server-BUILD.json", r, "GET /v2.1/servers/{id} right after the create",
     "task_state %s" % r.json()["server"]["OS-EXT-STS:task_state"])
wait(SID, "ACTIVE")
save("compute-server-ACTIVE.json", get(SID), "GET /v2.1/servers/{id} once ACTIVE")

# a running task: os-stop, then a second os-stop and a GET at once
# (both race the ~0.3 s stop; retried up to 8 times to catch them)
need_task, need_409 = True, True
for attempt in range(8):
    if not (need_task or need_409):
        break
    r = action(SID, {"os-stop": None})
    assert r.status_code == 202, r.text
    r2 = action(SID, {"os-stop": None})
    g = get(SID)
    if need_task and g.json()["server"]["OS-EXT-STS:task_state"] == "powering-off":
        save("compute-server-task-powering-off.json", g,
             "GET /v2.1/servers/{id} right after POST /servers/{id}/action {\"os-stop\":null}",
             "status still ACTIVE, task_state powering-off")
        need_task = False
    if need_409 and r2.status_code == 409 and "task_state" in r2.text:
        save("compute-error-409-task-state.json", r2,
             "POST /v2.1/servers/{id}/action {\"os-stop\":null} while the first os-stop still runs")
        need_409 = False
    wait(SID, "SHUTOFF")
    assert action(SID, {"os-start": None}).status_code == 202
    wait(SID, "ACTIVE")
if need_task or need_409:
    print("WARNING: did not catch task_state powering-off / its 409")
assert action(SID, {"os-stop": None}).status_code == 202
wait(SID, "SHUTOFF")
save("compute-server-SHUTOFF.json", get(SID), "GET /v2.1/servers/{id} after os-stop")
assert action(SID, {"os-start": None}).status_code == 202
wait(SID, "ACTIVE")

r = action(SID, {"os-start": None})
assert r.status_code == 409, r.status_code
save("compute-error-409-conflict.json", r, "POST /v2.1/servers/{id}/action {\"os-start\":null} on an ACTIVE server")

assert action(SID, {"pause": None}).status_code == 202
wait(SID, "PAUSED")
save("compute-server-PAUSED.json", get(SID), "GET /v2.1/servers/{id} after pause")
assert action(SID, {"unpause": None}).status_code == 202
wait(SID, "ACTIVE")
assert action(SID, {"suspend": None}).status_code == 202
wait(SID, "SUSPENDED")
save("compute-server-SUSPENDED.json", get(SID), "GET /v2.1/servers/{id} after suspend")
assert action(SID, {"resume": None}).status_code == 202
wait(SID, "ACTIVE")
assert action(SID, {"resize": {"flavorRef": FLAVOR["m1.small"]}}).status_code == 202
wait(SID, "VERIFY_RESIZE")
save("compute-server-VERIFY_RESIZE.json", get(SID), "GET /v2.1/servers/{id} after resize to m1.small (flavorRef \"2\")")
assert action(SID, {"confirmResize": None}).status_code == 204
wait(SID, "ACTIVE")

# tags
TAG = "fixture-tag"
assert S.put(NOVA + "/servers/%s/tags/%s" % (SID, TAG), timeout=30).status_code in (201, 204)
r = S.get(NOVA + "/servers/detail", params={"tags": TAG}, timeout=30)
save("compute-servers-detail-tags.json", r, "GET /v2.1/servers/detail?tags=%s" % TAG)

# no valid host
r = create("fixture-huge", "huge")
assert r.status_code == 202, r.text
HID = r.json()["server"]["id"]
wait(HID, "ERROR")
save("compute-server-ERROR-novalidhost.json", get(HID),
     "GET /v2.1/servers/{id} of a server created on flavor huge (1,000,000 MB)")

# errors
r = create("fixture-quota", "quota-buster")
assert r.status_code == 403, r.text
save("compute-error-403-quota.json", r, "POST /v2.1/servers on flavor quota-buster (500 vCPUs > cores quota 200)")
r = S.post(NOVA + "/servers", json={"server": {"name": "fixture-bad", "imageRef": IMAGE, "networks": "auto"}}, timeout=30)
assert r.status_code == 400, r.text
save("compute-error-400-badrequest.json", r, "POST /v2.1/servers without flavorRef")
r = get(str(uuid.uuid4()))
assert r.status_code == 404
save("compute-error-404-itemnotfound.json", r, "GET /v2.1/servers/{random uuid}")
r = requests.get(NOVA + "/servers", headers=dict(H, **{"OpenStack-API-Version": "compute 2.999"}), timeout=30)
assert r.status_code == 406
save("compute-error-406-microversion.json", r, "GET /v2.1/servers with OpenStack-API-Version: compute 2.999")
r = requests.get(NOVA + "/servers", headers={"X-Auth-Token": "not-a-token"}, timeout=30)
if r.headers.get("Content-Type", "").startswith("application/json"):
    save("compute-error-401.json", r, "GET /v2.1/servers with an invalid X-Auth-Token")

# deleted + changes-since
r = create("fixture-deleted", "m1.tiny")
DID = r.json()["server"]["id"]
wait(DID, "ACTIVE")
since = (datetime.datetime.utcnow() - datetime.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
time.sleep(1.1)
assert S.delete(NOVA + "/servers/" + DID, timeout=30).status_code == 204
for _ in range(100):
    if get(DID).status_code == 404:
        break
    time.sleep(0.1)
r = S.get(NOVA + "/servers/detail", params={"changes-since": since}, timeout=30)
assert any(s["id"] == DID and s["status"] == "DELETED" for s in r.json()["servers"]), r.text
save("compute-servers-changes-since-deleted.json", r,
     "GET /v2.1/servers/detail?changes-since=<ISO time just before deleting fixture-deleted>",
     "lists fixture-deleted with status DELETED (and any server changed since then)")

with open(os.path.join(OUT, "README.md"), "w") as f:
    f.write("""# OpenStack response fixtures (real recordings)

Recorded by `scripts/openstack/record-fixtures.py` from the local OpenStack Zed
that `scripts/openstack/up.sh` starts (Debian 12 packages, Nova fake driver,
everything on 127.0.0.1), on %s. One response body per file, pretty-printed.

- User: `demo` (project `demo`, roles member + reader), password auth.
- Compute requests carry `OpenStack-API-Version: compute %s` (2.93 is the
  maximum of this Nova).
- Scrubbed: nothing but secrets. The Keystone token is only ever in the
  `X-Subject-Token` response header, which is not recorded (tests should use a
  placeholder such as `<X-Subject-Token>`); `adminPass` in the create response
  is replaced by `<adminPass>`. IDs, timestamps, the MAC and IP are real.
- Hosts: all URLs are `http://127.0.0.1:<port>`; keystone :5000, compute :8774,
  image :9292, network :9696, placement :8778.
- The demo view has no `OS-EXT-SRV-ATTR:*` keys and no `fault.details`.

| file | HTTP status | request | note |
|---|---|---|---|
""" % (datetime.date.today().isoformat(), MV))
    for name, req, status, note in INDEX:
        f.write("| `%s` | %s | %s | %s |\n" % (name, status, req.replace("|", "\\|"), note.replace("|", "\\|")))
print("wrote %d fixtures + README.md to %s" % (len(INDEX), OUT))
