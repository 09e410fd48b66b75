"""remediate jp: results, the three ways in, and how errors read.

Drives the binary named by REMEDIATE (default build/remediate)."""
import json
import subprocess

import pytest

from conftest import binary

WORKFLOW = {"request": {"object": {
    "kind": "Workflow",
    "metadata": {"name": "bump-memory-7xk2p", "namespace": "argo-events"},
    "spec": {"arguments": {"parameters": [
        {"name": "pod", "value": "checkout-7d9f8-x2x9q"},
        {"name": "namespace", "value": "shop"}]}}}}}
POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "checkout-7d9f8-x2x9q", "namespace": "shop",
                    "labels": {"remediation.platform/optin": "true"}}}
SEED_LOOKUP = (
    "lookup('Pod', request.object.spec.arguments.parameters"
    "[?(@.name=='namespace')].value | [0], request.object.spec.arguments."
    "parameters[?(@.name=='pod')].value | [0], "
    "'metadata.labels.\"remediation.platform/optin\"')")


def jp(*args, stdin="{}"):
    return subprocess.run([binary(), "jp"] + list(args), input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_prints_the_result_as_json():
    p = jp("a[?b > `1`].b", stdin='{"a": [{"b": 1}, {"b": 2.5}, {"b": 3}]}')
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == [2.5, 3]


def test_numbers_print_as_written():
    p = jp("[to_string(`0.1`), `1e21`, `3.0`, divide(`1`, `4`)]")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == ["0.1", 1e21, 3, 0.25]
    assert "0.10000000000000001" not in p.stdout


def test_reads_input_from_a_file(tmp_path):
    f = tmp_path / "in.json"
    f.write_text(json.dumps(WORKFLOW))
    p = jp("-f", str(f), "request.object.metadata.name", stdin="")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == "bump-memory-7xk2p"


def test_unquoted_string_result():
    p = jp("-u", "request.object.spec.arguments.parameters"
           "[?(@.name=='pod')].value | [0]", stdin=json.dumps(WORKFLOW))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "checkout-7d9f8-x2x9q\n"


def test_unquoted_leaves_non_strings_as_json():
    p = jp("-u", "`[1, 2]`")
    assert p.returncode == 0
    assert json.loads(p.stdout) == [1, 2]


def test_reads_expression_from_a_file(tmp_path):
    e = tmp_path / "expr.jmespath"
    e.write_text("request.object.spec.arguments.parameters[*].name\n")
    p = jp("-e", str(e), stdin=json.dumps(WORKFLOW))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == ["pod", "namespace"]


def test_syntax_error_shows_column_and_caret():
    p = jp("foo.bar[?baz ==]")
    assert p.returncode == 2
    assert "syntax error at column 16" in p.stderr
    lines = p.stderr.splitlines()
    expr_line = next(l for l in lines if "foo.bar" in l)
    caret_line = lines[lines.index(expr_line) + 1]
    assert caret_line.rstrip().endswith("^")
    assert expr_line[caret_line.index("^")] == "]"


def test_syntax_error_in_a_multiline_expression_file(tmp_path):
    e = tmp_path / "expr.jmespath"
    e.write_text("request.object\n  | foo[?\n")
    p = jp("-e", str(e))
    assert p.returncode == 2
    assert "  | foo[?" in p.stderr


def test_evaluation_error_names_function_and_argument():
    p = jp("length(a)", stdin='{"a": 5}')
    assert p.returncode == 1
    assert "invalid-type" in p.stderr
    assert "length() argument 1" in p.stderr
    assert "got number" in p.stderr


def test_kyverno_arithmetic_error():
    p = jp("divide('4Ki', `0`)")
    assert p.returncode == 1
    assert "divide() argument 2: zero divisor" in p.stderr


def test_unknown_and_unsupported_functions():
    p = jp("lenght(@)")
    assert p.returncode == 1
    assert "did you mean length()" in p.stderr
    p = jp("random('[a-z]{4}')")
    assert p.returncode == 1
    assert "not supported" in p.stderr


@pytest.mark.parametrize("expr,want", [
    ("add('1Gi', '512Mi')", "1536Mi"),
    ("multiply('8Gi', `1.25`)", "10Gi"),
    ("subtract('1h', '90s')", "58m30s"),
    ("to_upper(truncate('checkout-7d9f8', `8`))", "CHECKOUT"),
    ("semver_compare('1.27.3', '>=1.25.0 <1.30.0')", True),
    ("base64_decode('cmVtZWRpYXRl')", "remediate"),
])
def test_kyverno_functions(expr, want):
    p = jp(expr)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == want


def test_seed_lookup_reads_the_objects_file(tmp_path):
    objs = tmp_path / "objects.json"
    objs.write_text(json.dumps({"kind": "List", "items": [POD]}))
    p = jp("--objects", str(objs), SEED_LOOKUP, stdin=json.dumps(WORKFLOW))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == "true"
    other = json.loads(json.dumps(WORKFLOW))
    other["request"]["object"]["spec"]["arguments"]["parameters"][0][
        "value"] = "gone"
    p = jp("--objects", str(objs), SEED_LOOKUP, stdin=json.dumps(other))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) is None


def test_lookup_without_a_cluster_is_an_error():
    p = jp(SEED_LOOKUP, stdin=json.dumps(WORKFLOW))
    assert p.returncode == 1
    assert "no cluster" in p.stderr


def test_bad_input_json():
    p = jp("@", stdin="{not json")
    assert p.returncode == 1
    assert "not JSON" in p.stderr


def test_usage_errors():
    assert jp().returncode == 2
    assert jp("a", "b").returncode == 2
    assert jp("--bogus", "a").returncode == 2


def test_hostile_expressions_fail_cleanly():
    deep = "(" * 5000 + "a" + ")" * 5000
    p = jp(deep)
    assert p.returncode in (1, 2)
    assert "deeper" in p.stderr
    doubling = "@"
    for _ in range(7):
        doubling = "join('', [%s, %s])" % (doubling, doubling)
    p = jp(doubling, stdin=json.dumps("x" * (1 << 20)))
    assert p.returncode == 1
    assert "limit" in p.stderr
