/*
 * cmd internals: replay's store of whole objects (replay_whole.c), the
 * fetch hook that answers cluster_get_whole in replay.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "cmd/cmd_int.h"
#include "harness.h"

static json_t *
pod(const char *ns, const char *name, const char *node)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s}}", "apiVersion",
	    "v1", "kind", "Pod", "metadata", "name", name, "namespace", ns,
	    "spec", "nodeName", node);
}

/* spec.nodeName of what the store fetches for Pod ns/name, or NULL. */
static char *
fetched_node(struct replay_whole *w, const char *ns, const char *name)
{
	json_t *o = replay_whole_fetch(w, "v1", "Pod", ns, name);
	const char *s;
	char *r = NULL;

	if (o == NULL)
		return NULL;
	s = json_string_value(json_object_get(json_object_get(o, "spec"),
	    "nodeName"));
	if (s)
		r = strdup(s);
	json_decref(o);
	return r;
}

#define CHECK_NODE(w, ns, name, want) do {				\
	char *n_ = fetched_node(w, ns, name);				\
	CHECK_STR(n_ ? n_ : "(null)", want);				\
	free(n_);							\
} while (0)

TEST(put_replace_delete_fetch)
{
	struct replay_whole *w = replay_whole_new();
	json_t *a = pod("shop", "p1", "node-a"), *b = pod("shop", "p1",
	    "node-b"), *line;
	char *text;

	replay_whole_put_object(w, a, NULL);
	CHECK_NODE(w, "shop", "p1", "node-a");
	CHECK_NODE(w, "shop", "p1", "node-a");	/* kept parsed now */
	CHECK_NODE(w, "other", "p1", "(null)");	/* namespace is the key's */
	CHECK(replay_whole_fetch(w, "v1", "Node", NULL, "p1") == NULL);
	/* a watch line from a pipe: the store keeps a copy of its text */
	line = json_pack("{s:s, s:{s:s, s:O}}", "time", "2026-11-25T10:00:00Z",
	    "watch", "type", "MODIFIED", "object", b);
	text = json_dumps(line, JSON_COMPACT);
	replay_whole_put_line(w, b, 0, text, strlen(text));
	free(text);			/* copied */
	CHECK_NODE(w, "shop", "p1", "node-b");
	replay_whole_line_done(w);		/* now from the copy */
	CHECK_NODE(w, "shop", "p1", "node-b");
	CHECK_INT((long)replay_whole_count(w), 1);
	replay_whole_del(w, "Pod", "shop", "p1");
	CHECK_NODE(w, "shop", "p1", "(null)");
	CHECK_INT((long)replay_whole_count(w), 0);
	replay_whole_del(w, "Pod", "shop", "p1");	/* twice: nothing */
	json_decref(line);
	json_decref(a);
	json_decref(b);
	replay_whole_free(w);
}

TEST(kinds_kept_whole_by_the_view_are_not_stored)
{
	struct replay_whole *w = replay_whole_new();
	json_t *cm = json_pack("{s:s, s:{s:s, s:s}}", "kind", "ConfigMap",
	    "metadata", "name", "c", "namespace", "shop");
	json_t *anon = json_pack("{s:s}", "kind", "Pod");

	replay_whole_put_object(w, cm, NULL);
	replay_whole_put_object(w, anon, NULL);	/* no name: no key */
	replay_whole_put_line(w, anon, 0, "{}", 2);
	CHECK(replay_whole_fetch(w, NULL, "Pod", NULL, "") == NULL);
	replay_whole_line_done(w);
	CHECK_INT((long)replay_whole_count(w), 0);
	json_decref(cm);
	json_decref(anon);
	replay_whole_free(w);
}

/*
 * Watch lines referenced in a regular file: re-read with pread; a file
 * truncated or rewritten since gives NULL, never a crash or another
 * object.
 */
TEST(lines_in_a_file_and_a_bad_source)
{
	char path[] = "/tmp/test_cmd_whole.XXXXXX";
	const char *l1 = "{\"watch\":{\"type\":\"ADDED\",\"object\":"
	    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\",\"namespace\":"
	    "\"shop\"},\"spec\":{\"nodeName\":\"n1\"}}}}\n";
	const char *l2 = "{\"watch\":{\"type\":\"ADDED\",\"object\":"
	    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p2\",\"namespace\":"
	    "\"shop\"},\"spec\":{\"nodeName\":\"n2\"}}}}\n";
	struct replay_whole *w = replay_whole_new();
	json_t *p1 = pod("shop", "p1", "x"), *p2 = pod("shop", "p2", "x");
	json_t *got;
	int fd = mkstemp(path);

	REQUIRE(fd != -1);
	REQUIRE(write(fd, l1, strlen(l1)) == (ssize_t)strlen(l1));
	REQUIRE(write(fd, l2, strlen(l2)) == (ssize_t)strlen(l2));
	replay_whole_set_source(w, fd);
	replay_whole_put_line(w, p1, 0, l1, strlen(l1));
	replay_whole_line_done(w);
	replay_whole_put_line(w, p2, (off_t)strlen(l1), l2, strlen(l2));
	/* while its line is replayed, p2 is the line's own tree */
	got = replay_whole_fetch(w, "v1", "Pod", "shop", "p2");
	CHECK(got == p2);
	json_decref(got);
	replay_whole_line_done(w);
	CHECK_NODE(w, "shop", "p1", "n1");	/* read from the file */
	CHECK_NODE(w, "shop", "p2", "n2");
	/* the lines swapped: each place now holds another object */
	REQUIRE(pwrite(fd, l2, strlen(l2), 0) == (ssize_t)strlen(l2));
	CHECK_NODE(w, "shop", "p1", "(null)");
	/* cut in the middle of p2's line: a truncated text */
	REQUIRE(ftruncate(fd, (off_t)(strlen(l1) + strlen(l2) / 2)) == 0);
	CHECK_NODE(w, "shop", "p2", "(null)");
	/* not JSON at all */
	REQUIRE(pwrite(fd, "garbage!", 8, (off_t)strlen(l1)) == 8);
	REQUIRE(ftruncate(fd, (off_t)(strlen(l1) + strlen(l2))) == 0);
	CHECK_NODE(w, "shop", "p2", "(null)");
	/* the source gone (closed: replay's stream ended) */
	replay_whole_set_source(w, -1);
	CHECK_NODE(w, "shop", "p2", "(null)");
	close(fd);
	unlink(path);
	json_decref(p1);
	json_decref(p2);
	replay_whole_free(w);
}

/*
 * Snapshot objects referenced in their JSON file (cluster_load's src):
 * read back by name when fetched, kept parsed after; a file changed or
 * gone since gives NULL, never another object.
 */
TEST(snapshot_objects_read_back_from_their_file)
{
	char path[] = "/tmp/test_cmd_snap.XXXXXX";
	const char *t1 = "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\","
	    "\"namespace\":\"shop\"},\"spec\":{\"nodeName\":\"n1\"}}";
	const char *t2 = "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p2\","
	    "\"namespace\":\"shop\"},\"spec\":{\"nodeName\":\"n2\"}}";
	struct replay_whole *w = replay_whole_new();
	json_t *p1 = pod("shop", "p1", "x"), *p2 = pod("shop", "p2", "x");
	struct cluster_src s1, s2;
	int fd = mkstemp(path);

	REQUIRE(fd != -1);
	REQUIRE(write(fd, "[", 1) == 1);
	REQUIRE(write(fd, t1, strlen(t1)) == (ssize_t)strlen(t1));
	REQUIRE(write(fd, ",\n", 2) == 2);
	REQUIRE(write(fd, t2, strlen(t2)) == (ssize_t)strlen(t2));
	s1 = (struct cluster_src){ path, 1, strlen(t1) };
	s2 = (struct cluster_src){ path, 3 + strlen(t1), strlen(t2) };
	replay_whole_put_object(w, p1, &s1);
	replay_whole_put_object(w, p2, &s2);
	CHECK_INT((long)replay_whole_count(w), 2);
	CHECK_NODE(w, "shop", "p1", "n1");	/* read from the file */
	/* p2's place rewritten: another object there reads as nothing */
	REQUIRE(pwrite(fd, t1, strlen(t1), (off_t)s2.off) ==
	    (ssize_t)strlen(t1));
	CHECK_NODE(w, "shop", "p2", "(null)");
	close(fd);
	unlink(path);
	/* p1 was kept parsed when fetched; p2 is gone with its file */
	CHECK_NODE(w, "shop", "p1", "n1");
	CHECK_NODE(w, "shop", "p2", "(null)");
	json_decref(p1);
	json_decref(p2);
	replay_whole_free(w);
}

/* The store as the view's fetch hook: a compact Pod fetched whole. */
TEST(answers_cluster_get_whole)
{
	struct cluster *c = cluster_new();
	struct replay_whole *w = replay_whole_new();
	json_t *p = pod("shop", "p1", "node-a"), *got;

	cluster_set_fetch(c, replay_whole_fetch, w);
	CHECK_INT(cluster_put(c, p, NULL), 0);
	got = cluster_get_whole(c, "Pod", "shop", "p1");
	CHECK(got == NULL);		/* not in the store: nothing, not the
					   projection */
	json_decref(got);
	replay_whole_put_object(w, p, NULL);
	got = cluster_get_whole(c, "Pod", "shop", "p1");
	REQUIRE(got != NULL);
	CHECK(json_equal(got, p));
	json_decref(got);
	json_decref(p);
	replay_whole_free(w);
	cluster_free(c);
}

int
main(void)
{
	RUN(put_replace_delete_fetch);
	RUN(snapshot_objects_read_back_from_their_file);
	RUN(kinds_kept_whole_by_the_view_are_not_stored);
	RUN(lines_in_a_file_and_a_bad_source);
	RUN(answers_cluster_get_whole);
	return harness_done();
}
