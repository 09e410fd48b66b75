/*
 * The error-budget gate's question, asked of Prometheus on the engine
 * thread.  A decision that may act needs a fresh answer before it acts,
 * so it waits for one, up to the query's timeout (5 s by default).
 *
 * A Prometheus that stops answering (hung, overloaded, packets dropped)
 * then held the engine for a whole timeout at every signal of a
 * budget-gated trigger: a decision stopped at the budget takes no rate
 * token, so the next signal could act too and asked again, and every
 * decision behind it, of any trigger, waited.  A storm of a hundred
 * such signals was eight minutes of nothing decided.
 *
 * So after a question that failed slowly (BUDGET_SLOW_MS or half its
 * timeout: a timeout, a connect that hung), the gate does not ask for a
 * while and reads "no value" at once, which fails closed as any failure
 * does: the record says "budget", the log says why.  The hold is 5 s,
 * doubling with each slow failure in a row up to 60 s, so a Prometheus
 * that stays away costs the engine one timeout a minute.  Any answer
 * ends the holds, and so does a failure that came fast (refused, a bad
 * query): Prometheus is there, and such a failure costs nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/budget.h"
#include "prom/prom.h"
#include "util/util.h"

int64_t
daemon_budget_held(const struct daemon_budget *b, int64_t mono_now)
{
	return b->held_until > mono_now ? b->held_until - mono_now : 0;
}

int64_t
daemon_budget_note(struct daemon_budget *b, int failed, int64_t took_ms,
    long timeout_ms, int64_t mono_now, const char *why)
{
	int64_t hold;

	if (!failed || (took_ms < BUDGET_SLOW_MS && took_ms < timeout_ms / 2)) {
		b->held_until = 0;
		b->next_hold = 0;
		return 0;
	}
	hold = b->next_hold > 0 ? b->next_hold : BUDGET_HOLD_FIRST;
	b->held_until = mono_now + hold;
	b->next_hold = hold >= BUDGET_HOLD_MAX / 2 ? BUDGET_HOLD_MAX :
	    hold * 2;
	snprintf(b->why, sizeof b->why, "%s", why ? why : "?");
	return hold;
}

int
daemon_budget_ask(struct daemon_budget *b, const char *url, long timeout_ms,
    const char *query, int64_t now, double *value, int64_t *at)
{
	struct prom_result res;
	const char *why = NULL;
	char *err = NULL, held[320];
	int64_t start, took, left, hold;
	int rc = -1;

	if (url == NULL) {
		util_log_json("warn", "budget query without a Prometheus URL",
		    json_pack("{s:s}", "query", query));
		return -1;
	}
	start = clock_monotonic_ms();
	if ((left = daemon_budget_held(b, start)) > 0) {
		snprintf(held, sizeof held, "not asked for %llds more: the "
		    "last question failed slowly (%s)", (long long)((left +
		    999) / 1000), b->why);
		util_log_json("warn", "no error-budget value", json_pack(
		    "{s:s, s:s}", "query", query, "why", held));
		return -1;
	}
	memset(&res, 0, sizeof res);
	if (prom_query(url, query, timeout_ms, now, NULL, &res, &err) == -1)
		why = err;
	else if (prom_gate_value(&res, now, 0, value, at, &why) == 0)
		rc = 0;
	took = clock_monotonic_ms() - start;
	/* a gate's "no sample" is an answer: only the query's failure holds */
	hold = daemon_budget_note(b, err != NULL, took, timeout_ms, start +
	    took, why);
	if (rc == -1)
		util_log_json("warn", "no error-budget value", json_pack("{s:s, "
		    "s:s, s:s*}", "query", query, "why", why ? why : "?",
		    "warning", res.nwarnings ? res.warnings[0] : NULL));
	if (hold > 0)
		util_log_json("warn", "budget queries held", json_pack("{s:s, "
		    "s:I, s:I, s:s}", "prometheus", url, "took_ms",
		    (json_int_t)took, "hold_ms", (json_int_t)hold, "why",
		    b->why));
	prom_result_clear(&res);
	free(err);
	return rc;
}
