/*
 * YAML (and so JSON) text -> jansson values with positions.
 *
 * libyaml's event parser drives a stack of open collections.  Scalars are
 * typed by the YAML 1.2 core schema: null, booleans, integers (decimal,
 * 0o octal, 0x hex), floats; everything else, and every quoted scalar, is
 * a string; explicit tags (!!str, !!int, ...) win.  JSON has no infinity
 * or NaN, so .inf/.nan are refused rather than silently changed.
 *
 * Aliases share the anchored value (a new reference, not a copy): the
 * document is immutable, and sharing keeps `&a [*b, *b, ...]` chains
 * cheap in memory.  What stays expensive is walking and printing the
 * expanded tree (a record shows the object a trigger built from it), so
 * what aliases add is capped per file twice: in nodes (the "billion
 * laughs" bound) and in bytes, since ten aliases of a 4 KB string are few
 * nodes but 40 KB of output each time they are copied.  Bytes are counted
 * as JSON would print the tree (strings, keys, a few bytes per node).  An
 * anchor is usable only once its node is complete, so an alias cannot make
 * a cycle.
 *
 * Every node (but the shared singletons true/false/null) is recorded in
 * the document's marks with its 1-based line and column; so is every
 * member key, with the position of its value, and every singleton array
 * element.  libyaml counts from 0.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "conf/internal.h"

/* Nodes an alias may add, summed over a file: the billion-laughs bound. */
#define ALIAS_NODES_MAX	1000000
/* Bytes an alias may add, summed over a file: as much as a file may hold. */
#define ALIAS_BYTES_MAX	CONF_MAX_FILE
/* Bytes charged for a node besides its text: quotes, separators. */
#define NODE_BYTES	4

struct anchor {
	char	*name;		/* owned */
	json_t	*node;		/* owned reference */
	size_t	 size;		/* nodes in the subtree, aliases expanded */
	size_t	 bytes;		/* its printed size, aliases expanded */
};

struct frame {
	json_t	*node;		/* owned until attached to its parent */
	int	 map;
	char	*key;		/* owned: pending key of a mapping */
	int	 kline, kcol;
	char	*anchor;	/* owned, may be NULL */
	size_t	 start;		/* p->count when the collection opened */
	size_t	 bstart;	/* p->bytes when the collection opened */
	int	 line, col;
};

struct parse {
	const char	*name;
	const char	*text;
	size_t		 len;
	struct diags	*d;
	struct frame	 stack[CONF_MAX_DEPTH];
	int		 depth;
	struct anchor	*anchors;
	size_t		 nanchors, anchorcap;
	size_t		 count;		/* nodes of this document */
	size_t		 aliased;	/* nodes added by aliases, file */
	size_t		 bytes;		/* printed size of this document */
	size_t		 abytes;	/* bytes added by aliases, file */
	struct mdoc	*doc;		/* being built */
	json_t		*root;
	int		 index;
	int		 fatal;		/* stop parsing this text */
	size_t		 errors0;
	size_t		 docerrors0;	/* d->errors when the doc began */
	struct mdoc	***docs;
	size_t		*ndocs;
	conf_doc_fn	*each;		/* not NULL: documents go here, one
					   at a time, instead of docs */
	void		*each_ctx;
};

static struct loc
at(struct parse *p, yaml_mark_t m)
{
	struct loc l;

	l.file = p->name;
	l.line = (int)m.line + 1;
	l.col = (int)m.column + 1;
	return l;
}

static void
anchors_clear(struct parse *p)
{
	size_t i;

	for (i = 0; i < p->nanchors; i++) {
		free(p->anchors[i].name);
		json_decref(p->anchors[i].node);
	}
	p->nanchors = 0;
}

static void
anchor_set(struct parse *p, const char *name, json_t *node, size_t size,
    size_t bytes)
{
	size_t i;

	for (i = 0; i < p->nanchors; i++)
		if (strcmp(p->anchors[i].name, name) == 0)
			break;
	if (i == p->nanchors) {
		xgrow(&p->anchors, &p->anchorcap, p->nanchors + 1,
		    sizeof *p->anchors);
		p->anchors[p->nanchors].name = xstrdup(name);
		p->anchors[p->nanchors].node = NULL;
		p->nanchors++;
	}
	json_decref(p->anchors[i].node);
	p->anchors[i].node = json_incref(node);
	p->anchors[i].size = size;
	p->anchors[i].bytes = bytes;
}

static const struct anchor *
anchor_get(struct parse *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nanchors; i++)
		if (strcmp(p->anchors[i].name, name) == 0)
			return &p->anchors[i];
	return NULL;
}

static void
frame_clear(struct frame *f)
{
	json_decref(f->node);
	free(f->key);
	free(f->anchor);
	memset(f, 0, sizeof *f);
}

static void
doc_discard(struct parse *p)
{
	while (p->depth > 0)
		frame_clear(&p->stack[--p->depth]);
	json_decref(p->root);
	p->root = NULL;
	mdoc_free(p->doc);
	p->doc = NULL;
}

static int
is_singleton(const json_t *v)
{
	return v == json_true() || v == json_false() || v == json_null();
}

/*
 * Attaches value (reference stolen) to the open collection, or makes it
 * the root.  pos is where the value starts; mark says whether to record
 * the node itself (not for aliases: the anchor's position stays).
 */
static void
attach(struct parse *p, json_t *value, yaml_mark_t pos, int mark)
{
	struct frame *top;
	struct loc first, vl = at(p, pos);
	const char *k;

	if (mark)
		conf_marks_node(p->doc->marks, value, vl.line, vl.col);
	if (p->depth == 0) {
		json_decref(p->root);
		p->root = value;
		return;
	}
	top = &p->stack[p->depth - 1];
	if (!top->map) {
		json_array_append_new(top->node, value);
		if (is_singleton(value))
			conf_marks_elem(p->doc->marks, top->node,
			    json_array_size(top->node) - 1, vl.line, vl.col);
		return;
	}
	if (json_object_get(top->node, top->key) != NULL) {
		first = conf_loc_key(p->doc, top->node, top->key);
		diag_error(p->d, (struct loc){ p->name, top->kline, top->kcol },
		    "duplicate key \"%s\"", top->key);
		diag_hint(p->d, "first written at line %d, column %d",
		    first.line, first.col);
		json_decref(value);
	} else {
		json_object_set_new(top->node, top->key, value);
		k = json_object_iter_key(json_object_iter_at(top->node,
		    top->key));
		conf_marks_key(p->doc->marks, top->node, k, top->kline,
		    top->kcol, vl.line, vl.col);
	}
	free(top->key);
	top->key = NULL;
}

/* Whether the next node of the open mapping is a key. */
static int
want_key(struct parse *p)
{
	return p->depth > 0 && p->stack[p->depth - 1].map &&
	    p->stack[p->depth - 1].key == NULL;
}

static void
set_key(struct parse *p, const char *s, size_t len, yaml_mark_t pos)
{
	struct frame *top = &p->stack[p->depth - 1];
	struct loc l = at(p, pos);

	if (memchr(s, '\0', len) != NULL) {
		diag_error(p->d, l, "a key may not contain a NUL character");
		p->fatal = 1;
		return;
	}
	top->key = xstrndup(s, len);
	top->kline = l.line;
	top->kcol = l.col;
}

/* ---- scalars ------------------------------------------------------------ */

static int
eq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static int
is_null(const char *s, size_t len)
{
	return len == 0 || eq(s, len, "~") || eq(s, len, "null") ||
	    eq(s, len, "Null") || eq(s, len, "NULL");
}

/* 1 true, 0 false, -1 not a boolean. */
static int
boolean(const char *s, size_t len)
{
	if (eq(s, len, "true") || eq(s, len, "True") || eq(s, len, "TRUE"))
		return 1;
	if (eq(s, len, "false") || eq(s, len, "False") ||
	    eq(s, len, "FALSE"))
		return 0;
	return -1;
}

static size_t
span(const char *s, size_t len, const char *set)
{
	size_t i;

	for (i = 0; i < len && s[i] != '\0' && strchr(set, s[i]) != NULL; i++)
		;
	return i;
}

#define DIGITS		"0123456789"
#define HEXDIGITS	"0123456789abcdefABCDEF"

/* Base (8, 10, 16) of an integer per the core schema, 0 if not one. */
static int
int_base(const char *s, size_t len)
{
	size_t i = 0;

	if (len > 2 && s[0] == '0' && s[1] == 'o' &&
	    span(s + 2, len - 2, "01234567") == len - 2)
		return 8;
	if (len > 2 && s[0] == '0' && s[1] == 'x' &&
	    span(s + 2, len - 2, HEXDIGITS) == len - 2)
		return 16;
	if (len > 0 && (s[0] == '-' || s[0] == '+'))
		i = 1;
	if (i < len && span(s + i, len - i, DIGITS) == len - i)
		return 10;
	return 0;
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static int
is_float(const char *s, size_t len)
{
	size_t i = 0, n, m;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	n = span(s + i, len - i, DIGITS);
	i += n;
	if (i < len && s[i] == '.') {
		i++;
		m = span(s + i, len - i, DIGITS);
		if (n == 0 && m == 0)
			return 0;
		i += m;
	} else if (n == 0)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		m = span(s + i, len - i, DIGITS);
		if (m == 0)
			return 0;
		i += m;
	}
	return i == len;
}

static int
is_inf_nan(const char *s, size_t len)
{
	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		s++;
		len--;
	}
	return eq(s, len, ".inf") || eq(s, len, ".Inf") ||
	    eq(s, len, ".INF") || eq(s, len, ".nan") || eq(s, len, ".NaN") ||
	    eq(s, len, ".NAN");
}

/* s is NUL-terminated at len (libyaml guarantees it). */
static json_t *
make_int(struct parse *p, const char *s, int base, struct loc l)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(base == 10 ? s : s + 2, &end, base);
	if (errno != 0 || *end != '\0') {
		diag_error(p->d, l, "integer %s does not fit in 64 bits", s);
		return json_null();
	}
	return json_integer(v);
}

static json_t *
make_float(struct parse *p, const char *s, struct loc l)
{
	double v;

	errno = 0;
	v = strtod(s, NULL);
	if (!isfinite(v) || errno == ERANGE) {
		if (errno == ERANGE && isfinite(v))
			return json_real(v);	/* underflow: a tiny value */
		diag_error(p->d, l, "number %s is out of range", s);
		return json_null();
	}
	return json_real(v);
}

/*
 * A quoted scalar may spell NUL ("\0", "\x00", "\u0000"); jansson keeps
 * it, but every C string made from the value later ends there, so a name
 * or a query would silently lose its tail.  Refused at its place.
 */
static json_t *
make_string(struct parse *p, const char *s, size_t len, struct loc l)
{
	json_t *v;

	if (memchr(s, '\0', len) != NULL) {
		diag_error(p->d, l, "a string may not contain a NUL character");
		diag_hint(p->d, "remove the \\0, \\x00 or \\u0000 escape");
		return json_null();
	}
	v = json_stringn(s, len);
	if (v == NULL) {
		diag_error(p->d, l, "string is not valid UTF-8");
		return json_null();
	}
	return v;
}

/* A plain scalar without tag, typed by the core schema. */
static json_t *
plain(struct parse *p, const char *s, size_t len, struct loc l)
{
	int b, base;

	if (is_null(s, len))
		return json_null();
	if ((b = boolean(s, len)) >= 0)
		return json_boolean(b);
	if ((base = int_base(s, len)) != 0)
		return make_int(p, s, base, l);
	if (is_float(s, len))
		return make_float(p, s, l);
	if (is_inf_nan(s, len)) {
		diag_error(p->d, l, "%s has no JSON equivalent (infinity and "
		    "NaN are not numbers in JSON)", s);
		diag_hint(p->d, "quote it if a string was meant: \"%s\"", s);
		return json_null();
	}
	return make_string(p, s, len, l);
}

#define TAG_PREFIX	"tag:yaml.org,2002:"

static json_t *
tagged(struct parse *p, const char *tag, const char *s, size_t len,
    struct loc l)
{
	const char *t = tag + strlen(TAG_PREFIX);
	int b, base;

	if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) != 0) {
		diag_error(p->d, l, "unsupported tag %s", tag);
		diag_hint(p->d, "only the standard tags !!str, !!int, "
		    "!!float, !!bool, !!null, !!map and !!seq are understood");
		return json_null();
	}
	if (strcmp(t, "str") == 0 || strcmp(t, "binary") == 0 ||
	    strcmp(t, "timestamp") == 0)
		return make_string(p, s, len, l);
	if (strcmp(t, "null") == 0 && is_null(s, len))
		return json_null();
	if (strcmp(t, "bool") == 0 && (b = boolean(s, len)) >= 0)
		return json_boolean(b);
	if ((strcmp(t, "int") == 0 || strcmp(t, "float") == 0) &&
	    (base = int_base(s, len)) != 0) {
		if (t[0] == 'i')
			return make_int(p, s, base, l);
		if (base == 10)
			return make_float(p, s, l);
	}
	if (strcmp(t, "float") == 0 && is_float(s, len))
		return make_float(p, s, l);
	if (strcmp(t, "float") == 0 && is_inf_nan(s, len)) {
		diag_error(p->d, l, "%s has no JSON equivalent", s);
		return json_null();
	}
	if (strcmp(t, "null") == 0 || strcmp(t, "bool") == 0 ||
	    strcmp(t, "int") == 0 || strcmp(t, "float") == 0)
		diag_error(p->d, l, "\"%.*s\" is not a valid !!%s", (int)len,
		    s, t);
	else
		diag_error(p->d, l, "tag !!%s is not supported on a scalar", t);
	return json_null();
}

static void
on_scalar(struct parse *p, yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	size_t len = ev->data.scalar.length;
	struct loc l = at(p, ev->start_mark);
	json_t *v;

	p->count++;
	p->bytes += len + NODE_BYTES;
	if (want_key(p)) {
		if (ev->data.scalar.anchor != NULL &&
		    (v = json_stringn(s, len)) != NULL) {
			anchor_set(p, (const char *)ev->data.scalar.anchor,
			    v, 1, len + NODE_BYTES);
			json_decref(v);
		}
		set_key(p, s, len, ev->start_mark);
		return;
	}
	if (tag != NULL && strcmp(tag, "!") != 0)
		v = tagged(p, tag, s, len, l);
	else if (tag == NULL &&
	    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		v = plain(p, s, len, l);
	else
		v = make_string(p, s, len, l);
	if (ev->data.scalar.anchor != NULL)
		anchor_set(p, (const char *)ev->data.scalar.anchor, v, 1,
		    len + NODE_BYTES);
	attach(p, v, ev->start_mark, 1);
}

/* ---- collections, aliases --------------------------------------------- */

static void
on_start(struct parse *p, yaml_event_t *ev, int map)
{
	const char *tag, *anchor;
	struct frame *f;

	if (map) {
		tag = (const char *)ev->data.mapping_start.tag;
		anchor = (const char *)ev->data.mapping_start.anchor;
	} else {
		tag = (const char *)ev->data.sequence_start.tag;
		anchor = (const char *)ev->data.sequence_start.anchor;
	}
	if (want_key(p)) {
		diag_error(p->d, at(p, ev->start_mark), "a %s cannot be a "
		    "mapping key here: keys must be strings",
		    map ? "mapping" : "sequence");
		p->fatal = 1;
		return;
	}
	if (tag != NULL && strcmp(tag, "!") != 0 &&
	    strcmp(tag, map ? TAG_PREFIX "map" : TAG_PREFIX "seq") != 0) {
		diag_error(p->d, at(p, ev->start_mark), "unsupported tag %s "
		    "on a %s", tag, map ? "mapping" : "sequence");
		p->fatal = 1;
		return;
	}
	if (p->depth >= CONF_MAX_DEPTH) {
		diag_error(p->d, at(p, ev->start_mark), "nested deeper than "
		    "%d levels", CONF_MAX_DEPTH);
		p->fatal = 1;
		return;
	}
	f = &p->stack[p->depth++];
	memset(f, 0, sizeof *f);
	f->map = map;
	f->node = map ? json_object() : json_array();
	f->anchor = anchor ? xstrdup(anchor) : NULL;
	f->start = p->count++;
	f->bstart = p->bytes;
	p->bytes += NODE_BYTES;
	f->line = (int)ev->start_mark.line + 1;
	f->col = (int)ev->start_mark.column + 1;
}

static void
on_end(struct parse *p)
{
	struct frame *f = &p->stack[--p->depth];
	yaml_mark_t pos;
	json_t *node = f->node;

	if (f->anchor != NULL)
		anchor_set(p, f->anchor, node, p->count - f->start,
		    p->bytes - f->bstart);
	pos.index = 0;
	pos.line = (size_t)f->line - 1;
	pos.column = (size_t)f->col - 1;
	f->node = NULL;
	frame_clear(f);
	attach(p, node, pos, 1);
}

static void
on_alias(struct parse *p, yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	const struct anchor *a = anchor_get(p, name);
	struct loc l = at(p, ev->start_mark);

	if (a == NULL) {
		diag_error(p->d, l, "alias *%s names no complete anchor", name);
		diag_hint(p->d, "an anchor (&%s) must come before, and "
		    "outside, every alias to it", name);
		p->fatal = 1;
		return;
	}
	p->aliased += a->size;
	p->count += a->size;
	p->abytes += a->bytes;
	p->bytes += a->bytes;
	if (p->aliased > ALIAS_NODES_MAX) {
		diag_error(p->d, l, "aliases expand to more than %d nodes",
		    ALIAS_NODES_MAX);
		p->fatal = 1;
		return;
	}
	if (p->abytes > ALIAS_BYTES_MAX) {
		diag_error(p->d, l, "aliases expand to more than %zu bytes "
		    "(*%s adds %zu)", (size_t)ALIAS_BYTES_MAX, name, a->bytes);
		diag_hint(p->d, "write the value out, or share less: the "
		    "expanded document is what every stage copies and prints");
		p->fatal = 1;
		return;
	}
	if (want_key(p)) {
		if (!json_is_string(a->node)) {
			diag_error(p->d, l, "alias *%s used as a key is not "
			    "a string", name);
			p->fatal = 1;
			return;
		}
		set_key(p, json_string_value(a->node),
		    json_string_length(a->node), ev->start_mark);
		return;
	}
	attach(p, json_incref(a->node), ev->start_mark, 0);
}

/* ---- documents ---------------------------------------------------------- */

static void
on_doc_start(struct parse *p, yaml_event_t *ev)
{
	struct loc l = at(p, ev->start_mark);

	p->doc = xcalloc(1, sizeof *p->doc);
	p->doc->file = xstrdup(p->name);
	p->doc->index = p->index;
	p->doc->marks = conf_marks_new();
	conf_marks_doc(p->doc->marks, l.line, l.col);
	p->count = 0;
	p->bytes = 0;
	p->docerrors0 = p->d->errors;
	anchors_clear(p);
}

static void
on_doc_end(struct parse *p)
{
	struct mdoc *doc = p->doc;

	p->index++;
	p->doc = NULL;
	if (p->root == NULL || json_is_null(p->root)) {
		/* an empty document: nothing was said */
		json_decref(p->root);
		p->root = NULL;
		mdoc_free(doc);
		return;
	}
	doc->root = p->root;
	p->root = NULL;
	/* a value replaced after an error must not be judged again */
	doc->invalid = p->d->errors > p->docerrors0;
	conf_mdoc_fill(doc);
	if (p->each) {
		p->each(p->each_ctx, doc);
		return;
	}
	/* the caller's array has no capacity field: grow by one */
	*p->docs = xrealloc(*p->docs, (*p->ndocs + 1) * sizeof **p->docs);
	(*p->docs)[(*p->ndocs)++] = doc;
}

/* libyaml's reader errors carry a byte offset, not a line. */
static struct loc
offset_loc(struct parse *p, size_t off)
{
	struct loc l = { p->name, 1, 1 };
	size_t i;

	for (i = 0; i < off && i < p->len; i++) {
		if (p->text[i] == '\n') {
			l.line++;
			l.col = 1;
		} else if (((unsigned char)p->text[i] & 0xc0) != 0x80)
			l.col++;
	}
	return l;
}

static void
syntax_error(struct parse *p, yaml_parser_t *yp)
{
	struct loc l;
	const char *problem = yp->problem ? yp->problem : "syntax error";

	if (yp->error == YAML_READER_ERROR)
		l = offset_loc(p, yp->problem_offset);
	else
		l = at(p, yp->problem_mark);
	if (yp->context != NULL)
		diag_error(p->d, l, "%s (%s at line %zu)", problem,
		    yp->context, yp->context_mark.line + 1);
	else
		diag_error(p->d, l, "%s", problem);
}

/* Handles one event; returns 0 at the stream's end. */
static int
step(struct parse *p, yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		on_doc_start(p, ev);
		break;
	case YAML_DOCUMENT_END_EVENT:
		on_doc_end(p);
		break;
	case YAML_SCALAR_EVENT:
		on_scalar(p, ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
		on_start(p, ev, 0);
		break;
	case YAML_MAPPING_START_EVENT:
		on_start(p, ev, 1);
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		on_end(p);
		break;
	case YAML_ALIAS_EVENT:
		on_alias(p, ev);
		break;
	default:
		break;
	}
	return 1;
}

static int
parse(struct parse *p, const char *name, const char *text, size_t len,
    struct diags *d)
{
	yaml_parser_t yp;
	yaml_event_t ev;
	int more = 1;

	p->name = name;
	p->text = text;
	p->len = len;
	p->d = d;
	p->errors0 = d->errors;
	if (!yaml_parser_initialize(&yp)) {
		diag_error(d, (struct loc){ name, 0, 0 },
		    "cannot initialize the YAML parser");
		return -1;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	while (more && !p->fatal) {
		if (!yaml_parser_parse(&yp, &ev)) {
			syntax_error(p, &yp);
			break;
		}
		more = step(p, &ev);
		yaml_event_delete(&ev);
	}
	doc_discard(p);
	anchors_clear(p);
	free(p->anchors);
	yaml_parser_delete(&yp);
	return d->errors > p->errors0 ? -1 : 0;
}

int
conf_yaml_parse(const char *name, const char *text, size_t len,
    struct mdoc ***docs, size_t *ndocs, struct diags *d)
{
	struct parse p;

	memset(&p, 0, sizeof p);
	p.docs = docs;
	p.ndocs = ndocs;
	return parse(&p, name, text, len, d);
}

int
conf_yaml_each(const char *name, const char *text, size_t len,
    conf_doc_fn *fn, void *ctx, struct diags *d)
{
	struct parse p;

	memset(&p, 0, sizeof p);
	p.each = fn;
	p.each_ctx = ctx;
	return parse(&p, name, text, len, d);
}
