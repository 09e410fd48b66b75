/*
 * cluster_decode against json_loadb + cluster_project: the same answer
 * for every text, accepted or refused alike.  Real-server objects from
 * tests/data, hand-written edge cases, every truncation and single-byte
 * mutations of a real Pod, and a bounded pseudo-random generator.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster/cluster.h"
#include "cluster/cluster_int.h"
#include "harness.h"

static int diffs;	/* differences reported, to stop a flood */

/*
 * Under valgrind (tests/run-unit's UNIT_WRAP) every exhaustive loop
 * takes a sample: every offset of a Pod is minutes there.
 */
static size_t
stride(size_t fast, size_t slow)
{
	return getenv("UNIT_WRAP") ? slow : fast;
}

static char *
dump(json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Both in the same order of keys, scalars of the same types: the dumps. */
static int
same_tree(json_t *a, json_t *b)
{
	char *x = dump(a), *y = dump(b);
	int same = x && y && strcmp(x, y) == 0 && json_equal(a, b);

	free(x);
	free(y);
	return same;
}

static void
report(const char *what, const char *text, size_t len)
{
	if (diffs++ < 5)
		fprintf(stderr, "%s: %s on %.*s\n", harness_cur, what,
		    (int)(len > 300 ? 300 : len), text);
}

/*
 * The expectation: text loaded by jansson, the member at path projected.
 * NULL when jansson refuses it.
 */
static json_t *
expected(const char *text, size_t len, size_t flags, const char *const *path,
    size_t *end)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, flags, &je), *parent = NULL, *v;
	size_t i;

	if (root == NULL)
		return NULL;
	*end = (size_t)je.position;
	v = root;
	for (i = 0; path && path[i]; i++) {
		parent = v;
		if ((v = json_object_get(v, path[i])) == NULL)
			return root;
	}
	if (parent == NULL) {
		v = cluster_project(root);
		json_decref(root);
		return v;
	}
	json_object_set_new(parent, path[i - 1], cluster_project(v));
	return root;
}

/*
 * A whole text read by util_jscan_value, which builds the decoder's
 * whole values (kinds kept whole, leaves, envelopes), without the
 * jansson fallback util_json_loadb adds: a new reference, or NULL.
 */
static json_t *
scan_whole(const char *text, size_t len, size_t flags)
{
	struct util_jscan sc;
	json_t *v = NULL;

	util_jscan_init(&sc, text, len, flags);
	util_jscan_ws(&sc);
	if (sc.pos < len && ((flags & JSON_DECODE_ANY) ||
	    text[sc.pos] == '{' || text[sc.pos] == '['))
		v = util_jscan_value(&sc);
	util_jscan_ws(&sc);
	if (v && sc.pos != len && !(flags & JSON_DISABLE_EOF_CHECK)) {
		json_decref(v);
		v = NULL;
	}
	util_jscan_clear(&sc);
	return v;
}

/* 1 when util_jscan_value builds the tree json_loadb does. */
static int
agrees_whole(const char *text, size_t len, size_t flags)
{
	json_t *want = json_loadb(text, len, flags, NULL);
	json_t *got = scan_whole(text, len, flags);
	int ok = want == NULL || got == NULL ? want == got :
	    same_tree(want, got);

	if (!ok)
		report("whole differs", text, len);
	json_decref(want);
	json_decref(got);
	return ok;
}

/*
 * 1 when the decoder agrees with jansson + cluster_project on text, and
 * read whole with json_loadb.
 */
static int
agrees(const char *text, size_t len, size_t flags, const char *const *path)
{
	struct cluster_decode_opts o = { .path = path, .flags = flags,
	    .whole = NULL, .ctx = NULL };
	struct cluster_decode_result r;
	size_t end = 0;
	json_t *want = expected(text, len, flags, path, &end);
	json_t *got = cluster_decode(text, len, &o, &r);
	int ok;

	if (want == NULL || got == NULL) {
		ok = want == got;
		if (!ok)
			report(want ? "decoder refused" : "decoder accepted",
			    text, len);
		if (got == NULL && (r.reason == NULL || r.offset > len ||
		    r.line < 1 || r.column < 1))
			ok = 0;
	} else if (!(ok = same_tree(want, got)))
		report("different trees", text, len);
	else if ((flags & JSON_DISABLE_EOF_CHECK) && r.end != end) {
		report("a different end", text, len);
		ok = 0;
	}
	json_decref(want);
	json_decref(got);
	return ok && agrees_whole(text, len, flags);
}

static int
agrees_s(const char *text, size_t flags)
{
	return agrees(text, strlen(text), flags, NULL) &&
	    agrees(text, strlen(text), flags | JSON_DECODE_ANY, NULL) &&
	    agrees(text, strlen(text), flags | JSON_ALLOW_NUL |
	    JSON_DISABLE_EOF_CHECK, NULL);
}

/* ---- the spec ------------------------------------------------------------ */

static int
sorted_spec(const struct cl_field *f)
{
	size_t i;

	if (f->nchildren > CL_MAX_CHILDREN)
		return 0;
	for (i = 0; i < f->nchildren; i++) {
		if (i > 0 && cl_key_cmp(f->children[i - 1].key,
		    strlen(f->children[i - 1].key), f->children[i].key,
		    strlen(f->children[i].key)) >= 0)
			return 0;
		if (!sorted_spec(&f->children[i]))
			return 0;
	}
	return 1;
}

TEST(spec_sorted_and_bounded)
{
	CHECK(sorted_spec(&cl_projection));
}

/* ---- real-server objects ------------------------------------------------- */

struct corpus {
	char	**texts;
	size_t	  n, cap, compact;
};

static void
add_text(struct corpus *c, char *t)
{
	if (t == NULL)
		return;
	xgrow(&c->texts, &c->cap, c->n + 1, sizeof *c->texts);
	c->texts[c->n++] = t;
}

/* Every object with a kind under v, as compact and as indented text. */
static void
collect(struct corpus *c, json_t *v, int depth)
{
	const char *k;
	json_t *x;
	size_t i;

	if (depth > 64)
		return;
	if (json_is_object(v)) {
		if (json_is_string(json_object_get(v, "kind"))) {
			add_text(c, json_dumps(v, JSON_COMPACT));
			add_text(c, json_dumps(v, JSON_INDENT(1)));
			c->compact += cluster_compact_kind(obj_kind(v));
		}
		json_object_foreach(v, k, x)
			collect(c, x, depth + 1);
	} else if (json_is_array(v))
		json_array_foreach(v, i, x)
			collect(c, x, depth + 1);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *t;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    n > (8L << 20) || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	t = xmalloc((size_t)n + 1);
	*len = fread(t, 1, (size_t)n, f);
	t[*len] = '\0';
	fclose(f);
	return t;
}

/* JSON files under dir, at most max of them. */
static void
walk(struct corpus *c, const char *dir, int depth, size_t *files)
{
	struct dirent *e;
	struct stat st;
	char path[1024];
	DIR *d;
	size_t len;
	char *t;
	json_t *v;

	if (depth > 6 || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL && *files < 2000) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(c, path, depth + 1, files);
			continue;
		}
		len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 5, ".json") != 0 ||
		    (t = slurp(path, &len)) == NULL)
			continue;
		(*files)++;
		if ((v = json_loadb(t, len, 0, NULL)) != NULL) {
			collect(c, v, 0);
			json_decref(v);
		}
		add_text(c, t);		/* the file's own text as well */
	}
	closedir(d);
}

static struct corpus real;

static void
load_real(void)
{
	size_t files = 0;

	if (real.n == 0)
		walk(&real, TEST_DATA, 0, &files);
}

TEST(real_server_objects)
{
	static const char *const watch[] = { "watch", "object", NULL };
	static const char *const event[] = { "object", NULL };
	size_t i, bad = 0;
	char *line;

	load_real();
	REQUIRE(real.compact >= 50);	/* pods, workloads, nodes: many */
	for (i = 0; i < real.n; i += stride(1, 17)) {
		const char *t = real.texts[i];

		bad += !agrees(t, strlen(t), 0, NULL);
		bad += !agrees(t, strlen(t), JSON_REJECT_DUPLICATES |
		    JSON_DECODE_ANY, NULL);
		line = xasprintf("{\"time\":\"2026-01-01T00:00:00Z\","
		    "\"watch\":{\"type\":\"MODIFIED\",\"object\":%s}}", t);
		bad += !agrees(line, strlen(line), JSON_REJECT_DUPLICATES |
		    JSON_DECODE_ANY, watch);
		free(line);
		line = xasprintf("{\"type\":\"ADDED\",\"object\":%s}", t);
		bad += !agrees(line, strlen(line), 0, event);
		free(line);
		/* a list's item, as the kube watch reads one: what follows */
		line = xasprintf("%s,{\"kind\":\"Pod\"}]}", t);
		bad += !agrees(line, strlen(line), JSON_ALLOW_NUL |
		    JSON_DISABLE_EOF_CHECK, NULL);
		free(line);
	}
	CHECK_INT(bad, 0);
}

/*
 * The first real Pod with container statuses, compact: the subject of
 * the exhaustive tests (every truncation; at every offset the bytes that
 * change JSON's structure, and every byte value at a sample of offsets).
 */
static const char *
a_pod(void)
{
	size_t i;
	json_t *v;
	const char *k;

	load_real();
	for (i = 0; i < real.n; i++) {
		if (strchr(real.texts[i], '\n') ||
		    strstr(real.texts[i], "managedFields") == NULL)
			continue;
		v = json_loads(real.texts[i], 0, NULL);
		k = obj_kind(v);
		if (k && strcmp(k, "Pod") == 0 && json_object_get(json_object_get(
		    v, "status"), "containerStatuses")) {
			json_decref(v);
			return real.texts[i];
		}
		json_decref(v);
	}
	return NULL;
}

TEST(every_truncation_refused)
{
	const char *pod = a_pod();
	size_t n, len, bad = 0;
	struct cluster_decode_opts o = { .path = NULL, .flags = 0,
	    .whole = NULL, .ctx = NULL };
	struct cluster_decode_result r;
	json_t *v;

	REQUIRE(pod != NULL);
	len = strlen(pod);
	for (n = 0; n < len; n += stride(1, 7)) {
		if ((v = cluster_decode(pod, n, &o, &r)) != NULL) {
			json_decref(v);
			bad++;
		} else if (r.offset > n)
			bad++;
	}
	CHECK_INT(bad, 0);
	v = cluster_decode(pod, len, &o, &r);
	CHECK(v != NULL && r.projected);
	json_decref(v);
}

TEST(single_byte_mutations)
{
	static const unsigned char bytes[] = {
		'"', '\\', '}', ',', '1', 'e', ' ', 'u', 0x00, 0x80, 0xc3,
	};
	const char *pod = a_pod();
	size_t i, k, len, bad = 0, step;
	char *t;

	REQUIRE(pod != NULL);
	len = strlen(pod);
	t = xstrdup(pod);
	step = stride(1, 37);
	for (i = 0; i < len; i += step) {
		for (k = 0; k < sizeof bytes; k++) {
			t[i] = (char)bytes[k];
			/* both flag sets, one offset in two each */
			if (!agrees(t, len, i % 2 ? JSON_REJECT_DUPLICATES : 0,
			    NULL)) {
				if (bad++ < 5)
					fprintf(stderr, "byte %zu as 0x%02x: "
					    "%.20s\n", i, bytes[k], t + i);
			}
		}
		t[i] = pod[i];
	}
	/* every byte value, at one offset in 31 (the structure's bytes
	   and the strings' alike) */
	for (i = 0; i < len; i += stride(31, 401)) {
		for (k = 0; k < 256; k++) {
			t[i] = (char)k;
			if (!agrees(t, len, k % 2 ? JSON_REJECT_DUPLICATES : 0,
			    NULL) && bad++ < 5)
				fprintf(stderr, "byte %zu as 0x%02zx\n", i, k);
		}
		t[i] = pod[i];
	}
	free(t);
	CHECK_INT(bad, 0);
}

/* ---- edge cases ---------------------------------------------------------- */

TEST(edge_cases)
{
	static const char *const cases[] = {
		/* strings, escapes, surrogates, UTF-8 */
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\\\"b\\\\c\\/d"
		    "\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00\"}}",
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"\\ud83d\"}}",
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"\\ude00\"}}",
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"\\ud83d\\u0041\"}}",
		"{\"kind\":\"Pod\",\"x\":\"\\ud83d\"}",
		"{\"kind\":\"Pod\",\"x\":\"\\u0000\"}",
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"\\u0000\"}}",
		"{\"kind\":\"Pod\",\"x\\u0000\":1}",
		"{\"kind\":\"Pod\",\"x\":\"\\u12\"}",
		"{\"kind\":\"Pod\",\"x\":\"\\x\"}",
		"{\"kind\":\"Pod\",\"x\":\"a\tb\"}",
		"{\"kind\":\"Pod\",\"x\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
		"{\"kind\":\"Pod\",\"x\":\"\xc0\xaf\"}",
		"{\"kind\":\"Pod\",\"x\":\"\xed\xa0\x80\"}",
		"{\"kind\":\"Pod\",\"x\":\"\xf4\x90\x80\x80\"}",
		"{\"kind\":\"Pod\",\"x\":\"\xe2\x82\"}",
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"\xe2\x82\"}}",
		"{\"kind\":\"P\\u006fd\",\"metadata\":{\"n\\u0061me\":\"x\"}}",
		/* numbers */
		"{\"kind\":\"Pod\",\"spec\":{\"replicas\":9223372036854775807}}",
		"{\"kind\":\"Pod\",\"spec\":{\"replicas\":9223372036854775808}}",
		"{\"kind\":\"Pod\",\"spec\":{\"replicas\":-9223372036854775808}}",
		"{\"kind\":\"Pod\",\"spec\":{\"replicas\":-9223372036854775809}}",
		"{\"kind\":\"Pod\",\"x\":9223372036854775808}",
		"{\"kind\":\"Pod\",\"x\":99999999999999999999999}",
		"{\"kind\":\"Pod\",\"x\":1e400}",
		"{\"kind\":\"Pod\",\"x\":-1e400}",
		"{\"kind\":\"Pod\",\"x\":1e-400}",
		"{\"kind\":\"Pod\",\"spec\":{\"replicas\":1e-400}}",
		"{\"kind\":\"Pod\",\"spec\":{\"replicas\":1.0}}",
		"{\"kind\":\"Pod\",\"spec\":{\"replicas\":1E+2}}",
		"{\"kind\":\"Pod\",\"spec\":{\"replicas\":-0}}",
		"{\"kind\":\"Pod\",\"spec\":{\"replicas\":-0.0e-0}}",
		"{\"kind\":\"Pod\",\"x\":01}",
		"{\"kind\":\"Pod\",\"x\":1.}",
		"{\"kind\":\"Pod\",\"x\":.5}",
		"{\"kind\":\"Pod\",\"x\":1e}",
		"{\"kind\":\"Pod\",\"x\":1e+}",
		"{\"kind\":\"Pod\",\"x\":-}",
		"{\"kind\":\"Pod\",\"x\":+1}",
		"{\"kind\":\"Pod\",\"x\":0x10}",
		"{\"kind\":\"Pod\",\"x\":1" "00000000000000000000000000000000000"
		    "0000000000000000000000000000000000000000000000000000.5}",
		/* literals and structure */
		"{\"kind\":\"Pod\",\"x\":[true,false,null]}",
		"{\"kind\":\"Pod\",\"x\":tru}",
		"{\"kind\":\"Pod\",\"x\":truex}",
		"{\"kind\":\"Pod\",\"x\":nul}",
		"{\"kind\":\"Pod\",\"x\":[1,]}",
		"{\"kind\":\"Pod\",\"x\":{\"a\":1,}}",
		"{\"kind\":\"Pod\",\"x\":{,}}",
		"{\"kind\":\"Pod\",\"x\":[,1]}",
		"{\"kind\":\"Pod\",}",
		"{\"kind\":\"Pod\" \"x\":1}",
		"{\"kind\" \"Pod\"}",
		"{\"kind\":\"Pod\"}}",
		"{\"kind\":\"Pod\"} x",
		"{\"kind\":\"Pod\"} \r\n\t",
		" \n{\"kind\":\"Pod\"}",
		"",
		"   ",
		"{",
		"[",
		"5",
		"\"Pod\"",
		"null",
		"[{\"kind\":\"Pod\"}]",
		"{}",
		"[]",
		/* kept paths: empty, null, wrong types */
		"{\"kind\":\"Pod\",\"metadata\":{},\"spec\":{},\"status\":{}}",
		"{\"kind\":\"Pod\",\"metadata\":null,\"spec\":null}",
		"{\"kind\":\"Pod\",\"metadata\":[],\"spec\":[],\"status\":5}",
		"{\"kind\":\"Pod\",\"spec\":{\"containers\":5}}",
		"{\"kind\":\"Pod\",\"spec\":{\"containers\":[]}}",
		"{\"kind\":\"Pod\",\"spec\":{\"containers\":[5,null,[],{}]}}",
		"{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"a\","
		    "\"resources\":{\"requests\":{\"memory\":\"1Gi\",\"cpu\":1},"
		    "\"limits\":{}},\"image\":\"x\"}]}}",
		"{\"kind\":\"Pod\",\"metadata\":{\"labels\":{\"b\":1,\"a\":"
		    "{\"z\":[{\"y\":1,\"x\":2}],\"c\":3}},\"annotations\":{"
		    "\"remediation.b\":1,\"x\":2,\"remediation.a\":[{\"q\":1,"
		    "\"p\":2}],\"kubernetes.io/config.mirror\":\"m\"}}}",
		"{\"kind\":\"Pod\",\"metadata\":{\"annotations\":{\"x\":1}}}",
		"{\"kind\":\"Pod\",\"metadata\":{\"annotations\":[]}}",
		"{\"kind\":\"Pod\",\"metadata\":{\"annotations\":{\"remediation."
		    "a\":1},\"annotations\":{\"x\":1}}}",
		"{\"kind\":\"Pod\",\"metadata\":{\"annotations\":{\"remediation\\"
		    "u002ea\":1}}}",
		"{\"kind\":\"Pod\",\"metadata\":{\"ownerReferences\":[{\"kind\":"
		    "\"ReplicaSet\",\"name\":\"r\",\"controller\":true,\"uid\":"
		    "\"u\"},7]}}",
		"{\"kind\":\"Pod\",\"metadata\":{\"ownerReferences\":{}}}",
		"{\"kind\":\"Pod\",\"status\":{\"containerStatuses\":[{\"name\":"
		    "\"a\",\"lastState\":{\"terminated\":{\"reason\":\"OOMKilled\","
		    "\"exitCode\":137,\"signal\":9}},\"restartCount\":3}]}}",
		"{\"kind\":\"Pod\",\"status\":{\"containerStatuses\":[{"
		    "\"lastState\":{}},{\"lastState\":{\"terminated\":{}}},"
		    "{\"lastState\":{\"terminated\":5}},{\"lastState\":7}]}}",
		"{\"kind\":\"Node\",\"status\":{\"allocatable\":{\"cpu\":\"2\"}}}",
		"{\"kind\":\"Node\",\"status\":{\"allocatable\":{\"memory\":null}}}",
		"{\"kind\":\"Node\",\"status\":{\"allocatable\":[]}}",
		"{\"kind\":\"Deployment\",\"spec\":{\"replicas\":2,\"template\":"
		    "{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}}}",
		"{\"spec\":{\"template\":{\"spec\":5}},\"kind\":\"StatefulSet\"}",
		"{\"spec\":{\"template\":{}},\"kind\":\"ReplicaSet\"}",
		"{\"spec\":{\"template\":{\"spec\":{}}},\"kind\":\"DaemonSet\","
		    "\"kind\":\"Job\"}",
		"{\"spec\":{\"template\":{\"spec\":{}}},\"kind\":\"Job\","
		    "\"kind\":\"DaemonSet\"}",
		/* kinds kept whole, no kind, kind not a string */
		"{\"kind\":\"Event\",\"metadata\":{\"name\":\"e\"},\"x\":{\"b\":1,"
		    "\"a\":2}}",
		"{\"metadata\":{\"name\":\"e\"},\"x\":1}",
		"{\"kind\":5,\"metadata\":{\"name\":\"e\"}}",
		"{\"kind\":\"Pod\",\"kind\":\"Event\",\"x\":1}",
		"{\"kind\":\"Event\",\"kind\":\"Pod\",\"x\":1}",
		/* duplicates: kept, skipped, escaped */
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"name\":\"b\"}}",
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"},\"metadata\":5}",
		"{\"kind\":\"Pod\",\"x\":{\"a\":1,\"b\":2,\"a\":3}}",
		"{\"kind\":\"Pod\",\"x\":{\"a\":1,\"\\u0061\":3}}",
		"{\"kind\":\"Pod\",\"x\":{\"a\":{\"b\":1},\"b\":{\"b\":1}}}",
		"{\"kind\":\"Pod\",\"x\":[{\"a\":1},{\"a\":1}]}",
		"{\"kind\":\"Pod\",\"metadata\":{\"labels\":{\"a\":1,\"a\":2}}}",
		"{\"kind\":\"Pod\",\"x\":{\"k0\":0,\"k1\":0,\"k2\":0,\"k3\":0,"
		    "\"k4\":0,\"k5\":0,\"k6\":0,\"k7\":0,\"k8\":0,\"k9\":0,"
		    "\"ka\":0,\"kb\":0,\"kc\":0,\"kd\":0,\"ke\":0,\"kf\":0,"
		    "\"kg\":0,\"k7\":1}}",
		"{\"kind\":\"Pod\",\"x\":{\"k0\":0,\"k1\":0,\"k2\":0,\"k3\":0,"
		    "\"k4\":0,\"k5\":0,\"k6\":0,\"k7\":0,\"k8\":0,\"k9\":0,"
		    "\"ka\":0,\"kb\":0,\"kc\":0,\"kd\":0,\"ke\":0,\"kf\":0,"
		    "\"kg\":0,\"kh\":1}}",
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (!agrees_s(cases[i], 0) ||
		    !agrees_s(cases[i], JSON_REJECT_DUPLICATES))
			fprintf(stderr, "case %zu differs\n", i);
		CHECK(agrees_s(cases[i], 0));
		CHECK(agrees_s(cases[i], JSON_REJECT_DUPLICATES));
	}
	/* an embedded NUL: jansson's json_loadb refuses it, so do we */
	CHECK(agrees("{\"kind\":\"Pod\"}\0", 15, 0, NULL));
	CHECK(agrees("{\"kind\":\"P\0d\"}", 14, 0, NULL));
	/* jansson skips a NUL after a number or a literal: so do we */
	CHECK(agrees("{\"kind\":\"Pod\",\"x\":[1\0,true\0]}", 28, 0, NULL));
	CHECK(agrees("{\"kind\":\"Pod\",\"x\":[1\0\0]}", 24, 0, NULL));
}

TEST(allow_nul_and_prefix)
{
	static const char *const cases[] = {
		"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\\u0000b\"}}",
		"{\"kind\":\"Pod\",\"x\":\"\\u0000\"}",
		"{\"kind\":\"Pod\",\"x\\u0000\":1}",
		"{\"kind\":\"Pod\",\"metadata\":{\"labels\":{\"\\u0000\":1}}}",
		"{\"kind\":\"Pod\"}, 5",
		"{\"kind\":\"Pod\"}   ]",
		"[1,2] x",
		"17,",
		"1.5e3]",
		"true}",
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK(agrees_s(cases[i], 0));
		CHECK(agrees_s(cases[i], JSON_REJECT_DUPLICATES));
		CHECK(agrees(cases[i], strlen(cases[i]), JSON_ALLOW_NUL |
		    JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, NULL));
	}
}

/*
 * What a kube watch asks: the kind of a list's items from the list, and
 * metadata.resourceVersion kept, which cluster_project drops again.
 */
TEST(list_items_and_resource_version)
{
	static const char item[] = "{\"metadata\":{\"name\":\"p\","
	    "\"resourceVersion\":\"42\",\"uid\":\"u\",\"generation\":3},"
	    "\"spec\":{\"nodeName\":\"n\",\"containers\":[{\"name\":\"c\"}]}}";
	struct cluster_decode_opts o = { .kind = "Pod",
	    .keep = CLUSTER_DECODE_RESOURCE_VERSION };
	struct cluster_decode_result r;
	json_t *got = cluster_decode(item, strlen(item), &o, &r), *whole, *p1,
	    *p2;

	REQUIRE(got != NULL);
	CHECK(r.projected);
	CHECK_STR(json_string_value(json_object_get(json_object_get(got,
	    "metadata"), "resourceVersion")), "42");
	CHECK(json_object_get(json_object_get(got, "spec"), "nodeName") ==
	    NULL);
	/* with the kind restored, the view's projection is jansson's */
	whole = json_loads(item, 0, NULL);
	json_object_set_new(whole, "kind", json_string("Pod"));
	json_object_set_new(got, "kind", json_string("Pod"));
	p1 = cluster_project(whole);
	p2 = cluster_project(got);
	CHECK(json_equal(p1, p2));
	CHECK(json_object_get(json_object_get(p2, "metadata"),
	    "resourceVersion") == NULL);
	json_decref(p1);
	json_decref(p2);
	json_decref(whole);
	json_decref(got);
	/* a watch's bookmark keeps its resourceVersion; an ERROR's Status
	   is read whole */
	{
		static const char *const object[] = { "object", NULL };
		static const char bm[] = "{\"type\":\"BOOKMARK\",\"object\":"
		    "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":"
		    "{\"resourceVersion\":\"77\"}}}";
		static const char er[] = "{\"type\":\"ERROR\",\"object\":"
		    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
		    "\"Failure\",\"reason\":\"Expired\",\"code\":410}}";
		struct cluster_decode_opts eo = { .path = object,
		    .keep = CLUSTER_DECODE_RESOURCE_VERSION };
		json_t *v = cluster_decode(bm, strlen(bm), &eo, &r);

		CHECK_STR(json_string_value(json_object_get(json_object_get(
		    json_object_get(v, "object"), "metadata"),
		    "resourceVersion")), "77");
		json_decref(v);
		v = cluster_decode(er, strlen(er), &eo, &r);
		whole = json_loads(er, 0, NULL);
		CHECK(v && !r.projected && same_tree(v, whole));
		json_decref(v);
		json_decref(whole);
	}
	/* a kind kept whole: the item whole */
	o.kind = "ConfigMap";
	got = cluster_decode(item, strlen(item), &o, &r);
	whole = json_loads(item, 0, NULL);
	CHECK(got && !r.projected && same_tree(got, whole));
	json_decref(got);
	json_decref(whole);
}

TEST(error_position)
{
	static const char text[] = "{\"kind\":\"Pod\",\n  \"x\": [1,]}";
	struct cluster_decode_result r;

	CHECK(cluster_decode(text, strlen(text), NULL, &r) == NULL);
	CHECK_INT(r.line, 2);
	CHECK_INT(r.column, 11);
	CHECK_INT(r.offset, 25);
	CHECK_STR(r.reason, "invalid token");
}

/*
 * A duplicate key in a kept value is the error, where the key is, also
 * when the value after it is bad: jansson refuses the key before it
 * reads the value (util's reader finds the duplicate after, and must
 * still say so).
 */
TEST(duplicate_key_before_a_bad_value)
{
	static const char text[] = "{\"kind\":\"Pod\",\"metadata\":{"
	    "\"name\":\"p\",\"labels\":{\"a\":\"1\",\"a\":[1,]}}}";
	struct cluster_decode_opts o = { .flags = JSON_REJECT_DUPLICATES };
	struct cluster_decode_result r;
	const char *dup = strstr(strstr(text, "\"a\"") + 1, "\"a\"");

	CHECK(cluster_decode(text, strlen(text), &o, &r) == NULL);
	CHECK_STR(r.reason, "duplicate object key");
	CHECK_INT(r.offset, (size_t)(dup - text));
	o.flags = 0;	/* not asked: the bad value is the error */
	CHECK(cluster_decode(text, strlen(text), &o, &r) == NULL);
	CHECK_STR(r.reason, "invalid token");
}

/*
 * jansson skips a NUL byte right after a number or a literal and leaves
 * it out of its position; util_jlist advances by that position, so the
 * end must be the same (found by fuzz/cluster_fuzz.c: "5\0" ended at 2).
 */
TEST(end_leaves_skipped_nuls_out)
{
	static const char *const watch[] = { "object", NULL };
	static const struct { const char *text; size_t len; } t[] = {
		{ "5\0", 2 }, { "true\0 x", 6 }, { "[1\0,2\0]x", 8 },
		{ "{\"object\":{\"kind\":\"Pod\",\"a\":null\0}}\0", 36 },
		{ "{\"kind\":\"Pod\",\"spec\":{\"replicas\":3\0}}", 37 },
	};
	struct cluster_decode_opts o = { .flags = JSON_DECODE_ANY |
	    JSON_DISABLE_EOF_CHECK };
	struct cluster_decode_result r;
	json_error_t je;
	json_t *got, *want;
	size_t i, k;

	for (i = 0; i < UTIL_ARRAY_LEN(t); i++) {
		for (k = 0; k < 2; k++) {
			o.path = k ? watch : NULL;
			want = json_loadb(t[i].text, t[i].len, o.flags, &je);
			got = cluster_decode(t[i].text, t[i].len, &o, &r);
			CHECK(want != NULL && got != NULL);
			CHECK_INT(r.end, je.position);
			json_decref(want);
			json_decref(got);
		}
	}
}

/* Nested n deep at the member x (skipped) or labels (kept). */
static char *
nested(size_t n, const char *where)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_printf(&b, "{\"kind\":\"Pod\",\"metadata\":{\"%s\":", where);
	for (i = 0; i < n; i++)
		buf_addc(&b, '[');
	buf_adds(&b, "1");
	for (i = 0; i < n; i++)
		buf_addc(&b, ']');
	buf_adds(&b, "}}");
	return buf_steal(&b);
}

TEST(depth_bounded_as_jansson)
{
	static const char *const where[] = { "x", "labels" };
	size_t n, k;
	char *t;

	for (k = 0; k < 2; k++)
		for (n = JSON_PARSER_MAX_DEPTH - 5; n < JSON_PARSER_MAX_DEPTH + 3;
		    n++) {
			t = nested(n, where[k]);
			CHECK(agrees_s(t, 0));
			free(t);
		}
	t = nested(100000, "x");	/* refused, not a crash */
	CHECK(cluster_decode(t, strlen(t), NULL, NULL) == NULL);
	free(t);
}

TEST(envelopes)
{
	static const char *const watch[] = { "watch", "object", NULL };
	static const char *const lines[] = {
		"{\"time\":\"T\",\"watch\":{\"type\":\"MODIFIED\",\"object\":"
		    "{\"kind\":\"Pod\",\"x\":1,\"metadata\":{\"name\":\"p\"}}}}",
		"{\"time\":\"T\",\"watch\":{\"object\":5,\"type\":\"ADDED\"}}",
		"{\"time\":\"T\",\"watch\":7}",
		"{\"time\":\"T\",\"eventSource\":\"s\",\"data\":{\"b\":1,\"a\":2}}",
		"{\"watch\":{\"object\":{\"kind\":\"Pod\"},\"object\":"
		    "{\"kind\":\"Event\"}}}",
		"{\"watch\":{\"object\":{\"kind\":\"Pod\"}},\"watch\":1}",
		"{\"watch\":{\"object\":{\"kind\":\"Pod\"},\"object\":[]}}",
		"[1,2]",
		"\"x\"",
	};
	struct cluster_decode_opts o = { .path = watch,
	    .flags = JSON_DECODE_ANY };
	struct cluster_decode_result r;
	size_t i;
	json_t *v;

	for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
		CHECK(agrees(lines[i], strlen(lines[i]), JSON_DECODE_ANY,
		    watch));
	v = cluster_decode(lines[0], strlen(lines[0]), &o, &r);
	CHECK(v && r.projected);
	json_decref(v);
	for (i = 4; i < 7; i++) {
		v = cluster_decode(lines[i], strlen(lines[i]), &o, &r);
		CHECK(v && !r.projected);
		json_decref(v);
	}
}

static int
whole_pods(void *ctx, const char *kind)
{
	(*(int *)ctx)++;
	return strcmp(kind, "Pod") == 0;
}

TEST(whole_when_asked)
{
	static const char text[] = "{\"x\":{\"b\":1,\"a\":2},\"kind\":\"Pod\"}";
	int calls = 0;
	struct cluster_decode_opts o = { .path = NULL, .flags = 0,
	    .whole = whole_pods, .ctx = &calls };
	struct cluster_decode_result r;
	json_t *v = cluster_decode(text, strlen(text), &o, &r), *w;

	w = json_loads(text, 0, NULL);
	CHECK(v && !r.projected && same_tree(v, w));
	CHECK_INT(calls, 1);
	json_decref(v);
	json_decref(w);
}

/* ---- pseudo-random texts -------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void gen_value(struct buf *, int depth);

static void
gen_key(struct buf *b)
{
	static const char *const keys[] = {
		"kind", "metadata", "spec", "status", "name", "namespace",
		"labels", "annotations", "ownerReferences", "containers",
		"initContainers", "resources", "replicas", "template",
		"containerStatuses", "lastState", "terminated", "reason",
		"allocatable", "memory", "uid", "x", "remediation.owner",
		"n\\u0061me", "a\\\"b", "\xc3\xa9",
	};

	buf_addc(b, '"');
	buf_adds(b, keys[rnd(sizeof keys / sizeof keys[0])]);
	buf_addc(b, '"');
}

static void
gen_value(struct buf *b, int depth)
{
	static const char *const scalars[] = {
		"0", "-1", "1.5", "2e3", "9223372036854775807", "null", "true",
		"false", "\"Pod\"", "\"Deployment\"", "\"Event\"", "\"a\\nb\"",
		"\"\\ud83d\\ude00\"", "\"\"", "-0.0", "1E-2",
	};
	unsigned i, n, t = depth > 5 ? 2 : rnd(4);

	if (t == 0) {
		buf_addc(b, '{');
		n = rnd(6);
		for (i = 0; i < n; i++) {
			if (i)
				buf_addc(b, ',');
			gen_key(b);
			buf_addc(b, ':');
			gen_value(b, depth + 1);
		}
		buf_addc(b, '}');
	} else if (t == 1) {
		buf_addc(b, '[');
		n = rnd(4);
		for (i = 0; i < n; i++) {
			if (i)
				buf_addc(b, ',');
			gen_value(b, depth + 1);
		}
		buf_addc(b, ']');
	} else
		buf_adds(b, scalars[rnd(sizeof scalars / sizeof scalars[0])]);
}

TEST(pseudo_random)
{
	static const char *const kinds[] = {
		"Pod", "Deployment", "Node", "Event", "DaemonSet",
	};
	struct buf b;
	size_t i, bad = 0;

	buf_init(&b, 0);
	for (i = 0; i < 3000; i += stride(1, 30)) {
		buf_reset(&b);
		buf_printf(&b, "{\"kind\":\"%s\",", kinds[rnd(5)]);
		gen_key(&b);
		buf_addc(&b, ':');
		gen_value(&b, 0);
		buf_addc(&b, ',');
		gen_key(&b);
		buf_addc(&b, ':');
		gen_value(&b, 0);
		buf_addc(&b, '}');
		bad += !agrees(b.data, b.len, 0, NULL);
		bad += !agrees(b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
		/* and one random byte changed */
		b.data[rnd((unsigned)b.len)] = (char)rnd(256);
		bad += !agrees(b.data, b.len, 0, NULL);
		bad += !agrees(b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
	}
	buf_free(&b);
	CHECK_INT(bad, 0);
}

int
main(void)
{
	size_t i;

	RUN(spec_sorted_and_bounded);
	RUN(real_server_objects);
	RUN(every_truncation_refused);
	RUN(single_byte_mutations);
	RUN(edge_cases);
	RUN(allow_nul_and_prefix);
	RUN(list_items_and_resource_version);
	RUN(error_position);
	RUN(duplicate_key_before_a_bad_value);
	RUN(end_leaves_skipped_nuls_out);
	RUN(depth_bounded_as_jansson);
	RUN(envelopes);
	RUN(whole_when_asked);
	RUN(pseudo_random);
	for (i = 0; i < real.n; i++)
		free(real.texts[i]);
	free(real.texts);
	return harness_done();
}
