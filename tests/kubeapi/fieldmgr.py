"""metadata.managedFields and server-side apply, simplified.

A field set is a Python set of paths; a path is a tuple of FieldsV1 path
elements ('f:spec', 'k:{"name":"app"}', 'v:"x"'). As in
structured-merge-diff:

- an Update (create, update, patch) owns the fields it added or changed,
  computed by comparing the object before and after (a create compares
  against the kind's zero value, so defaulted fields are owned too);
  other managers lose the fields whose values changed;
- an Apply owns exactly the fields in its configuration; a leaf owned by
  another manager with a different value is a conflict (409) unless
  force=true, which takes the ownership; fields the applier owned before
  and no longer applies are removed when nobody else owns them.

Lists are associative (merged by key: containers by name, ports by
containerPort+protocol, ...), sets (finalizers) or atomic (everything
else); ObjectReference, OwnerReference and LabelSelector values are
atomic, as their OpenAPI schema says.
"""

import copy
import json

from kubeapi import util

SKIP_META = {"name", "namespace", "uid", "resourceVersion", "generation",
             "creationTimestamp", "deletionTimestamp",
             "deletionGracePeriodSeconds", "managedFields", "selfLink",
             "generateName"}

CONTAINERS = ("containers", "initContainers", "ephemeralContainers")


def list_type(fpath, kind):
    """('map', keys) | ('set', None) | ('atomic', None) for a list."""
    f = fpath[-1] if fpath else ""
    parent3 = fpath[-3] if len(fpath) >= 3 else ""
    if f in CONTAINERS:
        return "map", ["name"]
    if f == "ports":
        if parent3 in CONTAINERS:
            return "map", ["containerPort", "protocol"]
        if kind == "Service":
            return "map", ["port", "protocol"]
        return "atomic", None
    table = {"env": ["name"], "volumes": ["name"],
             "volumeMounts": ["mountPath"], "volumeDevices": ["devicePath"],
             "imagePullSecrets": ["name"], "hostAliases": ["ip"],
             "ownerReferences": ["uid"], "resourceClaims": ["name"],
             "schedulingGates": ["name"],
             "topologySpreadConstraints": ["topologyKey",
                                           "whenUnsatisfiable"]}
    if f in table:
        return "map", table[f]
    if f == "conditions" and "status" in fpath:
        return "map", ["type"]
    if f == "finalizers":
        return "set", None
    return "atomic", None


def atomic_map(fpath, kind):
    f = fpath[-1] if fpath else ""
    if f in ("involvedObject", "regarding", "related", "podSelector",
             "namespaceSelector", "scaleTargetRef"):
        return True
    if f == "selector" and kind != "Service":
        return True
    if len(fpath) >= 2 and fpath[-2] == "ownerReferences":
        return True
    return False


def _key_elem(item, keys):
    kd = {k: item[k] for k in keys if k in item}
    return "k:" + json.dumps(kd, sort_keys=True, separators=(",", ":"))


def tracked(obj, status_only=False):
    """The part of obj that managedFields describe."""
    out = {"metadata": {}}
    for k, v in obj.items():
        if k in ("kind", "apiVersion"):
            continue
        if k == "metadata" and isinstance(v, dict):
            out["metadata"] = {mk: mv for mk, mv in v.items()
                               if mk not in SKIP_META}
        else:
            out[k] = v
    return out


def nodes(obj, kind):
    """Map every node path of obj to (value, walked)."""
    out = {}

    def walk(v, path, fpath):
        if isinstance(v, dict) and not atomic_map(fpath, kind):
            for k, c in v.items():
                p = path + ("f:" + k,)
                walk(c, p, fpath + [k])
                out[p] = (c, isinstance(c, dict) and
                          not atomic_map(fpath + [k], kind) or
                          (isinstance(c, list) and
                           list_type(fpath + [k], kind)[0] != "atomic"))
        elif isinstance(v, list):
            lt, keys = list_type(fpath, kind)
            if lt == "map":
                for item in v:
                    if not isinstance(item, dict):
                        continue
                    p = path + (_key_elem(item, keys),)
                    walk(item, p, fpath + ["[]"])
                    out[p] = (item, not atomic_map(fpath + ["[]"], kind))
            elif lt == "set":
                for item in v:
                    p = path + ("v:" + json.dumps(item),)
                    out[p] = (item, False)
    walk(obj, (), [])
    return out


def changed_fields(old, new, kind):
    """Paths added or modified going from old to new (both tracked())."""
    a = nodes(old, kind)
    b = nodes(new, kind)
    out = set()
    for p, (v, walked) in b.items():
        if p not in a:
            out.add(p)
        elif not walked and not a[p][1] and a[p][0] != v:
            out.add(p)
        elif not walked and a[p][1] and v is not None:
            out.add(p)
    return out


def applied_fields(cfg, kind):
    """Field set of an apply configuration: leaves and list items."""
    out = set()
    for p, (v, walked) in nodes(cfg, kind).items():
        if not walked or p[-1].startswith("k:"):
            out.add(p)
        elif isinstance(v, dict) and not v and p != ("f:metadata",):
            out.add(p)
    return out


def to_fieldsv1(paths):
    root = {}
    for p in sorted(paths):
        cur = root
        for el in p:
            cur = cur.setdefault(el, {})
        cur.setdefault(".", {})
    # A member without children is printed as {} (no ".").

    def fix(d):
        kids = {k: v for k, v in d.items() if k != "."}
        out = {}
        if "." in d and kids:
            out["."] = {}
        for k in sorted(kids):
            out[k] = fix(kids[k])
        return out
    return fix(root)


def from_fieldsv1(fv, prefix=()):
    out = set()
    if not isinstance(fv, dict):
        return out
    if not fv and prefix:
        out.add(prefix)
    for k, v in fv.items():
        if k == ".":
            out.add(prefix)
        else:
            out |= from_fieldsv1(v, prefix + (k,))
    return out


def path_string(p):
    """'.spec.containers[name="app"].image' as SSA conflicts print it."""
    s = ""
    for el in p:
        if el.startswith("f:"):
            s += "." + el[2:]
        elif el.startswith("k:"):
            kd = json.loads(el[2:])
            s += "[" + ",".join("%s=%s" % (k, json.dumps(kd[k]))
                                for k in sorted(kd)) + "]"
        elif el.startswith("v:"):
            s += "[=%s]" % el[2:]
    return s


def _entries(obj):
    return copy.deepcopy((obj.get("metadata") or {}).get("managedFields")
                         or [])


def _sort(entries):
    def key(e):
        t = util.parse_time(e.get("time") or "")
        return (e.get("operation", ""), t.timestamp() if t else 0,
                e.get("manager", ""), e.get("apiVersion", ""),
                e.get("subresource", ""))
    return sorted(entries, key=key)


def _same(e, manager, op, api_version, sub):
    return (e.get("manager") == manager and e.get("operation") == op and
            e.get("apiVersion") == api_version and
            e.get("subresource", "") == (sub or ""))


def record_update(old, new, manager, api_version, kind, subresource=None,
                  now=None, zero=None):
    """Set new.metadata.managedFields after an Update by manager.

    old None means a create: the comparison base is zero, the kind's zero
    value, so that defaulted fields are owned by the creator.
    """
    entries = _entries(old) if old else []
    base = tracked(old) if old else tracked(zero or {})
    changed = changed_fields(base, tracked(new), kind)
    live = set(nodes(tracked(new), kind))
    out = []
    mine = None
    for e in entries:
        fs = from_fieldsv1(e.get("fieldsV1") or {}) & live
        if _same(e, manager, "Update", api_version, subresource):
            mine = fs
            continue
        fs -= changed
        if fs:
            e["fieldsV1"] = to_fieldsv1(fs)
            out.append(e)
    fs = (mine or set()) | changed
    if fs:
        e = {"manager": manager, "operation": "Update",
             "apiVersion": api_version}
        if subresource != "scale":
            e["time"] = util.fmt_time(now or util.now_utc())
        e["fieldsType"] = "FieldsV1"
        e["fieldsV1"] = to_fieldsv1(fs)
        if subresource:
            e["subresource"] = subresource
        out.append(e)
    new.setdefault("metadata", {})["managedFields"] = _sort(out)
    if not new["metadata"]["managedFields"]:
        del new["metadata"]["managedFields"]


class ApplyConflict(Exception):
    def __init__(self, conflicts):
        Exception.__init__(self, "apply conflict")
        self.conflicts = conflicts   # [(manager, apiVersion, path)]


def _merge_apply(live, cfg, fpath, kind):
    if isinstance(cfg, dict) and isinstance(live, dict) and \
            not atomic_map(fpath, kind):
        out = copy.deepcopy(live)
        for k, v in cfg.items():
            out[k] = _merge_apply(live.get(k), v, fpath + [k], kind)
        return out
    if isinstance(cfg, list) and isinstance(live, list):
        lt, keys = list_type(fpath, kind)
        if lt == "map":
            out = copy.deepcopy(live)
            for item in cfg:
                if not isinstance(item, dict):
                    continue
                k = _key_elem(item, keys)
                for i, o in enumerate(out):
                    if isinstance(o, dict) and _key_elem(o, keys) == k:
                        out[i] = _merge_apply(o, item, fpath + ["[]"], kind)
                        break
                else:
                    out.append(copy.deepcopy(item))
            return out
        if lt == "set":
            out = list(live)
            for x in cfg:
                if x not in out:
                    out.append(x)
            return out
    return copy.deepcopy(cfg)


def _remove_path(obj, path, kind):
    """Delete the node at path from obj (in place); best effort."""
    cur = obj
    fpath = []
    for i, el in enumerate(path):
        last = i == len(path) - 1
        if el.startswith("f:"):
            k = el[2:]
            if not isinstance(cur, dict) or k not in cur:
                return
            if last:
                del cur[k]
                return
            cur = cur[k]
            fpath.append(k)
        elif el.startswith("k:") and isinstance(cur, list):
            lt, keys = list_type(fpath, kind)
            for j, o in enumerate(cur):
                if isinstance(o, dict) and keys and \
                        _key_elem(o, keys) == el:
                    if last:
                        cur.pop(j)
                        return
                    cur = o
                    fpath.append("[]")
                    break
            else:
                return
        elif el.startswith("v:") and isinstance(cur, list):
            v = json.loads(el[2:])
            if last and v in cur:
                cur.remove(v)
            return
        else:
            return


def apply(live, cfg, manager, api_version, kind, force, now=None):
    """Return the object after applying cfg as manager (live may be None).

    Raises ApplyConflict listing (manager, apiVersion, path) tuples.
    """
    cfg_t = tracked(cfg)
    mine = applied_fields(cfg_t, kind)
    entries = _entries(live) if live else []
    live_t = tracked(live) if live else {}
    cfg_nodes = nodes(cfg_t, kind)
    live_nodes = nodes(live_t, kind)
    conflicts = []
    prev_mine = set()
    for e in entries:
        fs = from_fieldsv1(e.get("fieldsV1") or {})
        if e.get("manager") == manager and e.get("operation") == "Apply":
            prev_mine = fs
            continue
        for p in sorted(fs & mine):
            if cfg_nodes[p][1] and not p[-1].startswith("v:"):
                continue      # list items and maps: no value to conflict on
            if p[-1].startswith("k:"):
                continue
            lv = live_nodes.get(p, (None, False))[0]
            if lv != cfg_nodes[p][0]:
                conflicts.append((e.get("manager"), e.get("apiVersion"), p))
    if conflicts and not force:
        raise ApplyConflict(conflicts)
    lost = {c[2] for c in conflicts}
    base = copy.deepcopy(live) if live else {}
    merged = _merge_apply(base, cfg, [], kind)
    for k in ("kind", "apiVersion"):
        if k in cfg:
            merged[k] = cfg[k]
    others = set()
    out = []
    for e in entries:
        if e.get("manager") == manager and e.get("operation") == "Apply":
            continue
        fs = from_fieldsv1(e.get("fieldsV1") or {}) - lost
        others |= fs
        if fs:
            e["fieldsV1"] = to_fieldsv1(fs)
            out.append(e)
    for p in sorted(prev_mine - mine - others, key=len, reverse=True):
        _remove_path(merged, p, kind)
    out.append({"manager": manager, "operation": "Apply",
                "apiVersion": api_version,
                "time": util.fmt_time(now or util.now_utc()),
                "fieldsType": "FieldsV1", "fieldsV1": to_fieldsv1(mine)})
    merged.setdefault("metadata", {})["managedFields"] = _sort(out)
    return merged


def conflict_message(conflicts):
    by_mgr = {}
    for m, av, p in conflicts:
        by_mgr.setdefault((m, av), []).append(p)
    n = len(conflicts)
    head = "Apply failed with %d conflict%s: " % (n, "" if n == 1 else "s")
    parts = []
    for (m, av), paths in by_mgr.items():
        who = "conflict%s with %s using %s" % (
            "" if len(paths) == 1 else "s", json.dumps(m), av)
        if len(paths) == 1:
            parts.append("%s: %s" % (who, path_string(paths[0])))
        else:
            parts.append(who + ":\n" + "\n".join(
                "- " + path_string(p) for p in paths))
    return head + "\n".join(parts)
