"""Small helpers shared by the emulator modules.

Everything here mimics what kube-apiserver (Go) prints, because the
project's client parses and compares those strings: Go's JSON syntax
error messages, Go's JSON encoding (compact, HTML-escaped), Kubernetes
quantity canonicalisation, RFC 3339 times at second (Time) and microsecond
(MicroTime) precision, and the random-name alphabet of generateName.
"""

import datetime
import json
import random
import re
import uuid
from fractions import Fraction

# Kubernetes' utilrand alphabet: no vowels, no confusable 0/1/3.
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


class GoJSONError(ValueError):
    """A JSON syntax error, its message worded like Go's encoding/json."""


def random_suffix(n=5, rng=random):
    """Return n characters from the generateName alphabet."""
    return "".join(rng.choice(NAME_ALPHABET) for _ in range(n))


def new_uid():
    return str(uuid.uuid4())


# ---------------------------------------------------------------- JSON ----

def _quote_char(c):
    # Go's encoding/json quoteChar().
    if c == "'":
        return "'\\''"
    if c == '"':
        return "'\"'"
    s = json.dumps(c)[1:-1]
    return "'" + s + "'"


class _Scanner:
    """Syntax-only JSON scanner reporting Go's first error message."""

    def __init__(self, text):
        self.s = text
        self.i = 0
        self.n = len(text)

    def err(self, what):
        if self.i >= self.n:
            raise GoJSONError("unexpected end of JSON input")
        raise GoJSONError("invalid character %s %s"
                          % (_quote_char(self.s[self.i]), what))

    def ws(self):
        while self.i < self.n and self.s[self.i] in " \t\r\n":
            self.i += 1

    def value(self):
        self.ws()
        if self.i >= self.n:
            raise GoJSONError("unexpected end of JSON input")
        c = self.s[self.i]
        if c == "{":
            self.i += 1
            self.obj()
        elif c == "[":
            self.i += 1
            self.arr()
        elif c == '"':
            self.i += 1
            self.string()
        elif c == "-" or c.isdigit():
            self.number()
        elif c in "tfn":
            self.literal()
        else:
            self.err("looking for beginning of value")

    def obj(self):
        self.ws()
        if self.i < self.n and self.s[self.i] == "}":
            self.i += 1
            return
        while True:
            self.ws()
            if self.i >= self.n or self.s[self.i] != '"':
                self.err("looking for beginning of object key string")
            self.i += 1
            self.string()
            self.ws()
            if self.i >= self.n or self.s[self.i] != ":":
                self.err("after object key")
            self.i += 1
            self.value()
            self.ws()
            if self.i < self.n and self.s[self.i] == ",":
                self.i += 1
                continue
            if self.i < self.n and self.s[self.i] == "}":
                self.i += 1
                return
            self.err("after object key:value pair")

    def arr(self):
        self.ws()
        if self.i < self.n and self.s[self.i] == "]":
            self.i += 1
            return
        while True:
            self.value()
            self.ws()
            if self.i < self.n and self.s[self.i] == ",":
                self.i += 1
                continue
            if self.i < self.n and self.s[self.i] == "]":
                self.i += 1
                return
            self.err("after array element")

    def string(self):
        while self.i < self.n:
            c = self.s[self.i]
            if c == '"':
                self.i += 1
                return
            if c == "\\":
                self.i += 1
                if self.i >= self.n:
                    break
                e = self.s[self.i]
                if e == "u":
                    for _ in range(4):
                        self.i += 1
                        if self.i >= self.n:
                            break
                        if self.s[self.i] not in "0123456789abcdefABCDEF":
                            self.err("in \\u hexadecimal character escape")
                elif e not in '"\\/bfnrt':
                    self.err("in string escape code")
            elif ord(c) < 0x20:
                self.err("in string literal")
            self.i += 1
        raise GoJSONError("unexpected end of JSON input")

    def number(self):
        s = self.s
        if s[self.i] == "-":
            self.i += 1
            if self.i >= self.n:
                raise GoJSONError("unexpected end of JSON input")
            if not s[self.i].isdigit():
                self.err("in numeric literal")
        if s[self.i] == "0":
            self.i += 1
        else:
            while self.i < self.n and s[self.i].isdigit():
                self.i += 1
        if self.i < self.n and s[self.i] == ".":
            self.i += 1
            if self.i >= self.n:
                raise GoJSONError("unexpected end of JSON input")
            if not s[self.i].isdigit():
                self.err("after decimal point in numeric literal")
            while self.i < self.n and s[self.i].isdigit():
                self.i += 1
        if self.i < self.n and s[self.i] in "eE":
            self.i += 1
            if self.i < self.n and s[self.i] in "+-":
                self.i += 1
            if self.i >= self.n:
                raise GoJSONError("unexpected end of JSON input")
            if not s[self.i].isdigit():
                self.err("in exponent of numeric literal")
            while self.i < self.n and s[self.i].isdigit():
                self.i += 1

    def literal(self):
        word = {"t": "true", "f": "false", "n": "null"}[self.s[self.i]]
        self.i += 1
        for expect in word[1:]:
            if self.i >= self.n:
                raise GoJSONError("unexpected end of JSON input")
            if self.s[self.i] != expect:
                self.err("in literal %s (expecting %s)"
                         % (word, _quote_char(expect)))
            self.i += 1

    def run(self):
        self.value()
        self.ws()
        if self.i < self.n:
            self.err("after top-level value")


def go_json_loads(data):
    """Parse JSON bytes/str; raise GoJSONError worded like Go on bad input."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            data = data.decode("utf-8", "replace")
    if data.strip() == "":
        raise GoJSONError("unexpected end of JSON input")
    _Scanner(data).run()
    return json.loads(data)


def go_json_dumps(obj, pretty=False):
    """Encode like Go: compact, <>& escaped; pretty = MarshalIndent 2."""
    if pretty:
        s = json.dumps(obj, ensure_ascii=False, indent=2)
    else:
        s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return (s.replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029"))


# ---------------------------------------------------------------- time ----

def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def fmt_time(t):
    """metav1.Time: RFC 3339, seconds, UTC."""
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_microtime(t):
    """metav1.MicroTime: RFC 3339 with exactly 6 fractional digits."""
    return t.astimezone(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r"([Zz]|[+-]\d{2}:\d{2})$")


def parse_time(s):
    """Parse RFC 3339 (any fraction, any offset). None if malformed."""
    if not isinstance(s, str):
        return None
    m = _TIME_RE.match(s)
    if not m:
        return None
    y, mo, d, h, mi, se = (int(m.group(k)) for k in range(1, 7))
    frac = m.group(7) or ""
    us = int((frac[1:] + "000000")[:6]) if frac else 0
    tz = m.group(8)
    if tz in ("Z", "z"):
        tzinfo = datetime.timezone.utc
    else:
        sign = 1 if tz[0] == "+" else -1
        tzinfo = datetime.timezone(sign * datetime.timedelta(
            hours=int(tz[1:3]), minutes=int(tz[4:6])))
    try:
        return datetime.datetime(y, mo, d, h, mi, se, us, tzinfo=tzinfo)
    except ValueError:
        return None


def human_duration(seconds):
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < 0:
        return "<invalid>"
    if s < 60 * 2:
        return "%ds" % s
    m = s // 60
    if m < 10:
        r = s % 60
        return "%dm" % m if r == 0 else "%dm%ds" % (m, r)
    if m < 60 * 3:
        return "%dm" % m
    h = s // 3600
    if h < 8:
        r = m % 60
        return "%dh" % h if r == 0 else "%dh%dm" % (h, r)
    if h < 48:
        return "%dh" % h
    if h < 24 * 8:
        r = h % 24
        return "%dd" % (h // 24) if r == 0 else "%dd%dh" % (h // 24, r)
    if h < 24 * 365 * 2:
        return "%dd" % (h // 24)
    if h < 24 * 365 * 8:
        dy = (h // 24) % 365
        y = h // 24 // 365
        return "%dy" % y if dy == 0 else "%dy%dd" % (y, dy)
    return "%dy" % (h // 24 // 365)


# ----------------------------------------------------------- quantities ----

QUANTITY_REGEX = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
_QRE = re.compile(QUANTITY_REGEX)
_BIN = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DEC = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12,
        "P": 15, "E": 18}


class QuantityError(ValueError):
    pass


def parse_quantity(s):
    """Return (Fraction value, format) for a Kubernetes quantity string.

    format is 'BinarySI', 'DecimalSI' or 'DecimalExponent'. Raises
    QuantityError with resource.Quantity's own messages.
    """
    if isinstance(s, bool):
        raise QuantityError("quantities must match the regular expression '"
                            + QUANTITY_REGEX + "'")
    if isinstance(s, (int, float)):
        s = repr(s) if isinstance(s, float) else str(s)
    if not isinstance(s, str) or not s:
        raise QuantityError("quantities must match the regular expression '"
                            + QUANTITY_REGEX + "'")
    s = s.strip()
    m = _QRE.match(s)
    if not m:
        raise QuantityError("quantities must match the regular expression '"
                            + QUANTITY_REGEX + "'")
    num, suf = m.group(1), m.group(2)
    try:
        sign = -1 if num.startswith("-") else 1
        body = num.lstrip("+-")
        if body.count(".") > 1 or body in ("", "."):
            raise ValueError
        val = Fraction(body) * sign
    except ValueError:
        raise QuantityError("quantities must match the regular expression '"
                            + QUANTITY_REGEX + "'")
    if suf in _BIN:
        return val * (1024 ** _BIN[suf]), "BinarySI"
    if suf in _DEC:
        return val * Fraction(10) ** _DEC[suf], "DecimalSI"
    em = re.match(r"^[eE]([-+]?[0-9]+)$", suf)
    if em:
        return val * Fraction(10) ** int(em.group(1)), "DecimalExponent"
    raise QuantityError("unable to parse quantity's suffix")


def _round_up_nano(v):
    scaled = v * 10 ** 9
    if scaled.denominator != 1:
        q = -((-scaled.numerator) // scaled.denominator)
        return Fraction(q, 10 ** 9)
    return v


def format_quantity(val, fmt):
    """Canonical string for a quantity, as Quantity.MarshalJSON prints it."""
    val = _round_up_nano(val)
    if val == 0:
        return "0"
    if fmt == "BinarySI":
        if -1024 < val < 1024 or val.denominator != 1:
            fmt = "DecimalSI"
        else:
            n = int(val)
            sign = "-" if n < 0 else ""
            n = abs(n)
            k = 0
            while k < 6 and n % 1024 == 0:
                n //= 1024
                k += 1
            suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][k]
            return "%s%d%s" % (sign, n, suffix)
    sign = "-" if val < 0 else ""
    a = abs(val)
    # mantissa * 10^exp with exp a multiple of 3, mantissa integral.
    exp = -9
    mant = a * 10 ** 9
    while True:
        nxt = mant / 1000
        if nxt.denominator != 1 or exp + 3 > 18:
            break
        mant = nxt
        exp += 3
    mant = int(mant)
    if fmt == "DecimalExponent":
        suffix = "" if exp == 0 else "e%d" % exp
    else:
        suffix = {v: k for k, v in _DEC.items()}[exp]
    return "%s%d%s" % (sign, mant, suffix)


def canonical_quantity(s):
    v, f = parse_quantity(s)
    return format_quantity(v, f)


# --------------------------------------------------------- Go printing ----

def go_string_map(m):
    """Go's %#v of a map[string]string (keys sorted)."""
    parts = ["%s:%s" % (json.dumps(k), json.dumps(v))
             for k, v in sorted(m.items())]
    return "map[string]string{" + ", ".join(parts) + "}"
