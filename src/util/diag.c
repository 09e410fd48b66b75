/*
 * Diagnostics about user input.  Loaders keep going after an error and add
 * to the list, so a user sees every problem of a manifest directory in one
 * run.  Printing re-reads the source line so each message shows where it
 * points, as compilers do.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static const char *const level_names[] = { "error", "warning", "note" };

void
diag_init(struct diags *d)
{
	memset(d, 0, sizeof *d);
}

void
diag_free(struct diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
		free(d->v[i].hint);
	}
	free(d->v);
	diag_init(d);
}

static void
vadd(struct diags *d, enum diag_level lvl, struct loc at, const char *fmt,
    va_list ap)
{
	struct diag *g;

	xgrow(&d->v, &d->cap, d->n + 1, sizeof *d->v);
	g = &d->v[d->n++];
	g->level = lvl;
	g->file = at.file ? xstrdup(at.file) : NULL;
	g->line = at.line;
	g->col = at.col;
	g->msg = xvasprintf(fmt, ap);
	g->hint = NULL;
	if (lvl == DIAG_ERROR)
		d->errors++;
	else if (lvl == DIAG_WARNING)
		d->warnings++;
}

void
diag_add(struct diags *d, enum diag_level lvl, struct loc at,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(d, lvl, at, fmt, ap);
	va_end(ap);
}

void
diag_error(struct diags *d, struct loc at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(d, DIAG_ERROR, at, fmt, ap);
	va_end(ap);
}

void
diag_warn(struct diags *d, struct loc at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(d, DIAG_WARNING, at, fmt, ap);
	va_end(ap);
}

void
diag_hint(struct diags *d, const char *fmt, ...)
{
	va_list ap;
	struct diag *g;

	if (d->n == 0)
		return;
	g = &d->v[d->n - 1];
	free(g->hint);
	va_start(ap, fmt);
	g->hint = xvasprintf(fmt, ap);
	va_end(ap);
}

static int
cmp_diag(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;
	int c;

	c = strcmp(x->file ? x->file : "", y->file ? y->file : "");
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return 0;
}

/* Prints line `line` of `file` and a caret under column `col`. */
static void
print_source(FILE *out, const char *file, int line, int col)
{
	FILE *f;
	char text[512];
	int n = 1, i;

	if (file == NULL || line <= 0 || (f = fopen(file, "r")) == NULL)
		return;
	while (fgets(text, sizeof text, f) != NULL) {
		size_t len = strlen(text);
		int whole = len > 0 && text[len - 1] == '\n';

		if (n == line) {
			if (whole)
				text[len - 1] = '\0';
			fprintf(out, "  %s\n  ", text);
			for (i = 1; i < col && text[i - 1] != '\0'; i++)
				fputc(text[i - 1] == '\t' ? '\t' : ' ', out);
			fputs("^\n", out);
			break;
		}
		if (whole)
			n++;
	}
	fclose(f);
}

void
diag_print(struct diags *d, FILE *out)
{
	size_t i;

	/* stable: equal positions keep the order they were found in */
	for (i = 1; i < d->n; i++) {
		struct diag t = d->v[i];
		size_t j = i;

		while (j > 0 && cmp_diag(&d->v[j - 1], &t) > 0) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = t;
	}
	for (i = 0; i < d->n; i++) {
		struct diag *g = &d->v[i];

		if (g->file && g->line > 0)
			fprintf(out, "%s:%d:%d: ", g->file, g->line, g->col);
		else if (g->file)
			fprintf(out, "%s: ", g->file);
		fprintf(out, "%s: %s\n", level_names[g->level], g->msg);
		print_source(out, g->file, g->line, g->col);
		if (g->hint)
			fprintf(out, "  hint: %s\n", g->hint);
	}
}
