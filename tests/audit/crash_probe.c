/*
 * The crash probe: a child process that decides as fast as it can, the
 * way the engine does, while the parent (test_audit.c, which includes
 * this file) kills it with SIGKILL at random moments and checks the file.
 *
 * Each decision: one rate token and a cooldown mark taken in the guard
 * state, the action's intent written (audit_intend), then its outcome
 * (audit_write).  After each durable step the child tells the parent on a
 * pipe ("I n" / "W n"): what the parent was told is what a caller was
 * promised, so it must be in the file after the kill.  The rate bucket is
 * never refilled (one clock instant), so after a restart its tokens must
 * equal its size minus the rows in the file: no token given back, none
 * lost.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"

#define PROBE_T0	1764064800000LL
#define PROBE_TOKENS	1000000		/* rate bucket size */
#define PROBE_TARGETS	7

static void
probe_config(struct guard_config *c)
{
	guard_config_defaults(c);
	c->rate_per_unit = PROBE_TOKENS;
	c->rate_unit = 3600000;
	c->cooldown = 10 * 60000;
}

static void
probe_target(long n, char *buf, size_t len)
{
	snprintf(buf, len, "w%ld", n % PROBE_TARGETS);
}

static void
probe_record(struct rec_decision_record *r, long n, char *id, size_t idlen,
    enum rec_decision d)
{
	char name[32];

	memset(r, 0, sizeof *r);
	probe_target(n, name, sizeof name);
	snprintf(id, idlen, "%ld", n);
	r->time = PROBE_T0 + n;
	r->sensor = "ns/probe";
	r->trigger = "t";
	r->decision = d;
	r->event_id = id;
	objref_set(&r->target, "Deployment", "ns", name);
	r->message = xasprintf("decision %ld", n);
}

static void
tell(int fd, char what, long n)
{
	char line[32];
	int len = snprintf(line, sizeof line, "%c %ld\n", what, n);

	if (write(fd, line, (size_t)len) != len)
		_exit(3);
}

/* The writer thread's telling (opts.stored): the next n in order. */
struct probe_told {
	int	 fd;
	long	 next;		/* the oldest decision not yet told */
};

static void
probe_stored(void *ctx, size_t n, int stored)
{
	struct probe_told *pt = ctx;

	pt->next += (long)n;
	if (!stored)
		_exit(6);
	tell(pt->fd, 'W', pt->next - 1);
}

/*
 * The child: decides from decision `start` on until killed, with every
 * transaction synchronous=FULL or as shipped (NORMAL, intents FULL), and
 * with group commit (group 1) or without (0), or with group commit and
 * the writer thread (2).  Grouped, an outcome is held (audit_write
 * returns 1) and told only once a flush (every third decision) stored it;
 * the next intent writes it too, untold.  With the writer thread only
 * every 50th decision is an action with an intent (so groups fill and go
 * to the writer between them), a flush every 200th, and a decision is
 * told written when the store tells it stored.
 */
static void
crash_probe_child(const char *path, int fd, long start, int sync_full,
    int group)
{
	struct audit_opts o;
	struct guard_config c;
	struct guard_state *g = guard_state_new();
	struct rec_decision_record r;
	struct probe_told pt = { fd, start };
	char *err = NULL, msg[GUARD_MSGLEN], id[32];
	struct audit *a;
	long n;

	audit_opts_defaults(&o);
	o.sync_full = sync_full;
	o.group = group ? AUDIT_GROUP_MAX : 0;
	if (group == 2) {
		o.stored = probe_stored;
		o.stored_ctx = &pt;
	}
	probe_config(&c);
	if ((a = audit_open(path, &o, &err)) == NULL ||
	    audit_attach_guard(a, g, &err) == -1) {
		fprintf(stderr, "probe: %s\n", err);
		_exit(2);
	}
	for (n = start;; n++) {
		probe_record(&r, n, id, sizeof id, REC_ACTED);
		if (!guard_take_rate_token(g, &c, "t", PROBE_T0, msg,
		    sizeof msg))
			_exit(4);
		guard_record_action(g, "t", "Deployment/ns/w", PROBE_T0);
		if (group == 2) {
			if (n % 50 == 0) {
				if (audit_intend(a, &r) == -1)
					_exit(5);
				tell(fd, 'I', n);
			}
			audit_write(a, &r);
			if (n % 200 == 199 && audit_flush(a) != 0)
				_exit(6);
			rec_clear(&r);
			continue;
		}
		if (audit_intend(a, &r) == -1)
			_exit(5);
		tell(fd, 'I', n);
		switch (audit_write(a, &r)) {
		case -1:
			_exit(6);
		case 1:
			if (n % 3 || audit_flush(a) != 0)
				break;
			/* FALLTHROUGH */
		case 0:
			tell(fd, 'W', n);
		}
		rec_clear(&r);
	}
}
