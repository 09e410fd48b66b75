/*
 * Format-preserving YAML edits: set one scalar in a file a person wrote,
 * and leave every other byte as it was (comments, key order, quoting,
 * blank lines, the other documents, CRLF line ends).
 *
 * The manifest loader (src/conf) turns YAML into values and forgets the
 * text; an edit needs the text.  So libyaml's events are read into a tree
 * of spans (the byte range of every scalar, and of each collection's
 * content), the path is found in it, and the new value is spliced in:
 *
 *  - an existing scalar is replaced in its own style (plain stays plain
 *    when the value allows, quotes stay the same quotes), after its anchor
 *    and tag, which stay;
 *  - missing keys are added under the deepest mapping that exists: in a
 *    block mapping as new lines after its last entry, at its indentation
 *    (nested keys one step deeper, the step the file uses); in a flow
 *    mapping as ", key: value" before its closing brace;
 *  - refused, with the reason: an alias (*a) or an anchored value that an
 *    alias uses (the edit would change other places too), a block scalar,
 *    a list item that does not exist (the container is not in this file).
 *
 * libyaml's marks count characters (a CRLF is two), not bytes, so marks
 * are mapped to byte offsets through the text's UTF-8.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "gitops/gitops.h"
#include "util/util.h"

#define MAX_DEPTH	64
#define MAX_NODES	200000

enum ytype { Y_SCALAR, Y_MAP, Y_SEQ, Y_ALIAS };

struct ynode {
	enum ytype	 type;
	size_t		 start, end;	/* bytes: a scalar's own text (after
					   its anchor and tag); a flow
					   collection's brackets */
	size_t		 col;		/* characters from the line start */
	int		 style;		/* yaml_scalar_style_t, or flow 1 */
	char		*value;		/* owned: scalar text, or alias name */
	char		*anchor;	/* owned, may be NULL */
	struct ynode	**kids;		/* owned: map key, value, key...; seq
					   items */
	size_t		 n, cap;
};

struct ydoc {
	struct ynode	*root;
};

struct ytree {
	const char	*text;
	size_t		 len;
	size_t		*byte;		/* owned: byte offset of char i */
	size_t		 nchars;
	struct ydoc	*docs;		/* owned */
	size_t		 ndocs;
	struct ynode	**all;		/* owned array of every node */
	size_t		 nall, allcap;
};

static void
node_free(struct ynode *n)
{
	free(n->value);
	free(n->anchor);
	free(n->kids);
	free(n);
}

static void
tree_free(struct ytree *t)
{
	size_t i;

	for (i = 0; i < t->nall; i++)
		node_free(t->all[i]);
	free(t->all);
	free(t->docs);
	free(t->byte);
}

static void
index_chars(struct ytree *t)
{
	size_t i, n = 0;

	t->byte = xcalloc(t->len + 1, sizeof *t->byte);
	for (i = 0; i < t->len; i++)
		if (((unsigned char)t->text[i] & 0xc0) != 0x80)
			t->byte[n++] = i;
	t->byte[n] = t->len;
	t->nchars = n;
}

static size_t
at(const struct ytree *t, size_t chr)
{
	return chr <= t->nchars ? t->byte[chr] : t->len;
}

static struct ynode *
node_new(struct ytree *t, enum ytype type, const yaml_mark_t *m)
{
	struct ynode *n = xcalloc(1, sizeof *n);

	n->type = type;
	n->start = at(t, m->index);
	n->col = m->column;
	xgrow(&t->all, &t->allcap, t->nall + 1, sizeof *t->all);
	t->all[t->nall++] = n;
	return n;
}

static void
add_kid(struct ynode *p, struct ynode *k)
{
	xgrow(&p->kids, &p->cap, p->n + 1, sizeof *p->kids);
	p->kids[p->n++] = k;
}

/*
 * Past "&anchor" and "!tag" before a scalar's own text, never past its
 * end: an empty value's properties may end at a flow indicator
 * ("{memory: &a}"), which the scan must not take for the anchor's name.
 */
static size_t
skip_properties(const struct ytree *t, size_t i, size_t end)
{
	while (i < end && (t->text[i] == '&' || t->text[i] == '!')) {
		while (i < end && strchr(" \t\r\n,[]{}", t->text[i]) == NULL)
			i++;
		while (i < end && (t->text[i] == ' ' || t->text[i] == '\t'))
			i++;
	}
	return i;
}

static void
attach(struct ytree *t, struct ynode **stack, int depth, struct ynode *n)
{
	if (depth > 0)
		add_kid(stack[depth - 1], n);
	else if (t->ndocs > 0 && t->docs[t->ndocs - 1].root == NULL)
		t->docs[t->ndocs - 1].root = n;
}

static int
parse(struct ytree *t, char **err)
{
	struct ynode *stack[MAX_DEPTH], *n;
	yaml_parser_t yp;
	yaml_event_t ev;
	size_t cap = 0;
	int depth = 0, done = 0, rc = -1;
	const char *anchor;

	index_chars(t);
	yaml_parser_initialize(&yp);
	yaml_parser_set_input_string(&yp, (const unsigned char *)t->text,
	    t->len);
	while (!done) {
		if (!yaml_parser_parse(&yp, &ev)) {
			*err = xasprintf("line %zu column %zu: %s",
			    yp.problem_mark.line + 1,
			    yp.problem_mark.column + 1, yp.problem ?
			    yp.problem : "invalid YAML");
			goto out;
		}
		anchor = NULL;
		n = NULL;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			xgrow(&t->docs, &cap, t->ndocs + 1, sizeof *t->docs);
			t->docs[t->ndocs++].root = NULL;
			break;
		case YAML_SCALAR_EVENT:
			n = node_new(t, Y_SCALAR, &ev.start_mark);
			n->end = at(t, ev.end_mark.index);
			n->start = skip_properties(t, n->start, n->end);
			n->style = ev.data.scalar.style;
			n->value = xstrndup((const char *)ev.data.scalar.value,
			    ev.data.scalar.length);
			anchor = (const char *)ev.data.scalar.anchor;
			break;
		case YAML_ALIAS_EVENT:
			n = node_new(t, Y_ALIAS, &ev.start_mark);
			n->end = at(t, ev.end_mark.index);
			n->value = xstrdup((const char *)ev.data.alias.anchor);
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth == MAX_DEPTH || t->nall >= MAX_NODES) {
				*err = xstrdup("nested too deep, or too big");
				yaml_event_delete(&ev);
				goto out;
			}
			n = node_new(t, ev.type == YAML_MAPPING_START_EVENT ?
			    Y_MAP : Y_SEQ, &ev.start_mark);
			n->start = skip_properties(t, n->start, t->len);
			n->style = ev.type == YAML_MAPPING_START_EVENT ?
			    ev.data.mapping_start.style ==
			    YAML_FLOW_MAPPING_STYLE :
			    ev.data.sequence_start.style ==
			    YAML_FLOW_SEQUENCE_STYLE;
			anchor = (const char *)(ev.type ==
			    YAML_MAPPING_START_EVENT ?
			    ev.data.mapping_start.anchor :
			    ev.data.sequence_start.anchor);
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			stack[depth]->end = at(t, ev.end_mark.index);
			break;
		default:
			break;
		}
		if (n) {
			if (anchor)
				n->anchor = xstrdup(anchor);
			attach(t, stack, depth, n);
			if (n->type == Y_MAP || n->type == Y_SEQ)
				stack[depth++] = n;
		}
		yaml_event_delete(&ev);
	}
	rc = 0;
out:
	yaml_parser_delete(&yp);
	return rc;
}

/* ---- finding ------------------------------------------------------------ */

static struct ynode *
ymap_get(const struct ynode *m, const char *key)
{
	size_t i;

	if (m == NULL || m->type != Y_MAP)
		return NULL;
	for (i = 0; i + 1 < m->n; i += 2)
		if (m->kids[i]->type == Y_SCALAR &&
		    strcmp(m->kids[i]->value, key) == 0)
			return m->kids[i + 1];
	return NULL;
}

static const char *
scalar_at(const struct ynode *m, const char *a, const char *b)
{
	const struct ynode *n = ymap_get(m, a);

	if (b)
		n = ymap_get(n, b);
	return n && n->type == Y_SCALAR ? n->value : NULL;
}

static struct ynode *
select_doc(const struct ytree *t, const struct gitops_yaml_edit *e)
{
	size_t i;

	for (i = 0; i < t->ndocs; i++) {
		struct ynode *r = t->docs[i].root;
		const char *k = scalar_at(r, "kind", NULL);
		const char *nm = scalar_at(r, "metadata", "name");
		const char *ns = scalar_at(r, "metadata", "namespace");

		if (e->kind == NULL)
			return r && r->type == Y_MAP ? r : NULL;
		if (k && nm && strcmp(k, e->kind) == 0 &&
		    strcmp(nm, e->name) == 0 && (ns == NULL || e->ns == NULL ||
		    strcmp(ns, e->ns) == 0))
			return r;
	}
	return NULL;
}

int
gitops_yaml_defines(const char *text, size_t len, const char *kind,
    const char *ns, const char *name)
{
	struct gitops_yaml_edit e = { kind, ns, name, NULL, 0, NULL, 0 };
	struct ytree t = { text, len, NULL, 0, NULL, 0, NULL, 0, 0 };
	char *err = NULL;
	int found = 0;

	if (parse(&t, &err) == 0)
		found = select_doc(&t, &e) != NULL;
	free(err);
	tree_free(&t);
	return found;
}

/* "[name=app]": the item of seq whose key field has that value. */
static struct ynode *
seq_select(const struct ynode *seq, const char *sel)
{
	const char *eq = strchr(sel, '=');
	size_t i, kl;
	char key[128];

	if (seq == NULL || seq->type != Y_SEQ || eq == NULL)
		return NULL;
	kl = (size_t)(eq - sel - 1);
	if (kl >= sizeof key)
		return NULL;
	memcpy(key, sel + 1, kl);
	key[kl] = '\0';
	for (i = 0; i < seq->n; i++) {
		const char *v = scalar_at(seq->kids[i], key, NULL);
		size_t vl = strlen(eq + 1) - 1;	/* without ']' */

		if (v && strlen(v) == vl && strncmp(v, eq + 1, vl) == 0)
			return seq->kids[i];
	}
	return NULL;
}

static int
anchor_used(const struct ytree *t, const char *anchor)
{
	size_t i;

	for (i = 0; i < t->nall; i++)
		if (t->all[i]->type == Y_ALIAS &&
		    strcmp(t->all[i]->value, anchor) == 0)
			return 1;
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

/*
 * 1 when YAML reads plain v as something other than a string: null, a
 * bool, a number or a date, by YAML 1.1's rules (go-yaml's, so Argo CD's
 * and kustomize's) or 1.2's core schema.  Errs towards yes: a string
 * quoted without need is still the same string.
 */
static int
typed(const char *v)
{
	static const char *const words[] = { "", "~", "null", "Null", "NULL",
	    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true",
	    "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off",
	    "Off", "OFF", ".nan", ".NaN", ".NAN" };
	const char *p = v;
	size_t i, digits = 0;

	for (i = 0; i < UTIL_ARRAY_LEN(words); i++)
		if (strcmp(v, words[i]) == 0)
			return 1;
	if (*p == '-' || *p == '+')
		p++;
	/* .inf, -.Inf, +.INF */
	if (strcmp(p, ".inf") == 0 || strcmp(p, ".Inf") == 0 ||
	    strcmp(p, ".INF") == 0)
		return 1;
	/* 0x1F, 0o17, 0b101 */
	if (p[0] == '0' && p[1] && strchr("xXoObB", p[1]) && p[2] &&
	    strspn(p + 2, "0123456789abcdefABCDEF_") == strlen(p + 2))
		return 1;
	/* a date: 2024-05-01 (and the timestamps that start so) */
	if (strspn(p, "0123456789") == 4 && p[4] == '-' && p == v)
		return 1;
	/* 12, 1_000, 0.5, .5, 1., 1e3, 6.02E+23 */
	for (; *p && (strchr("0123456789_", *p)); p++)
		digits += *p != '_';
	if (*p == '.')
		for (p++; *p && strchr("0123456789_", *p); p++)
			digits += *p != '_';
	if (digits && (*p == 'e' || *p == 'E')) {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return digits && *p == '\0';
}

static int
plain_safe(const char *v)
{
	const char *p;

	if (*v == '\0' || strchr("-?:,[]{}#&*!|>'\"%@`", *v))
		return 0;
	for (p = v; *p; p++)
		if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') ||
		    ('0' <= *p && *p <= '9') || strchr("._/-+", *p)))
			return 0;
	/* a string YAML would read as something else */
	return !typed(v);
}

/*
 * v in style (the scalar's own, or plain for a new one); a literal (a
 * number, a bool, null) is written plain, whatever style was there: in
 * quotes it would be a string.
 */
static void
render(struct buf *b, const char *v, int style, int literal)
{
	const char *p;

	if (literal) {
		buf_adds(b, v);
		return;
	}
	if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE) {
		buf_addc(b, '\'');
		for (p = v; *p; p++) {
			if (*p == '\'')
				buf_addc(b, '\'');
			buf_addc(b, *p);
		}
		buf_addc(b, '\'');
		return;
	}
	if (style == YAML_PLAIN_SCALAR_STYLE && plain_safe(v)) {
		buf_adds(b, v);
		return;
	}
	buf_addc(b, '"');
	for (p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_addc(b, '\\');
		if (*p == '\n')
			buf_adds(b, "\\n");
		else
			buf_addc(b, *p);
	}
	buf_addc(b, '"');
}

/* Where a node's text ends: its own end, or its last kid's. */
static size_t
content_end(const struct ynode *n)
{
	if ((n->type == Y_MAP || n->type == Y_SEQ) && !n->style && n->n)
		return content_end(n->kids[n->n - 1]);
	return n->end;
}

/* The indentation step the file uses below a block mapping, or 2. */
static size_t
indent_step(const struct ynode *m)
{
	size_t i;

	for (i = 1; i < m->n; i += 2) {
		const struct ynode *v = m->kids[i];

		if (v->type == Y_MAP && !v->style && v->n &&
		    v->kids[0]->col > m->kids[0]->col)
			return v->kids[0]->col - m->kids[0]->col;
	}
	return 2;
}

static const char *
eol_of(const char *text, size_t len)
{
	const char *nl = memchr(text, '\n', len);

	return nl && nl > text && nl[-1] == '\r' ? "\r\n" : "\n";
}

/* keys rest[0..n-1] with value, as block lines under m. */
static void
insert_block(struct buf *out, const struct ytree *t, const struct ynode *m,
    const char *const *rest, size_t n, const char *value, int literal)
{
	const char *eol = eol_of(t->text, t->len);
	size_t pos = content_end(m), col = m->kids[0]->col;
	size_t step = indent_step(m), i, k;

	/* a block scalar's text runs on to the next line: back to its end */
	while (pos > m->start && strchr(" \t\r\n", t->text[pos - 1]))
		pos--;
	/* after the rest of the last entry's line (a comment stays) */
	while (pos < t->len && t->text[pos] != '\n' && t->text[pos] != '\r')
		pos++;
	buf_add(out, t->text, pos);
	for (i = 0; i < n; i++) {
		buf_adds(out, eol);
		for (k = 0; k < col + i * step; k++)
			buf_addc(out, ' ');
		buf_printf(out, "%s:", rest[i]);
	}
	buf_addc(out, ' ');
	render(out, value, YAML_PLAIN_SCALAR_STYLE, literal);
	buf_add(out, t->text + pos, t->len - pos);
}

/* keys rest[0..n-1] with value, inside flow mapping m's braces. */
static void
insert_flow(struct buf *out, const struct ytree *t, const struct ynode *m,
    const char *const *rest, size_t n, const char *value, int literal)
{
	size_t pos = m->end - 1, i;	/* at the closing brace */

	while (pos > m->start && (t->text[pos - 1] == ' ' ||
	    t->text[pos - 1] == '\t'))
		pos--;
	buf_add(out, t->text, pos);
	/* after an empty last value ("{a: }"), ":," would not read back */
	if (m->n && pos > m->start && t->text[pos - 1] == ':')
		buf_addc(out, ' ');
	buf_adds(out, m->n ? ", " : "");
	for (i = 0; i < n; i++)
		buf_printf(out, "%s: %s", rest[i], i + 1 < n ? "{" : "");
	render(out, value, YAML_PLAIN_SCALAR_STYLE, literal);
	for (i = 1; i < n; i++)
		buf_addc(out, '}');
	buf_add(out, t->text + pos, t->len - pos);
}

/* An anchored node an alias uses: editing in or below it edits both. */
static int
shared(const struct ytree *t, const struct ynode *n, const char *where,
    char **err)
{
	if (n->anchor == NULL || !anchor_used(t, n->anchor))
		return 0;
	*err = xasprintf("%s is anchored (&%s) and used elsewhere through "
	    "*%s; changing it would change those too", where, n->anchor,
	    n->anchor);
	return 1;
}

static int
set_scalar(struct buf *out, const struct ytree *t, const struct ynode *n,
    const char *value, int literal, const char *where, char **err)
{
	int was_literal;

	if (n->type == Y_ALIAS) {
		*err = xasprintf("%s is an alias (*%s) of a value used "
		    "elsewhere too; change its anchor &%s yourself", where,
		    n->value, n->value);
		return -1;
	}
	if (n->type != Y_SCALAR) {
		*err = xasprintf("%s is a %s, not a value", where,
		    n->type == Y_MAP ? "mapping" : "list");
		return -1;
	}
	if (shared(t, n, where, err))
		return -1;
	if (n->style == YAML_LITERAL_SCALAR_STYLE ||
	    n->style == YAML_FOLDED_SCALAR_STYLE) {
		*err = xasprintf("%s is a block scalar (| or >)", where);
		return -1;
	}
	/* the same text of the same type ("3" over a plain 3 is not) */
	was_literal = n->style == YAML_PLAIN_SCALAR_STYLE && typed(n->value);
	if (strcmp(n->value, value) == 0 && was_literal == (literal != 0))
		return 0;
	buf_add(out, t->text, n->start);
	/* an empty value right after its anchor or tag: "&a 640Mi" */
	if (n->start > 0 && strchr(" \t\r\n,[{:-", t->text[n->start - 1]) ==
	    NULL)
		buf_addc(out, ' ');
	render(out, value, n->style, literal);
	buf_add(out, t->text + n->end, t->len - n->end);
	return 1;
}

static char *
where_text(const char *const *path, size_t n)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i && path[i][0] != '[' ? "." : "",
		    path[i]);
	return buf_steal(&b);
}

static int
edit(const struct ytree *t, const struct gitops_yaml_edit *e,
    struct buf *out, char **err)
{
	struct ynode *n = select_doc(t, e), *next;
	char *where;
	size_t i;
	int rc;

	if (n == NULL) {
		*err = e->kind ? xasprintf("no %s %s%s%s in the file", e->kind,
		    e->ns ? e->ns : "", e->ns ? "/" : "", e->name) :
		    xstrdup("the file holds no mapping");
		return -1;
	}
	for (i = 0; i < e->npath; i++) {
		const char *s = e->path[i];

		next = s[0] == '[' ? seq_select(n, s) : ymap_get(n, s);
		if (next == NULL)
			break;
		n = next;
		/*
		 * a mapping or list item that an alias repeats elsewhere (a
		 * second container's "resources: *res"): a value set or a
		 * key added below it would change that place too
		 */
		if (i + 1 < e->npath && n->type != Y_SCALAR) {
			where = where_text(e->path, i + 1);
			rc = shared(t, n, where, err);
			free(where);
			if (rc)
				return -1;
		}
	}
	where = where_text(e->path, i < e->npath ? i + 1 : e->npath);
	if (i == e->npath)
		rc = set_scalar(out, t, n, e->value, e->literal, where, err);
	else if (n->type != Y_MAP || e->path[i][0] == '[') {
		*err = xasprintf("%s is not in the file", where);
		rc = -1;
	} else {
		size_t k;

		for (k = i; k < e->npath; k++)
			if (e->path[k][0] == '[') {
				*err = xasprintf("%s is not in the file",
				    where);
				free(where);
				return -1;
			}
		if (n->style || n->n == 0)
			insert_flow(out, t, n, e->path + i, e->npath - i,
			    e->value, e->literal);
		else
			insert_block(out, t, n, e->path + i, e->npath - i,
			    e->value, e->literal);
		rc = 1;
	}
	free(where);
	return rc;
}

int
gitops_yaml_set(const char *text, size_t len,
    const struct gitops_yaml_edit *e, char **out, size_t *outlen,
    char **err)
{
	struct ytree t = { text, len, NULL, 0, NULL, 0, NULL, 0, 0 };
	struct buf b;
	char *perr = NULL;
	int rc;

	*out = NULL;
	*err = NULL;
	if (parse(&t, &perr) == -1) {
		*err = xasprintf("not YAML: %s", perr);
		free(perr);
		tree_free(&t);
		return -1;
	}
	buf_init(&b, 0);
	rc = edit(&t, e, &b, err);
	tree_free(&t);
	if (rc != 1) {
		buf_free(&b);
		return rc;
	}
	*outlen = b.len;
	*out = buf_steal(&b);
	return 1;
}

int
gitops_yaml_get(const char *text, size_t len,
    const struct gitops_yaml_edit *e, char **value)
{
	struct ytree t = { text, len, NULL, 0, NULL, 0, NULL, 0, 0 };
	struct ynode *n;
	char *err = NULL;
	size_t i;
	int rc = -1;

	*value = NULL;
	if (parse(&t, &err) == 0) {
		n = select_doc(&t, e);
		for (i = 0; n && i < e->npath; i++)
			n = e->path[i][0] == '[' ? seq_select(n, e->path[i]) :
			    ymap_get(n, e->path[i]);
		rc = n && n->type == Y_SCALAR;
		if (rc)
			*value = xstrdup(n->value);
	}
	free(err);
	tree_free(&t);
	return rc;
}

int
gitops_yaml_path_parse(const char *s, char ***segs, size_t *n)
{
	const char *p = s;
	size_t cap = 0;

	*segs = NULL;
	*n = 0;
	while (*p) {
		const char *q = p, *from = p;	/* the segment: from..q */

		if (*p == '"') {
			/* a key with dots: "example.com/tier" */
			if ((q = strchr(p + 1, '"')) == NULL ||
			    (q[1] && q[1] != '.' && q[1] != '['))
				goto bad;
			from = p + 1;
		} else if (*p == '[') {
			if ((q = strchr(p, ']')) == NULL || !strchr(p, '='))
				goto bad;
			q++;
		} else
			while (*q && *q != '.' && *q != '[')
				q++;
		if (q == from)
			goto bad;
		xgrow(segs, &cap, *n + 1, sizeof **segs);
		(*segs)[(*n)++] = xstrndup(from, (size_t)(q - from));
		q += *p == '"';		/* past the closing quote */
		p = *q == '.' ? q + 1 : q;
		if (*q == '.' && *p == '\0')
			goto bad;
	}
	if (*n)
		return 0;
bad:
	gitops_yaml_path_free(*segs, *n);
	*segs = NULL;
	*n = 0;
	return -1;
}

void
gitops_yaml_path_free(char **segs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(segs[i]);
	free(segs);
}
