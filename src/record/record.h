/*
 * record: the decision record, the one thing every event that passes a
 * sensor's filters leaves behind, per trigger (DESIGN.md "Decision
 * record").  The same JSON goes to the audit log, replay's output and the
 * logs.  A table view helps people read a replay.
 */
#ifndef RECORD_H
#define RECORD_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "cluster/cluster.h"

enum rec_decision {
	REC_ACTED,
	REC_FAILED,
	REC_DRY_RUN,
	REC_NOTIFIED,
	REC_PENDING_APPROVAL,
	REC_SUPPRESSED,
	REC_DEMOTED,
	REC_EXPIRED,		/* a pending approval nobody approved in time,
				   or one its trigger's change made void */
	REC_DECLINED,		/* a pull request closed unmerged, an
				   approval refused: counts toward demotion
				   as a recurrence does */
};
#define REC_NDECISIONS	(REC_DECLINED + 1)

/*
 * How a record becomes text wherever it is shown or stored: compact, in
 * field order, reals to 16 significant digits, so the budget 0.8 a
 * recording gives reads 0.8 (jansson's default of 17 digits prints
 * 0.80000000000000004, true to the double, false to the reader).
 */
#define REC_JSON_FLAGS	(JSON_COMPACT | JSON_PRESERVE_ORDER |		\
			 JSON_REAL_PRECISION(16))

/* Reasons for REC_SUPPRESSED, in the order the checks run. */
enum rec_reason {
	REASON_NONE,
	REASON_STALE,
	REASON_BELOW_THRESHOLD,
	REASON_DISABLED,
	REASON_COOLDOWN,
	REASON_OPT_OUT,
	REASON_POLICY,
	REASON_AT_CAP,
	REASON_UNSUPPORTED_TARGET,
	REASON_BLAST_RADIUS,
	REASON_GITOPS_MANAGED,	/* a GitOps controller would revert it */
	REASON_CONFLICT,	/* another manager owns a field it writes */
	REASON_BUDGET,
	REASON_CIRCUIT_OPEN,
	REASON_RATE_LIMITED,
};
#define REC_NREASONS	(REASON_RATE_LIMITED + 1)

struct rec_decision_record {
	int64_t			 time;		/* ms: the clock */
	const char		*cluster;	/* borrowed: run's
						   --cluster-name; NULL: none
						   (replay, test) */
	const char		*sensor;	/* borrowed: "ns/name" */
	const char		*trigger;	/* borrowed */
	struct objref		 target;	/* owned members */
	struct objref		 subject;	/* owned members */
	enum rec_decision	 decision;
	enum rec_reason		 reason;
	char			*message;	/* owned, may be NULL */
	json_t			*plan;		/* owned, may be NULL */
	const char		*event_source;	/* borrowed */
	const char		*event_name;	/* borrowed */
	const char		*event_id;	/* borrowed */
	json_t			*extra;		/* owned, may be NULL: more
						   fields (budget, policy) */
	/*
	 * Owned reference, may be NULL: what the decision read (the
	 * engine's inputs note, src/engine/inputs.c).  Not part of the
	 * record's JSON: the audit store keeps it beside the record.
	 */
	json_t			*inputs;
};

const char	*rec_decision_name(enum rec_decision);
const char	*rec_reason_name(enum rec_reason);
/* Frees owned members and zeroes the struct. */
void		 rec_clear(struct rec_decision_record *);
/* The record as DESIGN.md shapes it; a new reference. */
json_t		*rec_to_json(const struct rec_decision_record *);
/* One compact JSON line with a newline; owned. */
char		*rec_to_line(const struct rec_decision_record *);
/*
 * The same line appended to b, written straight from the record (no tree
 * is built); byte for byte what rec_to_line gives.
 */
void		 rec_write_line(const struct rec_decision_record *,
		    struct buf *b);

/*
 * A table of records for people: one line each with time, trigger,
 * target, decision, reason and message.  Each column is as wide as its
 * widest cell, so long names keep the columns aligned; that needs every
 * row before the first is printed, so a table holds its rows (JSON lines
 * are the form for long streams).
 */
struct rec_table;
/* Returns an owned, empty table. */
struct rec_table *rec_table_new(void);
/* Adds a row for record (borrowed: its cells are copied). */
void	rec_table_add(struct rec_table *, json_t *record);
/* Prints the header and every row added so far, then forgets the rows. */
void	rec_table_print(struct rec_table *, FILE *);
void	rec_table_free(struct rec_table *);

#endif /* RECORD_H */
