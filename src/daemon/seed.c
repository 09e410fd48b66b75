/*
 * The webhook ingress's memory of alerts, from the state.
 *
 * The ingress remembers the alert ids it stored (src/webhook/dedup.c), so
 * that Alertmanager's redeliveries (every group_interval and
 * repeat_interval, and after a POST whose answer it did not get) are
 * acknowledged but not decided twice.  That memory is the process's: a
 * restart, a crash between the intake's commit and the 200, or a standby
 * taking over began with none, and the next redelivery of every alert was
 * decided again, counting twice toward a threshold's window (and acting
 * twice where no cooldown held it).
 *
 * So a start and a takeover read it back from the state before the first
 * request is stored: the signal ids of the newest decision records (as
 * many as the ingress remembers) and of the events accepted and not yet
 * decided, oldest first.  An alert's id is what its records keep as
 * signal.id, and names its other status too (hook_alert_id_other), so a
 * resolution stored after a firing forgets the firing here as it does in
 * the ingress.  Ids of other signals are skipped by the ingress.  In a
 * PostgreSQL database clusters share, only this cluster's records are
 * read (its alerts come to it alone); a SQLite file has one writer, every
 * record its own whatever its cluster was called.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "daemon/daemon_int.h"
#include "intake/intake.h"
#include "sqldb/sqldb.h"
#include "util/util.h"
#include "webhook/webhook.h"

struct seed_ids {
	char	**v;		/* owned strings */
	size_t	  n, cap;
};

static void
add_id(struct seed_ids *s, const char *id)
{
	xgrow(&s->v, &s->cap, s->n + 1, sizeof *s->v);
	s->v[s->n++] = xstrdup(id);
}

static void
from_record(void *ctx, const char *id)
{
	add_id(ctx, id);
}

static void
from_intake(void *ctx, const char *id)
{
	add_id(ctx, id);
}

int
daemon_dedup_seed(struct daemon *d)
{
	struct seed_ids s = { NULL, 0, 0 };
	size_t i, max, kept;
	char *err = NULL, *t;
	int rc = 0;

	if (d->hooks == NULL || d->audit == NULL || d->intake == NULL)
		return 0;	/* the other of the two calls seeds */
	max = hook_ingress_dedup_max(d->hooks);
	if (audit_signal_ids(d->audit, sqldb_is_postgres(d->o->state) ?
	    d->cluster_name : NULL, (long)max, from_record, &s, &err) == -1) {
		util_log_json("error", "cannot read the alerts already "
		    "decided", json_pack("{s:s}", "error", err ? err : "?"));
		free(err);
		rc = -1;
		goto out;
	}
	for (i = 0; i < s.n / 2; i++) {		/* oldest first */
		t = s.v[i];
		s.v[i] = s.v[s.n - 1 - i];
		s.v[s.n - 1 - i] = t;
	}
	if (intake_ids(d->intake, max, from_intake, &s) == -1)
		rc = -1;	/* logged */
	else {
		kept = hook_ingress_seed(d->hooks, (const char *const *)s.v,
		    s.n);
		util_log_json("info", "alerts remembered from the state",
		    json_pack("{s:I}", "alerts", (json_int_t)kept));
	}
out:
	for (i = 0; i < s.n; i++)
		free(s.v[i]);
	free(s.v);
	return rc;
}
