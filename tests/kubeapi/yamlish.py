"""A small YAML loader for the subset Kubernetes manifests use.

Python's standard library has no YAML parser and the emulator must not
depend on third-party packages, so this reads: block mappings and
sequences by indentation ("- key: v" items included), plain, single- and
double-quoted scalars, flow collections ([a, b], {a: b}, JSON), block
scalars (| and >, with - and + chomping), comments and "---" document
separators. Plain scalars are typed as in YAML 1.2's core schema (null,
~, true/false, integers, floats); everything else is a string. Anchors,
aliases, tags and multi-line plain scalars are not supported: they raise
YAMLError with the line number.
"""

import json
import re


class YAMLError(ValueError):
    pass


_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def _plain(s):
    if s in ("", "~", "null", "Null", "NULL"):
        return None
    if s in ("true", "True", "TRUE"):
        return True
    if s in ("false", "False", "FALSE"):
        return False
    if _INT.match(s):
        return int(s)
    if _FLOAT.match(s) and any(c.isdigit() for c in s):
        return float(s)
    if s in (".inf", "+.inf", ".Inf"):
        return float("inf")
    return s


def _strip_comment(line):
    out, q = "", None
    i = 0
    while i < len(line):
        c = line[i]
        if q:
            if c == q:
                if q == "'" and line[i + 1:i + 2] == "'":
                    out += "''"
                    i += 2
                    continue
                q = None
            elif c == "\\" and q == '"':
                out += line[i:i + 2]
                i += 2
                continue
        elif c in "'\"" and (out.strip() == "" or out[-1] in " [{,:-"):
            q = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            break
        out += c
        i += 1
    return out.rstrip()


class _Flow:
    def __init__(self, s, lineno):
        self.s, self.i, self.lineno = s, 0, lineno

    def err(self, msg):
        raise YAMLError("line %d: %s" % (self.lineno, msg))

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1

    def value(self):
        self.ws()
        if self.i >= len(self.s):
            self.err("unexpected end of flow collection")
        c = self.s[self.i]
        if c == "[":
            self.i += 1
            out = []
            while True:
                self.ws()
                if self.s[self.i:self.i + 1] == "]":
                    self.i += 1
                    return out
                out.append(self.value())
                self.ws()
                if self.s[self.i:self.i + 1] == ",":
                    self.i += 1
                elif self.s[self.i:self.i + 1] != "]":
                    self.err("expected ',' or ']'")
        if c == "{":
            self.i += 1
            out = {}
            while True:
                self.ws()
                if self.s[self.i:self.i + 1] == "}":
                    self.i += 1
                    return out
                k = self.value()
                self.ws()
                if self.s[self.i:self.i + 1] != ":":
                    self.err("expected ':' in flow mapping")
                self.i += 1
                out[k] = self.value()
                self.ws()
                if self.s[self.i:self.i + 1] == ",":
                    self.i += 1
                elif self.s[self.i:self.i + 1] != "}":
                    self.err("expected ',' or '}'")
        if c in "'\"":
            return self.quoted()
        j = self.i
        while j < len(self.s) and self.s[j] not in ",]}" and \
                not (self.s[j] == ":" and
                     (j + 1 >= len(self.s) or self.s[j + 1] in " ,]}")):
            j += 1
        tok = self.s[self.i:j].strip()
        self.i = j
        return _plain(tok)

    def quoted(self):
        q = self.s[self.i]
        j = self.i + 1
        buf = ""
        while j < len(self.s):
            c = self.s[j]
            if c == q:
                if q == "'" and self.s[j + 1:j + 2] == "'":
                    buf += "'"
                    j += 2
                    continue
                self.i = j + 1
                if q == '"':
                    try:
                        return json.loads('"' + buf + '"')
                    except ValueError:
                        self.err("bad escape in double-quoted scalar")
                return buf
            if c == "\\" and q == '"':
                buf += self.s[j:j + 2]
                j += 2
                continue
            buf += c
            j += 1
        self.err("unterminated quoted scalar")


def _scalar(text, lineno):
    t = text.strip()
    if t.startswith(("&", "*", "!")):
        raise YAMLError("line %d: anchors, aliases and tags are not "
                        "supported" % lineno)
    if t[:1] in ("[", "{", "'", '"'):
        f = _Flow(t, lineno)
        v = f.value()
        f.ws()
        if f.i != len(t):
            raise YAMLError("line %d: trailing characters after value"
                            % lineno)
        return v
    return _plain(t)


class _Parser:
    def __init__(self, lines):
        # lines: [(lineno, indent, text-without-indent, raw)]
        self.lines = lines
        self.i = 0

    def block_scalar(self, header, indent, lineno):
        style = header[0]
        chomp = header[1:2]
        raw = []
        block_indent = None
        while self.i < len(self.lines):
            ln, ind, text, rawline = self.lines[self.i]
            if text == "":
                raw.append("")
                self.i += 1
                continue
            if ind <= indent:
                break
            if block_indent is None:
                block_indent = ind
            raw.append(rawline[block_indent:])
            self.i += 1
        while raw and raw[-1] == "" and chomp != "+":
            raw.pop()
        if style == "|":
            s = "\n".join(raw)
        else:
            s = ""
            for k, r in enumerate(raw):
                if k and r and raw[k - 1]:
                    s += " "
                elif k:
                    s += "\n"
                s += r
        if chomp != "-" and raw:
            s += "\n"
        return s

    def value_after(self, rest, indent, lineno):
        """Value of 'key: rest' or '- rest' whose line has indent."""
        rest = rest.strip()
        if rest[:1] in ("|", ">"):
            return self.block_scalar(rest, indent, lineno)
        if rest != "":
            return _scalar(rest, lineno)
        while self.i < len(self.lines) and self.lines[self.i][2] == "":
            self.i += 1
        if self.i < len(self.lines):
            ln, ind, text, _ = self.lines[self.i]
            if ind > indent or (ind == indent and text.startswith("- ")
                                or text == "-"):
                return self.node(ind)
        return None

    def node(self, indent):
        ln, ind, text, _ = self.lines[self.i]
        if text.startswith("- ") or text == "-":
            return self.seq(ind)
        if _key_split(text) is not None:
            return self.mapping(ind)
        self.i += 1
        return _scalar(text, ln)

    def seq(self, indent):
        out = []
        while self.i < len(self.lines):
            ln, ind, text, raw = self.lines[self.i]
            if text == "":
                self.i += 1
                continue
            if ind != indent or not (text.startswith("- ") or text == "-"):
                if ind > indent:
                    raise YAMLError("line %d: bad indentation" % ln)
                break
            rest = text[1:].lstrip()
            if rest.startswith("- ") or rest == "-":
                sub = indent + (len(text) - len(rest))
                self.lines[self.i] = (ln, sub, rest, raw)
                out.append(self.seq(sub))
            elif rest and _key_split(rest) is not None and \
                    rest[:1] not in "[{'\"":
                # "- key: v" starts a mapping indented past the dash.
                sub = indent + (len(text) - len(rest))
                self.lines[self.i] = (ln, sub, rest, raw)
                out.append(self.mapping(sub))
            else:
                self.i += 1
                out.append(self.value_after(rest, indent, ln))
        return out

    def mapping(self, indent):
        out = {}
        while self.i < len(self.lines):
            ln, ind, text, _ = self.lines[self.i]
            if text == "":
                self.i += 1
                continue
            if ind != indent:
                if ind > indent:
                    raise YAMLError("line %d: bad indentation" % ln)
                break
            kv = _key_split(text)
            if kv is None:
                raise YAMLError("line %d: expected 'key: value'" % ln)
            key, rest = kv
            self.i += 1
            out[key] = self.value_after(rest, indent, ln)
        return out


def _key_split(text):
    if text[:1] in ("'", '"'):
        f = _Flow(text, 0)
        try:
            k = f.quoted()
        except YAMLError:
            return None
        rest = text[f.i:]
        if rest.startswith(":") and (len(rest) == 1 or rest[1] == " "):
            return k, rest[1:]
        return None
    m = re.match(r"^([^:#\[\]{},]|:(?=\S))+?:( |$)", text)
    if not m or text.startswith("- "):
        return None
    key = text[:m.end()].rstrip()[:-1].strip()
    return key, text[m.end():]


def load_all(text):
    """Parse a YAML stream; return the list of documents."""
    docs, cur = [], []
    for n, raw in enumerate(text.splitlines(), 1):
        if raw.startswith("---") and raw[3:].strip() in ("",) or \
                raw.strip() == "...":
            docs.append(cur)
            cur = []
            continue
        if "\t" in raw[:len(raw) - len(raw.lstrip())]:
            raise YAMLError("line %d: tabs are not allowed in indentation"
                            % n)
        cur.append((n, raw))
    docs.append(cur)
    out = []
    for d in docs:
        lines = []
        for n, raw in d:
            body = _strip_comment(raw)
            if body.strip() == "":
                lines.append((n, 0, "", raw))
                continue
            ind = len(body) - len(body.lstrip(" "))
            lines.append((n, ind, body.strip(), raw))
        # Blank lines matter only inside block scalars.
        while lines and lines[0][2] == "":
            lines.pop(0)
        if not lines:
            continue
        p = _Parser(lines)
        v = p.node(lines[0][1])
        while p.i < len(lines) and lines[p.i][2] == "":
            p.i += 1
        if p.i < len(lines):
            raise YAMLError("line %d: unexpected content" % lines[p.i][0])
        out.append(v)
    return out


def load(text):
    docs = load_all(text)
    if not docs:
        return None
    if len(docs) > 1:
        raise YAMLError("expected a single document, found %d" % len(docs))
    return docs[0]
