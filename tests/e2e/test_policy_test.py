"""`remediate test`: Kyverno's kyverno-test.yaml files, and remediate's own
remediate-test.yaml (examples/seed/remediate-test.yaml is the seed storm).

The data in tests/data/kyverno-test: `pass/` is a test in kyverno/policies'
layout (.kyverno-test/ beside the policy) whose every expectation our
engine meets, autogen rules for a Deployment and a CronJob included;
`fail/` expects what the engine does not do.
"""
import os
import xml.etree.ElementTree as ET

import pytest

from conftest import ROOT, run

DATA = os.path.join(ROOT, "tests", "data", "kyverno-test")


def test_a_directory_of_passing_tests_exits_0():
    p = run("test", "-v", os.path.join(DATA, "pass"), check=0)
    assert "7 passed, 0 failed" in p.stdout
    # the Pod rule answers for the Deployment through autogen-no-latest
    assert "PASS" in p.stdout and "no-latest Deployment/web" in p.stdout


def test_kind_selectors_in_every_form_match_as_kyvernos():
    """kinds: ["Pod/*"] and ["v1/Pod/*"] (the Pod, any subresource) were
    read as version "Pod" and matched nothing, so an Enforce rule on
    them let every Pod through; "Pod/exec" still matches no whole Pod."""
    p = run("test", "-v", os.path.join(DATA, "kinds"), check=0)
    assert p.returncode == 0, p.stdout
    assert "6 passed, 0 failed" in p.stdout


def without_values(tmp_path, d):
    """d's kyverno-test.yaml in tmp_path without its values file, the
    policy and resources named by path; (its path, its text)."""
    t = tmp_path / "kyverno-test.yaml"
    text = open(os.path.join(d, "kyverno-test.yaml")).read()
    text = text.replace("variables: values.yaml\n", "")
    for f in ("policy.yaml", "resources.yaml"):
        text = text.replace(f, os.path.join(d, f))
    t.write_text(text)
    return t, text


def test_a_values_file_gives_context_entries_and_the_operation(tmp_path):
    d = os.path.join(DATA, "values")
    p = run("test", d, check=0)
    assert "6 passed, 0 failed" in p.stdout
    # without the values the entries must be loaded, and there is no
    # cluster to load them from: errors, not passes
    t, _ = without_values(tmp_path, d)
    p = run("test", str(t), check=1)
    assert "want fail, got error" in p.stdout
    assert "no cluster to read ConfigMap platform/replica-limits" in p.stdout


def test_a_values_files_namespace_selector_gives_namespace_labels(tmp_path):
    d = os.path.join(DATA, "namespace-selector")
    p = run("test", d, check=0)
    assert "5 passed, 0 failed" in p.stdout
    # without the labels no namespace is prod: the rule applies to none
    t, text = without_values(tmp_path, d)
    p = run("test", str(t), check=1)
    assert "Pod/web-latest: want fail, got skip" in p.stdout
    # an entry without a name fails the file, naming the place
    (tmp_path / "values.yaml").write_text(
        "namespaceSelector:\n  - labels: {env: prod}\n")
    t.write_text(text.replace("results:", "variables: values.yaml\nresults:"))
    p = run("test", str(t), check=1)
    assert "variables: namespaceSelector[0]: an entry is" in p.stderr
    assert "namespaceSelector does not read" in p.stdout


def test_a_failing_expectation_exits_1_with_the_difference(tmp_path):
    junit = tmp_path / "junit.xml"
    p = run("test", "--junit", str(junit), os.path.join(DATA, "fail"),
            check=1)
    assert "1 passed, 2 failed" in p.stdout
    assert ("pod-basics/no-latest Pod/latest: want pass, got fail: "
            "validation error: An image tag is required") in p.stdout
    assert "Pod/missing: no such resource" in p.stdout
    root = ET.parse(junit).getroot()
    assert root.get("tests") == "3" and root.get("failures") == "2"
    failed = [c.get("name") for c in root.iter("testcase")
              if c.find("failure") is not None]
    assert failed == ["pod-basics/no-latest Pod/latest",
                      "pod-basics/no-latest Pod/missing"]


def test_nothing_to_run_or_a_bad_path_is_an_error(tmp_path):
    p = run("test", str(tmp_path), check=1)
    assert "no kyverno-test.yaml or remediate-test.yaml found" in p.stderr
    p = run("test", str(tmp_path / "absent"), check=1)
    assert "no such file or directory" in p.stderr
    run("test", "--bogus", check=2)


def test_a_policy_that_does_not_load_fails_the_file(tmp_path):
    (tmp_path / "policy.yaml").write_text(
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\n"
        "metadata: {name: m}\nspec:\n  rules:\n    - name: r\n"
        "      match: {any: [{resources: {kinds: [Pod]}}]}\n"
        "      mutate: {patchStrategicMerge: {metadata: {labels: {a: b}}}}\n")
    (tmp_path / "resource.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")
    (tmp_path / "kyverno-test.yaml").write_text(
        "name: t\npolicies: [policy.yaml]\nresources: [resource.yaml]\n"
        "results:\n  - {policy: m, rule: r, resource: p, kind: Pod, "
        "result: pass}\n")
    p = run("test", str(tmp_path), check=1)
    assert "mutate rules are not supported" in p.stderr
    assert "do not load" in p.stdout


SEED = os.path.join(ROOT, "examples", "seed")


def test_the_seed_example_test_passes():
    p = run("test", SEED, check=0)
    assert "40 passed, 0 failed" in p.stdout


def test_every_example_test_passes():
    # the seed, and one test per examples/actions/ directory
    p = run("test", os.path.join(ROOT, "examples"), check=0)
    assert "112 passed, 0 failed" in p.stdout


EXAMPLE_TESTS = os.path.join(ROOT, "examples", "tests")


def test_every_action_example_has_a_test_naming_it():
    actions = os.path.join(ROOT, "examples", "actions")
    named = set()
    for d in os.listdir(EXAMPLE_TESTS):
        text = open(os.path.join(EXAMPLE_TESTS, d,
                                 "remediate-test.yaml")).read()
        named |= {a for a in os.listdir(actions)
                  if "../../actions/%s" % a in text}
    assert named == {a for a in os.listdir(actions)
                     if os.path.isdir(os.path.join(actions, a))}


def example_copy(tmp_path, name, old, new):
    """examples/tests/NAME with old replaced by new in its test file."""
    import shutil
    d = tmp_path / "examples"
    shutil.copytree(os.path.join(ROOT, "examples"), d)
    t = d / "tests" / name / "remediate-test.yaml"
    text = t.read_text()
    assert old in text
    t.write_text(text.replace(old, new, 1))
    return str(d / "tests" / name)


# One changed expectation per example: the test must notice each (a
# decision, a guardrail's reason, a plan excerpt, a notification route).
CHANGED = [
    ("argocd-sync", "reason: cooldown", "reason: rate-limited",
     'decision 5 (2026-11-25T10:50:00Z Application argocd/payments): '
     'reason: want "rate-limited", got "cooldown"'),
    ("argocd-sync", "phase: Terminating", "phase: Running",
     "plan.requests[0].body.status.operationState.phase: want \"Running\", "
     "got \"Terminating\""),
    ("quarantine", "reason: opt-out", "reason: cooldown",
     'decision 7 (2026-11-25T10:00:40Z Pod platform/platform-0): reason: '
     'want "cooldown", got "opt-out"'),
    ("quarantine", "{target: {name: search}, decision: acted}",
     "{target: {name: search}, decision: suppressed}",
     'decision: want "suppressed", got "acted"'),
    ("http-trigger", "body: {node: node-1,", "body: {node: node-2,",
     'plan.body.node: want "node-2", got "node-1"'),
    ("http-trigger", "reason: rate-limited", "reason: opt-out",
     'reason: want "opt-out", got "rate-limited"'),
    ("notifications", "destinations: [shop-slack]",
     "destinations: [platform-slack]",
     'notify.destinations[0]: want "platform-slack", got "shop-slack"'),
    ("notifications", "owner: team-shop, destinations: []}",
     "owner: team-shop, destinations: [shop-slack]}",
     "notify.destinations: want [\"shop-slack\"], got []"),
    ("restart-pod", "reason: opt-out", "reason: cooldown",
     'reason: want "cooldown", got "opt-out"'),
]


@pytest.mark.parametrize("name,old,new,why", CHANGED)
def test_an_example_fails_when_an_expected_decision_changes(
        tmp_path, name, old, new, why):
    p = run("test", example_copy(tmp_path, name, old, new), check=1)
    assert why in p.stdout, p.stdout
    assert " 1 failed" in p.stdout


def test_a_decision_that_differs_fails_with_the_field(tmp_path):
    text = open(os.path.join(SEED, "remediate-test.yaml")).read()
    for rel in ("manifests", "cluster", "budget.ndjson", "signals.ndjson"):
        text = text.replace(" %s" % rel, " " + os.path.join(SEED, rel))
        text = text.replace("[%s]" % rel, "[%s]" % os.path.join(SEED, rel))
    text = text.replace("name: cart}", "name: carts}")
    text = text.replace("count: 18", "count: 17")
    t = tmp_path / "storm.remediate-test.yaml"
    t.write_text(text)
    junit = tmp_path / "j.xml"
    p = run("test", "--junit", str(junit), str(tmp_path), check=1)
    assert ('decision 21 (2026-11-25T10:01:00Z Deployment shop/cart): '
            'target.name: want "carts", got "cart"') in p.stdout
    assert "1 more decisions than the test expects" in p.stdout
    assert "38 passed, 2 failed" in p.stdout
    assert ET.parse(junit).getroot().get("failures") == "2"


def test_more_decisions_expected_than_made_is_one_case(tmp_path):
    """The seed storm makes 40 decisions; a test expecting 2 more after
    them, then a count no run could reach, fails with one case per
    expectation (its count said, not one case each): a count in the
    file used to become as many cases, a hang for a large one."""
    text = open(os.path.join(SEED, "remediate-test.yaml")).read()
    for rel in ("manifests", "cluster", "budget.ndjson", "signals.ndjson"):
        text = text.replace(" %s" % rel, " " + os.path.join(SEED, rel))
        text = text.replace("[%s]" % rel, "[%s]" % os.path.join(SEED, rel))
    text += ("  - count: 2\n    decision: acted\n"
             "  - count: 99999999999999\n    decision: acted\n")
    t = tmp_path / "storm.remediate-test.yaml"
    t.write_text(text)
    p = run("test", str(t), check=1)
    assert "40 passed, 2 failed" in p.stdout
    assert ("decision 41 (-): no record: the signals made fewer decisions "
            "(2 more expected here)") in p.stdout
    assert "decision 43 (-): no record" in p.stdout
    assert "(99999999999999 more expected here)" in p.stdout


def ci_steps(name):
    """The remediate commands of examples/ci/NAME, in order."""
    import yaml
    doc = yaml.safe_load(open(os.path.join(ROOT, "examples", "ci", name)))
    if "jobs" in doc:
        lines = [s["run"] for s in doc["jobs"]["policy"]["steps"]
                 if "run" in s]
    else:
        lines = doc["remediation"]["script"]
    return [line.split() for line in lines]


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_the_ci_snippets_run_check_and_test(tmp_path, name):
    import subprocess
    from conftest import binary
    steps = ci_steps(name)
    assert [s[:2] for s in steps] == [["remediate", "check"],
                                      ["remediate", "test"]]
    # a checkout of the repository: its examples, and room for the report
    os.symlink(os.path.join(ROOT, "examples"), tmp_path / "examples")
    for s in steps:
        p = subprocess.run([binary()] + s[1:], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, (s, p.stdout, p.stderr)
    root = ET.parse(tmp_path / "test-results.xml").getroot()
    assert root.get("failures") == "0" and int(root.get("tests")) > 100


def test_a_remediation_test_without_signals_is_refused(tmp_path):
    (tmp_path / "remediate-test.yaml").write_text(
        "apiVersion: remediate.dev/v1alpha1\nkind: RemediationTest\n"
        "metadata: {name: x}\nmanifests: [m]\ndecisions: []\n")
    p = run("test", str(tmp_path), check=1)
    assert "needs manifests and signals" in p.stdout


NS_POLICY = """apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: pod-basics}
spec:
  validationFailureAction: Enforce
  rules:
    - name: no-latest
      match:
        any:
          - resources: {kinds: [Pod]}
      validate:
        message: "An image tag is required"
        pattern:
          spec:
            containers:
              - image: "!*:latest"
"""

NS_RESOURCES = "---\n".join(
    """apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s}
spec:
  containers: [{name: c, image: "nginx:%s"}]
""" % w for w in (("web", "dev", "1.25"), ("web", "prod", "latest"),
                  ("api", "shop-prod", "latest")))


def test_a_results_namespace_picks_the_resource_in_it(tmp_path):
    """Two Pods named web, in dev and prod: `namespace: prod` (as the
    Kyverno CLI reads it) judges prod's, not the first one of that name;
    ns/name names that namespace exactly, not one it begins."""
    (tmp_path / "policy.yaml").write_text(NS_POLICY)
    (tmp_path / "resources.yaml").write_text(NS_RESOURCES)
    head = ("name: ns\npolicies: [policy.yaml]\nresources: "
            "[resources.yaml]\nresults:\n")
    res = ("  - {policy: pod-basics, rule: no-latest, kind: Pod, %s"
           "result: %s}\n")
    t = tmp_path / "kyverno-test.yaml"
    t.write_text(head + res % ("namespace: prod, resources: [web], ",
                               "fail") +
                 res % ("namespace: dev, resources: [web], ", "pass") +
                 res % ("resources: [prod/web], ", "fail"))
    p = run("test", "-v", str(t), check=0)
    assert "3 passed, 0 failed" in p.stdout
    assert "pod-basics/no-latest Pod/prod/web" in p.stdout
    t.write_text(head + res % ("namespace: prod, resources: [web], ",
                               "pass") +
                 res % ("resources: [shop/api], ", "fail"))
    p = run("test", str(t), check=1)
    assert "0 passed, 2 failed" in p.stdout
    assert "Pod/prod/web: want pass, got fail" in p.stdout
    assert "Pod/shop/api: no such resource" in p.stdout


def test_an_unscored_policy_or_resource_turns_a_fail_into_warn(tmp_path):
    """Kyverno: `policies.kyverno.io/scored: "false"` on a policy or a
    resource which would otherwise fail is a `warn`; a pass stays a
    pass.  A test expecting warn for such a policy failed here ("want
    warn, got fail"), and one expecting fail passed where Kyverno's
    fails."""
    unscored = NS_POLICY.replace(
        "metadata: {name: pod-basics}",
        "metadata:\n  name: pod-basics\n  annotations:\n"
        "    policies.kyverno.io/scored: \"false\"")
    (tmp_path / "policy.yaml").write_text(unscored)
    (tmp_path / "resources.yaml").write_text(NS_RESOURCES)
    t = tmp_path / "kyverno-test.yaml"
    t.write_text("name: warn\npolicies: [policy.yaml]\nresources: "
                 "[resources.yaml]\nresults:\n"
                 "  - {policy: pod-basics, rule: no-latest, kind: Pod, "
                 "resources: [prod/web], result: warn}\n"
                 "  - {policy: pod-basics, rule: no-latest, kind: Pod, "
                 "resources: [dev/web], result: pass}\n")
    p = run("test", str(t), check=0)
    assert "2 passed, 0 failed" in p.stdout, p.stdout
    # the annotation on the resource does the same for a scored policy
    (tmp_path / "policy.yaml").write_text(NS_POLICY)
    (tmp_path / "resources.yaml").write_text(NS_RESOURCES.replace(
        "metadata: {name: web, namespace: prod}",
        "metadata:\n  name: web\n  namespace: prod\n  annotations:\n"
        "    policies.kyverno.io/scored: \"false\""))
    p = run("test", str(t), check=0)
    assert "2 passed, 0 failed" in p.stdout, p.stdout
    t.write_text(t.read_text().replace("result: warn", "result: fail"))
    p = run("test", str(t), check=1)
    assert "want fail, got warn" in p.stdout, p.stdout


def test_a_folder_named_like_an_option_is_tested_after_dashdash(tmp_path):
    import shutil
    shutil.copytree(os.path.join(DATA, "pass"), str(tmp_path / "-p"))
    cwd = os.getcwd()
    os.chdir(str(tmp_path))
    try:
        p = run("test", "--", "-p")
        assert p.returncode == 0, p.stdout + p.stderr
        assert "7 passed, 0 failed" in p.stdout
        p = run("test", "-p")
        assert p.returncode == 2
        assert "remediate test: unknown option -p" in p.stderr
    finally:
        os.chdir(cwd)
