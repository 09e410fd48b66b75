"""Label and field selectors, parsed and matched as kube-apiserver does.

Label selectors: k=v, k==v, k!=v, k in (a,b), k notin (a), k, !k, k>n,
k<n, comma-separated (AND). Field selectors: f=v, f==v, f!=v on the
fields each resource supports (metadata.name and metadata.namespace for
all; the extra ones for pods, events, namespaces, nodes, secrets...);
any other field is a 400 BadRequest "field label not supported: F".
"""

import re


class SelectorError(ValueError):
    pass


_KEY_RE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?/)?"
                     r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def _split_top(s):
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, ""
    for c in s:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    parts.append(cur)
    return parts


def parse_label_selector(s):
    """Return a list of (key, op, values) requirements."""
    reqs = []
    if s is None or s.strip() == "":
        return reqs
    for raw in _split_top(s):
        p = raw.strip()
        if p == "":
            raise SelectorError("found '', expected: !, identifier, or "
                                "'end of string'")
        m = re.match(r"^(\S+?)\s+(notin|in)\s*\((.*)\)$", p)
        if m:
            key, op, vals = m.group(1), m.group(2), m.group(3)
            values = [v.strip() for v in vals.split(",")]
            reqs.append((key, op, values))
        elif p.startswith("!"):
            key = p[1:].strip()
            reqs.append((key, "!", []))
        else:
            m = re.match(r"^([^=!<>\s]+)\s*(==|=|!=|<|>)\s*(.*)$", p)
            if m:
                key, op, val = m.group(1), m.group(2), m.group(3).strip()
                if op == "==":
                    op = "="
                if op in ("<", ">"):
                    try:
                        int(val)
                    except ValueError:
                        raise SelectorError(
                            "unable to parse requirement: for 'Gt', 'Lt' "
                            "operators, the value must be an integer")
                reqs.append((key, op, [val]))
            elif re.match(r"^[^=!<>\s()]+$", p):
                reqs.append((p, "exists", []))
            else:
                raise SelectorError("unable to parse requirement: %r" % p)
        key = reqs[-1][0]
        if not _KEY_RE.match(key) or len(key.split("/")[-1]) > 63:
            raise SelectorError(
                "unable to parse requirement: values[0][%s]: Invalid value: "
                "%r: name part must consist of alphanumeric characters, "
                "'-', '_' or '.', and must start and end with an "
                "alphanumeric character" % (key, key))
    return reqs


def match_labels(reqs, labels):
    labels = labels or {}
    for key, op, values in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "=":
            if not has or v != values[0]:
                return False
        elif op == "!=":
            if has and v == values[0]:
                return False
        elif op == "in":
            if not has or v not in values:
                return False
        elif op == "notin":
            if has and v in values:
                return False
        elif op == "exists":
            if not has:
                return False
        elif op == "!":
            if has:
                return False
        elif op in ("<", ">"):
            if not has:
                return False
            try:
                n = int(v)
            except (TypeError, ValueError):
                return False
            lim = int(values[0])
            if op == "<" and not n < lim:
                return False
            if op == ">" and not n > lim:
                return False
    return True


def selector_from_label_selector(ls):
    """metav1.LabelSelector -> selector string (as Scale.status prints)."""
    if not ls:
        return ""
    parts = []
    for k in sorted((ls.get("matchLabels") or {})):
        parts.append("%s=%s" % (k, ls["matchLabels"][k]))
    for e in ls.get("matchExpressions") or []:
        op = e.get("operator")
        vals = ",".join(sorted(e.get("values") or []))
        if op == "In":
            parts.append("%s in (%s)" % (e["key"], vals))
        elif op == "NotIn":
            parts.append("%s notin (%s)" % (e["key"], vals))
        elif op == "Exists":
            parts.append(e["key"])
        elif op == "DoesNotExist":
            parts.append("!" + e["key"])
    return ",".join(parts)


def label_selector_matches(ls, labels):
    """Match a metav1.LabelSelector object (matchLabels/Expressions)."""
    if ls is None:
        return False
    return match_labels(parse_label_selector(
        selector_from_label_selector(ls)), labels)


# ------------------------------------------------------------- fields ----

def _get(obj, dotted):
    cur = obj
    for p in dotted.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(p)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


_EVENT_FIELDS = ["involvedObject.kind", "involvedObject.namespace",
                 "involvedObject.name", "involvedObject.uid",
                 "involvedObject.apiVersion",
                 "involvedObject.resourceVersion",
                 "involvedObject.fieldPath", "reason", "reportingComponent",
                 "source", "type"]

# Supported field labels per storage resource, beyond metadata.name and
# metadata.namespace. Values are dotted paths into the stored object.
FIELDS = {
    "pods": {f: f for f in ["spec.nodeName", "spec.restartPolicy",
                            "spec.schedulerName", "spec.serviceAccountName",
                            "spec.hostNetwork", "status.phase",
                            "status.podIP", "status.nominatedNodeName"]},
    "events": dict({f: f for f in _EVENT_FIELDS},
                   source="source.component"),
    "namespaces": {"status.phase": "status.phase"},
    "nodes": {"spec.unschedulable": "spec.unschedulable"},
    "secrets": {"type": "type"},
    "replicasets": {"status.replicas": "status.replicas"},
    "jobs": {"status.successful": "status.successful"},
    "persistentvolumeclaims": {},
    "services": {"spec.clusterIP": "spec.clusterIP",
                 "spec.type": "spec.type"},
}

# events.k8s.io/v1 field names map onto the stored core/v1 Event.
EVENTS_V1_FIELDS = {
    "regarding.kind": "involvedObject.kind",
    "regarding.namespace": "involvedObject.namespace",
    "regarding.name": "involvedObject.name",
    "regarding.uid": "involvedObject.uid",
    "regarding.apiVersion": "involvedObject.apiVersion",
    "regarding.resourceVersion": "involvedObject.resourceVersion",
    "regarding.fieldPath": "involvedObject.fieldPath",
    "reason": "reason", "reportingController": "reportingComponent",
    "type": "type",
}


def parse_field_selector(s, plural, events_v1=False):
    """Return [(path, op, value)]; raise SelectorError if unsupported."""
    out = []
    if s is None or s.strip() == "":
        return out
    allowed = dict(EVENTS_V1_FIELDS) if events_v1 else \
        dict(FIELDS.get(plural, {}))
    allowed["metadata.name"] = "metadata.name"
    allowed["metadata.namespace"] = "metadata.namespace"
    for raw in s.split(","):
        p = raw.strip()
        m = re.match(r"^([^=!]+?)\s*(==|=|!=)\s*(.*)$", p)
        if not m:
            raise SelectorError("invalid selector: '%s'; can't understand "
                                "'%s'" % (s, p))
        field, op, val = m.group(1).strip(), m.group(2), m.group(3)
        if op == "==":
            op = "="
        if field not in allowed:
            raise SelectorError("field label not supported: %s" % field)
        out.append((allowed[field], op, val))
    return out


def match_fields(reqs, obj):
    for path, op, val in reqs:
        got = _get(obj, path)
        if op == "=" and got != val:
            return False
        if op == "!=" and got == val:
            return False
    return True
