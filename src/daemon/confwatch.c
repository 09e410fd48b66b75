/*
 * `run` reads its manifests once, at start.  In a cluster they come from
 * a ConfigMap volume, which the kubelet updates by swapping the ..data
 * symlink; with --exit-on-change the engine thread compares a fingerprint
 * of the files (conf_fingerprint, what conf_load would read) every few
 * seconds, and when they changed into manifests that load and compile, it
 * exits so the kubelet starts it again with them: the restart is the
 * reload, with every check `run` makes at start.  Manifests that do not
 * compile are refused and logged, and the running configuration stays:
 * a bad change never takes remediate down.
 */
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "daemon/confwatch.h"
#include "engine/engine.h"

void
daemon_confwatch_start(struct daemon_confwatch *w, const char *const *paths,
    size_t npaths)
{
	memset(w, 0, sizeof *w);
	w->paths = paths;
	w->npaths = npaths;
	w->loaded = conf_fingerprint(paths, npaths);
}

/* Loads and compiles as `check` does; 0 clean, -1 with the errors printed. */
static int
compiles(const struct daemon_confwatch *w, size_t *errors)
{
	struct engine *e = NULL;
	struct conf *c;
	struct diags dg;

	diag_init(&dg);
	c = conf_load(w->paths, w->npaths, &dg);
	if (dg.errors == 0)
		e = engine_compile(c, &dg);
	diag_print(&dg, stderr);
	*errors = dg.errors;
	engine_free(e);
	conf_free(c);
	diag_free(&dg);
	return *errors ? -1 : 0;
}

int
daemon_confwatch_changed(struct daemon_confwatch *w)
{
	uint64_t now = conf_fingerprint(w->paths, w->npaths);
	size_t errors;

	if (now == w->loaded || now == w->refused)
		return 0;
	if (compiles(w, &errors) == -1) {
		w->refused = now;
		util_log_json("error", "manifests changed but do not load; "
		    "still running the old ones", json_pack("{s:i}", "errors",
		    (int)errors));
		return 0;
	}
	util_log_json("info", "manifests changed; exiting so they load at "
	    "the restart", NULL);
	return 1;
}
