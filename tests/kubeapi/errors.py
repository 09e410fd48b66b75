"""metav1.Status error bodies, shaped exactly as kube-apiserver's.

APIError carries an HTTP code and a Status; the constructors below word
messages like k8s.io/apimachinery/pkg/api/errors does (NewNotFound,
NewAlreadyExists, NewConflict, NewInvalid, ...). Field errors follow
k8s.io/apimachinery/pkg/util/validation/field.
"""

import json


class APIError(Exception):
    def __init__(self, code, reason, message, details=None, metadata=None,
                 headers=None):
        Exception.__init__(self, message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.metadata = metadata or {}
        self.headers = headers or []

    def status(self):
        s = {"kind": "Status", "apiVersion": "v1",
             "metadata": dict(self.metadata), "status": "Failure"}
        if self.message is not None:
            s["message"] = self.message
        if self.reason:
            s["reason"] = self.reason
        if self.details is not None:
            s["details"] = self.details
        s["code"] = self.code
        return s


def _details(rd, name, kind_is_resource=True):
    d = {}
    if name:
        d["name"] = name
    if rd is not None:
        if rd.group:
            d["group"] = rd.group
        d["kind"] = rd.plural if kind_is_resource else rd.kind
    return d


def not_found(rd, name):
    return APIError(404, "NotFound", '%s "%s" not found'
                    % (rd.group_resource, name), _details(rd, name))


def namespace_not_found(ns):
    return APIError(404, "NotFound", 'namespaces "%s" not found' % ns,
                    {"name": ns, "kind": "namespaces"})


def unknown_resource():
    return APIError(404, "NotFound",
                    "the server could not find the requested resource", {})


def already_exists(rd, name):
    return APIError(409, "AlreadyExists", '%s "%s" already exists'
                    % (rd.group_resource, name), _details(rd, name))


def conflict(rd, name, why="the object has been modified; please apply "
             "your changes to the latest version and try again"):
    return APIError(409, "Conflict",
                    'Operation cannot be fulfilled on %s "%s": %s'
                    % (rd.group_resource, name, why), _details(rd, name))


def bad_request(msg):
    return APIError(400, "BadRequest", msg)


def method_not_allowed():
    return APIError(405, "MethodNotAllowed", "the server does not allow "
                    "this method on the requested resource", {})


def unsupported_media_type(msg=None):
    if msg is None:
        return APIError(415, "UnsupportedMediaType",
                        "415: Unsupported Media Type", {})
    return APIError(415, "UnsupportedMediaType", msg)


def not_acceptable(msg):
    return APIError(406, "NotAcceptable", msg)


def unauthorized():
    return APIError(401, "Unauthorized", "Unauthorized")


def forbidden(user, verb, rd, resource, namespace, name=None,
              subresource=None):
    res = resource + ("/" + subresource if subresource else "")
    group = rd.group if rd else ""
    what = '%s "%s"' % (rd.group_resource if rd else resource, name) \
        if name else (rd.group_resource if rd else resource)
    where = ' in the namespace "%s"' % namespace if namespace \
        else " at the cluster scope"
    msg = ('%s is forbidden: User "%s" cannot %s resource "%s" in API '
           'group "%s"%s' % (what, user, verb, res, group, where))
    d = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    d["kind"] = resource
    return APIError(403, "Forbidden", msg, d)


def gone(msg, cont=None):
    md = {"continue": cont} if cont else None
    return APIError(410, "Expired", msg, None, md)


def internal(msg):
    return APIError(500, "InternalError",
                    "Internal error occurred: %s" % msg,
                    {"causes": [{"message": msg}]})


def too_many_requests(retry_after=1):
    return APIError(429, "TooManyRequests", "Too many requests: limit "
                    "reached, please try again later",
                    {"retryAfterSeconds": retry_after})


def timeout_too_large_rv(rv, current):
    return APIError(504, "Timeout",
                    "Timeout: Too large resource version: %s, current: %s"
                    % (rv, current),
                    {"causes": [{"reason": "ResourceVersionTooLarge",
                                 "message": "Too large resource version"}],
                     "retryAfterSeconds": 1})


def namespace_terminating(ns, rd, name):
    return APIError(403, "Forbidden",
                    '%s "%s" is forbidden: unable to create new content in '
                    'namespace %s because it is being terminated'
                    % (rd.group_resource, name, ns),
                    {"name": name, "group": rd.group, "kind": rd.plural}
                    if rd.group else {"name": name, "kind": rd.plural},
                    )


# --------------------------------------------------------- field errors --

def go_value(v):
    """How field.Invalid prints a value (%#v-ish)."""
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v, separators=(",", ":"))


class FieldError:
    """One field.Error: kind Invalid|Required|Forbidden|NotSupported|..."""

    REASONS = {"Invalid": "FieldValueInvalid",
               "Required": "FieldValueRequired",
               "Forbidden": "FieldValueForbidden",
               "NotSupported": "FieldValueNotSupported",
               "Duplicate": "FieldValueDuplicate",
               "TooLong": "FieldValueTooLong",
               "NotFound": "FieldValueNotFound"}

    def __init__(self, kind, field, value=None, detail="", raw_value=None):
        self.kind = kind
        self.field = field
        self.value = value
        self.detail = detail
        self.raw_value = raw_value   # preformatted value text

    def body(self):
        if self.kind == "Invalid":
            v = self.raw_value if self.raw_value is not None \
                else go_value(self.value)
            s = "Invalid value: %s" % v
            return s + (": " + self.detail if self.detail else "")
        if self.kind == "Required":
            return "Required value" + (": " + self.detail
                                       if self.detail else "")
        if self.kind == "Forbidden":
            return "Forbidden" + (": " + self.detail if self.detail else "")
        if self.kind == "NotSupported":
            return "Unsupported value: %s: supported values: %s" % (
                go_value(self.value), self.detail)
        if self.kind == "Duplicate":
            return "Duplicate value: %s" % go_value(self.value)
        if self.kind == "NotFound":
            return "Not found: %s" % go_value(self.value)
        if self.kind == "TooLong":
            return "Too long: " + self.detail
        return self.detail

    def text(self):
        return "%s: %s" % (self.field, self.body())

    def cause(self):
        return {"reason": self.REASONS.get(self.kind, "FieldValueInvalid"),
                "message": self.body(), "field": self.field}


def invalid(rd, name, errs, qualified=None):
    """NewInvalid: 422 'Kind "name" is invalid: ...' with causes."""
    qk = qualified or rd.qualified_kind
    if len(errs) == 1:
        body = errs[0].text()
    else:
        body = "[" + ", ".join(e.text() for e in errs) + "]"
    d = {}
    if name:
        d["name"] = name
    if rd is not None and rd.group:
        d["group"] = rd.group
    d["kind"] = rd.kind if rd is not None else qk
    d["causes"] = [e.cause() for e in errs]
    return APIError(422, "Invalid", '%s "%s" is invalid: %s'
                    % (qk, name, body), d)


def invalid_generic():
    """What a JSON patch that cannot be applied gets (422, no detail)."""
    return APIError(422, "Invalid", "the server rejected our request due "
                    "to an error in our request", {})
