"""What kube-apiserver does to an object between the wire and etcd.

decode_check  unknown fields (fieldValidation Strict/Warn/Ignore) and
              unparsable quantities (400 "X in version ... cannot be
              handled as a X: ...")
default       the defaulting functions (SetDefaults_*), quantities
              canonicalised ("1024Mi" -> "1Gi")
admit         admission mutations for Pods (service account token
              volume, default tolerations, priority, status Pending,
              qosClass)
validate      the validation the project's client can trip over (names,
              labels, selectors, containers, resources, Events, ...)
prepare_*     the registry strategies: status reset, status subresource
              semantics, generation bumps
events        core/v1 <-> events.k8s.io/v1 conversion (one storage)
scale         the autoscaling/v1 Scale view of a workload
table         server-side Table output (kubectl get)
"""

import base64
import copy
import re

from kubeapi import errors, resources, util
from kubeapi.errors import FieldError
from kubeapi.selectors import (label_selector_matches,
                               selector_from_label_selector)

# --------------------------------------------------------- known fields --

META_FIELDS = set(resources.META_ORDER) | {"selfLink"}
POD_SPEC_FIELDS = set(resources.POD_SPEC_ORDER)
CONTAINER_FIELDS = set(resources.CONTAINER_ORDER)
SPEC_FIELDS = {
    "Deployment": set(resources.DEPLOY_SPEC_ORDER),
    "ReplicaSet": {"replicas", "minReadySeconds", "selector", "template"},
    "StatefulSet": {"replicas", "selector", "template",
                    "volumeClaimTemplates", "serviceName",
                    "podManagementPolicy", "updateStrategy",
                    "revisionHistoryLimit", "minReadySeconds",
                    "persistentVolumeClaimRetentionPolicy", "ordinals"},
    "DaemonSet": {"selector", "template", "updateStrategy",
                  "minReadySeconds", "revisionHistoryLimit"},
    "Job": {"parallelism", "completions", "activeDeadlineSeconds",
            "podFailurePolicy", "backoffLimit", "backoffLimitPerIndex",
            "maxFailedIndexes", "selector", "manualSelector", "template",
            "ttlSecondsAfterFinished", "completionMode", "suspend",
            "podReplacementPolicy"},
    "Lease": {"holderIdentity", "leaseDurationSeconds", "acquireTime",
              "renewTime", "leaseTransitions"},
}
TOP_FIELDS = {
    "ConfigMap": {"data", "binaryData", "immutable"},
    "Secret": {"data", "stringData", "type", "immutable"},
    "ServiceAccount": {"secrets", "imagePullSecrets",
                       "automountServiceAccountToken"},
    "Lease": {"spec"},
    "Event@v1": set(resources.CORE_EVENT_ORDER),
    "Event@events.k8s.io/v1": set(resources.V1_EVENT_ORDER),
    "Endpoints": {"subsets"},
}
WORKLOADS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job")


def _unknown_fields(rd, obj):
    out = []
    if rd.custom or not isinstance(obj, dict):
        return out
    key = "%s@%s" % (rd.kind, rd.api_version)
    top = TOP_FIELDS.get(key, TOP_FIELDS.get(rd.kind, {"spec", "status"}))
    top = top | {"kind", "apiVersion", "metadata"}
    for k in obj:
        if k not in top:
            out.append(k)
    md = obj.get("metadata")
    if isinstance(md, dict):
        out += ["metadata." + k for k in md if k not in META_FIELDS]
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return out
    if rd.kind in SPEC_FIELDS:
        out += ["spec." + k for k in spec if k not in SPEC_FIELDS[rd.kind]]
    pod_spec, prefix = None, None
    if rd.kind == "Pod":
        pod_spec, prefix = spec, "spec"
    elif rd.kind in WORKLOADS and isinstance(spec.get("template"), dict):
        pod_spec = spec["template"].get("spec")
        prefix = "spec.template.spec"
    if isinstance(pod_spec, dict):
        out += ["%s.%s" % (prefix, k) for k in pod_spec
                if k not in POD_SPEC_FIELDS]
        for lst in ("initContainers", "containers"):
            for i, c in enumerate(pod_spec.get(lst) or []):
                if isinstance(c, dict):
                    out += ['%s.%s[%d].%s' % (prefix, lst, i, k)
                            for k in c if k not in CONTAINER_FIELDS]
    return out


def _drop_path(obj, dotted):
    """Remove 'spec.template.spec.containers[0].x' from obj (decoding into
    a typed struct drops unknown fields)."""
    cur = obj
    parts = dotted.split(".")
    for p in parts[:-1]:
        m = re.match(r"^(.*)\[(\d+)\]$", p)
        if m:
            cur = (cur.get(m.group(1)) or [])[int(m.group(2))]
        else:
            cur = cur.get(p)
        if not isinstance(cur, dict):
            return
    cur.pop(parts[-1], None)


def _containers(obj, kind):
    spec = pod_spec_of(obj, kind)
    if not isinstance(spec, dict):
        return []
    out = []
    for lst in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(lst) or []):
            if isinstance(c, dict):
                out.append((lst, i, c))
    return out


def pod_spec_of(obj, kind):
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return None
    if kind == "Pod":
        return spec
    if kind in WORKLOADS:
        t = spec.get("template")
        return t.get("spec") if isinstance(t, dict) else None
    if kind == "CronJob":
        jt = spec.get("jobTemplate") or {}
        t = (jt.get("spec") or {}).get("template") or {}
        return t.get("spec")
    return None


def decode_check(rd, obj, field_validation):
    """Return warnings; raise 400 as decoding would."""
    version = rd.version
    if not isinstance(obj, dict):
        raise errors.bad_request(
            "%s in version \"%s\" cannot be handled as a %s: json: cannot "
            "unmarshal %s into Go value of type struct"
            % (rd.kind, version, rd.kind, type(obj).__name__))
    for lst, i, c in _containers(obj, rd.kind):
        res = c.get("resources")
        if not isinstance(res, dict):
            continue
        for part in ("limits", "requests"):
            for name, q in (res.get(part) or {}).items():
                try:
                    util.parse_quantity(q)
                except util.QuantityError as e:
                    raise errors.bad_request(
                        '%s in version "%s" cannot be handled as a %s: %s'
                        % (rd.kind, version, rd.kind, e))
    md = obj.get("metadata")
    if isinstance(md, dict):
        for f in ("labels", "annotations"):
            for k, v in (md.get(f) or {}).items():
                if not isinstance(v, str):
                    raise errors.bad_request(
                        '%s in version "%s" cannot be handled as a %s: json: '
                        'cannot unmarshal %s into Go struct field ObjectMeta.'
                        'metadata.%s of type string'
                        % (rd.kind, version, rd.kind,
                           "number" if isinstance(v, (int, float)) else
                           "object" if isinstance(v, dict) else "array"
                           if isinstance(v, list) else "bool", f))
    unknown = _unknown_fields(rd, obj)
    if not unknown:
        return []
    if field_validation != "Strict":
        for u in unknown:
            _drop_path(obj, u)
    if field_validation == "Ignore":
        return []
    if field_validation == "Strict":
        raise errors.bad_request(
            '%s in version "%s" cannot be handled as a %s: strict decoding '
            'error: %s' % (rd.kind, version, rd.kind, ", ".join(
                'unknown field "%s"' % u for u in unknown)))
    return ['unknown field "%s"' % u for u in unknown]


# ------------------------------------------------------------ defaults --

def _default_container(c, is_pod):
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if "imagePullPolicy" not in c:
        image = c.get("image") or ""
        tag = image.rsplit("/", 1)[-1]
        if "@" in tag:
            c["imagePullPolicy"] = "IfNotPresent"
        elif ":" not in tag or tag.endswith(":latest"):
            c["imagePullPolicy"] = "Always"
        else:
            c["imagePullPolicy"] = "IfNotPresent"
    for p in c.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")
    res = c.get("resources")
    if isinstance(res, dict):
        for part in ("limits", "requests"):
            if isinstance(res.get(part), dict):
                res[part] = {k: util.canonical_quantity(v)
                             for k, v in res[part].items()}
        if is_pod and res.get("limits"):
            req = res.setdefault("requests", {})
            for k, v in res["limits"].items():
                req.setdefault(k, v)
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        p = c.get(probe)
        if isinstance(p, dict):
            p.setdefault("timeoutSeconds", 1)
            p.setdefault("periodSeconds", 10)
            p.setdefault("successThreshold", 1)
            p.setdefault("failureThreshold", 3)
            if isinstance(p.get("httpGet"), dict):
                p["httpGet"].setdefault("scheme", "HTTP")
    for e in c.get("env") or []:
        vf = e.get("valueFrom") if isinstance(e, dict) else None
        if isinstance(vf, dict) and isinstance(vf.get("fieldRef"), dict):
            vf["fieldRef"].setdefault("apiVersion", "v1")


def default_pod_spec(spec, is_pod):
    if not isinstance(spec, dict):
        return
    for lst in ("initContainers", "containers"):
        for c in spec.get(lst) or []:
            if isinstance(c, dict):
                _default_container(c, is_pod)
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    if is_pod:
        spec.setdefault("enableServiceLinks", True)
    for v in spec.get("volumes") or []:
        if not isinstance(v, dict):
            continue
        for src in ("configMap", "secret"):
            if isinstance(v.get(src), dict):
                v[src].setdefault("defaultMode", 420)
        if isinstance(v.get("emptyDir"), dict) is False and \
                "emptyDir" in v and v["emptyDir"] is None:
            v["emptyDir"] = {}


def _default_template(spec):
    t = spec.get("template")
    if isinstance(t, dict):
        md = t.setdefault("metadata", {})
        if isinstance(md, dict):
            md.setdefault("creationTimestamp", None)
        default_pod_spec(t.get("spec"), False)


def default(rd, obj):
    """Apply SetDefaults_<Kind> in place."""
    kind = rd.kind
    md = obj.setdefault("metadata", {})
    if kind == "Pod":
        default_pod_spec(obj.setdefault("spec", {}), True)
    elif kind in WORKLOADS:
        spec = obj.setdefault("spec", {})
        if kind in ("Deployment", "ReplicaSet", "StatefulSet"):
            spec.setdefault("replicas", 1)
        if kind == "Deployment":
            st = spec.setdefault("strategy", {})
            st.setdefault("type", "RollingUpdate")
            if st["type"] == "RollingUpdate":
                ru = st.setdefault("rollingUpdate", {})
                ru.setdefault("maxUnavailable", "25%")
                ru.setdefault("maxSurge", "25%")
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
        elif kind == "StatefulSet":
            spec.setdefault("podManagementPolicy", "OrderedReady")
            us = spec.setdefault("updateStrategy", {})
            us.setdefault("type", "RollingUpdate")
            if us["type"] == "RollingUpdate":
                us.setdefault("rollingUpdate", {}).setdefault("partition",
                                                              0)
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("persistentVolumeClaimRetentionPolicy",
                            {"whenDeleted": "Retain",
                             "whenScaled": "Retain"})
        elif kind == "DaemonSet":
            us = spec.setdefault("updateStrategy", {})
            us.setdefault("type", "RollingUpdate")
            if us["type"] == "RollingUpdate":
                ru = us.setdefault("rollingUpdate", {})
                ru.setdefault("maxUnavailable", 1)
                ru.setdefault("maxSurge", 0)
            spec.setdefault("revisionHistoryLimit", 10)
        elif kind == "Job":
            spec.setdefault("parallelism", 1)
            spec.setdefault("completions", 1)
            spec.setdefault("backoffLimit", 6)
            spec.setdefault("completionMode", "NonIndexed")
            spec.setdefault("suspend", False)
        _default_template(spec)
    elif kind == "CronJob":
        spec = obj.setdefault("spec", {})
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
        jt = spec.get("jobTemplate")
        if isinstance(jt, dict):
            jt.setdefault("metadata", {}).setdefault("creationTimestamp",
                                                     None)
            if isinstance(jt.get("spec"), dict):
                _default_template(jt["spec"])
    elif kind == "Namespace":
        if md.get("name"):
            md.setdefault("labels", {})[
                "kubernetes.io/metadata.name"] = md["name"]
    elif kind == "Secret":
        obj.setdefault("type", "Opaque")
        sd = obj.pop("stringData", None)
        if isinstance(sd, dict):
            data = obj.setdefault("data", {})
            for k, v in sd.items():
                data[k] = base64.b64encode(str(v).encode()).decode()
    elif kind == "Service":
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for p in spec.get("ports") or []:
            if isinstance(p, dict):
                p.setdefault("protocol", "TCP")
                if "port" in p:
                    p.setdefault("targetPort", p["port"])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    elif kind == "PersistentVolumeClaim":
        spec = obj.setdefault("spec", {})
        spec.setdefault("volumeMode", "Filesystem")


# ----------------------------------------------------------- admission --

def qos_class(spec):
    containers = [c for lst in ("initContainers", "containers")
                  for c in (spec.get(lst) or []) if isinstance(c, dict)]
    any_set = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req = res.get("requests") or {}
        lim = res.get("limits") or {}
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or r not in req or \
                    util.parse_quantity(req[r])[0] != \
                    util.parse_quantity(lim[r])[0]:
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def admit_pod(obj, rng):
    """Mutating admission of a new Pod (ServiceAccount, tolerations...)."""
    spec = obj.setdefault("spec", {})
    sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or \
        "default"
    spec["serviceAccountName"] = sa
    spec["serviceAccount"] = sa
    if spec.get("automountServiceAccountToken") is not False:
        vols = spec.setdefault("volumes", [])
        if not any(isinstance(v, dict) and
                   str(v.get("name", "")).startswith("kube-api-access-")
                   for v in vols):
            name = "kube-api-access-" + util.random_suffix(5, rng)
            vols.append({"name": name, "projected": {"sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607,
                                         "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [
                    {"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [
                    {"path": "namespace", "fieldRef": {
                        "apiVersion": "v1",
                        "fieldPath": "metadata.namespace"}}]}}],
                "defaultMode": 420}})
            for lst in ("initContainers", "containers"):
                for c in spec.get(lst) or []:
                    if isinstance(c, dict):
                        c.setdefault("volumeMounts", []).append(
                            {"name": name, "readOnly": True,
                             "mountPath": "/var/run/secrets/kubernetes.io/"
                                          "serviceaccount"})
    tol = spec.setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready",
                "node.kubernetes.io/unreachable"):
        if not any(isinstance(t, dict) and t.get("key") == key and
                   t.get("effect") in ("NoExecute", None, "")
                   for t in tol):
            tol.append({"key": key, "operator": "Exists",
                        "effect": "NoExecute", "tolerationSeconds": 300})
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    obj["status"] = {"phase": "Pending", "qosClass": qos_class(spec)}


# ---------------------------------------------------------- validation --

DNS1123_SUBDOMAIN = (r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
                     r"(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1035_LABEL = r"[a-z]([-a-z0-9]*[a-z0-9])?"
LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
QUALIFIED_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
    "characters, '-' or '.', and must start and end with an alphanumeric "
    "character (e.g. 'example.com', regex used for validation is '%s')"
    % DNS1123_SUBDOMAIN)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric "
    "characters or '-', and must start and end with an alphanumeric "
    "character (e.g. 'my-name',  or '123-abc', regex used for validation "
    "is '%s')" % DNS1123_LABEL)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or "
    "'-', start with an alphabetic character, and end with an alphanumeric "
    "character (e.g. 'my-name',  or 'abc-123', regex used for validation "
    "is '%s')" % DNS1035_LABEL)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric "
    "characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
    "regex used for validation is '%s')" % LABEL_VALUE)
QNAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'MyName',"
    "  or 'my.name',  or '123-abc', regex used for validation is '%s')"
    % QUALIFIED_NAME)


def name_errors(name, rule, field="metadata.name"):
    errs = []
    if rule == "label":
        if len(name) > 63:
            errs.append(FieldError("Invalid", field, name,
                                   "must be no more than 63 characters"))
        if not re.fullmatch(DNS1123_LABEL, name):
            errs.append(FieldError("Invalid", field, name, LABEL_MSG))
    elif rule == "dns1035":
        if len(name) > 63:
            errs.append(FieldError("Invalid", field, name,
                                   "must be no more than 63 characters"))
        if not re.fullmatch(DNS1035_LABEL, name):
            errs.append(FieldError("Invalid", field, name, DNS1035_MSG))
    elif rule == "subdomain":
        if len(name) > 253:
            errs.append(FieldError("Invalid", field, name,
                                   "must be no more than 253 characters"))
        if not re.fullmatch(DNS1123_SUBDOMAIN, name):
            errs.append(FieldError("Invalid", field, name, SUBDOMAIN_MSG))
    return errs


def _label_errors(labels, field):
    errs = []
    if not isinstance(labels, dict):
        return errs
    for k, v in labels.items():
        name = k.rsplit("/", 1)[-1]
        prefix = k.rsplit("/", 1)[0] if "/" in k else None
        if not re.fullmatch(QUALIFIED_NAME, name) or len(name) > 63:
            errs.append(FieldError("Invalid", field, k, QNAME_MSG))
        elif prefix is not None and not re.fullmatch(DNS1123_SUBDOMAIN,
                                                     prefix):
            errs.append(FieldError("Invalid", field, k,
                                   "prefix part " + SUBDOMAIN_MSG))
        if not isinstance(v, str):
            continue
        if len(v) > 63:
            errs.append(FieldError("Invalid", field, v,
                                   "must be no more than 63 characters"))
        elif not re.fullmatch(LABEL_VALUE, v):
            errs.append(FieldError("Invalid", field, v, LABEL_VALUE_MSG))
    return errs


def validate_meta(rd, obj):
    md = obj.get("metadata") or {}
    errs = []
    name = md.get("name")
    if not name:
        errs.append(FieldError("Required", "metadata.name", None,
                               "name or generateName is required"))
    else:
        errs += name_errors(name, rd.name_rule)
    errs += _label_errors(md.get("labels"), "metadata.labels")
    return errs


def _quantity(v):
    try:
        return util.parse_quantity(v)[0]
    except util.QuantityError:
        return None


def validate_pod_spec(spec, path, kind_for_restart=None):
    errs = []
    if not isinstance(spec, dict):
        return [FieldError("Required", path, None, "")]
    vol_names = set()
    for i, v in enumerate(spec.get("volumes") or []):
        n = v.get("name") if isinstance(v, dict) else None
        if not n:
            errs.append(FieldError("Required", "%s.volumes[%d].name"
                                   % (path, i)))
        elif n in vol_names:
            errs.append(FieldError("Duplicate", "%s.volumes[%d].name"
                                   % (path, i), n))
        vol_names.add(n)
    containers = spec.get("containers")
    if not containers:
        errs.append(FieldError("Required", path + ".containers"))
    names = set()
    for lst in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(lst) or []):
            cp = "%s.%s[%d]" % (path, lst, i)
            if not isinstance(c, dict):
                continue
            n = c.get("name")
            if not n:
                errs.append(FieldError("Required", cp + ".name"))
            else:
                if not re.fullmatch(DNS1123_LABEL, n) or len(n) > 63:
                    errs.append(FieldError("Invalid", cp + ".name", n,
                                           LABEL_MSG))
                if n in names:
                    errs.append(FieldError("Duplicate", cp + ".name", n))
                names.add(n)
            if not c.get("image"):
                errs.append(FieldError("Required", cp + ".image"))
            res = c.get("resources") or {}
            req = res.get("requests") or {}
            lim = res.get("limits") or {}
            for part, vals in (("limits", lim), ("requests", req)):
                for r, q in sorted(vals.items()):
                    v = _quantity(q)
                    if v is not None and v < 0:
                        errs.append(FieldError(
                            "Invalid", "%s.resources.%s[%s]" % (cp, part, r),
                            q, "must be greater than or equal to 0"))
            for r in sorted(req):
                if r in lim:
                    a, b = _quantity(req[r]), _quantity(lim[r])
                    if a is not None and b is not None and a > b and a >= 0:
                        errs.append(FieldError(
                            "Invalid", cp + ".resources.requests", req[r],
                            "must be less than or equal to %s limit of %s"
                            % (r, lim[r])))
            for j, m in enumerate(c.get("volumeMounts") or []):
                if isinstance(m, dict) and m.get("name") not in vol_names:
                    errs.append(FieldError(
                        "NotFound", "%s.volumeMounts[%d].name" % (cp, j),
                        m.get("name")))
    rp = spec.get("restartPolicy")
    if kind_for_restart in ("Deployment", "ReplicaSet", "StatefulSet",
                            "DaemonSet") and rp not in (None, "Always"):
        errs.append(FieldError("NotSupported", path + ".restartPolicy", rp,
                               '"Always"'))
    elif rp not in (None, "Always", "OnFailure", "Never"):
        errs.append(FieldError("NotSupported", path + ".restartPolicy", rp,
                               '"Always", "OnFailure", "Never"'))
    return errs


def _validate_workload(rd, obj, old):
    errs = []
    spec = obj.get("spec") or {}
    reps = spec.get("replicas")
    if isinstance(reps, int) and reps < 0:
        errs.append(FieldError("Invalid", "spec.replicas", reps,
                               "must be greater than or equal to 0"))
    sel = spec.get("selector")
    tmpl = spec.get("template") or {}
    labels = (tmpl.get("metadata") or {}).get("labels") or {}
    if rd.kind != "Job" or sel is not None:
        if not sel:
            errs.append(FieldError("Required", "spec.selector"))
        elif not (sel.get("matchLabels") or sel.get("matchExpressions")):
            errs.append(FieldError("Invalid", "spec.selector", None,
                                   "empty selector is invalid for "
                                   "deployment", raw_value=_go_selector(sel)))
        elif not label_selector_matches(sel, labels):
            errs.append(FieldError(
                "Invalid", "spec.template.metadata.labels", None,
                "`selector` does not match template `labels`",
                raw_value=util.go_string_map(labels)))
    errs += _label_errors(labels, "spec.template.metadata.labels")
    errs += validate_pod_spec(tmpl.get("spec"), "spec.template.spec",
                              rd.kind)
    if old is not None and rd.group == "apps":
        osel = (old.get("spec") or {}).get("selector")
        if osel != sel:
            errs.append(FieldError("Invalid", "spec.selector", None,
                                   "field is immutable",
                                   raw_value=_go_selector(sel)))
    return errs


def _go_selector(sel):
    if not isinstance(sel, dict):
        return "nil"
    ml = sel.get("matchLabels") or {}
    return ("v1.LabelSelector{MatchLabels:%s, MatchExpressions:[]v1."
            "LabelSelectorRequirement(nil)}" % util.go_string_map(ml))


POD_UPDATE_MSG = (
    "pod updates may not change fields other than `spec.containers[*]."
    "image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it "
    "was previously negative)")


def _pod_update_errors(old, new):
    a = copy.deepcopy(old.get("spec") or {})
    b = copy.deepcopy(new.get("spec") or {})
    for s in (a, b):
        for k in ("activeDeadlineSeconds", "tolerations",
                  "terminationGracePeriodSeconds"):
            s.pop(k, None)
        for lst in ("containers", "initContainers"):
            for c in s.get(lst) or []:
                if isinstance(c, dict):
                    c.pop("image", None)
    if a != b:
        return [FieldError("Forbidden", "spec", None, POD_UPDATE_MSG)]
    return []


def _validate_v1_event(obj):
    errs = []
    if not obj.get("eventTime"):
        errs.append(FieldError("Required", "eventTime"))
    t = obj.get("type")
    if t not in ("Normal", "Warning"):
        errs.append(FieldError("Invalid", "type", t or "",
                               "has invalid value: %s" % (t or "")))
    if not obj.get("reportingController"):
        errs.append(FieldError("Required", "reportingController"))
    if not obj.get("reportingInstance"):
        errs.append(FieldError("Required", "reportingInstance"))
    if not obj.get("action"):
        errs.append(FieldError("Required", "action"))
    if not obj.get("reason"):
        errs.append(FieldError("Required", "reason"))
    if len(obj.get("note") or "") > 1024:
        errs.append(FieldError("TooLong", "note", None,
                               "must have at most 1024 bytes"))
    return errs


def _validate_core_event(obj, ns):
    errs = []
    io = obj.get("involvedObject") or {}
    ions = io.get("namespace")
    if ions and ns and ions != ns:
        errs.append(FieldError("Invalid", "involvedObject.namespace", ions,
                               "does not match event.namespace"))
    t = obj.get("type")
    if t and t not in ("Normal", "Warning"):
        errs.append(FieldError("NotSupported", "type", t,
                               '"Normal", "Warning"'))
    return errs


def validate(rd, obj, old=None, wire=None):
    """Return field errors (empty when valid). wire: the request's
    apiVersion form of an Event (events.k8s.io/v1 checks its own rules)."""
    errs = validate_meta(rd, obj)
    kind = rd.kind
    if kind == "Pod":
        if old is None:
            errs += validate_pod_spec(obj.get("spec"), "spec")
        else:
            errs += _pod_update_errors(old, obj)
    elif kind in WORKLOADS:
        errs += _validate_workload(rd, obj, old)
    elif kind == "Event":
        if wire is not None and rd.group == "events.k8s.io":
            errs += _validate_v1_event(wire)
        else:
            errs += _validate_core_event(
                obj, (obj.get("metadata") or {}).get("namespace"))
    elif kind == "Lease":
        d = (obj.get("spec") or {}).get("leaseDurationSeconds")
        if isinstance(d, int) and d <= 0:
            errs.append(FieldError("Invalid", "spec.leaseDurationSeconds",
                                   d, "must be greater than 0"))
    return errs


# ------------------------------------------------------------ strategy --

def initial_status(rd, obj):
    """Status a create starts from (strategies reset what clients send)."""
    if rd.custom:
        if rd.has_status():
            obj.pop("status", None)
        return
    if rd.kind == "Deployment":
        obj["status"] = {}
    elif rd.kind == "ReplicaSet":
        obj["status"] = {"replicas": 0}
    elif rd.kind == "Namespace":
        obj["status"] = {"phase": "Active"}
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    elif rd.kind == "Service":
        obj["status"] = {"loadBalancer": {}}
    elif rd.kind in ("StatefulSet",):
        obj["status"] = {"replicas": 0, "availableReplicas": 0}
    elif rd.kind in ("DaemonSet",):
        obj["status"] = {"currentNumberScheduled": 0,
                         "numberMisscheduled": 0,
                         "desiredNumberScheduled": 0, "numberReady": 0}
    elif rd.kind in ("Job", "CronJob", "PersistentVolumeClaim",
                     "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        obj["status"] = {} if rd.kind != "PodDisruptionBudget" else {
            "disruptionsAllowed": 0, "currentHealthy": 0,
            "desiredHealthy": 0, "expectedPods": 0}


def prepare_update(rd, old, new, subresource):
    """Apply the update strategy in place (status subresource rules)."""
    if subresource == "status":
        status = new.get("status")
        keep = copy.deepcopy(old)
        for k in list(keep):
            if k not in ("metadata", "kind", "apiVersion"):
                del keep[k]
        for k, v in old.items():
            if k not in ("metadata", "status"):
                keep[k] = copy.deepcopy(v)
        if status is not None:
            keep["status"] = status
        md = copy.deepcopy(new.get("metadata") or {})
        omd = old.get("metadata") or {}
        if rd.custom:
            md = copy.deepcopy(omd)
        elif rd.kind == "Pod":
            if "ownerReferences" in omd:
                md["ownerReferences"] = copy.deepcopy(omd["ownerReferences"])
            else:
                md.pop("ownerReferences", None)
        elif rd.kind in WORKLOADS:
            if "labels" in omd:
                md["labels"] = copy.deepcopy(omd["labels"])
            else:
                md.pop("labels", None)
        keep["metadata"] = md
        new.clear()
        new.update(keep)
    elif rd.has_status():
        if "status" in old:
            new["status"] = copy.deepcopy(old["status"])
        else:
            new.pop("status", None)
    bump_generation(rd, old, new)


def bump_generation(rd, old, new):
    if not rd.generation:
        return
    g = (old.get("metadata") or {}).get("generation", 1)
    md = new.setdefault("metadata", {})
    changed = False
    if rd.custom:
        a = {k: v for k, v in old.items()
             if k not in ("metadata", "status", "kind", "apiVersion")}
        b = {k: v for k, v in new.items()
             if k not in ("metadata", "status", "kind", "apiVersion")}
        if not rd.has_status():
            a["status"] = old.get("status")
            b["status"] = new.get("status")
        changed = a != b
    else:
        changed = old.get("spec") != new.get("spec")
        if rd.kind == "Deployment":
            changed = changed or ((old.get("metadata") or {}).get(
                "annotations") != md.get("annotations"))
    md["generation"] = g + 1 if changed else g


# -------------------------------------------------------------- events --

CORE_TO_V1 = [("involvedObject", "regarding"), ("message", "note"),
              ("reportingComponent", "reportingController"),
              ("source", "deprecatedSource"),
              ("firstTimestamp", "deprecatedFirstTimestamp"),
              ("lastTimestamp", "deprecatedLastTimestamp"),
              ("count", "deprecatedCount")]
SHARED_EVENT = ["eventTime", "series", "reportingInstance", "action",
                "reason", "related", "type"]


def event_core_to_v1(obj):
    out = {"kind": "Event", "apiVersion": "events.k8s.io/v1",
           "metadata": copy.deepcopy(obj.get("metadata") or {})}
    for k in SHARED_EVENT:
        if k in obj:
            out[k] = copy.deepcopy(obj[k])
    for a, b in CORE_TO_V1:
        if a in obj:
            out[b] = copy.deepcopy(obj[a])
    for k, z in (("eventTime", None), ("regarding", {}),
                 ("deprecatedSource", {}),
                 ("deprecatedFirstTimestamp", None),
                 ("deprecatedLastTimestamp", None)):
        out.setdefault(k, z)
    for k in ("note", "reportingController", "reportingInstance", "type",
              "reason", "action"):
        if out.get(k) == "":
            del out[k]
    if not out.get("deprecatedCount"):
        out.pop("deprecatedCount", None)
    if isinstance(out.get("series"), dict):
        s = out["series"]
        out["series"] = {"count": s.get("count", 0),
                         "lastObservedTime": s.get("lastObservedTime")}
    return out


def event_v1_to_core(obj):
    out = {"kind": "Event", "apiVersion": "v1",
           "metadata": copy.deepcopy(obj.get("metadata") or {})}
    for k in SHARED_EVENT:
        if k in obj:
            out[k] = copy.deepcopy(obj[k])
    for a, b in CORE_TO_V1:
        if b in obj:
            out[a] = copy.deepcopy(obj[b])
    return out


def core_event_zero_fields(obj):
    """Fields core/v1 Event always prints (non-omitempty in Go)."""
    for k, z in (("involvedObject", {}), ("source", {}),
                 ("firstTimestamp", None), ("lastTimestamp", None),
                 ("eventTime", None), ("reportingComponent", ""),
                 ("reportingInstance", "")):
        if k not in obj:
            obj[k] = z
    if obj.get("count") == 0:
        del obj["count"]


def normalize_times(rd, obj):
    """Truncate metav1.Time to seconds; MicroTime to microseconds."""
    def t(d, k, micro):
        if isinstance(d, dict) and isinstance(d.get(k), str):
            p = util.parse_time(d[k])
            if p is not None:
                d[k] = util.fmt_microtime(p) if micro else util.fmt_time(p)
    if rd.kind == "Event":
        for k in ("firstTimestamp", "lastTimestamp"):
            t(obj, k, False)
        t(obj, "eventTime", True)
        t(obj.get("series"), "lastObservedTime", True)
    elif rd.kind == "Lease":
        for k in ("acquireTime", "renewTime"):
            t(obj.get("spec"), k, True)
    elif rd.kind == "Pod":
        st = obj.get("status") or {}
        t(st, "startTime", False)
        for c in st.get("conditions") or []:
            t(c, "lastTransitionTime", False)
            t(c, "lastProbeTime", False)
        for lst in ("containerStatuses", "initContainerStatuses"):
            for cs in st.get(lst) or []:
                for sk in ("state", "lastState"):
                    s = (cs or {}).get(sk) or {}
                    for sub in s.values():
                        t(sub, "startedAt", False)
                        t(sub, "finishedAt", False)


def time_errors(rd, obj):
    """400 for unparsable Time/MicroTime strings (decoding fails)."""
    def check(d, k, micro):
        if isinstance(d, dict) and isinstance(d.get(k), str) and \
                util.parse_time(d[k]) is None:
            layout = "2006-01-02T15:04:05.000000Z07:00" if micro \
                else "2006-01-02T15:04:05Z07:00"
            raise errors.bad_request(
                '%s in version "%s" cannot be handled as a %s: parsing time '
                '"%s" as "%s": cannot parse "%s" as "2006"'
                % (rd.kind, rd.version, rd.kind, d[k], layout, d[k]))
    if rd.kind == "Event":
        for k in ("firstTimestamp", "lastTimestamp"):
            check(obj, k, False)
        check(obj, "eventTime", True)
        for k in ("deprecatedFirstTimestamp", "deprecatedLastTimestamp"):
            check(obj, k, False)
    elif rd.kind == "Lease":
        for k in ("acquireTime", "renewTime"):
            check(obj.get("spec"), k, True)


# --------------------------------------------------------------- scale --

def to_scale(obj):
    md = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    smd = {k: md[k] for k in ("name", "namespace", "uid", "resourceVersion",
                              "creationTimestamp") if k in md}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": smd, "spec": {"replicas": spec.get("replicas", 0)},
            "status": {"replicas": status.get("replicas", 0),
                       "selector": selector_from_label_selector(
                           spec.get("selector"))}}


# --------------------------------------------------------------- table --

def _col(name, typ, fmt, desc, prio=0):
    return {"name": name, "type": typ, "format": fmt, "description": desc,
            "priority": prio}


NAME_DESC = (
    "Name must be unique within a namespace. Is required when creating "
    "resources, although some resources may allow a client to request the "
    "generation of an appropriate name automatically. Name is primarily "
    "intended for creation idempotence and configuration definition. Cannot "
    "be updated. More info: https://kubernetes.io/docs/concepts/overview/"
    "working-with-objects/names#names")
CREATED_DESC = (
    "CreationTimestamp is a timestamp representing the server time when "
    "this object was created. It is not guaranteed to be set in "
    "happens-before order across separate operations. Clients may not set "
    "this value. It is represented in RFC3339 form and is in UTC.\n\n"
    "Populated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#metadata")

POD_COLUMNS = [
    _col("Name", "string", "name", NAME_DESC),
    _col("Ready", "string", "", "The aggregate readiness state of this pod "
         "for accepting traffic."),
    _col("Status", "string", "", "The aggregate status of the containers in "
         "this pod."),
    _col("Restarts", "string", "", "The number of times the containers in "
         "this pod have been restarted and when the last container in this "
         "pod has restarted."),
    _col("Age", "string", "", CREATED_DESC),
    _col("IP", "string", "", "podIP address allocated to the pod. Routable "
         "at least within the cluster. Empty if not yet allocated.", 1),
    _col("Node", "string", "", "NodeName is a request to schedule this pod "
         "onto a specific node. If it is non-empty, the scheduler simply "
         "schedules this pod onto that node, assuming that it fits resource "
         "requirements.", 1),
    _col("Nominated Node", "string", "", "nominatedNodeName is set only "
         "when this pod preempts other pods on the node, but it cannot be "
         "scheduled right away as preemption victims receive their graceful "
         "termination periods. This field does not guarantee that the pod "
         "will be scheduled on this node. Scheduler may decide to place the "
         "pod elsewhere if other nodes become available sooner. Scheduler "
         "may also decide to give the resources on this node to a higher "
         "priority pod that is created after preemption. As a result, this "
         "field may be different than PodSpec.nodeName when the pod is "
         "scheduled.", 1),
    _col("Readiness Gates", "string", "", "If specified, all readiness "
         "gates will be evaluated for pod readiness. A pod is ready when all "
         "its containers are ready AND all conditions specified in the "
         "readiness gates have status equal to \"True\" More info: "
         "https://git.k8s.io/enhancements/keps/sig-network/580-pod-"
         "readiness-gates", 1),
]
DEFAULT_COLUMNS = [_col("Name", "string", "name", NAME_DESC),
                   _col("Created At", "date", "", CREATED_DESC)]


def _age(ts, now):
    t = util.parse_time(ts or "")
    if t is None:
        return "<unknown>"
    return util.human_duration((now - t).total_seconds())


def _pod_cells(pod, now):
    spec = pod.get("spec") or {}
    st = pod.get("status") or {}
    total = len(spec.get("containers") or [])
    statuses = st.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    reason = st.get("reason") or st.get("phase") or ""
    restarts = 0
    last = None
    for cs in statuses:
        restarts += cs.get("restartCount", 0)
        state = cs.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated"):
            reason = state["terminated"].get("reason") or "Error"
        term = (cs.get("lastState") or {}).get("terminated") or {}
        ft = util.parse_time(term.get("finishedAt") or "")
        if ft and (last is None or ft > last):
            last = ft
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    rs = str(restarts)
    if restarts and last is not None:
        rs = "%d (%s ago)" % (restarts, util.human_duration(
            (now - last).total_seconds()))
    gates = spec.get("readinessGates") or []
    gate_s = "<none>"
    if gates:
        conds = {c.get("type"): c.get("status")
                 for c in st.get("conditions") or []}
        gate_s = "%d/%d" % (sum(1 for g in gates
                                if conds.get(g.get("conditionType")) ==
                                "True"), len(gates))
    return [pod["metadata"]["name"], "%d/%d" % (ready, total), reason, rs,
            _age(pod["metadata"].get("creationTimestamp"), now),
            st.get("podIP") or "<none>", spec.get("nodeName") or "<none>",
            st.get("nominatedNodeName") or "<none>", gate_s]


def table(rd, objs, list_meta, now):
    """A meta.k8s.io/v1 Table of objs (rows carry PartialObjectMetadata)."""
    if rd.kind == "Pod":
        cols = POD_COLUMNS
    else:
        cols = DEFAULT_COLUMNS
    rows = []
    for o in objs:
        if rd.kind == "Pod":
            cells = _pod_cells(o, now)
        else:
            cells = [o["metadata"]["name"],
                     o["metadata"].get("creationTimestamp")]
        rows.append({"cells": cells, "object": {
            "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": o.get("metadata")}})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": list_meta, "columnDefinitions": cols, "rows": rows}
