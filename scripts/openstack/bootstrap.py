#!/usr/bin/python3
"""bootstrap.py — idempotent REST bootstrap of the local OpenStack that
scripts/openstack/up.sh starts (Debian's /usr/bin/python3 + requests only).

It creates what the OpenStack backend's tests rely on; every subcommand can be
re-run and only creates what is missing.

Subcommands (up.sh runs them in this order):
  keystone   roles, service project + service users, demo project + demo user
             (roles member, reader), catalog (image, placement, compute, network,
             and with ENABLE_CINDER=1 block-storage + volumev3)
  image      tiny raw images named $IMAGE_NAMES (default "cirros-0.6 cirros"):
             4 KiB of zeros; Nova's fake virt driver never reads them. Plus
             two for Nova's 400s: `needs-10g-disk` (min_disk 10 GB: m1.tiny's
             1 GB disk is refused with "Flavor's disk is smaller than the
             minimum size specified in image metadata") and `needs-1g-ram`
             (min_ram 1024 MB: m1.tiny's 512 MB is refused with "Flavor's
             memory is too small for requested image")
  network    demo-owned network `private` + subnet 10.0.0.0/24 (records only;
             no packet ever flows)
  external-network
             admin-owned external network `public` (flat, physnet `public`) +
             subnet `public-subnet` $FLOATING_CIDR (203.0.113.0/24, a
             documentation range) with the pool $FLOATING_POOL_START..END
             (.10-.250): routers' gateways and floating IPs come from it
  flavors    m1.tiny..m1.xlarge (the API contract's sizes, ids 1..5) and two
             flavors for failure tests: `huge` (1 vCPU, 1,000,000 MB: more than
             placement's max_unit of 800000 MB, so the scheduler answers "No
             valid host was found") and `quota-buster` (500 vCPUs: over the demo
             project's cores quota, so Nova refuses it with 403 at once)
  wait-nova  wait until Nova lists an enabled+up nova-compute and a hypervisor
  wait-cinder
             wait until Cinder lists an enabled+up cinder-volume (mini-cinder@fake)
  quotas     demo project: instances/cores/ram = $DEMO_QUOTA_INSTANCES (200),
             $DEMO_QUOTA_CORES (200), $DEMO_QUOTA_RAM (-1 = unlimited, so `huge`
             reaches the scheduler instead of being refused by the RAM quota)
  warmup     as admin, in the admin project (so demo's listings and
             changes-since stay empty): boot one m1.tiny on `private`, wait
             ACTIVE, delete it. The first boot after start-up is 3-4x slower
             than later ones (cold code paths in every service); this pays for
             it here instead of in the first test
  verify     as demo: token, flavors, images, network and quotas are all
             visible; writes $RUN/stack.json (endpoints, ids, names)
All settings come from environment variables exported by up.sh.
"""
import json
import os
import sys
import time

import requests

E = os.environ
KS = E.get("KEYSTONE_URL", "http://127.0.0.1:5000")
ADMIN_PW = E.get("ADMIN_PASSWORD", "secret")
SVC_PW = E.get("SERVICE_PASSWORD", "secret")
DEMO_PW = E.get("DEMO_PASSWORD", "secret")
REGION = E.get("REGION", "RegionOne")
HOSTIP = E.get("HOST_IP", "127.0.0.1")


def token(user="admin", pw=ADMIN_PW, project="admin"):
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": pw}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    r = requests.post(KS + "/v3/auth/tokens", json=body, timeout=30)
    r.raise_for_status()
    return r.headers["X-Subject-Token"], r.json()["token"]


class KS3:
    def __init__(self):
        self.tok, _ = token()
        self.s = requests.Session()
        self.s.headers.update({"X-Auth-Token": self.tok})

    def get(self, path, **params):
        r = self.s.get(KS + "/v3" + path, params=params, timeout=30)
        r.raise_for_status()
        return r.json()

    def post(self, path, body):
        r = self.s.post(KS + "/v3" + path, json=body, timeout=30)
        if r.status_code >= 400:
            raise SystemExit("POST %s -> %s %s" % (path, r.status_code, r.text))
        return r.json()

    def ensure(self, coll, key, name, body, **filters):
        found = self.get("/" + coll, name=name, **filters)[coll]
        if found:
            return found[0]["id"]
        return self.post("/" + coll, {key: body})[key]["id"]

    def role(self, name):
        return self.ensure("roles", "role", name, {"name": name})

    def project(self, name, desc=""):
        return self.ensure("projects", "project", name,
                           {"name": name, "domain_id": "default",
                            "description": desc}, domain_id="default")

    def user(self, name, pw, project_id):
        return self.ensure("users", "user", name,
                           {"name": name, "domain_id": "default",
                            "password": pw, "default_project_id": project_id,
                            "enabled": True}, domain_id="default")

    def grant(self, project_id, user_id, role_id):
        r = self.s.put(KS + "/v3/projects/%s/users/%s/roles/%s" % (
            project_id, user_id, role_id), timeout=30)
        if r.status_code not in (200, 201, 204):
            raise SystemExit("grant failed %s %s" % (r.status_code, r.text))

    def service(self, stype, name):
        found = self.get("/services", type=stype)["services"]
        if found:
            return found[0]["id"]
        return self.post("/services", {"service": {
            "type": stype, "name": name, "enabled": True}})["service"]["id"]

    def endpoints(self, service_id, url):
        have = {e["interface"] for e in self.get(
            "/endpoints", service_id=service_id)["endpoints"]}
        for iface in ("public", "internal", "admin"):
            if iface not in have:
                self.post("/endpoints", {"endpoint": {
                    "service_id": service_id, "interface": iface,
                    "url": url, "region_id": REGION, "enabled": True}})


def cmd_keystone():
    k = KS3()
    admin_role = k.role("admin")
    member_role = k.role("member")
    reader_role = k.role("reader")
    service_role = k.role("service")
    svc = k.project("service", "service users")
    for name in E.get("SERVICE_USERS", "nova glance placement").split():
        uid = k.user(name, SVC_PW, svc)
        k.grant(svc, uid, admin_role)
        k.grant(svc, uid, service_role)
    demo = k.project(E.get("DEMO_PROJECT", "demo"), "demo project")
    duid = k.user(E.get("DEMO_USER", "demo"), DEMO_PW, demo)
    k.grant(demo, duid, member_role)
    k.grant(demo, duid, reader_role)
    catalog = [
        ("image", "glance", "http://%s:%s" % (HOSTIP, E.get("GLANCE_PORT", "9292"))),
        ("placement", "placement", "http://%s:%s" % (HOSTIP, E.get("PLACEMENT_PORT", "8778"))),
        ("compute", "nova", "http://%s:%s/v2.1" % (HOSTIP, E.get("NOVA_PORT", "8774"))),
    ]
    if E.get("ENABLE_NEUTRON", "0") == "1":
        catalog.append(("network", "neutron", "http://%s:%s" % (HOSTIP, E.get("NEUTRON_PORT", "9696"))))
    if E.get("ENABLE_CINDER", "0") == "1":
        # one endpoint, two types: block-storage (what openstacksdk and this API look up) and
        # volumev3 (what Nova's [cinder] catalog_info names)
        url = "http://%s:%s/v3/%%(project_id)s" % (HOSTIP, E.get("CINDER_PORT", "8776"))
        catalog += [("block-storage", "cinder", url), ("volumev3", "cinderv3", url)]
    for stype, name, url in catalog:
        k.endpoints(k.service(stype, name), url)
    print("keystone: projects/users/roles/catalog ready")


def nova_session():
    tok, body = token()
    ep = None
    for svc in body["catalog"]:
        if svc["type"] == "compute":
            for e in svc["endpoints"]:
                if e["interface"] == "public":
                    ep = e["url"]
    s = requests.Session()
    s.headers.update({"X-Auth-Token": tok,
                      "X-OpenStack-Nova-API-Version": "2.1"})
    return s, ep


FLAVORS = [  # name, id, vcpus, ram MB, disk GB
    ("m1.tiny", "1", 1, 512, 1),
    ("m1.small", "2", 1, 2048, 20),
    ("m1.medium", "3", 2, 4096, 40),
    ("m1.large", "4", 4, 8192, 80),
    ("m1.xlarge", "5", 8, 16384, 160),
    # no host can hold it: placement's max_unit for MEMORY_MB is 800000 (the
    # fake driver's host), so it ends ERROR "No valid host was found"
    ("huge", "huge", 1, 1000000, 1),
    # 500 vCPUs > the demo project's cores quota (200): 403 "Quota exceeded
    # for cores" straight from POST /servers
    ("quota-buster", "quota-buster", 500, 512, 1),
]


def cmd_flavors():
    s, ep = nova_session()
    have = {f["name"] for f in s.get(ep + "/flavors", params={"is_public": "None"}, timeout=30).json()["flavors"]}
    for name, fid, vcpus, ram, disk in FLAVORS:
        if name in have:
            continue
        r = s.post(ep + "/flavors", json={"flavor": {
            "name": name, "id": fid, "vcpus": vcpus, "ram": ram, "disk": disk}}, timeout=30)
        if r.status_code >= 400:
            raise SystemExit("flavor %s: %s %s" % (name, r.status_code, r.text))
    print("nova: flavors ready:", ", ".join(f[0] for f in FLAVORS))


IMAGE_NAMES = E.get("IMAGE_NAMES", "cirros-0.6 cirros").split()
# name -> (min_disk GB, min_ram MB): images whose minimums m1.tiny (1 GB, 512 MB) does not meet,
# so that Nova answers POST /servers with a 400 the client caused (the API's 400 VALIDATION_ERROR)
MIN_IMAGES = {"needs-10g-disk": (10, 0), "needs-1g-ram": (0, 1024)}


def cmd_image():
    for name in IMAGE_NAMES:
        upload_image(name)
    for name, (min_disk, min_ram) in MIN_IMAGES.items():
        upload_image(name, min_disk, min_ram)


def upload_image(name, min_disk=0, min_ram=0):
    tok, body = token()
    h = {"X-Auth-Token": tok}
    g = "http://%s:%s" % (HOSTIP, E.get("GLANCE_PORT", "9292"))
    imgs = requests.get(g + "/v2/images", params={"name": name}, headers=h, timeout=30).json()["images"]
    if any(i["status"] == "active" for i in imgs):
        print("glance: image %s already active" % name)
        return
    r = requests.post(g + "/v2/images", headers=h, timeout=30, json={
        "name": name, "disk_format": "raw", "container_format": "bare",
        "visibility": "public", "min_disk": min_disk, "min_ram": min_ram})
    if r.status_code >= 400:
        raise SystemExit("image create: %s %s" % (r.status_code, r.text))
    iid = r.json()["id"]
    data = b"\0" * 4096  # a 4 KiB "disk"; the fake virt driver never reads it
    r = requests.put(g + "/v2/images/%s/file" % iid, data=data, timeout=30,
                     headers=dict(h, **{"Content-Type": "application/octet-stream"}))
    if r.status_code >= 400:
        raise SystemExit("image upload: %s %s" % (r.status_code, r.text))
    st = requests.get(g + "/v2/images/" + iid, headers=h, timeout=30).json()["status"]
    print("glance: image %s %s (%s)" % (name, iid, st))


def cmd_network():
    """demo-owned network `private` + subnet 10.0.0.0/24 (so "networks": "auto"
    and legacy requests without `networks` find exactly one network), shared by
    the admin so that every project's servers may join it: the API's OS_NETWORK,
    the network a Keystone tenant's VM joins when its create names none."""
    tok, body = token(E.get("DEMO_USER", "demo"), DEMO_PW, E.get("DEMO_PROJECT", "demo"))
    h = {"X-Auth-Token": tok}
    q = "http://%s:%s/v2.0" % (HOSTIP, E.get("NEUTRON_PORT", "9696"))
    nets = requests.get(q + "/networks", params={"name": "private"}, headers=h, timeout=30).json()["networks"]
    if nets:
        nid = nets[0]["id"]
        print("neutron: network private exists")
    else:
        r = requests.post(q + "/networks", headers=h, timeout=30, json={"network": {"name": "private"}})
        if r.status_code >= 400:
            raise SystemExit("network: %s %s" % (r.status_code, r.text))
        nid = r.json()["network"]["id"]
        r = requests.post(q + "/subnets", headers=h, timeout=30, json={"subnet": {
            "name": "private-subnet", "network_id": nid, "ip_version": 4, "cidr": "10.0.0.0/24"}})
        if r.status_code >= 400:
            raise SystemExit("subnet: %s %s" % (r.status_code, r.text))
        print("neutron: network private %s + subnet 10.0.0.0/24" % nid)
    if not (nets and nets[0].get("shared")):
        admin_tok, _ = token()
        r = requests.put(q + "/networks/" + nid, headers={"X-Auth-Token": admin_tok}, timeout=30,
                         json={"network": {"shared": True}})
        if r.status_code >= 400:
            raise SystemExit("network share: %s %s" % (r.status_code, r.text))
        print("neutron: network private shared with every project")


FLOATING_CIDR = E.get("FLOATING_CIDR", "203.0.113.0/24")
FLOATING_GATEWAY = E.get("FLOATING_GATEWAY", "203.0.113.1")
FLOATING_POOL = (E.get("FLOATING_POOL_START", "203.0.113.10"), E.get("FLOATING_POOL_END", "203.0.113.250"))


def cmd_external_network():
    """The external network every project's router gateway and floating IPs use. Admin-owned,
    router:external (visible to every project, usable as a gateway), not shared (so Nova's
    "networks": "auto" and legacy boots never pick it for a server)."""
    tok, body = token()
    h = {"X-Auth-Token": tok}
    q = "http://%s:%s/v2.0" % (HOSTIP, E.get("NEUTRON_PORT", "9696"))
    nets = requests.get(q + "/networks", params={"name": "public"}, headers=h, timeout=30).json()["networks"]
    if nets:
        nid = nets[0]["id"]
    else:
        r = requests.post(q + "/networks", headers=h, timeout=30, json={"network": {
            "name": "public", "router:external": True, "shared": False,
            "provider:network_type": "flat", "provider:physical_network": "public"}})
        if r.status_code >= 400:
            raise SystemExit("external network: %s %s" % (r.status_code, r.text))
        nid = r.json()["network"]["id"]
    subs = requests.get(q + "/subnets", params={"network_id": nid}, headers=h, timeout=30).json()["subnets"]
    if not subs:
        r = requests.post(q + "/subnets", headers=h, timeout=30, json={"subnet": {
            "name": "public-subnet", "network_id": nid, "ip_version": 4, "cidr": FLOATING_CIDR,
            "gateway_ip": FLOATING_GATEWAY, "enable_dhcp": False,
            "allocation_pools": [{"start": FLOATING_POOL[0], "end": FLOATING_POOL[1]}]}})
        if r.status_code >= 400:
            raise SystemExit("external subnet: %s %s" % (r.status_code, r.text))
    print("neutron: external network public %s, floating range %s (%s-%s)" % (nid, FLOATING_CIDR, *FLOATING_POOL))


def cmd_wait_nova():
    deadline = time.time() + float(E.get("WAIT_NOVA_TIMEOUT", "180"))
    last = ""
    while time.time() < deadline:
        try:
            s, ep = nova_session()
            svcs = s.get(ep + "/os-services", params={"binary": "nova-compute"}, timeout=10).json()["services"]
            hyp = s.get(ep + "/os-hypervisors", timeout=10).json()["hypervisors"]
            up = [x for x in svcs if x["state"] == "up" and x["status"] == "enabled"]
            if up and hyp:
                print("nova: %d compute service(s) up, %d hypervisor(s)" % (len(up), len(hyp)))
                return
            last = "services=%s hypervisors=%s" % (svcs, hyp)
        except Exception as e:  # noqa
            last = repr(e)
        time.sleep(1)
    raise SystemExit("nova not ready: " + last)


def cmd_wait_cinder():
    deadline = time.time() + float(E.get("WAIT_CINDER_TIMEOUT", "120"))
    last = ""
    while time.time() < deadline:
        try:
            tok, body = token()
            ep = "http://%s:%s/v3/%s" % (HOSTIP, E.get("CINDER_PORT", "8776"), body["project"]["id"])
            svcs = requests.get(ep + "/os-services", params={"binary": "cinder-volume"},
                                headers={"X-Auth-Token": tok}, timeout=10).json()["services"]
            up = [x for x in svcs if x["state"] == "up" and x["status"] == "enabled"]
            if up:
                print("cinder: volume service(s) up: %s" % ", ".join(x["host"] for x in up))
                return
            last = "services=%s" % svcs
        except Exception as e:  # noqa
            last = repr(e)
        time.sleep(1)
    raise SystemExit("cinder-volume not ready: " + last)


def project_id(name):
    k = KS3()
    found = k.get("/projects", name=name, domain_id="default")["projects"]
    if not found:
        raise SystemExit("project %s not found" % name)
    return found[0]["id"]


def quota_values():
    return {"instances": int(E.get("DEMO_QUOTA_INSTANCES", "200")),
            "cores": int(E.get("DEMO_QUOTA_CORES", "200")),
            "ram": int(E.get("DEMO_QUOTA_RAM", "-1"))}


def cmd_quotas():
    """Per-project quota for demo (admin-only API: PUT /os-quota-sets/{id}), and the
    same figures as every project's default (PUT /os-quota-class-sets/default), so a
    Keystone tenant's own project can hold what the suites make in it."""
    s, ep = nova_session()
    pid = project_id(E.get("DEMO_PROJECT", "demo"))
    want = quota_values()
    r = s.put(ep + "/os-quota-class-sets/default", json={"quota_class_set": want}, timeout=30)
    if r.status_code >= 400:
        raise SystemExit("default quota class: %s %s" % (r.status_code, r.text))
    r = s.put(ep + "/os-quota-sets/" + pid, json={"quota_set": want}, timeout=30)
    if r.status_code >= 400:
        raise SystemExit("quota: %s %s" % (r.status_code, r.text))
    got = r.json()["quota_set"]
    bad = {k: got.get(k) for k in want if got.get(k) != want[k]}
    if bad:
        raise SystemExit("quota not applied: %s" % bad)
    print("nova: demo project %s and default quotas %s" % (pid, want))


def cmd_warmup():
    s, ep = nova_session()
    s.headers["OpenStack-API-Version"] = "compute 2.93"
    g = "http://%s:%s" % (HOSTIP, E.get("GLANCE_PORT", "9292"))
    img = requests.get(g + "/v2/images", params={"name": IMAGE_NAMES[0]},
                       headers={"X-Auth-Token": s.headers["X-Auth-Token"]}, timeout=30).json()["images"][0]["id"]
    server = {"name": "warmup", "imageRef": img, "flavorRef": "1", "networks": "none"}
    if E.get("ENABLE_NEUTRON", "0") == "1":
        q = "http://%s:%s/v2.0" % (HOSTIP, E.get("NEUTRON_PORT", "9696"))
        nets = s.get(q + "/networks", params={"name": "private"}, timeout=30).json()["networks"]
        server["networks"] = [{"uuid": nets[0]["id"]}]
    t0 = time.time()
    r = s.post(ep + "/servers", json={"server": server}, timeout=60)
    if r.status_code != 202:
        raise SystemExit("warmup create: %s %s" % (r.status_code, r.text))
    sid = r.json()["server"]["id"]
    try:
        deadline = time.time() + 60
        while True:
            srv = s.get(ep + "/servers/" + sid, timeout=30).json()["server"]
            if srv["status"] == "ACTIVE" and srv["OS-EXT-STS:task_state"] is None:
                break
            if srv["status"] == "ERROR" or time.time() > deadline:
                raise SystemExit("warmup server: %s %s" % (srv["status"], srv.get("fault")))
            time.sleep(0.2)
        active = time.time() - t0
    finally:
        s.delete(ep + "/servers/" + sid, timeout=30)
    deadline = time.time() + 60
    while s.get(ep + "/servers/" + sid, timeout=30).status_code != 404:
        if time.time() > deadline:
            raise SystemExit("warmup server not deleted")
        time.sleep(0.2)
    print("warmup: boot -> ACTIVE %.1f s, deleted after %.1f s" % (active, time.time() - t0))


def cmd_verify():
    """Everything the tests need, seen as the demo user they authenticate as."""
    user, project = E.get("DEMO_USER", "demo"), E.get("DEMO_PROJECT", "demo")
    tok, body = token(user, DEMO_PW, project)
    cat = {svc["type"]: [e["url"] for e in svc["endpoints"] if e["interface"] == "public"][0]
           for svc in body["catalog"]}
    h = {"X-Auth-Token": tok, "OpenStack-API-Version": "compute 2.93"}
    nova = cat["compute"]
    fl = requests.get(nova + "/flavors/detail", headers=h, timeout=30)
    fl.raise_for_status()
    flavors = {f["name"]: f["id"] for f in fl.json()["flavors"]}
    missing = [f[0] for f in FLAVORS if f[0] not in flavors]
    if missing:
        raise SystemExit("demo cannot see flavors %s" % missing)
    im = requests.get(cat["image"] + "/v2/images", headers=h, timeout=30)
    im.raise_for_status()
    images = {i["name"]: i["id"] for i in im.json()["images"] if i["status"] == "active"}
    missing = [n for n in IMAGE_NAMES + list(MIN_IMAGES) if n not in images]
    if missing:
        raise SystemExit("demo cannot see active images %s" % missing)
    networks = {}
    network_quota = None
    if "network" in cat:
        nr = requests.get(cat["network"] + "/v2.0/networks", headers=h, timeout=30)
        nr.raise_for_status()
        networks = {n["name"]: n["id"] for n in nr.json()["networks"]}
        missing = [n for n in ("private", "public") if n not in networks]
        if missing:
            raise SystemExit("demo cannot see networks %s" % missing)
        nq = requests.get(cat["network"] + "/v2.0/quotas/" + body["project"]["id"], headers=h, timeout=30)
        nq.raise_for_status()
        network_quota = nq.json()["quota"]
    pid = body["project"]["id"]
    volume_quota = None
    if "block-storage" in cat:
        # not h: Cinder answers 400 to an OpenStack-API-Version header naming compute
        vq = requests.get(cat["block-storage"] + "/os-quota-sets/" + pid, headers={"X-Auth-Token": tok}, timeout=30)
        vq.raise_for_status()
        volume_quota = {k: vq.json()["quota_set"][k] for k in ("volumes", "gigabytes", "snapshots")}
    q = requests.get(nova + "/os-quota-sets/" + pid, headers=h, timeout=30)
    q.raise_for_status()
    quota = {k: q.json()["quota_set"][k] for k in ("instances", "cores", "ram")}
    if quota != quota_values():
        raise SystemExit("demo quotas are %s, expected %s" % (quota, quota_values()))
    info = {
        "auth_url": KS + "/v3",
        "region": REGION,
        "endpoints": cat,
        "compute_max_microversion": requests.get(nova + "/", timeout=30).json()["version"]["version"],
        "demo": {"user": user, "password": DEMO_PW, "project": project,
                 "project_id": pid, "user_id": body["user"]["id"],
                 "user_domain": "Default", "project_domain": "Default",
                 "roles": sorted(r["name"] for r in body["roles"]),
                 "quota": quota},
        "admin": {"user": "admin", "password": ADMIN_PW, "project": "admin"},
        "flavors": flavors,
        "images": images,
        "networks": networks,
        "external_network": {"name": "public", "cidr": FLOATING_CIDR,
                             "pool": list(FLOATING_POOL)} if "public" in networks else None,
        "network_quota": network_quota,
        "volume_quota": volume_quota,
        "compute_host": "mini-compute",
    }
    path = os.path.join(E.get("RUN", "/tmp/mini-openstack"), "stack.json")
    with open(path, "w") as f:
        json.dump(info, f, indent=2, sort_keys=True)
        f.write("\n")
    print("verify: ok as %s/%s; wrote %s" % (user, project, path))


if __name__ == "__main__":
    {"keystone": cmd_keystone, "flavors": cmd_flavors, "image": cmd_image,
     "wait-nova": cmd_wait_nova, "network": cmd_network,
     "external-network": cmd_external_network, "wait-cinder": cmd_wait_cinder,
     "quotas": cmd_quotas, "warmup": cmd_warmup, "verify": cmd_verify}[sys.argv[1]]()
