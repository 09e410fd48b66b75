/*
 * Documents: finding manifest files, reading them whole (bounded), and the
 * small accessors of struct mdoc.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/internal.h"

/* Directory levels below a given path; also stops symlink loops. */
#define WALK_DEPTH_MAX	16

static int
has_ext(const char *name)
{
	static const char *const exts[] = { ".yaml", ".yml", ".json" };
	size_t i, n = strlen(name), e;

	for (i = 0; i < UTIL_ARRAY_LEN(exts); i++) {
		e = strlen(exts[i]);
		if (n > e && strcmp(name + n - e, exts[i]) == 0)
			return 1;
	}
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
add_file(struct conf_files *fl, const char *path)
{
	xgrow(&fl->v, &fl->cap, fl->n + 1, sizeof *fl->v);
	fl->v[fl->n++] = xstrdup(path);
}

static void
walk_dir(struct conf_files *fl, const char *dir, int depth,
    struct diags *d)
{
	DIR *dp;
	struct dirent *de;
	struct stat st;
	char **names = NULL, *path;
	size_t n = 0, cap = 0, i;

	if (depth > WALK_DEPTH_MAX) {
		diag_error(d, (struct loc){ dir, 0, 0 }, "directories nested "
		    "deeper than %d levels (a symlink loop?)", WALK_DEPTH_MAX);
		return;
	}
	if ((dp = opendir(dir)) == NULL) {
		diag_error(d, (struct loc){ dir, 0, 0 }, "cannot read "
		    "directory: %s", strerror(errno));
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		/* hidden, ".", "..", a ConfigMap mount's ..data */
		if (de->d_name[0] == '.')
			continue;
		xgrow(&names, &cap, n + 1, sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(dp);
	qsort(names, n, sizeof *names, cmp_str);
	for (i = 0; i < n; i++) {
		path = xasprintf("%s%s%s", dir,
		    dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			walk_dir(fl, path, depth + 1, d);
		else if (has_ext(names[i]))
			add_file(fl, path);
		free(path);
		free(names[i]);
	}
	free(names);
}

void
conf_files_find(struct conf_files *fl, const char *path, struct diags *d)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		diag_error(d, (struct loc){ path, 0, 0 }, "cannot read: %s",
		    strerror(errno));
		return;
	}
	if (S_ISDIR(st.st_mode))
		walk_dir(fl, path, 0, d);
	else
		add_file(fl, path);	/* named explicitly: any extension */
}

void
conf_files_free(struct conf_files *fl)
{
	size_t i;

	for (i = 0; i < fl->n; i++)
		free(fl->v[i]);
	free(fl->v);
	memset(fl, 0, sizeof *fl);
}

int
conf_read_docs(const char *file, size_t max, struct mdoc ***docs,
    size_t *ndocs, struct diags *d)
{
	char *text, *err = NULL;
	size_t len;
	int rc;

	if ((text = util_read_file(file, max, &len, &err)) == NULL) {
		diag_error(d, (struct loc){ file, 0, 0 }, "%s",
		    err ? err : "cannot read");
		free(err);
		return -1;
	}
	rc = conf_yaml_parse(file, text, len, docs, ndocs, d);
	free(text);
	return rc;
}

static int
is_json_name(const char *file)
{
	static const char *const exts[] = { ".json", ".ndjson", ".jsonl" };
	size_t i, n = strlen(file), e;

	for (i = 0; i < UTIL_ARRAY_LEN(exts); i++) {
		e = strlen(exts[i]);
		if (n > e && strcmp(file + n - e, exts[i]) == 0)
			return 1;
	}
	return 0;
}

/*
 * Data files in JSON (cluster snapshots, recordings) take the JSON reader
 * (util_json_loadb): measured on a 57 MB pod list, jansson's own was 1.8
 * times faster than the YAML path and needed 40% less memory, because it
 * records no positions (util_json_loadb reads 4-7x faster still).  Data
 * rarely needs them; a syntax error still gets its line and column.  One
 * file may hold several values one after the other (NDJSON): each is a
 * document.
 */
static int
json_docs(const char *file, const char *text, size_t len,
    struct mdoc ***docs, size_t *ndocs, struct diags *d)
{
	size_t off = 0, lineoff = 0, linestart = 0;
	int line = 1, index = 0;
	json_error_t e;
	json_t *v;
	struct mdoc *doc;

	for (;;) {
		/* JSON's blanks only: a NUL byte between values is an error
		   the reader names, not a blank (strchr would find the NUL) */
		off = util_json_skip_ws(text, len, off);
		if (off >= len)
			return 0;
		for (; lineoff < off; lineoff++)
			if (text[lineoff] == '\n') {
				line++;
				linestart = lineoff + 1;
			}
		v = util_json_loadb(text + off, len - off, JSON_DECODE_ANY |
		    JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES |
		    JSON_ALLOW_NUL, &e);
		if (v == NULL) {
			diag_error(d, (struct loc){ file, line + e.line - 1,
			    e.line == 1 ? e.column + (int)(off - linestart) :
			    e.column }, "%s", e.text);
			return -1;
		}
		doc = xcalloc(1, sizeof *doc);
		doc->file = xstrdup(file);
		doc->index = index++;
		doc->root = v;
		doc->marks = conf_marks_new();
		conf_marks_doc(doc->marks, line, 1);
		off += e.position;
		if (json_is_null(v)) {
			mdoc_free(doc);
			continue;
		}
		conf_mdoc_fill(doc);
		*docs = xrealloc(*docs, (*ndocs + 1) * sizeof **docs);
		(*docs)[(*ndocs)++] = doc;
	}
}

static int
read_data(const char *file, struct mdoc ***docs, size_t *ndocs,
    struct diags *d)
{
	char *text, *err = NULL;
	size_t len;
	int rc;

	if (!is_json_name(file))
		return conf_read_docs(file, CONF_MAX_DATA_FILE, docs, ndocs,
		    d);
	if ((text = util_read_file(file, CONF_MAX_DATA_FILE, &len,
	    &err)) == NULL) {
		diag_error(d, (struct loc){ file, 0, 0 }, "%s",
		    err ? err : "cannot read");
		free(err);
		return -1;
	}
	rc = json_docs(file, text, len, docs, ndocs, d);
	free(text);
	return rc;
}

int
conf_parse_text(const char *name, const char *text, size_t len,
    struct mdoc ***docs, size_t *ndocs, struct diags *d)
{
	return conf_yaml_parse(name, text, len, docs, ndocs, d);
}

int
conf_load_documents(const char *path, struct mdoc ***docs, size_t *ndocs,
    struct diags *d)
{
	struct conf_files fl = { NULL, 0, 0 };
	size_t errors0 = d->errors, i;

	conf_files_find(&fl, path, d);
	for (i = 0; i < fl.n; i++)
		read_data(fl.v[i], docs, ndocs, d);
	conf_files_free(&fl);
	return d->errors > errors0 ? -1 : 0;
}

int
conf_stream_documents(const char *path, const struct conf_stream *s,
    struct diags *d)
{
	struct conf_files fl = { NULL, 0, 0 };
	struct util_mapped m;
	size_t errors0 = d->errors, i;
	char *err;

	conf_files_find(&fl, path, d);
	for (i = 0; i < fl.n; i++) {
		if (util_map_file(&m, fl.v[i], CONF_MAX_STREAM_FILE,
		    &err) == -1) {
			diag_error(d, (struct loc){ fl.v[i], 0, 0 }, "%s",
			    err ? err : "cannot read");
			free(err);
			continue;
		}
		if (is_json_name(fl.v[i]))
			s->json(s->ctx, fl.v[i], &m);
		else
			conf_yaml_each(fl.v[i], m.text, m.len, s->doc, s->ctx,
			    d);
		util_unmap_file(&m);
	}
	conf_files_free(&fl);
	return d->errors > errors0 ? -1 : 0;
}

static const char *
member_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

void
conf_mdoc_fill(struct mdoc *doc)
{
	json_t *meta = json_object_get(doc->root, "metadata");

	doc->api_version = member_str(doc->root, "apiVersion");
	doc->kind = member_str(doc->root, "kind");
	doc->name = member_str(meta, "name");
	doc->namespace = member_str(meta, "namespace");
}

void
mdoc_free(struct mdoc *doc)
{
	if (doc == NULL)
		return;
	free(doc->file);
	json_decref(doc->root);
	conf_marks_free(doc->marks);
	free(doc);
}

void
mdoc_ident(const struct mdoc *doc, char *out, size_t outlen)
{
	const char *name = doc && doc->name ? doc->name : "(unnamed)";

	if (outlen == 0)
		return;
	if (doc && doc->namespace && doc->namespace[0] != '\0')
		snprintf(out, outlen, "%s/%s", doc->namespace, name);
	else
		snprintf(out, outlen, "%s", name);
}

uint64_t
conf_fingerprint(const char *const *paths, size_t npaths)
{
	struct conf_files fl;
	struct diags d;
	uint64_t h = UTIL_HASH_SEED;
	char *text, *err;
	size_t i, len;

	memset(&fl, 0, sizeof fl);
	diag_init(&d);
	for (i = 0; i < npaths; i++)
		conf_files_find(&fl, paths[i], &d);
	for (i = 0; i < fl.n; i++) {
		h = util_hash(fl.v[i], strlen(fl.v[i]) + 1, h);
		err = NULL;
		text = util_read_file(fl.v[i], CONF_MAX_FILE, &len, &err);
		/* unreadable is a state too: its message changes the hash */
		h = text ? util_hash(text, len, h) : util_hash(err ? err : "",
		    err ? strlen(err) : 0, h ^ 1);
		free(text);
		free(err);
	}
	h = util_hash(&d.errors, sizeof d.errors, h);
	conf_files_free(&fl);
	diag_free(&d);
	return h;
}
