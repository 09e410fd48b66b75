/*
 * Conditions of the prometheus event source: a comparison of each
 * sample's value with a number, "> 0.5".  The grammar is the schema's
 * (conf/schema_eventsource.c checks it at load).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom/prom.h"

static const struct {
	const char	*text;
	enum prom_op	 op;
} ops[] = {
	/* two-character operators first */
	{ ">=", PROM_GE }, { "<=", PROM_LE }, { "==", PROM_EQ },
	{ "!=", PROM_NE }, { ">", PROM_GT }, { "<", PROM_LT },
};

int
prom_cond_parse(const char *s, struct prom_cond *c)
{
	const char *p;
	char *end;
	size_t i, n;

	if (s == NULL)
		return -1;
	p = s + strspn(s, " \t");
	for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		n = strlen(ops[i].text);
		if (strncmp(p, ops[i].text, n) == 0)
			break;
	}
	if (i == sizeof ops / sizeof ops[0])
		return -1;
	c->op = ops[i].op;
	p += n;
	p += strspn(p, " \t");
	c->value = strtod(p, &end);
	if (end == p || isnan(c->value))
		return -1;
	end += strspn(end, " \t");
	return *end == '\0' ? 0 : -1;
}

int
prom_cond_holds(const struct prom_cond *c, double v)
{
	if (isnan(v))
		return 0;
	switch (c->op) {
	case PROM_GT:
		return v > c->value;
	case PROM_GE:
		return v >= c->value;
	case PROM_LT:
		return v < c->value;
	case PROM_LE:
		return v <= c->value;
	case PROM_EQ:
		return v == c->value;
	case PROM_NE:
		return v != c->value;
	}
	return 0;
}

void
prom_cond_format(const struct prom_cond *c, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (ops[i].op == c->op)
			break;
	/* the shortest form that reads back as the same number */
	snprintf(out, outlen, "%s %.15g", i < sizeof ops / sizeof ops[0] ?
	    ops[i].text : "?", c->value);
	if (strtod(strchr(out, ' ') + 1, NULL) != c->value)
		snprintf(out, outlen, "%s %.17g", i < sizeof ops /
		    sizeof ops[0] ? ops[i].text : "?", c->value);
}
