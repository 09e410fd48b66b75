"""The PATCH types, with the semantics kube-apiserver gives them.

merge_patch      application/merge-patch+json       RFC 7386
json_patch       application/json-patch+json        RFC 6902 (a failed
                 'test' or any other apply error -> PatchApplyError, which
                 the server answers 422 Invalid)
strategic_merge  application/strategic-merge-patch+json: lists merged by
                 the real patchMergeKey of the field (containers by name,
                 env by name, container ports by containerPort, volumes by
                 name, volumeMounts by mountPath, ...), $patch
                 (replace/delete/merge), $retainKeys,
                 $deleteFromPrimitiveList/, $setElementOrder/; lists with no
                 patch strategy are replaced.
"""

import copy
import json


class PatchDecodeError(ValueError):
    """The patch document itself is malformed (400)."""


class PatchApplyError(ValueError):
    """The patch could not be applied to the object (422)."""


# ------------------------------------------------------------ RFC 7386 ----

def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict):
            out[k] = merge_patch(out.get(k), v)
        else:
            out[k] = copy.deepcopy(v)
    return out


# ------------------------------------------------------------ RFC 6902 ----

def _unescape(tok):
    return tok.replace("~1", "/").replace("~0", "~")


def _pointer(path):
    if path == "":
        return []
    if not isinstance(path, str) or not path.startswith("/"):
        raise PatchApplyError("JSON pointer %r must start with '/'" % path)
    return [_unescape(t) for t in path[1:].split("/")]


def _index(container, tok, allow_end=False):
    if allow_end and tok == "-":
        return len(container)
    if not tok.isdigit() or (len(tok) > 1 and tok[0] == "0"):
        raise PatchApplyError("invalid array index %r" % tok)
    i = int(tok)
    limit = len(container) + (1 if allow_end else 0)
    if i >= limit:
        raise PatchApplyError("Unable to access invalid index: %d" % i)
    return i


def _parent(doc, toks, op):
    cur = doc
    for t in toks[:-1]:
        if isinstance(cur, dict):
            if t not in cur:
                raise PatchApplyError(
                    "%s operation does not apply: doc is missing path: %s"
                    % (op, "/" + "/".join(toks)))
            cur = cur[t]
        elif isinstance(cur, list):
            cur = cur[_index(cur, t)]
        else:
            raise PatchApplyError("%s operation does not apply: doc is "
                                  "missing path" % op)
    return cur


def _get_ptr(doc, toks):
    cur = doc
    for t in toks:
        if isinstance(cur, dict) and t in cur:
            cur = cur[t]
        elif isinstance(cur, list):
            cur = cur[_index(cur, t)]
        else:
            raise PatchApplyError("missing value at %s" % "/".join(toks))
    return cur


def _add(doc, toks, value):
    if not toks:
        return copy.deepcopy(value)
    parent = _parent(doc, toks, "add")
    key = toks[-1]
    if isinstance(parent, dict):
        parent[key] = copy.deepcopy(value)
    elif isinstance(parent, list):
        parent.insert(_index(parent, key, allow_end=True),
                      copy.deepcopy(value))
    else:
        raise PatchApplyError("add operation does not apply: doc is missing "
                              "path")
    return doc


def _remove(doc, toks, op="remove"):
    if not toks:
        raise PatchApplyError("%s operation does not apply: cannot remove "
                              "the root" % op)
    parent = _parent(doc, toks, op)
    key = toks[-1]
    if isinstance(parent, dict):
        if key not in parent:
            raise PatchApplyError("%s operation does not apply: doc is "
                                  "missing key: /%s: missing value"
                                  % (op, "/".join(toks)))
        return parent.pop(key)
    if isinstance(parent, list):
        return parent.pop(_index(parent, key))
    raise PatchApplyError("%s operation does not apply: doc is missing path"
                          % op)


def json_patch(doc, ops):
    """Apply RFC 6902 ops to a deep copy of doc and return it."""
    if not isinstance(ops, list):
        raise PatchDecodeError("json: cannot unmarshal %s into Go value of "
                               "type jsonpatch.Patch"
                               % _json_kind(ops))
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict):
            raise PatchDecodeError("json: cannot unmarshal %s into Go value "
                                   "of type jsonpatch.Operation"
                                   % _json_kind(op))
        kind = op.get("op")
        path = op.get("path")
        if kind not in ("add", "remove", "replace", "move", "copy", "test"):
            raise PatchApplyError("Unexpected kind: %s" % kind)
        if path is None:
            raise PatchApplyError("%s operation missing path" % kind)
        toks = _pointer(path)
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchApplyError("%s operation missing value" % kind)
        if kind == "add":
            doc = _add(doc, toks, op["value"])
        elif kind == "remove":
            _remove(doc, toks)
        elif kind == "replace":
            if not toks:
                doc = copy.deepcopy(op["value"])
                continue
            parent = _parent(doc, toks, "replace")
            key = toks[-1]
            if isinstance(parent, dict):
                if key not in parent:
                    raise PatchApplyError(
                        "replace operation does not apply: doc is missing "
                        "key: %s: missing value" % path)
                parent[key] = copy.deepcopy(op["value"])
            elif isinstance(parent, list):
                parent[_index(parent, key)] = copy.deepcopy(op["value"])
            else:
                raise PatchApplyError("replace operation does not apply")
        elif kind == "test":
            try:
                got = _get_ptr(doc, toks)
            except (PatchApplyError, IndexError):
                raise PatchApplyError("testing value %s failed: test failed"
                                      % path)
            if not _deep_eq(got, op["value"]):
                raise PatchApplyError("testing value %s failed: test failed"
                                      % path)
        elif kind in ("move", "copy"):
            frm = op.get("from")
            if frm is None:
                raise PatchApplyError("%s operation missing from" % kind)
            ftoks = _pointer(frm)
            if kind == "move":
                if toks[:len(ftoks)] == ftoks and len(toks) > len(ftoks):
                    raise PatchApplyError("move operation does not apply: "
                                          "cannot move into own child")
                val = _remove(doc, ftoks, "move")
            else:
                val = copy.deepcopy(_get_ptr(doc, ftoks))
            doc = _add(doc, toks, val)
    return doc


def _deep_eq(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_deep_eq(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_deep_eq(x, y)
                                        for x, y in zip(a, b))
    return a == b


def _json_kind(v):
    if isinstance(v, dict):
        return "object"
    if isinstance(v, list):
        return "array"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "bool"
    if v is None:
        return "null"
    return "number"


# -------------------------------------------------- strategic merge ----

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def merge_key(path, kind=None):
    """patchMergeKey of the list at path (field names, '[]' for items).

    Returns a key name, '' for a merge-strategy list of primitives, or None
    for a list that is replaced (no patch strategy).
    """
    if not path:
        return None
    f = path[-1]
    parent = path[-2] if len(path) >= 2 else None
    if f in CONTAINER_LISTS:
        return "name"
    if f == "ports":
        if parent == "[]" and len(path) >= 3 and path[-3] in CONTAINER_LISTS:
            return "containerPort"
        if kind == "Service" and path == ["spec", "ports"]:
            return "port"
        return None
    table = {"env": "name", "volumes": "name", "volumeMounts": "mountPath",
             "volumeDevices": "devicePath", "imagePullSecrets": "name",
             "hostAliases": "ip", "ownerReferences": "uid",
             "conditions": "type", "topologySpreadConstraints":
             "topologyKey", "resourceClaims": "name",
             "schedulingGates": "name", "taints": "key",
             "addresses": "type"}
    if f in table:
        if f == "addresses" and kind != "Node":
            return None
        return table[f]
    if f == "finalizers":
        return ""
    return None


def _strip_directives(v):
    if isinstance(v, dict):
        return {k: _strip_directives(x) for k, x in v.items()
                if not k.startswith("$") and x is not None}
    if isinstance(v, list):
        return [_strip_directives(x) for x in v
                if not (isinstance(x, dict) and x.get("$patch") == "delete")]
    return v


def _smp_map(orig, patch, path, kind):
    if not isinstance(orig, dict):
        orig = {}
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip_directives(patch)
    if directive == "delete":
        return None
    out = copy.deepcopy(orig)
    retain = patch.get("$retainKeys")
    orders = {}
    for k, v in patch.items():
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(out.get(field), list) and isinstance(v, list):
                out[field] = [x for x in out[field] if x not in v]
        elif k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = v
    for k, v in patch.items():
        if k.startswith("$"):
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict):
            r = _smp_map(out.get(k), v, path + [k], kind)
            if r is None:
                out.pop(k, None)
            else:
                out[k] = r
        elif isinstance(v, list):
            out[k] = _smp_list(out.get(k), v, path + [k], kind)
        else:
            out[k] = copy.deepcopy(v)
    for field, order in orders.items():
        if isinstance(out.get(field), list) and isinstance(order, list):
            out[field] = _apply_order(out[field], order,
                                      merge_key(path + [field], kind))
    if isinstance(retain, list):
        for k in list(out):
            if k not in retain:
                del out[k]
    return out


def _apply_order(items, order, key):
    def ident(x):
        return x.get(key) if key and isinstance(x, dict) else x

    def oident(x):
        return x.get(key) if key and isinstance(x, dict) else x
    wanted = [oident(o) for o in order]
    pos = {w: i for i, w in enumerate(wanted)}
    return sorted(items, key=lambda x: pos.get(ident(x), len(pos)))


def _smp_list(orig, patch, path, kind):
    key = merge_key(path, kind)
    if any(isinstance(x, dict) and x.get("$patch") == "replace"
           for x in patch):
        return [_strip_directives(x) for x in patch
                if not (isinstance(x, dict) and "$patch" in x)]
    if key is None or not isinstance(orig, list):
        if key is None:
            return [_strip_directives(x) for x in patch]
        orig = []
    if key == "":
        out = list(orig)
        for x in patch:
            if x not in out:
                out.append(copy.deepcopy(x))
        return out
    out = copy.deepcopy(orig)
    for item in patch:
        if not isinstance(item, dict):
            raise PatchApplyError("unable to find api field in struct for "
                                  "the list item")
        kv = item.get(key)
        idx = None
        for i, o in enumerate(out):
            if isinstance(o, dict) and o.get(key) == kv:
                idx = i
                break
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(_smp_map({}, item, path + ["[]"], kind))
        else:
            out[idx] = _smp_map(out[idx], item, path + ["[]"], kind)
    return out


def strategic_merge(target, patch, kind=None):
    if not isinstance(patch, dict):
        raise PatchDecodeError("json: cannot unmarshal %s into Go value of "
                               "type map[string]interface {}"
                               % _json_kind(patch))
    r = _smp_map(target, patch, [], kind)
    return r if r is not None else {}


def dumps(o):
    return json.dumps(o, sort_keys=True)
