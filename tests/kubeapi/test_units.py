"""Data-driven tests of the emulator's building blocks."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from kubeapi import patch, selectors, util, yamlish   # noqa: E402
from kubeapi.emulator import Emulator                 # noqa: E402
from kubeapi.client import Client                     # noqa: E402


@pytest.mark.parametrize("text,msg", [
    ("{not json", "invalid character 'n' looking for beginning of object "
                  "key string"),
    ("", "unexpected end of JSON input"),
    ("{\"a\":1", "unexpected end of JSON input"),
    ("{\"a\" 1}", "invalid character '1' after object key"),
    ("{\"a\":1 \"b\"}", "invalid character '\"' after object key:value "
                        "pair"),
    ("[1 2]", "invalid character '2' after array element"),
    ("{} x", "invalid character 'x' after top-level value"),
    ("nul", "unexpected end of JSON input"),
    ("tru3", "invalid character '3' in literal true (expecting 'e')"),
    ("'x'", "invalid character '\\'' looking for beginning of value"),
    ("[01]", "invalid character '1' after array element"),
    ("NaN", "invalid character 'N' looking for beginning of value"),
])
def test_go_json_errors(text, msg):
    with pytest.raises(util.GoJSONError) as e:
        util.go_json_loads(text)
    assert str(e.value) == msg


@pytest.mark.parametrize("q,canon", [
    ("128Mi", "128Mi"), ("1024Mi", "1Gi"), ("1.5Gi", "1536Mi"),
    ("0.5", "500m"), ("1000m", "1"), ("100m", "100m"), ("1500", "1500"),
    ("2000", "2k"), ("1e3", "1e3"), ("12e2", "1200"), ("512", "512"),
    ("0.0001", "100u"), ("-1Mi", "-1Mi"), ("0", "0"), (1, "1"),
    ("1Ki", "1Ki"), ("1023", "1023"),
])
def test_quantity_canonical(q, canon):
    assert util.canonical_quantity(q) == canon


@pytest.mark.parametrize("bad", ["lots", "1.2.3Mi", "", "Mi", "1Qi"])
def test_quantity_errors(bad):
    with pytest.raises(util.QuantityError):
        util.parse_quantity(bad)


@pytest.mark.parametrize("secs,text", [
    (5, "5s"), (119, "119s"), (125, "2m5s"), (600, "10m"), (7200, "120m"),
    (4 * 3600 + 60 * 5, "4h5m"), (20 * 3600, "20h"), (3 * 86400, "3d"),
    (3 * 86400 + 3600, "3d1h"), (328 * 86400, "328d"),
    (3 * 365 * 86400, "3y"),
])
def test_human_duration(secs, text):
    assert util.human_duration(secs) == text


# RFC 7386 appendix A.
@pytest.mark.parametrize("target,p,result", [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
])
def test_merge_patch_rfc7386(target, p, result):
    assert patch.merge_patch(target, p) == result


@pytest.mark.parametrize("doc,ops,result", [
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}],
     {"foo": "bar", "baz": "qux"}),
    ({"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1",
                                "value": "qux"}],
     {"foo": ["bar", "qux", "baz"]}),
    ({"foo": [1]}, [{"op": "add", "path": "/foo/-", "value": 2}],
     {"foo": [1, 2]}),
    ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}],
     {"foo": "bar"}),
    ({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
     [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
     {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    ({"/": 1, "~": 2}, [{"op": "replace", "path": "/~1", "value": 3},
                        {"op": "copy", "from": "/~0", "path": "/c"}],
     {"/": 3, "~": 2, "c": 2}),
])
def test_json_patch_rfc6902(doc, ops, result):
    assert patch.json_patch(doc, ops) == result


@pytest.mark.parametrize("doc,ops", [
    ({"foo": "bar"}, [{"op": "test", "path": "/foo", "value": "baz"}]),
    ({"a": 1}, [{"op": "test", "path": "/a", "value": True}]),
    ({"a": 1}, [{"op": "remove", "path": "/b"}]),
    ({"a": 1}, [{"op": "replace", "path": "/b", "value": 1}]),
    ({"a": 1}, [{"op": "add", "path": "/x/y", "value": 1}]),
    ({"a": [1]}, [{"op": "add", "path": "/a/5", "value": 1}]),
    ({"a": 1}, [{"op": "frobnicate", "path": "/a"}]),
])
def test_json_patch_failures(doc, ops):
    with pytest.raises(patch.PatchApplyError):
        patch.json_patch(doc, ops)


def test_smp_directives():
    orig = {"metadata": {"finalizers": ["a", "b"]},
            "spec": {"containers": [{"name": "x", "args": ["1", "2"]},
                                    {"name": "y"}],
                     "tolerations": [{"key": "k"}]}}
    p = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"],
                      "finalizers": ["c"]},
         "spec": {"$setElementOrder/containers": [{"name": "y"},
                                                  {"name": "x"}],
                  "containers": [{"name": "x", "args": ["3"]}],
                  "tolerations": [{"key": "z"}]}}
    out = patch.strategic_merge(orig, p, "Pod")
    assert out["metadata"]["finalizers"] == ["b", "c"]
    assert [c["name"] for c in out["spec"]["containers"]] == ["y", "x"]
    assert out["spec"]["containers"][1]["args"] == ["3"]   # replaced
    assert out["spec"]["tolerations"] == [{"key": "z"}]    # no strategy
    out = patch.strategic_merge(orig, {"spec": {"containers": [
        {"$patch": "replace"}, {"name": "z"}]}}, "Pod")
    assert out["spec"]["containers"] == [{"name": "z"}]
    out = patch.strategic_merge(orig, {"spec": {"$retainKeys": [
        "containers"], "tolerations": None}}, "Pod")
    assert set(out["spec"]) == {"containers"}


@pytest.mark.parametrize("sel,labels,ok", [
    ("a=b", {"a": "b"}, True), ("a==b", {"a": "c"}, False),
    ("a!=b", {}, True), ("a in (b, c)", {"a": "c"}, True),
    ("a notin (b)", {}, True), ("a,!b", {"a": "1"}, True),
    ("a,!b", {"a": "1", "b": ""}, False), ("n>3", {"n": "4"}, True),
    ("n<3", {"n": "4"}, False), ("x.io/y=z", {"x.io/y": "z"}, True),
])
def test_label_selector(sel, labels, ok):
    assert selectors.match_labels(selectors.parse_label_selector(sel),
                                  labels) is ok


def test_yaml_subset():
    text = """# comment
a: 1
b: "two # not a comment"
c: 'it''s'
d: [x, {y: z}]
e:
- k: v
  l:
  - 1
  - 2.5
- null
f: |
  line1
  line2
g: >-
  folded
  text
h: true
i: ~
---
second: doc
"""
    docs = yamlish.load_all(text)
    assert docs[0] == {"a": 1, "b": "two # not a comment", "c": "it's",
                       "d": ["x", {"y": "z"}],
                       "e": [{"k": "v", "l": [1, 2.5]}, None],
                       "f": "line1\nline2\n", "g": "folded text",
                       "h": True, "i": None}
    assert docs[1] == {"second": "doc"}
    with pytest.raises(yamlish.YAMLError):
        yamlish.load("a: &anchor 1")


def test_auto_compaction_window_and_admin_config():
    with Emulator(http=True, config={"window_events": 3}) as emu:
        c = Client(emu.url, emu.token)
        old = emu.resource_version
        for i in range(5):
            emu.load({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": "c%d" % i,
                                   "namespace": "default"}})
        r = c.request("GET", "/api/v1/namespaces/default/configmaps?"
                      "resourceVersion=%d&resourceVersionMatch=Exact" % old)
        assert r.status == 410
        lines = c.watch_events("/api/v1/namespaces/default/configmaps?"
                               "watch=1&resourceVersion=%d" % old)[2]
        assert b'"code":410' in lines[0]
        admin = Client(emu.url)
        r = admin.request("POST", "/_emulator/config", {
            "tokens": {"t2": {"user": "ro"}},
            "forbidden": [{"user": "ro", "verb": "delete"}]})
        assert r.status == 200
        ro = Client(emu.url, "t2")
        assert ro.request("GET", "/api/v1/namespaces/default/configmaps/c4"
                          ).status == 200
        r = ro.request("DELETE", "/api/v1/namespaces/default/configmaps/c4")
        assert r.status == 403
        assert r.json()["message"] == (
            'configmaps "c4" is forbidden: User "ro" cannot delete resource '
            '"configmaps" in API group "" in the namespace "default"')
