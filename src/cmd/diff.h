/*
 * remediate diff's internals, shared by diff.c (loading the recorded
 * signals, replaying them) and diff_report.c (comparing, printing); not
 * part of the module's public surface (cmd.h is).
 */
#ifndef CMD_DIFF_H
#define CMD_DIFF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "cluster/cluster.h"

/* One recorded signal, rebuilt from its records' inputs. */
struct diff_signal {
	int64_t		 time;		/* ms: when it was decided */
	int64_t		 seq;		/* the engine's signal number */
	json_t		*inputs;	/* owned: the union of its records'
					   notes */
	json_t		*recorded;	/* owned: its records, as written */
	json_t		*out[2];	/* owned: the records replayed through
					   --from [0] and --to [1] */
	int		 truncated;	/* a note was above AUDIT_INPUTS_MAX:
					   not replayed */
	int		 unreadable;	/* its note does not read: not
					   replayed */
	int		 incomplete;	/* a replay asked what the note does
					   not answer (a budget query the
					   recorded decisions never made) */
};

struct diff {
	struct diff_signal	*sig;		/* owned, in time order */
	size_t			 nsig, capsig;
	json_t			*index;		/* owned: "time/seq" -> index,
						   while loading */
	json_t			*history;	/* owned: every record since,
						   oldest first */
	int64_t			 since;		/* ms */
	long			 no_inputs;	/* records without inputs */
	long			 truncated;	/* records with cut inputs */
	long			 unreadable;	/* records that do not read */
	struct cluster		*cluster;	/* owned: the view replayed */
	struct diff_signal	*cur;		/* borrowed: being replayed */
	int			 which;		/* 0 --from, 1 --to */
};

/*
 * Replays every signal of df through the configuration at dirs (n
 * paths), filling each signal's out[which].  Returns 0, or -1 when the
 * configuration does not load (diagnostics printed).
 */
int	diff_replay(struct diff *, const char **dirs, size_t n, int which);
/* Prints the decisions that differ between out[0] and out[1], counts. */
void	diff_report(const struct diff *, int json, FILE *);
/* Prints what auto would have done for dry-run and notify decisions. */
void	diff_shadow(const struct diff *, int json, FILE *);

#endif /* CMD_DIFF_H */
