/*
 * A decision's inputs: what the engine read to decide a signal, kept with
 * its records so `remediate diff` can decide the signal again offline
 * against another configuration (docs/state.md, docs/replay.md).
 *
 * For the duration of one signal the cluster view notes every answer it
 * gives (cluster_record): the objects found (subject, owner chain, what
 * policies look up), the pod counts, the Nodes' memory.  Answers from
 * outside the view are noted here as the engine gets them: objects read
 * fresh for the ownership check, error-budget values.  Every record of the
 * signal holds a reference to the same note, so a record written after
 * the signal (an action's outcome) carries all of it.  Nothing is copied
 * until the audit store writes the record.
 *
 * What a check reads only when reached (a policy's lookups, a budget) is
 * noted only when this configuration reached it; `diff` says so when a
 * replay asks for an answer the note lacks.
 *
 *   {"signal": N, "event": EVENT, "reads": {"objects": {...},
 *    "counts": {...}, "nodeMemory": {...}, "fetched": {...}},
 *    "budget": {QUERY: {"value": V, "at": MS} | null}}
 */
#include "engine/internal.h"

void
engine_inputs_begin(struct engine *e, const struct event *ev)
{
	json_t *reads;

	if (e->opts.no_inputs)
		return;		/* e->inputs stays NULL: notes are no-ops */
	reads = json_object();
	json_decref(e->inputs);
	e->inputs = json_pack("{s:I, s:o, s:o}", "signal",
	    (json_int_t)++e->signal_seq, "event", event_json(ev), "reads",
	    reads);
	if (e->opts.cluster == NULL)
		return;
	cluster_record(e->opts.cluster, reads);
	/*
	 * Noted up front, not when a check asks (both are O(1)): another
	 * configuration may reach blast radius where this one stopped
	 * earlier, and must count the cluster as it was.
	 */
	(void)cluster_count(e->opts.cluster, "Pod");
	(void)cluster_allocatable_memory(e->opts.cluster);
}

void
engine_inputs_end(struct engine *e)
{
	if (e->opts.cluster)
		cluster_record(e->opts.cluster, NULL);
	json_decref(e->inputs);
	e->inputs = NULL;
}

/* inputs[what][key] = v (stolen); no-op between signals. */
static void
note(struct engine *e, const char *what, const char *key, json_t *v)
{
	json_object_set_new(util_json_child(e->inputs, what), key, v);
}

void
engine_inputs_budget(struct engine *e, const char *query, int have,
    double value, int64_t at)
{
	if (e->inputs == NULL)	/* between signals, or no inputs kept */
		return;		/* (replay): nothing to build */
	note(e, "budget", query, have ? json_pack("{s:f, s:I}", "value",
	    value, "at", (json_int_t)at) : json_null());
}

void
engine_inputs_fetched(struct engine *e, const char *kind, const char *ns,
    const char *name, json_t *obj)
{
	char *ref;

	if (e->inputs == NULL)	/* as above: no key, no deep copy */
		return;
	ref = cluster_key(kind, ns, name);
	json_object_set_new(util_json_child(json_object_get(e->inputs,
	    "reads"), "fetched"), ref, obj ? json_deep_copy(obj) :
	    json_null());
	free(ref);
}
