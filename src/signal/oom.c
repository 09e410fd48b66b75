/*
 * OOM kills as Events.  The kubelet records a container OOM kill only in
 * the Pod's status (lastState.terminated.reason == "OOMKilled", exit 137,
 * restartCount up); it emits no Event.  Sensors written for Argo Events
 * watch Events with reason OOMKilled, so we synthesize the Event they
 * expect from each new kill.  "New" is a change of lastState.terminated
 * between two observations of the same Pod: a kill already present when a
 * Pod is first seen (a restart of ours, a relist) is history, not news.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "signal/signal.h"

static json_t *
find_status(json_t *pod, const char *list, const char *name)
{
	json_t *arr = json_object_get(json_object_get(pod, "status"), list);
	json_t *cs;
	size_t i;

	json_array_foreach(arr, i, cs) {
		const char *n = json_string_value(json_object_get(cs, "name"));

		if (n && strcmp(n, name) == 0)
			return cs;
	}
	return NULL;
}

static int
same_str(json_t *a, json_t *b, const char *key)
{
	const char *x = json_string_value(json_object_get(a, key));
	const char *y = json_string_value(json_object_get(b, key));

	return x == y || (x && y && strcmp(x, y) == 0);
}

static const char *
memory_limit(json_t *pod, const char *list, const char *container)
{
	json_t *arr = json_object_get(json_object_get(pod, "spec"),
	    strcmp(list, "initContainerStatuses") == 0 ? "initContainers" :
	    "containers"), *c;
	size_t i;

	json_array_foreach(arr, i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));

		if (n && strcmp(n, container) == 0)
			return json_string_value(json_object_get(
			    json_object_get(json_object_get(c, "resources"),
			    "limits"), "memory"));
	}
	return NULL;
}

/*
 * Building the Event is most of what a detected kill costs, so it uses
 * jansson's unchecked constructors where the check cannot fail: keys are
 * literals, and every text is a literal or made of strings of a jansson
 * tree (UTF-8: jansson's constructors and the reader check it) joined by
 * ASCII.  The C strings are read to their NUL, as json_string read them.
 */
#define KEY(k)		(k), sizeof(k) - 1
#define LIT(s)		json_stringn_nocheck((s), sizeof(s) - 1)

/*
 * What every Event says alike, made once and shared by them all (a
 * reference each): a storm synthesizes an Event per signal, and these
 * seven strings and the source object were a tenth of its values, each
 * allocated and freed again.  Sharing is safe as the view's trees are
 * shared: no reader changes a value it is handed (nothing in the tree
 * calls a json_*_set on a string, and the routed Event is read only);
 * jansson counts references atomically, so `run`'s threads may hold
 * them.  Kept to the process's end.
 */
static struct {
	json_t	*v1, *event, *pod, *oomkilled, *warning, *reporting;
	json_t	*source;	/* {"component": "remediate-oom-detector"} */
} fixed;
static pthread_once_t	fixed_once = PTHREAD_ONCE_INIT;

static void
make_fixed(void)
{
	fixed.v1 = LIT("v1");
	fixed.event = LIT("Event");
	fixed.pod = LIT("Pod");
	fixed.oomkilled = LIT("OOMKilled");
	fixed.warning = LIT("Warning");
	fixed.reporting = LIT("remediate.dev/oom-detector");
	fixed.source = json_object();
	json_object_setn_new_nocheck(fixed.source, KEY("component"),
	    LIT("remediate-oom-detector"));
}

#define FIXED(v)	json_incref(fixed.v)

/*
 * A string of the Pod (v) as the Event's: v itself, a reference, rather
 * than a copy made and freed with every Event (the Pod's values are read
 * only, as the view's are shared); a copy cut at the first NUL when v
 * holds one, as reading its C string did.
 */
static json_t *
text(json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = strlen(s);

	return n == json_string_length(v) ? json_incref(v) :
	    json_stringn_nocheck(s, n);
}

/* o[k] = v, and no member at all when v is NULL (json_pack's "s*"). */
static void
set_opt(json_t *o, const char *k, size_t klen, json_t *v)
{
	if (v)
		json_object_setn_new_nocheck(o, k, klen, text(v));
}

/*
 * One new kill: what the Event says of it, borrowed from the Pod (the
 * Pod's strings as its JSON values, which the Event holds: text()).
 */
struct kill {
	json_t		*pname;			/* the Pod's name, a string */
	json_t		*ns, *uid;		/* the Pod's, or NULL (no ""
						   namespace) */
	const char	*name;			/* the container's */
	const char	*list;			/* "containers" or
						   "initContainers" */
	json_t		*fin;			/* finishedAt, or NULL */
	const char	*limit;			/* its memory limit, or NULL */
	json_int_t	 exit_code, restarts;
	uint64_t	 hash;			/* of Pod, container, fin */
};

/* The Event's texts made of the kill's (printf's formats in comments). */
enum text { EVENT_NAME, FIELD_PATH, MESSAGE };

static void
fill(struct buf *b, enum text t, const struct kill *k)
{
	char hex[17];

	switch (t) {
	case EVENT_NAME:	/* "%s.oom.%012llx" */
		buf_adds(b, json_string_value(k->pname));
		buf_add(b, ".oom.", 5);
		util_hex64(hex, k->hash & 0xffffffffffffULL);
		buf_add(b, hex + 4, 12);	/* the 4 leading zeros off */
		break;
	case FIELD_PATH:	/* "spec.%s{%s}" */
		buf_add(b, "spec.", 5);
		buf_adds(b, k->list);
		buf_addc(b, '{');
		buf_adds(b, k->name);
		buf_addc(b, '}');
		break;
	case MESSAGE:
		/* "Container %s was OOM-killed (exit code %lld, restart
		   count %lld, memory limit %s)" */
		buf_add(b, "Container ", 10);
		buf_adds(b, k->name);
		buf_adds(b, " was OOM-killed (exit code ");
		buf_add_int(b, k->exit_code);
		buf_adds(b, ", restart count ");
		buf_add_int(b, k->restarts);
		buf_adds(b, ", memory limit ");
		buf_adds(b, k->limit ? k->limit : "none");
		buf_addc(b, ')');
		break;
	}
}

/*
 * Text t of kill k as a JSON string (a new reference), made on the stack
 * and made again on the heap in the rare case it does not fit.
 */
static json_t *
text_of(enum text t, const struct kill *k)
{
	char mem[256];
	struct buf b;
	json_t *s;

	buf_init_on(&b, mem, sizeof mem);
	fill(&b, t, k);
	if (!b.overflow)
		return json_stringn_nocheck(b.data, b.len);
	buf_init(&b, 0);
	fill(&b, t, k);
	s = json_stringn_nocheck(b.data, b.len);
	buf_free(&b);
	return s;
}

/*
 * The Event, built member by member in the order a json_pack format
 * listed them (a storm synthesizes one per signal, and json_pack reads
 * its format every time).  A new reference.
 */
static json_t *
event_object(const struct kill *k)
{
	json_t *ev = json_object(), *m = json_object(), *io = json_object();

	pthread_once(&fixed_once, make_fixed);
	json_object_setn_new_nocheck(ev, KEY("apiVersion"), FIXED(v1));
	json_object_setn_new_nocheck(ev, KEY("kind"), FIXED(event));
	json_object_setn_new_nocheck(m, KEY("name"), text_of(EVENT_NAME, k));
	set_opt(m, KEY("namespace"), k->ns);
	json_object_setn_new_nocheck(ev, KEY("metadata"), m);
	json_object_setn_new_nocheck(io, KEY("apiVersion"), FIXED(v1));
	json_object_setn_new_nocheck(io, KEY("kind"), FIXED(pod));
	json_object_setn_new_nocheck(io, KEY("name"), text(k->pname));
	set_opt(io, KEY("namespace"), k->ns);
	set_opt(io, KEY("uid"), k->uid);
	json_object_setn_new_nocheck(io, KEY("fieldPath"),
	    text_of(FIELD_PATH, k));
	json_object_setn_new_nocheck(ev, KEY("involvedObject"), io);
	json_object_setn_new_nocheck(ev, KEY("reason"), FIXED(oomkilled));
	json_object_setn_new_nocheck(ev, KEY("message"), text_of(MESSAGE, k));
	json_object_setn_new_nocheck(ev, KEY("type"), FIXED(warning));
	json_object_setn_new_nocheck(ev, KEY("source"), FIXED(source));
	json_object_setn_new_nocheck(ev, KEY("reportingComponent"),
	    FIXED(reporting));
	set_opt(ev, KEY("firstTimestamp"), k->fin);
	set_opt(ev, KEY("lastTimestamp"), k->fin);
	json_object_setn_new_nocheck(ev, KEY("count"), json_integer(1));
	return ev;
}

/* o's member key when it is a string (borrowed), else NULL. */
static json_t *
string_member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? v : NULL;
}

static json_t *
synthesize(json_t *pod, const char *list, const char *name, json_t *cs,
    json_t *term)
{
	json_t *meta = json_object_get(pod, "metadata");
	json_t *exitc = json_object_get(term, "exitCode");
	const char *pname, *fin;
	struct kill k;

	/* obj_name's and obj_namespace's strings (no "" namespace) */
	k.pname = json_object_get(meta, "name");
	pname = json_string_value(k.pname);
	k.ns = string_member(meta, "namespace");
	if (k.ns && *json_string_value(k.ns) == '\0')
		k.ns = NULL;
	k.uid = string_member(meta, "uid");
	k.name = name;
	k.list = strcmp(list, "initContainerStatuses") == 0 ?
	    "initContainers" : "containers";
	k.fin = string_member(term, "finishedAt");
	fin = json_string_value(k.fin);
	k.limit = memory_limit(pod, list, name);
	k.exit_code = json_is_integer(exitc) ? json_integer_value(exitc) :
	    137;
	k.restarts = json_integer_value(json_object_get(cs, "restartCount"));
	k.hash = util_hash(pname, strlen(pname) + 1, UTIL_HASH_SEED);
	k.hash = util_hash(name, strlen(name) + 1, k.hash);
	if (fin)
		k.hash = util_hash(fin, strlen(fin), k.hash);
	return event_object(&k);
}

static void
scan(json_t *old, json_t *pod, const char *list, json_t *out)
{
	json_t *arr = json_object_get(json_object_get(pod, "status"), list);
	json_t *cs, *term, *oterm, *ocs;
	size_t i;

	json_array_foreach(arr, i, cs) {
		const char *name = json_string_value(json_object_get(cs,
		    "name"));
		const char *reason;

		term = json_object_get(json_object_get(cs, "lastState"),
		    "terminated");
		reason = json_string_value(json_object_get(term, "reason"));
		if (name == NULL || reason == NULL ||
		    strcmp(reason, "OOMKilled") != 0)
			continue;
		if ((ocs = find_status(old, list, name)) == NULL)
			continue;	/* first sight of this container */
		oterm = json_object_get(json_object_get(ocs, "lastState"),
		    "terminated");
		if (oterm && same_str(term, oterm, "finishedAt") &&
		    same_str(term, oterm, "containerID") &&
		    same_str(term, oterm, "reason"))
			continue;	/* the same kill seen again */
		json_array_append_new(out, synthesize(pod, list, name, cs,
		    term));
	}
}

static const char *
uid_of(json_t *o)
{
	return json_string_value(json_object_get(json_object_get(o,
	    "metadata"), "uid"));
}

json_t *
sig_oom_detect(json_t *old, json_t *pod)
{
	json_t *out = json_array();
	const char *was, *is;

	if (old == NULL || pod == NULL || obj_name(pod) == NULL)
		return out;	/* a Pod without a name names no Event */
	/*
	 * Another Pod under the old name (a StatefulSet's, recreated while
	 * a watch was down): first sight, so its kills are history.
	 */
	if ((was = uid_of(old)) != NULL && (is = uid_of(pod)) != NULL &&
	    strcmp(was, is) != 0)
		return out;
	scan(old, pod, "containerStatuses", out);
	scan(old, pod, "initContainerStatuses", out);
	return out;
}
