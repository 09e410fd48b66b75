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

from conftest import ROOT, run

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


def test_rbac_yaml_is_what_remediate_rbac_prints():
    base = os.path.join(DEPLOY, "base")
    p = subprocess.run([os.environ.get("REMEDIATE", os.path.join(
        ROOT, "build", "remediate")), "rbac", "-c", "manifests"], cwd=base,
        capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    with open(os.path.join(base, "rbac.yaml")) as f:
        assert f.read() == p.stdout, "deploy/base/rbac.yaml is stale: " \
            "run make deploy"


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
        "RemediateStateNotWritable"}


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
