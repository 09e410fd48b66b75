/*
 * The layout of compiled sources, shared by the files of the signal stage
 * (source.c compiles, route.c matches).  Not part of the public surface.
 */
#ifndef SIGNAL_SOURCE_INT_H
#define SIGNAL_SOURCE_INT_H

#include <stddef.h>

#include "signal/signal.h"

struct sel {			/* one label or field requirement */
	char	*key;		/* owned: label key or dotted field path */
	char	*op;		/* owned: = == != in notin exists ! gt lt */
	char	*value;		/* owned, may be NULL */
};

struct sig_source {
	char		*eventsource;	/* owned: EventSource metadata.name */
	char		*name;		/* owned: entry name */
	enum sig_type	 type;
	/* resource */
	char		*group, *version, *resource;	/* owned */
	char		*namespace;	/* owned; NULL for all */
	unsigned	 event_types;	/* enum sig_watch_type bits */
	char		*prefix;	/* owned; name prefix or NULL */
	struct sel	*labels, *fields;	/* owned */
	size_t		 nlabels, nfields;
	char		*detail;	/* owned: describe text for others */
};

struct sig_set {
	struct sig_source	**v;	/* owned */
	size_t			  n, cap;
};

#endif /* SIGNAL_SOURCE_INT_H */
