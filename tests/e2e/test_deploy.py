"""deploy/: every kustomization renders with kubectl's built-in kustomize,
every rendered object is accepted by the Kubernetes API emulator's
validation, the generated files are current, and the Deployment runs
remediate the way a cluster will (listen address, ConfigMap mount,
restricted security context, one replica)."""
import glob
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, binary, run
from test_rbac import grants

sys.path.insert(0, os.path.join(ROOT, "tests"))
from kubeapi.client import Client  # noqa: E402
from kubeapi.emulator import Emulator  # noqa: E402

DEPLOY = os.path.join(ROOT, "deploy")
KUBECTL = os.environ.get("KUBECTL") or shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="no kubectl "
                                   "(Debian: kubernetes-client)")

# Kinds the emulator does not serve built in: registered as it registers
# any CRD, so their objects still meet its metadata validation.
EXTRA = [
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole",
     False),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings",
     "ClusterRoleBinding", False),
    ("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    ("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding",
     True),
    ("monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor",
     True),
    ("monitoring.coreos.com", "v1", "prometheusrules", "PrometheusRule",
     True),
    ("argoproj.io", "v1alpha1", "applicationsets", "ApplicationSet", True),
]


def kustomizations():
    return sorted(os.path.dirname(p) for p in glob.glob(
        os.path.join(DEPLOY, "**", "kustomization.yaml"), recursive=True))


def render(path):
    p = subprocess.run([KUBECTL, "kustomize", path], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, (path, p.stderr)
    return [d for d in yaml.safe_load_all(p.stdout) if d]


def by_kind(docs, kind, name=None):
    out = [d for d in docs if d["kind"] == kind and
           (name is None or d["metadata"]["name"] == name)]
    assert out, (kind, name)
    return out[0]


def api_path(emu, obj):
    group, _, version = obj["apiVersion"].rpartition("/")
    rd = emu.api.catalogue.by_kind(obj["apiVersion"], obj["kind"])
    assert rd is not None, obj["kind"]
    base = "/api/%s" % version if not group else "/apis/%s/%s" % (group,
                                                                   version)
    ns = obj["metadata"].get("namespace")
    if rd.namespaced:
        assert ns, "%s %s has no namespace" % (obj["kind"],
                                               obj["metadata"]["name"])
        return "%s/namespaces/%s/%s" % (base, ns, rd.plural)
    assert not ns
    return "%s/%s" % (base, rd.plural)


def test_there_are_overlays():
    rel = [os.path.relpath(p, DEPLOY) for p in kustomizations()]
    assert "base" in rel
    assert any(r.startswith("overlays") for r in rel), rel


@needs_kubectl
@pytest.mark.parametrize("path", kustomizations(),
                         ids=lambda p: os.path.relpath(p, DEPLOY))
def test_every_kustomization_renders_and_the_api_accepts_it(path):
    docs = render(path)
    with Emulator() as emu:
        for g, v, plural, kind, namespaced in EXTRA:
            emu.api.catalogue.add_crd(g, v, plural, kind,
                                      namespaced=namespaced)
        cl = Client(emu.url, emu.token, emu.ca_file)
        nss = {d["metadata"].get("namespace") for d in docs} - {None}
        for ns in sorted(nss):
            cl.request("POST", "/api/v1/namespaces", {
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns}})
        for d in docs:
            if d["kind"] == "Namespace":
                continue
            r = cl.request("POST", api_path(emu, d), d)
            assert r.status == 201, (d["kind"], d["metadata"]["name"],
                                     r.body)


GENERATED = ["base/rbac.yaml", "overlays/prometheus/prometheusrule.yaml",
             "overlays/argocd/rbac.yaml"]


def test_generated_files_are_current(tmp_path):
    """scripts/deploy-gen (make deploy) on a copy gives the files in the
    tree: RBAC from `remediate rbac`, the PrometheusRule from alerts.yaml."""
    top = tmp_path / "top"
    shutil.copytree(DEPLOY, str(top / "deploy"))
    (top / "scripts").mkdir()
    shutil.copy(os.path.join(ROOT, "scripts", "deploy-gen"),
                str(top / "scripts"))
    p = subprocess.run([str(top / "scripts" / "deploy-gen"), binary()],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    rems = sorted(os.listdir(os.path.join(DEPLOY, "remediations")))
    assert rems
    for rel in GENERATED + ["remediations/%s/rbac.yaml" % r for r in rems]:
        with open(os.path.join(DEPLOY, rel)) as a, \
                open(str(top / "deploy" / rel)) as b:
            assert a.read() == b.read(), "deploy/%s is stale: run " \
                "make deploy" % rel


def test_the_shipped_manifests_are_the_checked_seed():
    base = os.path.join(DEPLOY, "base", "manifests")
    seed = os.path.join(ROOT, "examples", "seed", "manifests")
    assert sorted(os.listdir(base)) == sorted(os.listdir(seed))
    for f in os.listdir(seed):
        with open(os.path.join(base, f)) as a, \
                open(os.path.join(seed, f)) as b:
            assert a.read() == b.read(), f
    run("check", "-c", base, check=0)


@needs_kubectl
def test_the_deployment_is_one_restricted_replica():
    docs = render(os.path.join(DEPLOY, "base"))
    dep = by_kind(docs, "Deployment")
    spec = dep["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    psc = pod["securityContext"]
    assert psc["runAsNonRoot"] is True and psc["runAsUser"] == 65532
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    c = pod["containers"][0]
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert c["resources"]["requests"] and c["resources"]["limits"]
    assert c["command"] == ["/remediate"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    args = c["args"]
    listen = args[args.index("--listen") + 1]
    # every address (the test_http cases for the any-address forms)
    assert listen in (":8080", "0.0.0.0:8080")
    assert c["ports"][0]["containerPort"] == 8080
    # the state file on the claim, the manifests from the ConfigMap
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in pod["volumes"]}
    state = args[args.index("--state") + 1]
    assert state.startswith(mounts["state"] + "/")
    assert vols["state"]["persistentVolumeClaim"]["claimName"] == \
        by_kind(docs, "PersistentVolumeClaim")["metadata"]["name"]
    assert args[args.index("-c") + 1] == mounts["manifests"]
    cm = vols["manifests"]["configMap"]["name"]
    assert cm == by_kind(docs, "ConfigMap")["metadata"]["name"]
    assert pod["serviceAccountName"] == by_kind(
        docs, "ServiceAccount")["metadata"]["name"]
    # bindings name that service account
    for kind in ("ClusterRoleBinding", "RoleBinding"):
        sub = by_kind(docs, kind)["subjects"][0]
        assert (sub["namespace"], sub["name"]) == ("remediate",
                                                   "remediate")
    pdb = by_kind(docs, "PodDisruptionBudget")
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": spec["selector"]}


def configmap_volume(root, data, stamp):
    """Lays out data as the kubelet projects a ConfigMap: files in a
    timestamped directory, ..data -> it, and KEY -> ..data/KEY."""
    d = os.path.join(root, stamp)
    os.makedirs(d)
    for k, v in data.items():
        with open(os.path.join(d, k), "w") as f:
            f.write(v)
    tmp = os.path.join(root, "..data_tmp")
    os.symlink(stamp, tmp)
    os.replace(tmp, os.path.join(root, "..data"))   # the atomic swap
    for k in data:
        link = os.path.join(root, k)
        if not os.path.islink(link):
            os.symlink(os.path.join("..data", k), link)


@needs_kubectl
def test_configmap_mounted_manifests_load_and_follow_a_swap(tmp_path):
    cm = by_kind(render(os.path.join(DEPLOY, "base")), "ConfigMap")
    vol = tmp_path / "manifests"
    vol.mkdir()
    configmap_volume(str(vol), cm["data"], "..2026_12_06_10_00_00.1")
    p = run("check", "-c", str(vol), check=0)
    # each manifest once: the ..data and timestamped entries are skipped
    assert p.stdout.splitlines()[-1] == "4 manifests, 0 errors, 0 warnings"
    assert "..data" not in p.stdout and "..2026" not in p.stdout
    # an update: new directory, ..data swapped, the old one removed
    data = dict(cm["data"])
    data["sensor.yaml"] = data["sensor.yaml"].replace(
        "name: oom-remediation", "name: oom-remediation-v2")
    configmap_volume(str(vol), data, "..2026_12_06_10_05_00.2")
    shutil.rmtree(str(vol / "..2026_12_06_10_00_00.1"))
    p = run("check", "-c", str(vol), check=0)
    assert "Sensor argo-events/oom-remediation-v2" in p.stdout
    p = run("rbac", "-c", str(vol), check=0)
    assert "Sensor argo-events/oom-remediation-v2 (%s/sensor.yaml)" % vol \
        in p.stdout


PROM_OVERLAY = os.path.join(DEPLOY, "overlays", "prometheus")
PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(PROMTOOL is None, reason="no promtool (prometheus)")
def test_alert_rules_check_and_pass_their_tests():
    for args in (["check", "rules", "alerts.yaml"],
                 ["test", "rules", "alerts_test.yaml"]):
        p = subprocess.run([PROMTOOL] + args, cwd=PROM_OVERLAY,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr
    # every alert has a test that shows it firing
    with open(os.path.join(PROM_OVERLAY, "alerts.yaml")) as f:
        alerts = {r["alert"] for g in yaml.safe_load(f)["groups"]
                  for r in g["rules"]}
    with open(os.path.join(PROM_OVERLAY, "alerts_test.yaml")) as f:
        fired = {t["alertname"] for c in yaml.safe_load(f)["tests"]
                 for t in c["alert_rule_test"] if t["exp_alerts"]}
    assert alerts == fired == {
        "RemediationFailing", "RemediationRecurring",
        "RemediationCircuitOpen", "RemediateEngineStalled",
        "RemediateStateNotWritable", "RemediateStateDiskSlow"}


def test_prometheusrule_is_the_rule_file():
    with open(os.path.join(PROM_OVERLAY, "alerts.yaml")) as f:
        rules = yaml.safe_load(f)
    with open(os.path.join(PROM_OVERLAY, "prometheusrule.yaml")) as f:
        pr = yaml.safe_load(f)
    assert pr["kind"] == "PrometheusRule"
    assert pr["spec"] == rules, "prometheusrule.yaml is stale: make deploy"


@needs_kubectl
def test_prometheus_overlay_adds_monitoring_to_the_base():
    docs = render(PROM_OVERLAY)
    base = render(os.path.join(DEPLOY, "base"))
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == sorted([d["kind"] for d in base] +
                           ["ServiceMonitor", "PrometheusRule", "ConfigMap"])
    sm = by_kind(docs, "ServiceMonitor")
    svc = by_kind(docs, "Service")
    assert sm["spec"]["endpoints"][0]["port"] == svc["spec"]["ports"][0][
        "name"]
    for k, v in sm["spec"]["selector"]["matchLabels"].items():
        assert svc["metadata"]["labels"][k] == v
    dash = by_kind(docs, "ConfigMap", "remediate-dashboard")
    assert dash["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert "Recurrence ratio per trigger" in dash["data"][
        "remediate-dashboard.json"]


def test_a_configmap_swap_is_reloaded_in_place_only_when_it_loads(tmp_path):
    """run on a ConfigMap volume: a `..data` swap to broken manifests is
    refused (the old ones keep deciding), a swap to good ones is reloaded
    in place: the same process decides with them, no exit."""
    import json as _json
    import scenario
    from conftest import Daemon, cluster_objects
    seed = os.path.join(ROOT, "examples", "seed", "manifests")
    data = {f: open(os.path.join(seed, f)).read()
            for f in sorted(os.listdir(seed))}
    vol = tmp_path / "manifests"
    vol.mkdir()
    configmap_volume(str(vol), data, "..2026_12_06_10_00_00.1")
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "cart")]))
        d = Daemon(vol, emu.kubeconfig)
        try:
            d.wait_log("synced")
            bad = dict(data)
            bad["sensor.yaml"] = bad["sensor.yaml"].replace(
                "operation: create", "operation: explode")
            configmap_volume(str(vol), bad, "..2026_12_06_10_05_00.2")
            d.wait_log("configuration refused; the running one stays")
            emu.oom_kill("shop", scenario.pod_name("cart", 0))
            old = d.take(1)
            good = dict(data)
            good["sensor.yaml"] = good["sensor.yaml"].replace(
                "name: oom-remediation", "name: oom-remediation-v2")
            configmap_volume(str(vol), good, "..2026_12_06_10_10_00.3")
            d.wait_log("configuration reloaded")
            emu.oom_kill("shop", scenario.pod_name("cart", 0))
            new = d.take(1)
            assert d.p.poll() is None       # reloaded, not restarted
        finally:
            d.stop()
    assert [r["sensor"] for r in old] == ["argo-events/oom-remediation"], old
    assert [r["sensor"] for r in new] == ["argo-events/oom-remediation-v2"], \
        new
    logs = [_json.loads(x) for x in d.log_lines if x.startswith("{")]
    assert sum(x.get("msg") == "configuration refused; the running one "
               "stays" for x in logs) == 1
    assert sum(x.get("msg") == "running" for x in logs) == 1
    # the refusal says what is wrong, as check would
    assert any("sensor.yaml" in x and "explode" in x for x in d.log_lines)


# ---------------------------------------------------- Argo CD delivery ----

REMEDIATIONS = os.path.join(DEPLOY, "remediations")
ARGO_OVERLAY = os.path.join(DEPLOY, "overlays", "argocd")
# where each shipped remediation comes from: it must not drift
ORIGIN = {"oom-bump-memory": os.path.join(ROOT, "examples", "seed",
                                          "manifests"),
          "argocd-sync": os.path.join(ROOT, "examples", "actions",
                                      "argocd-sync")}


def load_yaml(*parts):
    with open(os.path.join(*parts)) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def test_each_remediation_is_a_checked_example_with_its_own_rbac():
    rems = sorted(os.listdir(REMEDIATIONS))
    assert rems == sorted(ORIGIN)
    for r in rems:
        m = os.path.join(REMEDIATIONS, r, "manifests")
        run("check", "-c", m, check=0)
        for f in os.listdir(m):
            with open(os.path.join(m, f)) as a, \
                    open(os.path.join(ORIGIN[r], f)) as b:
                assert a.read() == b.read(), (r, f)
        roles = load_yaml(REMEDIATIONS, r, "rbac.yaml")
        assert roles[0]["kind"] == "ClusterRole"
        assert roles[0]["metadata"]["name"] == "remediation-" + r


@needs_kubectl
def test_the_argocd_overlay_mounts_every_remediation_the_set_delivers():
    docs = render(ARGO_OVERLAY)
    dep = by_kind(docs, "Deployment")
    vol = [v for v in dep["spec"]["template"]["spec"]["volumes"]
           if v["name"] == "manifests"][0]
    assert "configMap" not in vol
    sources = [x["configMap"] for x in vol["projected"]["sources"]]
    assert sources[0]["name"].startswith("remediate-manifests-")
    optional = {x["name"] for x in sources[1:] if x.get("optional")}
    assert len(optional) == len(sources) - 1
    delivered = set()
    for r in os.listdir(REMEDIATIONS):
        for d in render(os.path.join(REMEDIATIONS, r)):
            if d["kind"] == "ConfigMap":
                assert d["metadata"]["namespace"] == "remediate"
                assert d["metadata"]["labels"][
                    "remediate.dev/remediation"] == r
                assert all(k.startswith(r + ".") for k in d["data"])
                delivered.add(d["metadata"]["name"])
    assert optional == delivered
    # the seed's RBAC is gone; what is left is the cluster view's
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("ClusterRole", "remediate") not in kinds
    assert ("Role", "remediate") not in kinds
    assert ("ClusterRole", "remediate-view") in kinds
    args = dep["spec"]["template"]["spec"]["containers"][0]["args"]
    # no flag for it: run reloads a changed volume in place
    assert args[:3] == ["run", "-c", "/etc/remediate/manifests"]
    assert not [a for a in args if "exit" in a]


@needs_kubectl
def test_what_the_pod_sees_loads_and_the_roles_grant_it(tmp_path):
    """The projected volume with every remediation: check is clean, and the
    delivered roles grant every permission run will ask for."""
    vol = tmp_path / "manifests"
    vol.mkdir()
    data = {}
    for d in render(ARGO_OVERLAY):
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith(
                "remediate-manifests"):
            data.update(d["data"])
    roles = list(render(ARGO_OVERLAY))
    for r in os.listdir(REMEDIATIONS):
        rd = render(os.path.join(REMEDIATIONS, r))
        roles += rd
        for d in rd:
            if d["kind"] == "ConfigMap":
                data.update(d["data"])
    configmap_volume(str(vol), data, "..2026_12_06_11_00_00.1")
    p = run("check", "-c", str(vol), check=0)
    assert p.stdout.splitlines()[-1].endswith("0 errors, 0 warnings")
    have = grants(roles)
    need = grants(yaml.safe_load_all(run("rbac", "-c", str(vol),
                                         check=0).stdout))
    assert need
    for ns, g, res, v in need:
        assert (ns, g, res, v) in have or (None, g, res, v) in have, \
            (ns, g, res, v)


def test_application_and_applicationset_follow_argo_cds_schema():
    app = load_yaml(DEPLOY, "argocd", "application.yaml")[0]
    aset = load_yaml(DEPLOY, "argocd", "applicationset.yaml")[0]
    assert (app["apiVersion"], app["kind"]) == ("argoproj.io/v1alpha1",
                                                "Application")
    src = app["spec"]["source"]
    assert set(app["spec"]) == {"project", "source", "destination",
                                "syncPolicy"}
    assert set(src) == {"repoURL", "targetRevision", "path"}
    assert os.path.exists(os.path.join(ROOT, src["path"],
                                       "kustomization.yaml"))
    assert app["spec"]["destination"] == {
        "server": "https://kubernetes.default.svc", "namespace": "remediate"}
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True,
                                                      "selfHeal": True}
    assert (aset["apiVersion"], aset["kind"]) == ("argoproj.io/v1alpha1",
                                                  "ApplicationSet")
    git = aset["spec"]["generators"][0]["git"]
    assert set(git) == {"repoURL", "revision", "directories"}
    assert git["repoURL"] == src["repoURL"]
    pattern = git["directories"][0]["path"]
    assert pattern == "deploy/remediations/*"
    assert sorted(glob.glob(os.path.join(ROOT, pattern))) == sorted(
        os.path.join(REMEDIATIONS, r) for r in os.listdir(REMEDIATIONS))
    t = aset["spec"]["template"]
    assert t["metadata"]["name"] == "remediation-{{path.basename}}"
    assert t["spec"]["source"]["path"] == "{{path.path}}"
    assert t["spec"]["source"]["repoURL"] == src["repoURL"]
    assert t["spec"]["destination"]["namespace"] == "remediate"
    assert t["spec"]["syncPolicy"]["automated"]["prune"] is True


@needs_kubectl
def test_the_postgres_overlay_runs_two_electing_replicas_on_a_secret_url():
    docs = render(os.path.join(DEPLOY, "overlays", "postgres"))
    dep = by_kind(docs, "Deployment", "remediate")
    assert dep["spec"]["replicas"] == 2
    c = dep["spec"]["template"]["spec"]["containers"][0]
    args = c["args"]
    assert "--leader-elect" in args and "--state-shared-storage" not in args
    assert args[args.index("--state") + 1] == "$(REMEDIATE_STATE)"
    assert args[args.index("--cluster-name") + 1] == \
        "$(REMEDIATE_CLUSTER_NAME)"
    env = {e["name"]: e.get("valueFrom", e.get("value")) for e in c["env"]}
    assert env["REMEDIATE_CLUSTER_NAME"] == "default"
    for name, key in (("REMEDIATE_STATE", "url"), ("PGPASSWORD", "password"),
                      ("REMEDIATE_APPROVAL_KEY", "approval-key")):
        assert env[name]["secretKeyRef"] == {"name": "remediate-postgres",
                                             "key": key}
    assert not [d for d in docs if d["kind"] == "PersistentVolumeClaim"]
    vols = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    assert "persistentVolumeClaim" not in vols["state"]
    role = by_kind(docs, "Role", "remediate-leader-election")
    assert role["metadata"]["namespace"] == "remediate"
    assert role["rules"] == [{"apiGroups": ["coordination.k8s.io"],
                              "resources": ["leases"],
                              "verbs": ["get", "create", "update"]}]
