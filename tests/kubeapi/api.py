"""The API verbs: get, list, watch setup, create, update, patch, delete.

API holds the catalogue, the store, the configuration and the admin
state (faults, request log, pod logs). Every verb takes a Request-like
set of arguments and returns (http status, body, extra headers) or raises
errors.APIError; server.py only turns HTTP into these calls, so tests can
also drive API in-process.
"""

import base64
import copy
import json
import random
import threading

from kubeapi import errors, fieldmgr, objects, patch, resources, util
from kubeapi import selectors, yamlish
from kubeapi.errors import FieldError
from kubeapi.store import Store

CORE_EVENTS = ("", "events")
DEFAULT_CONFIG = {
    # Watches: BOOKMARK every N seconds and 2 s before timeoutSeconds ends
    # (scaled by watch_time_scale, which also scales timeoutSeconds).
    "bookmark_interval": 60.0,
    "watch_time_scale": 1.0,
    # kube-apiserver 1.28 serves a watch without resourceVersion from etcd
    # and so never sends bookmarks on it.
    "bookmarks_without_rv": False,
    "default_watch_timeout": 1800.0,
    "send_initial_events": True,
    # Bodies larger than this go out chunked (Go's net/http buffers 2048).
    "chunk_threshold": 2048,
    "max_request_bytes": 3 * 1024 * 1024,
    "garbage_collector": True,
    # The ResourceVersionTooLarge wait (3 s in kube-apiserver).
    "too_large_rv_wait": 3.0,
    "forbidden": [],
}


def _gv(rd):
    return rd.api_version


class API:
    def __init__(self, config=None, seed=None, store=None):
        self.catalogue = resources.Catalogue()
        self.config = dict(DEFAULT_CONFIG)
        self.config["forbidden"] = []
        if config:
            self.config.update(config)
        self.store = store or Store(
            window_events=self.config.get("window_events", 0),
            window_seconds=self.config.get("window_seconds", 0.0))
        self.rng = random.Random(seed)
        self.pod_logs = {}
        self.lock = threading.RLock()
        self._bootstrap()

    # ------------------------------------------------------ helpers ----
    def _bootstrap(self):
        for ns in ("default", "kube-node-lease", "kube-public",
                   "kube-system"):
            self.admin_load({"apiVersion": "v1", "kind": "Namespace",
                             "metadata": {"name": ns}}, manager=
                            "kube-apiserver")

    def now(self):
        return util.now_utc()

    def render(self, rd, stored, keep_kind=True):
        """Stored object -> what rd's endpoint returns."""
        o = copy.deepcopy(stored)
        if rd.kind == "Event":
            if rd.group == "events.k8s.io":
                o = objects.event_core_to_v1(o)
            else:
                o["kind"] = "Event"
                o["apiVersion"] = "v1"
                objects.core_event_zero_fields(o)
        o["kind"] = rd.kind
        o["apiVersion"] = rd.api_version
        o = resources.order_object(o)
        if not keep_kind:
            o.pop("kind", None)
            o.pop("apiVersion", None)
        return o

    def to_storage(self, rd, obj):
        if rd.kind == "Event" and rd.group == "events.k8s.io":
            return objects.event_v1_to_core(obj)
        return obj

    def storage_def(self, rd):
        return self.catalogue.by_storage(rd.storage) or rd

    def parse_body(self, body, create=True):
        try:
            return util.go_json_loads(body)
        except util.GoJSONError as e:
            raise errors.bad_request(
                "couldn't get version/kind; json parse error: %s" % e)

    def check_kind(self, rd, obj):
        if not isinstance(obj, dict):
            raise errors.bad_request(
                "couldn't get version/kind; json parse error: json: cannot "
                "unmarshal %s into Go value of type struct { APIVersion "
                "string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string "
                "\"json:\\\"kind,omitempty\\\"\" }" % patch._json_kind(obj))
        av = obj.get("apiVersion")
        kind = obj.get("kind")
        if av and av != rd.api_version:
            raise errors.bad_request(
                "the API version in the data (%s) does not match the "
                "expected API version (%s)" % (av, rd.api_version))
        if kind and kind != rd.kind:
            raise errors.bad_request(
                "%s in version \"%s\" cannot be handled as a %s: no kind "
                "\"%s\" is registered for version \"%s\""
                % (kind, rd.version, rd.kind, kind, rd.api_version))
        obj["apiVersion"] = rd.api_version
        obj["kind"] = rd.kind

    def _ns_check(self, rd, ns, name):
        if not rd.namespaced or rd.kind == "Namespace":
            return
        nso = self.store.get(("", "namespaces"), "", ns)
        if nso is None:
            raise errors.namespace_not_found(ns)
        if (nso.get("metadata") or {}).get("deletionTimestamp"):
            raise errors.namespace_terminating(ns, rd, name)

    @staticmethod
    def manager_name(field_manager, user_agent):
        if field_manager:
            return field_manager
        ua = user_agent or ""
        return ua.split("/")[0][:128] if ua else "unknown"

    # ---------------------------------------------------------- get ----
    def get(self, rd, ns, name):
        o = self.store.get(rd.storage, ns if rd.namespaced else "", name)
        if o is None:
            raise errors.not_found(rd, name)
        return o

    # --------------------------------------------------------- list ----
    def list(self, rd, ns, params):
        """Return (list object, items stored) honouring RV semantics."""
        label = params.get("labelSelector", "")
        field = params.get("fieldSelector", "")
        try:
            lreqs = selectors.parse_label_selector(label)
            freqs = selectors.parse_field_selector(
                field, rd.storage[1], rd.group == "events.k8s.io")
        except selectors.SelectorError as e:
            raise errors.bad_request(str(e))
        rv = params.get("resourceVersion")
        match = params.get("resourceVersionMatch")
        limit = params.get("limit")
        cont = params.get("continue")
        try:
            limit = int(limit) if limit not in (None, "") else 0
        except ValueError:
            raise errors.bad_request("limit: Invalid value: %r" % limit)
        if match and not rv:
            raise _list_options_invalid(FieldError(
                "Forbidden", "resourceVersionMatch", None,
                "resourceVersionMatch is forbidden unless resourceVersion "
                "is provided"))
        if match and match not in ("Exact", "NotOlderThan"):
            raise _list_options_invalid(FieldError(
                "NotSupported", "resourceVersionMatch", match,
                '"Exact", "NotOlderThan", ""'))
        if match == "Exact" and rv == "0":
            raise _list_options_invalid(FieldError(
                "Forbidden", "resourceVersionMatch", None,
                'resourceVersionMatch "exact" is forbidden for '
                'resourceVersion "0"'))
        if cont and rv not in (None, ""):
            raise _list_options_invalid(FieldError(
                "Forbidden", "resourceVersion", None,
                "specifying resource version is not allowed when using "
                "continue"))
        scope = ns if rd.namespaced and ns else None
        start = None
        list_rv = None
        if cont:
            try:
                tok = json.loads(_b64d(cont))
                list_rv = int(tok["rv"])
                start = tok["start"]
            except (ValueError, KeyError, TypeError):
                raise errors.bad_request(
                    "continue key is not valid: illegal base64 data at "
                    "input byte 0")
            if list_rv == -1:
                items, cur = self.store.list(rd.storage, scope)
                list_rv = cur
            else:
                items = self.store.snapshot(rd.storage, list_rv, scope)
                if items is None:
                    newtok = _b64e(json.dumps(
                        {"v": "meta.k8s.io/v1", "rv": -1, "start": start},
                        separators=(",", ":")))
                    raise errors.gone(
                        "The provided continue parameter is too old to "
                        "display a consistent list result. You can start a "
                        "new list without the continue parameter, or use the "
                        "continue token in this response to retrieve the "
                        "remainder of the results. Continuing with the "
                        "provided token results in an inconsistent list - "
                        "objects that were created, modified, or deleted "
                        "between the time the first chunk was returned and "
                        "now may show up in the list.", newtok)
        elif rv not in (None, "", "0"):
            try:
                want = int(rv)
            except ValueError:
                raise errors.bad_request(
                    'invalid resource version: strconv.ParseUint: parsing '
                    '"%s": invalid syntax' % rv)
            if want > self.store.rv and not self.store.wait_rv(
                    want, self.config["too_large_rv_wait"]):
                raise errors.timeout_too_large_rv(want, self.store.rv)
            if match == "Exact":
                items = self.store.snapshot(rd.storage, want, scope)
                if items is None:
                    raise errors.gone(
                        "The resourceVersion for the provided list is too "
                        "old.")
                list_rv = want
            else:
                items, list_rv = self.store.list(rd.storage, scope)
        else:
            items, list_rv = self.store.list(rd.storage, scope)
            if rv == "0":
                limit = 0       # served from the watch cache: no paging
        out = []
        more = False
        remaining = 0
        last_key = None
        for key, obj in items:
            skey = _start_key(key, scope, rd)
            if start is not None and skey < start:
                continue
            if limit and len(out) >= limit:
                more = True
                remaining += 1
                continue
            if not self._matches(rd, obj, lreqs, freqs):
                continue
            out.append(obj)
            last_key = skey
        meta = {"resourceVersion": str(list_rv)}
        if more and last_key is not None:
            meta["continue"] = _b64e(json.dumps(
                {"v": "meta.k8s.io/v1", "rv": list_rv,
                 "start": last_key + "\u0000"}, separators=(",", ":")))
            if not lreqs and not freqs:
                meta["remainingItemCount"] = remaining
        return meta, out

    def _matches(self, rd, obj, lreqs, freqs):
        labels = (obj.get("metadata") or {}).get("labels")
        return selectors.match_labels(lreqs, labels) and \
            selectors.match_fields(freqs, obj)

    def list_object(self, rd, meta, items, table=False):
        keep = rd.custom
        rendered = [self.render(rd, o, keep_kind=keep) for o in items]
        if table:
            return objects.table(rd, rendered, meta, self.now())
        return {"kind": rd.list_kind, "apiVersion": rd.api_version,
                "metadata": meta, "items": rendered}

    # ------------------------------------------------------- create ----
    def create(self, rd, ns, body, params, user_agent, wire_obj=None):
        obj = wire_obj if wire_obj is not None else self.parse_body(body)
        self.check_kind(rd, obj)
        dry = _dry_run(params)
        fv = params.get("fieldValidation") or "Warn"
        warnings = objects.decode_check(rd, obj, fv)
        objects.time_errors(rd, obj)
        md = obj.setdefault("metadata", {})
        if not isinstance(md, dict):
            raise errors.bad_request("metadata must be an object")
        if rd.namespaced:
            if md.get("namespace") and md["namespace"] != ns:
                raise errors.bad_request(
                    "the namespace of the provided object does not match "
                    "the namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        if md.get("resourceVersion"):
            raise errors.internal(
                "resourceVersion should not be set on objects to be "
                "created")
        if not md.get("name") and md.get("generateName"):
            md["name"] = self._generate_name(rd, ns, md["generateName"])
        self._ns_check(rd, ns, md.get("name") or "")
        wire = copy.deepcopy(obj)
        objects.default(rd, obj)
        obj = self.to_storage(rd, obj)
        md = obj["metadata"]
        for k in ("uid", "creationTimestamp", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "selfLink", "generation",
                  "managedFields"):
            md.pop(k, None)
        md["uid"] = util.new_uid()
        md["creationTimestamp"] = util.fmt_time(self.now())
        if rd.generation:
            md["generation"] = 1
        objects.normalize_times(rd, obj)
        manager = self.manager_name(params.get("fieldManager"), user_agent)
        tracked_obj = copy.deepcopy(obj)
        if rd.kind == "Event" and rd.group == "events.k8s.io":
            tracked_obj = objects.event_core_to_v1(obj)
        if rd.has_status():
            tracked_obj.pop("status", None)
        fieldmgr.record_update(None, tracked_obj, manager, rd.api_version,
                               rd.kind, now=self.now(), zero=rd.zero())
        if "managedFields" in tracked_obj["metadata"]:
            md["managedFields"] = tracked_obj["metadata"]["managedFields"]
        objects.initial_status(rd, obj)
        if rd.kind == "Pod":
            objects.admit_pod(obj, self.rng)
        errs = objects.validate(rd, obj, wire=wire)
        if errs:
            raise errors.invalid(self.storage_def(rd), md.get("name") or "",
                                 errs)
        with self.store.lock:
            if self.store.get(rd.storage, md.get("namespace", ""),
                              md["name"]) is not None:
                raise errors.already_exists(rd, md["name"])
            if dry:
                out = copy.deepcopy(obj)
                out["metadata"].pop("resourceVersion", None)
            else:
                _, out = self.store.put(rd.storage, md.get("namespace", ""),
                                        md["name"], obj)
        return 201, self.render(rd, out), warnings

    def _generate_name(self, rd, ns, prefix):
        base = prefix
        if len(base) > 58:
            base = base[:58]
        for _ in range(100):
            n = base + util.random_suffix(5, self.rng)
            if self.store.get(rd.storage, ns if rd.namespaced else "",
                              n) is None:
                return n
        raise errors.already_exists(rd, base)

    # ------------------------------------------------------- update ----
    def update(self, rd, ns, name, body, params, user_agent,
               subresource=None, wire_obj=None, manager=None,
               precomputed_fields=False):
        obj = wire_obj if wire_obj is not None else self.parse_body(body)
        self.check_kind(rd, obj)
        dry = _dry_run(params)
        fv = params.get("fieldValidation") or "Warn"
        warnings = objects.decode_check(rd, obj, fv)
        objects.time_errors(rd, obj)
        md = obj.setdefault("metadata", {})
        if md.get("name") and md["name"] != name:
            raise errors.bad_request(
                "the name of the object (%s) does not match the name on the "
                "URL (%s)" % (md["name"], name))
        md["name"] = name
        if rd.namespaced:
            if md.get("namespace") and md["namespace"] != ns:
                raise errors.bad_request(
                    "the namespace of the provided object does not match "
                    "the namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        key_ns = ns if rd.namespaced else ""
        with self.store.lock:
            old = self.store.get(rd.storage, key_ns, name)
            if old is None:
                if rd.create_on_update and subresource is None:
                    md.pop("resourceVersion", None)
                    return self.create(rd, ns, None, params, user_agent,
                                       wire_obj=obj)
                raise errors.not_found(rd, name)
            omd = old["metadata"]
            rv = md.get("resourceVersion")
            if rv and rv != omd.get("resourceVersion"):
                raise errors.conflict(rd, name)
            if not rv and rd.custom:
                raise errors.invalid(rd, name, [FieldError(
                    "Invalid", "metadata.resourceVersion", None,
                    "must be specified for an update", raw_value="0x0")])
            if md.get("uid") and md["uid"] != omd.get("uid"):
                raise errors.conflict(
                    rd, name, "Precondition failed: UID in precondition: "
                    "%s, UID in object meta: %s" % (omd.get("uid"),
                                                    md["uid"]))
            wire = copy.deepcopy(obj)
            objects.default(rd, obj)
            obj = self.to_storage(rd, obj)
            md = obj["metadata"]
            for k in ("uid", "creationTimestamp", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "generation"):
                if k in omd:
                    md[k] = omd[k]
                else:
                    md.pop(k, None)
            sent_mf = md.get("managedFields")
            if precomputed_fields:
                pass
            elif "managedFields" in omd:
                md["managedFields"] = copy.deepcopy(omd["managedFields"])
            else:
                md.pop("managedFields", None)
            if sent_mf == [{}]:
                md.pop("managedFields", None)
            objects.prepare_update(rd, old, obj, subresource)
            objects.normalize_times(rd, obj)
            errs = objects.validate(rd, obj, old=old, wire=wire)
            if errs:
                raise errors.invalid(self.storage_def(rd), name, errs)
            if not precomputed_fields:
                mgr = manager or self.manager_name(
                    params.get("fieldManager"), user_agent)
                fieldmgr.record_update(old, obj, mgr, rd.api_version,
                                       rd.kind, subresource, now=self.now())
            if _same_object(old, obj):
                return 200, self.render(rd, old), warnings
            if dry:
                out = copy.deepcopy(obj)
                out["metadata"]["resourceVersion"] = omd["resourceVersion"]
                return 200, self.render(rd, out), warnings
            _, out = self.store.put(rd.storage, key_ns, name, obj)
            out = self._maybe_finalize(rd, key_ns, name, out)
        return 200, self.render(rd, out), warnings

    def _maybe_finalize(self, rd, ns, name, obj):
        md = obj.get("metadata") or {}
        if md.get("deletionTimestamp") and not md.get("finalizers"):
            last = self.store.remove(rd.storage, ns, name)
            if last is not None:
                self._collect_garbage(md.get("uid"), "Background")
                return last
        return obj

    # -------------------------------------------------------- patch ----
    PATCH_TYPES = {"application/merge-patch+json": "merge",
                   "application/json-patch+json": "json",
                   "application/strategic-merge-patch+json": "strategic",
                   "application/apply-patch+yaml": "apply"}

    def patch(self, rd, ns, name, body, content_type, params, user_agent,
              subresource=None):
        ptype = self.PATCH_TYPES.get((content_type or "").split(";")[0]
                                     .strip().lower())
        if ptype is None:
            raise errors.unsupported_media_type()
        if ptype == "strategic" and rd.custom:
            raise errors.unsupported_media_type(
                "the body of the request was in an unknown format - "
                "accepted media types include: application/json-patch+json, "
                "application/merge-patch+json, application/apply-patch+yaml")
        if ptype == "apply":
            if subresource == "scale":
                raise errors.unsupported_media_type()
            return self.apply(rd, ns, name, body, params, user_agent,
                              subresource)
        try:
            doc = util.go_json_loads(body or b"")
        except util.GoJSONError as e:
            if ptype == "json":
                raise errors.bad_request(str(e))
            raise errors.bad_request("error decoding patch: %s" % e)
        key_ns = ns if rd.namespaced else ""
        with self.store.lock:
            stored = self.store.get(rd.storage, key_ns, name)
            if stored is None:
                raise errors.not_found(rd, name)
            if subresource == "scale":
                current = objects.to_scale(self.render(rd, stored))
            else:
                current = self.render(rd, stored)
            try:
                if ptype == "merge":
                    if not isinstance(doc, dict):
                        raise errors.bad_request(
                            "error decoding patch: json: cannot unmarshal "
                            "%s into Go value of type map[string]interface "
                            "{}" % patch._json_kind(doc))
                    result = patch.merge_patch(current, doc)
                elif ptype == "json":
                    result = patch.json_patch(current, doc)
                else:
                    result = patch.strategic_merge(current, doc, rd.kind)
            except patch.PatchDecodeError as e:
                raise errors.bad_request(str(e))
            except patch.PatchApplyError:
                raise errors.invalid_generic()
            if not isinstance(result, dict):
                raise errors.invalid_generic()
            result.setdefault("metadata", {})
            if not isinstance(result["metadata"], dict):
                raise errors.invalid_generic()
            if subresource == "scale":
                return self._scale_write(rd, ns, name, result, params,
                                         user_agent)
            if not result["metadata"].get("resourceVersion"):
                result["metadata"]["resourceVersion"] = \
                    stored["metadata"]["resourceVersion"]
            result["metadata"].setdefault("name", name)
            return self.update(rd, ns, name, None, params, user_agent,
                               subresource=subresource, wire_obj=result)

    def apply(self, rd, ns, name, body, params, user_agent, subresource):
        mgr = params.get("fieldManager")
        if not mgr:
            raise errors.APIError(
                422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: '
                'fieldManager: Required value: is required for apply patch',
                {"group": "meta.k8s.io", "kind": "PatchOptions",
                 "causes": [{"reason": "FieldValueRequired",
                             "message": "Required value: is required for "
                                        "apply patch",
                             "field": "fieldManager"}]})
        text = body.decode("utf-8", "replace") if isinstance(
            body, (bytes, bytearray)) else (body or "")
        try:
            cfg = util.go_json_loads(text) if text.lstrip().startswith(
                "{") else yamlish.load(text)
        except (yamlish.YAMLError, util.GoJSONError) as e:
            raise errors.bad_request("error decoding YAML: %s" % e)
        if not isinstance(cfg, dict):
            raise errors.bad_request("error decoding YAML: expected an "
                                     "object")
        if cfg.get("apiVersion") != rd.api_version or \
                cfg.get("kind") != rd.kind:
            raise errors.bad_request(
                "the API version in the data (%s) does not match the "
                "expected API version (%s)"
                % (cfg.get("apiVersion"), rd.api_version)
                if cfg.get("apiVersion") != rd.api_version else
                'Kind "%s" does not match the expected kind "%s"'
                % (cfg.get("kind"), rd.kind))
        cmd = cfg.setdefault("metadata", {})
        if cmd.get("name") and cmd["name"] != name:
            raise errors.bad_request(
                "the name of the object (%s) does not match the name on the "
                "URL (%s)" % (cmd["name"], name))
        force = params.get("force") in ("true", "1", "True")
        key_ns = ns if rd.namespaced else ""
        with self.store.lock:
            stored = self.store.get(rd.storage, key_ns, name)
            live = self.render(rd, stored) if stored is not None else None
            try:
                merged = fieldmgr.apply(live, cfg, mgr, rd.api_version,
                                        rd.kind, force, now=self.now())
            except fieldmgr.ApplyConflict as c:
                raise errors.APIError(
                    409, "Conflict", fieldmgr.conflict_message(c.conflicts),
                    {"causes": [{
                        "reason": "FieldManagerConflict",
                        "message": "conflict with %s using %s"
                                   % (json.dumps(m), av),
                        "field": fieldmgr.path_string(p)}
                        for m, av, p in c.conflicts]})
            merged["metadata"]["name"] = name
            if stored is None:
                if subresource:
                    raise errors.not_found(rd, name)
                merged["metadata"].pop("resourceVersion", None)
                mf = merged["metadata"].pop("managedFields", None)
                code, out, warn = self.create(rd, ns, None, params,
                                              user_agent, wire_obj=merged)
                if mf and not _dry_run(params):
                    with self.store.lock:
                        cur = self.store.get(rd.storage, key_ns, name)
                        cur["metadata"]["managedFields"] = mf
                        self.store.objects[rd.storage][
                            (key_ns, name)]["metadata"]["managedFields"] = mf
                        out["metadata"]["managedFields"] = mf
                return code, out, warn
            merged["metadata"]["resourceVersion"] = \
                stored["metadata"]["resourceVersion"]
            return self.update(rd, ns, name, None, params, user_agent,
                               subresource=subresource, wire_obj=merged,
                               precomputed_fields=True)

    def _scale_write(self, rd, ns, name, scale, params, user_agent):
        key_ns = ns if rd.namespaced else ""
        with self.store.lock:
            stored = self.store.get(rd.storage, key_ns, name)
            if stored is None:
                raise errors.not_found(rd, name)
            smd = scale.get("metadata") or {}
            if smd.get("resourceVersion") and smd["resourceVersion"] != \
                    stored["metadata"]["resourceVersion"]:
                raise errors.conflict(rd, name)
            reps = (scale.get("spec") or {}).get("replicas")
            if not isinstance(reps, int) or isinstance(reps, bool) or \
                    reps < 0:
                raise errors.APIError(
                    422, "Invalid", 'Scale.autoscaling "%s" is invalid: '
                    'spec.replicas: Invalid value: %s: must be greater than '
                    'or equal to 0' % (name, errors.go_value(reps)),
                    {"name": name, "group": "autoscaling", "kind": "Scale",
                     "causes": [{"reason": "FieldValueInvalid",
                                 "message": "Invalid value: %s: must be "
                                            "greater than or equal to 0"
                                            % errors.go_value(reps),
                                 "field": "spec.replicas"}]})
            obj = self.render(rd, stored)
            obj["spec"]["replicas"] = reps
            mgr = self.manager_name(params.get("fieldManager"), user_agent)
            new = copy.deepcopy(obj)
            fieldmgr.record_update(stored, new, mgr, rd.api_version,
                                   rd.kind, "scale", now=self.now())
            code, out, warn = self.update(
                rd, ns, name, None, params, user_agent, wire_obj=new,
                precomputed_fields=True)
            return code, objects.to_scale(out), warn

    def scale_put(self, rd, ns, name, body, params, user_agent):
        scale = self.parse_body(body)
        if not isinstance(scale, dict):
            raise errors.bad_request("invalid Scale")
        return self._scale_write(rd, ns, name, scale, params, user_agent)

    # ------------------------------------------------------- delete ----
    def delete(self, rd, ns, name, body, params):
        opts = {}
        if body:
            try:
                opts = util.go_json_loads(body)
            except util.GoJSONError as e:
                raise errors.bad_request(
                    "couldn't get version/kind; json parse error: %s" % e)
            if not isinstance(opts, dict):
                raise errors.bad_request("invalid DeleteOptions")
        for k in ("propagationPolicy", "gracePeriodSeconds", "dryRun",
                  "orphanDependents"):
            if k in params and k not in opts:
                v = params[k]
                if k == "gracePeriodSeconds":
                    try:
                        v = int(v)
                    except ValueError:
                        raise errors.bad_request("invalid gracePeriodSeconds")
                if k == "dryRun":
                    v = [v]
                if k == "orphanDependents":
                    v = v == "true"
                opts[k] = v
        dry = "All" in (opts.get("dryRun") or [])
        if opts.get("dryRun") and not dry:
            raise errors.bad_request('dryRun: Unsupported value: "%s": '
                                     'supported values: "All"'
                                     % opts["dryRun"][0])
        policy = opts.get("propagationPolicy")
        if opts.get("orphanDependents") is True and not policy:
            policy = "Orphan"
        if policy not in (None, "Background", "Foreground", "Orphan"):
            raise errors.bad_request(
                'propagationPolicy: Unsupported value: "%s": supported '
                'values: "Foreground", "Background", "Orphan", "nil"'
                % policy)
        key_ns = ns if rd.namespaced else ""
        with self.store.lock:
            stored = self.store.get(rd.storage, key_ns, name)
            if stored is None:
                raise errors.not_found(rd, name)
            md = stored["metadata"]
            pre = opts.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != md.get("uid"):
                raise errors.conflict(
                    rd, name, "Precondition failed: UID in precondition: "
                    "%s, UID in object meta: %s" % (pre["uid"],
                                                    md.get("uid")))
            if pre.get("resourceVersion") and \
                    pre["resourceVersion"] != md.get("resourceVersion"):
                raise errors.conflict(
                    rd, name, "Precondition failed: ResourceVersion in "
                    "precondition: %s, ResourceVersion in object meta: %s"
                    % (pre["resourceVersion"], md.get("resourceVersion")))
            accepted = opts.get("orphanDependents") is False
            if dry:
                return 200, self._delete_response(rd, stored, True)
            if rd.kind == "Namespace":
                return 200, self._delete_namespace(rd, stored)
            finalizers = list(md.get("finalizers") or [])
            if policy == "Foreground" and \
                    "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
            if policy == "Orphan" and "orphan" not in finalizers:
                finalizers.append("orphan")
            grace = None
            if rd.kind == "Pod":
                grace = opts.get("gracePeriodSeconds")
                if grace is None:
                    grace = (stored.get("spec") or {}).get(
                        "terminationGracePeriodSeconds", 30)
                if not (stored.get("spec") or {}).get("nodeName"):
                    grace = 0
            if finalizers or rd.kind == "Pod":
                if md.get("deletionTimestamp") and rd.kind != "Pod":
                    return 200, self.render(rd, stored)
                marked = copy.deepcopy(stored)
                mmd = marked["metadata"]
                when = self.now()
                if grace:
                    import datetime
                    when = when + datetime.timedelta(seconds=grace)
                mmd.setdefault("deletionTimestamp", util.fmt_time(when))
                mmd["deletionGracePeriodSeconds"] = grace or 0
                if finalizers:
                    mmd["finalizers"] = finalizers
                _, marked = self.store.put(rd.storage, key_ns, name, marked)
                uid = md.get("uid")
                if "orphan" in finalizers:
                    self._orphan(uid)
                    finalizers.remove("orphan")
                if "foregroundDeletion" in finalizers:
                    self._collect_garbage(uid, "Foreground")
                    finalizers.remove("foregroundDeletion")
                if finalizers != list(mmd.get("finalizers") or []):
                    marked["metadata"]["finalizers"] = finalizers
                    if not finalizers:
                        del marked["metadata"]["finalizers"]
                    _, marked = self.store.put(rd.storage, key_ns, name,
                                               marked)
                if finalizers:
                    return (202 if accepted else 200), \
                        self.render(rd, marked)
                last = self.store.remove(rd.storage, key_ns, name, marked)
                self._collect_garbage(uid, "Background")
                if rd.kind == "Pod" and grace:
                    return 200, self.render(rd, marked)
                return 200, self._delete_response(rd, last)
            last = self.store.remove(rd.storage, key_ns, name)
            if policy != "Orphan":
                self._collect_garbage(md.get("uid"), "Background")
            return 200, self._delete_response(rd, last)

    def _delete_response(self, rd, last, dry=False):
        if rd.deleted_object:
            return self.render(rd, last)
        d = {"name": last["metadata"]["name"]}
        if rd.group:
            d["group"] = rd.group
        d["kind"] = rd.plural
        d["uid"] = last["metadata"].get("uid")
        return {"kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Success", "details": d}

    def _dependents(self, uid):
        out = []
        with self.store.lock:
            for storage, bucket in self.store.objects.items():
                for key, o in bucket.items():
                    for ref in (o.get("metadata") or {}).get(
                            "ownerReferences") or []:
                        if ref.get("uid") == uid:
                            out.append((storage, key))
        return out

    def _collect_garbage(self, uid, mode):
        if not uid or not self.config.get("garbage_collector"):
            return
        for storage, (ns, name) in self._dependents(uid):
            o = self.store.get(storage, ns, name)
            if o is None:
                continue
            if (o.get("metadata") or {}).get("finalizers"):
                o["metadata"].setdefault("deletionTimestamp",
                                         util.fmt_time(self.now()))
                o["metadata"].setdefault("deletionGracePeriodSeconds", 0)
                self.store.put(storage, ns, name, o)
                continue
            last = self.store.remove(storage, ns, name)
            if last is not None:
                self._collect_garbage(last["metadata"].get("uid"), mode)

    def _orphan(self, uid):
        for storage, (ns, name) in self._dependents(uid):
            o = self.store.get(storage, ns, name)
            refs = [r for r in o["metadata"].get("ownerReferences") or []
                    if r.get("uid") != uid]
            if refs:
                o["metadata"]["ownerReferences"] = refs
            else:
                o["metadata"].pop("ownerReferences", None)
            self.store.put(storage, ns, name, o)

    def _delete_namespace(self, rd, stored):
        name = stored["metadata"]["name"]
        marked = copy.deepcopy(stored)
        marked["metadata"].setdefault("deletionTimestamp",
                                      util.fmt_time(self.now()))
        marked.setdefault("status", {})["phase"] = "Terminating"
        _, marked = self.store.put(rd.storage, "", name, marked)
        for storage in list(self.store.objects):
            for (ns, n) in list(self.store.objects[storage]):
                if ns == name:
                    self.store.remove(storage, ns, n)
        self.store.remove(rd.storage, "", name)
        return self.render(rd, marked)

    def delete_collection(self, rd, ns, params):
        meta, items = self.list(rd, ns, {
            k: v for k, v in params.items()
            if k in ("labelSelector", "fieldSelector")})
        deleted = []
        for o in items:
            try:
                _, r = self.delete(rd, ns, o["metadata"]["name"], None,
                                   {k: v for k, v in params.items()
                                    if k in ("propagationPolicy",
                                             "gracePeriodSeconds",
                                             "dryRun")})
            except errors.APIError:
                continue
            deleted.append(o)
        meta = {"resourceVersion": str(self.store.rv)}
        return 200, self.list_object(rd, meta, deleted)

    # -------------------------------------------------- subresources ----
    def evict(self, rd, ns, name, body, params):
        ev = self.parse_body(body) if body else {}
        if isinstance(ev, dict):
            en = (ev.get("metadata") or {}).get("name")
            if en and en != name:
                raise errors.bad_request(
                    "name in URL does not match name in Eviction object")
        pod = self.store.get(rd.storage, ns, name)
        if pod is None:
            raise errors.not_found(rd, name)
        pdb_rd = self.catalogue.lookup("policy", "v1",
                                       "poddisruptionbudgets")
        items, _ = self.store.list(pdb_rd.storage, ns)
        labels = (pod.get("metadata") or {}).get("labels") or {}
        for _, pdb in items:
            sel = (pdb.get("spec") or {}).get("selector")
            if sel is not None and selectors.label_selector_matches(
                    sel, labels):
                st = pdb.get("status") or {}
                if st.get("disruptionsAllowed", 0) < 1:
                    raise errors.APIError(
                        429, "TooManyRequests", "Cannot evict pod as it "
                        "would violate the pod's disruption budget.",
                        {"causes": [{
                            "reason": "DisruptionBudget",
                            "message": "The disruption budget %s needs %d "
                                       "healthy pods and has %d currently"
                                       % (pdb["metadata"]["name"],
                                          st.get("desiredHealthy", 0),
                                          st.get("currentHealthy", 0))}]})
        opts = {}
        if isinstance(ev, dict) and isinstance(ev.get("deleteOptions"),
                                                dict):
            opts = ev["deleteOptions"]
        self.delete(rd, ns, name, json.dumps(opts).encode() if opts else
                    None, params)
        return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                     "status": "Success", "code": 201}

    def bind(self, rd, ns, name, body):
        b = self.parse_body(body)
        node = ((b or {}).get("target") or {}).get("name")
        with self.store.lock:
            pod = self.store.get(rd.storage, ns, name)
            if pod is None:
                raise errors.not_found(rd, name)
            if (pod.get("spec") or {}).get("nodeName"):
                raise errors.conflict(
                    rd, name, "pod %s is already assigned to node %s"
                    % (name, pod["spec"]["nodeName"]))
            pod["spec"]["nodeName"] = node
            self.store.put(rd.storage, ns, name, pod)
        return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                     "status": "Success", "code": 201}

    def pod_log(self, rd, ns, name, params):
        pod = self.get(rd, ns, name)
        cont = params.get("container")
        names = [c.get("name") for c in
                 (pod.get("spec") or {}).get("containers") or []]
        if cont and cont not in names:
            raise errors.bad_request("container %s is not valid for pod %s"
                                     % (cont, name))
        if not cont:
            if len(names) > 1:
                raise errors.bad_request(
                    "a container name must be specified for pod %s, choose "
                    "one of: [%s]" % (name, " ".join(names)))
            cont = names[0] if names else ""
        if not (pod.get("spec") or {}).get("nodeName"):
            return 204, ""
        text = self.pod_logs.get((ns, name, cont), "")
        tail = params.get("tailLines")
        if tail:
            try:
                n = int(tail)
                lines = text.splitlines(True)
                text = "".join(lines[-n:]) if n > 0 else ""
            except ValueError:
                pass
        return 200, text

    # -------------------------------------------------------- admin ----
    def admin_load(self, obj, manager="kubectl-client-side-apply",
                   replace=True):
        """Store obj as-is (defaults applied, no validation); events fire.

        Accepts a single object, a list, or a kind: List/XList object.
        Returns [(kind, namespace, name)] loaded.
        """
        out = []
        if isinstance(obj, list):
            for o in obj:
                out += self.admin_load(o, manager, replace)
            return out
        if not isinstance(obj, dict):
            raise errors.bad_request("expected an object or a list")
        if obj.get("kind", "").endswith("List") and "items" in obj:
            items = obj["items"] or []
            if obj["kind"] != "List":
                # A typed list (PodList): its items carry no kind.
                items = [dict(i, kind=i.get("kind") or obj["kind"][:-4],
                              apiVersion=i.get("apiVersion") or
                              obj.get("apiVersion"))
                         for i in items if isinstance(i, dict)]
            return self.admin_load(items, manager, replace)
        av, kind = obj.get("apiVersion"), obj.get("kind")
        rd = self.catalogue.by_kind(av or "", kind or "")
        if rd is None:
            raise errors.bad_request("unknown kind %s/%s" % (av, kind))
        o = copy.deepcopy(obj)
        md = o.setdefault("metadata", {})
        ns = md.get("namespace") or ("default" if rd.namespaced else "")
        if rd.namespaced:
            md["namespace"] = ns
            if self.store.get(("", "namespaces"), "", ns) is None:
                self.admin_load({"apiVersion": "v1", "kind": "Namespace",
                                 "metadata": {"name": ns}}, manager)
        else:
            md.pop("namespace", None)
        if not md.get("name") and md.get("generateName"):
            md["name"] = self._generate_name(rd, ns, md["generateName"])
        if not md.get("name"):
            raise errors.bad_request("object without metadata.name")
        objects.default(rd, o)
        o = self.to_storage(rd, o)
        md = o["metadata"]
        with self.store.lock:
            old = self.store.get(rd.storage, ns, md["name"])
            if old is not None and not replace:
                raise errors.already_exists(rd, md["name"])
            if old is not None:
                md.setdefault("uid", old["metadata"].get("uid"))
                md.setdefault("creationTimestamp",
                              old["metadata"].get("creationTimestamp"))
            md.setdefault("uid", util.new_uid())
            md.setdefault("creationTimestamp", util.fmt_time(self.now()))
            if rd.generation:
                md.setdefault("generation", 1)
            md.pop("resourceVersion", None)
            if "managedFields" not in md:
                fieldmgr.record_update(old, o, manager, rd.api_version,
                                       rd.kind, now=self.now(),
                                       zero=rd.zero())
            if rd.has_status() and "status" not in o and rd.kind != "Pod":
                objects.initial_status(rd, o)
            if rd.kind == "Namespace":
                o.setdefault("spec", {}).setdefault("finalizers",
                                                    ["kubernetes"])
                o.setdefault("status", {}).setdefault("phase", "Active")
            if rd.kind == "Pod" and "status" not in o:
                o["status"] = {"phase": "Pending",
                               "qosClass": objects.qos_class(o["spec"])}
            self.store.put(rd.storage, ns, md["name"], o)
        out.append((rd.kind, ns, md["name"]))
        return out

    def admin_change(self, spec):
        """Modify a stored object outside the API rules (MODIFIED event).

        spec: {"apiVersion","kind","namespace","name"} plus one of
        "merge" (merge patch), "strategic", "jsonPatch", "delete": true,
        "oomKill": {"container": C, "restartCount": optional}.
        """
        rd = self.catalogue.by_kind(spec.get("apiVersion", "v1"),
                                    spec.get("kind", "Pod"))
        if rd is None:
            raise errors.bad_request("unknown kind")
        ns = spec.get("namespace", "default") if rd.namespaced else ""
        name = spec.get("name")
        with self.store.lock:
            stored = self.store.get(rd.storage, ns, name)
            if stored is None:
                raise errors.not_found(rd, name)
            if spec.get("delete"):
                last = self.store.remove(rd.storage, ns, name)
                return self.render(rd, last)
            obj = self.render(rd, stored)
            try:
                if "merge" in spec:
                    obj = patch.merge_patch(obj, spec["merge"])
                if "strategic" in spec:
                    obj = patch.strategic_merge(obj, spec["strategic"],
                                                rd.kind)
                if "jsonPatch" in spec:
                    obj = patch.json_patch(obj, spec["jsonPatch"])
            except (patch.PatchApplyError, patch.PatchDecodeError) as e:
                raise errors.bad_request(str(e))
            if "oomKill" in spec:
                obj = oom_kill(obj, spec["oomKill"] or {}, self.now())
            obj = self.to_storage(rd, obj)
            obj["metadata"]["resourceVersion"] = \
                stored["metadata"]["resourceVersion"]
            _, out = self.store.put(rd.storage, ns, name, obj)
            return self.render(rd, out)


def oom_kill(pod, opts, now):
    """Record an OOM kill of a container in a Pod's status, as the kubelet
    does: lastState.terminated (OOMKilled, 137), restartCount + 1, running
    again."""
    import datetime
    pod = copy.deepcopy(pod)
    spec = pod.get("spec") or {}
    names = [c.get("name") for c in spec.get("containers") or []]
    cname = opts.get("container") or (names[0] if names else "app")
    st = pod.setdefault("status", {})
    st["phase"] = opts.get("phase", "Running")
    statuses = st.setdefault("containerStatuses", [])
    cs = None
    for c in statuses:
        if c.get("name") == cname:
            cs = c
    if cs is None:
        image = ""
        for c in spec.get("containers") or []:
            if c.get("name") == cname:
                image = c.get("image", "")
        cs = {"name": cname, "state": {}, "lastState": {}, "ready": True,
              "restartCount": 0, "image": image, "imageID": "",
              "started": True}
        statuses.append(cs)
    finished = util.parse_time(opts.get("finishedAt") or "") or now
    started = finished - datetime.timedelta(seconds=60)
    old_id = cs.get("containerID") or \
        "containerd://" + "%064x" % random.getrandbits(256)
    cs["lastState"] = {"terminated": {
        "exitCode": 137, "reason": "OOMKilled",
        "startedAt": util.fmt_time(started),
        "finishedAt": util.fmt_time(finished), "containerID": old_id}}
    cs["restartCount"] = opts.get("restartCount",
                                  cs.get("restartCount", 0) + 1)
    cs["containerID"] = "containerd://" + "%064x" % random.getrandbits(256)
    if opts.get("crashLoop"):
        cs["state"] = {"waiting": {
            "reason": "CrashLoopBackOff",
            "message": "back-off 40s restarting failed container=%s pod=%s"
                       % (cname, pod["metadata"]["name"])}}
        cs["ready"] = False
        cs["started"] = False
    else:
        cs["state"] = {"running": {"startedAt": util.fmt_time(
            finished + datetime.timedelta(seconds=1))}}
        cs["ready"] = True
        cs["started"] = True
    return pod


def _same_object(a, b):
    def strip(o):
        o = copy.deepcopy(o)
        md = o.get("metadata") or {}
        md.pop("resourceVersion", None)
        for e in md.get("managedFields") or []:
            e.pop("time", None)
        return o
    return strip(a) == strip(b)


def _dry_run(params):
    d = params.get("dryRun")
    if d is None or d == "":
        return False
    if d != "All":
        raise errors.bad_request('dryRun: Unsupported value: "%s": '
                                 'supported values: "All"' % d)
    return True


def _list_options_invalid(err):
    return errors.APIError(
        422, "Invalid", 'ListOptions.meta.k8s.io "" is invalid: %s'
        % err.text(), {"group": "meta.k8s.io", "kind": "ListOptions",
                       "causes": [err.cause()]})


def _b64e(s):
    return base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")


def _b64d(s):
    s = s + "=" * (-len(s) % 4)
    return base64.urlsafe_b64decode(s.encode()).decode()


def _start_key(key, scope, rd):
    ns, name = key
    if scope is not None or not rd.namespaced:
        return name
    return "%s/%s" % (ns, name)
