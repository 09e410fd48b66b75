/*
 * replay's whole objects: the latest whole version of every compact-kind
 * object replay has seen, for cluster_get_whole through the view's fetch
 * hook.  The view keeps Pods compact, as `run`'s does (and a workload
 * or Node once a watch line changes it; the snapshot's stay whole, see
 * cluster_load).  `run` fetches a whole object from the API server when
 * a policy's lookup(), a patch's admission or ownership needs one;
 * replay answers from here instead, so a field outside the projection
 * reads what replay last saw, never null.
 *
 * The store is cheap to fill, since few objects are ever fetched: a
 * snapshot object is where its text lies in a JSON snapshot file (read
 * back with pread and parsed on fetch; the file is opened by its name
 * then, as a snapshot directory may hold more files than a process may
 * keep open), or its JSON text, written once at load, when it has no
 * text of its own (YAML, an item given its list's kind); a watch line's
 * object is where its line lies in a regular signals file (re-read with
 * pread and parsed on fetch), or a copy of the line when the signals
 * come from a pipe.  So the snapshot's Pods cost the view's compact
 * records and an offset each, not a second copy of the snapshot.  What
 * cannot be read back (the file changed, a bad text) fetches NULL: never
 * a partial object in its place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "cmd/cmd_int.h"

struct whole_entry {
	char	*text;		/* owned: the object's or its line's text;
				   NULL: the line at off in the source, a
				   snapshot file's text at off, or a
				   snapshot object's tree */
	json_t	*tree;		/* owned: a snapshot object once fetched */
	off_t	 off;
	size_t	 len;		/* bytes of text or of the line */
	int	 line;		/* text (or the source) is a watch line */
	size_t	 file;		/* 1 + index in files: the object's text
				   lies at off in that snapshot file */
};

struct replay_whole {
	struct map	 objs;	/* "Kind/ns/name" -> struct whole_entry */
	int		 fd;	/* the signals file, borrowed; -1: none */
	char		**files;	/* owned: snapshot files' names */
	size_t		 nfiles, filecap;
	/*
	 * The line being replayed: its object, parsed already (borrowed),
	 * and its entry.  The decisions its watch raises fetch it far more
	 * than any other: they get this tree, not a second parse.
	 */
	json_t			*hot;
	const struct whole_entry *hot_e;
};

#define MAX_WHOLE (16u << 20)	/* bytes re-read: replay's MAX_LINE */

static void
entry_free(void *p)
{
	struct whole_entry *e = p;

	if (e) {
		free(e->text);
		json_decref(e->tree);
		free(e);
	}
}

struct replay_whole *
replay_whole_new(void)
{
	struct replay_whole *w = xcalloc(1, sizeof *w);

	map_init(&w->objs);
	w->fd = -1;
	return w;
}

void
replay_whole_free(struct replay_whole *w)
{
	if (w == NULL)
		return;
	map_clear(&w->objs, entry_free);
	while (w->nfiles > 0)
		free(w->files[--w->nfiles]);
	free(w->files);
	free(w);
}

void
replay_whole_set_source(struct replay_whole *w, int fd)
{
	w->fd = fd;
}

/* Frees an entry taken out of the map. */
static void
drop(struct replay_whole *w, struct whole_entry *e)
{
	if (e && e == w->hot_e) {
		w->hot = NULL;
		w->hot_e = NULL;
	}
	entry_free(e);
}

/*
 * Stores e under obj's key, replacing what was there; e is taken.
 * Returns 0, or -1 (e freed) for an object the view keeps whole itself
 * or refuses (no name).
 */
static int
put(struct replay_whole *w, json_t *obj, struct whole_entry *e)
{
	const char *kind = obj_kind(obj), *name = obj_name(obj);
	char *key;

	if (kind == NULL || name == NULL || !cluster_compact_kind(kind)) {
		entry_free(e);
		return -1;
	}
	key = cluster_key(kind, obj_namespace(obj), name);
	drop(w, map_put(&w->objs, key, e));
	free(key);
	return 0;
}

/* 1 + the index of file in w->files, added if new. */
static size_t
file_index(struct replay_whole *w, const char *file)
{
	/* a snapshot's objects come file by file: the last one is it */
	if (w->nfiles > 0 && strcmp(w->files[w->nfiles - 1], file) == 0)
		return w->nfiles;
	xgrow(&w->files, &w->filecap, w->nfiles + 1, sizeof *w->files);
	w->files[w->nfiles++] = xstrdup(file);
	return w->nfiles;
}

void
replay_whole_put_object(struct replay_whole *w, json_t *obj,
    const struct cluster_src *src)
{
	struct whole_entry *e;

	if (!cluster_compact_kind(obj_kind(obj)))
		return;		/* before writing a text nobody keeps */
	e = xcalloc(1, sizeof *e);
	if (src != NULL) {
		e->file = file_index(w, src->file);
		e->off = (off_t)src->off;
		e->len = src->len;
		(void)put(w, obj, e);
		return;
	}
	if ((e->text = util_json_dumps(obj, JSON_COMPACT)) == NULL) {
		entry_free(e);	/* not held: fetches fail */
		return;
	}
	e->len = strlen(e->text);
	(void)put(w, obj, e);
}

void
replay_whole_put_line(struct replay_whole *w, json_t *obj, off_t off,
    const char *text, size_t len)
{
	struct whole_entry *e;

	if (!cluster_compact_kind(obj_kind(obj)))
		return;
	e = xcalloc(1, sizeof *e);
	e->line = 1;
	e->len = len;
	if (w->fd >= 0)
		e->off = off;
	else
		e->text = xstrndup(text, len);
	if (put(w, obj, e) == 0) {
		w->hot = obj;
		w->hot_e = e;
	}
}

void
replay_whole_line_done(struct replay_whole *w)
{
	w->hot = NULL;
	w->hot_e = NULL;
}

void
replay_whole_del(struct replay_whole *w, const char *kind, const char *ns,
    const char *name)
{
	char *key;

	if (kind == NULL || name == NULL)
		return;
	key = cluster_key(kind, ns, name);
	drop(w, map_del(&w->objs, key));
	free(key);
}

/* e's text read back from fd: owned, or NULL. */
static char *
read_at(int fd, const struct whole_entry *e)
{
	char *t;
	size_t got = 0;
	ssize_t n;

	if (fd < 0 || e->len > MAX_WHOLE)
		return NULL;
	t = xmalloc(e->len + 1);
	while (got < e->len) {
		n = pread(fd, t + got, e->len - got, e->off + (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < e->len) {	/* truncated since, or unreadable */
		free(t);
		return NULL;
	}
	t[got] = '\0';
	return t;
}

/* e's text read back from the signals or its snapshot file, or NULL. */
static char *
entry_read(const struct replay_whole *w, const struct whole_entry *e)
{
	char *t;
	int fd;

	if (e->line)
		return read_at(w->fd, e);
	if ((fd = open(w->files[e->file - 1], O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	t = read_at(fd, e);
	close(fd);
	return t;
}

static int
same_str(const char *a, const char *b)
{
	if (a == NULL || *a == '\0')
		return b == NULL || *b == '\0';
	return b != NULL && strcmp(a, b) == 0;
}

json_t *
replay_whole_fetch(void *ctx, const char *api_version, const char *kind,
    const char *ns, const char *name)
{
	struct replay_whole *w = ctx;
	struct whole_entry *e;
	json_t *root, *obj;
	char *key, *text = NULL;

	(void)api_version;	/* replay kept one version of each object */
	if (kind == NULL || name == NULL)
		return NULL;
	key = cluster_key(kind, ns, name);
	e = map_get(&w->objs, key);
	free(key);
	if (e != NULL && e == w->hot_e)
		return json_incref(w->hot);	/* shared, as whole kinds are */
	if (e != NULL && e->tree)
		return json_incref(e->tree);
	if (e == NULL || (e->text == NULL && ((!e->line && !e->file) ||
	    (text = entry_read(w, e)) == NULL)))
		return NULL;
	root = util_json_loadb(text ? text : e->text, e->len, JSON_DECODE_ANY,
	    NULL);
	free(text);
	obj = e->line ? json_object_get(json_object_get(root, "watch"),
	    "object") : root;
	/* a source changed under us reads as nothing, not as another object */
	if (!json_is_object(obj) || !same_str(obj_kind(obj), kind) ||
	    !same_str(obj_name(obj), name) ||
	    !same_str(obj_namespace(obj), ns)) {
		json_decref(root);
		return NULL;
	}
	json_incref(obj);
	json_decref(root);
	/*
	 * A snapshot object fetched is kept parsed, shared as the view's
	 * whole kinds are: the target a decision's ownership reads is read
	 * again at its next decision, and a snapshot object changes only by
	 * a watch line, which replaces the entry.  Only the objects fetched
	 * are trees, not the whole snapshot.
	 */
	if (!e->line) {
		e->tree = json_incref(obj);
		free(e->text);
		e->text = NULL;
	}
	return obj;
}

size_t
replay_whole_count(const struct replay_whole *w)
{
	return w->objs.live;
}
