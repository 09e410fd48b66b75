/*
 * What a command reading a state file (history, diff) tells people of
 * it: the store's warnings as plain lines, and each record that does not
 * read named and counted, so the command can say its answer is not the
 * whole of it (exit status 1).  The store's log hook takes no context,
 * hence one command's count at a time, which is all a process runs.
 */
#include <stdio.h>

#include "audit/audit.h"
#include "cmd/cmd_int.h"

static const char *who;		/* "history": the command's name */
static long unreadable;

static void
say(const char *level, const char *msg, json_t *fields)
{
	json_t *id = json_object_get(fields, "id");

	(void)level;
	if (id != NULL) {
		unreadable++;
		fprintf(stderr, "remediate %s: %s: record %lld cannot be read "
		    "(%s); skipped\n", who, json_string_value(json_object_get(
		    fields, "path")), (long long)json_integer_value(id),
		    json_string_value(json_object_get(fields, "error")));
	} else
		fprintf(stderr, "remediate %s: %s\n", who, msg);
	json_decref(fields);
}

void
cmd_state_log(struct audit_opts *o, const char *command)
{
	who = command;
	unreadable = 0;
	o->log = say;
}

long
cmd_state_unreadable(void)
{
	return unreadable;
}
