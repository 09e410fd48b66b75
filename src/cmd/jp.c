/*
 * remediate jp: evaluates a JMESPath expression, with Kyverno's functions,
 * on JSON from stdin (or -f FILE), like the jp tool.
 *
 *	remediate jp [-u] [-f FILE] [-e FILE] [--objects FILE] EXPRESSION
 *
 * Exit status: 0 with the result printed as JSON; 2 for a usage or syntax
 * error (the expression is shown with a caret under the column); 1 when
 * evaluation fails (the message names the function and argument), a file
 * named by -f, -e or --objects cannot be read (the message names the
 * option), or the input is not JSON.  --objects gives lookup() a cluster to read: a JSON
 * array of Kubernetes objects, or a List with items.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/args.h"
#include "cmd/cmd.h"
#include "jp/jp.h"
#include "util/util.h"

#define MAX_INPUT	(256u << 20)	/* bytes of JSON input */

static void
usage(FILE *f)
{
	fprintf(f, "usage: remediate jp [-u] [-f FILE] [-e FILE] "
	    "[--objects FILE] EXPRESSION\n"
	    "  -f FILE          read the input JSON from FILE (default stdin)\n"
	    "  -e FILE          read the expression from FILE\n"
	    "  -u               print a string result without quotes\n"
	    "  --objects FILE   objects lookup(kind, ns, name, path) reads\n");
}

static char *
read_stream(FILE *f, size_t max, size_t *len)
{
	struct buf b;
	char chunk[65536];
	size_t n;

	buf_init(&b, max);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_add(&b, chunk, n) < 0)
			break;
	if (b.overflow || ferror(f)) {
		buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return buf_steal(&b);
}

/* Reads PATH (stdin for NULL or "-"), given by option OPT; an error names
 * the option. Returns an owned buffer, or NULL. */
static char *
read_input(const char *opt, const char *path, size_t max, size_t *len)
{
	char *err = NULL, *s;

	if (path == NULL || strcmp(path, "-") == 0) {
		if ((s = read_stream(stdin, max, len)) == NULL)
			fprintf(stderr, "remediate jp: cannot read stdin (or "
			    "larger than %zu bytes)\n", max);
		return s;
	}
	if ((s = util_read_file(path, max, len, &err)) == NULL) {
		fprintf(stderr, "remediate jp: %s: %s\n", opt,
		    err ? err : path);
		free(err);
	}
	return s;
}

/* lookup() over an array of objects: kind, metadata.namespace, name. */
static json_t *
objects_lookup(void *ctx, const char *kind, const char *ns, const char *name)
{
	json_t *objs = ctx, *o, *md;
	const char *ons;
	size_t i;

	json_array_foreach(objs, i, o) {
		md = json_object_get(o, "metadata");
		ons = json_string_value(json_object_get(md, "namespace"));
		if (json_is_string(json_object_get(o, "kind")) &&
		    strcmp(json_string_value(json_object_get(o, "kind")),
		    kind) == 0 &&
		    strcmp(ons ? ons : "", ns) == 0 &&
		    json_is_string(json_object_get(md, "name")) &&
		    strcmp(json_string_value(json_object_get(md, "name")),
		    name) == 0)
			return json_incref(o);
	}
	return NULL;
}

static json_t *
load_json(const char *opt, const char *path, const char *what)
{
	json_error_t je;
	json_t *v;
	size_t len;
	char *s;

	if ((s = read_input(opt, path, MAX_INPUT, &len)) == NULL)
		return NULL;
	v = util_json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	free(s);
	if (v == NULL)
		fprintf(stderr, "remediate jp: %s is not JSON: line %d column "
		    "%d: %s\n", what, je.line, je.column, je.text);
	return v;
}

/* The expression's line holding pos, with a caret under its column. */
static void
show_caret(const char *src, int pos)
{
	const char *line = src, *end;
	int col, i;

	if (pos < 0)
		return;
	for (i = 0; i < pos && src[i]; i++)
		if (src[i] == '\n')
			line = src + i + 1;
	end = strchr(line, '\n');
	col = pos - (int)(line - src);
	fprintf(stderr, "  %.*s\n  ",
	    end ? (int)(end - line) : (int)strlen(line), line);
	for (i = 0; i < col; i++)
		fputc(line[i] == '\t' ? '\t' : ' ', stderr);
	fputs("^\n", stderr);
}

static int
print_result(json_t *r, int unquoted)
{
	char *s;

	if (unquoted && json_is_string(r)) {
		fwrite(json_string_value(r), 1, json_string_length(r), stdout);
		fputc('\n', stdout);
		return CMD_OK;
	}
	s = jp_dump(r, JP_DUMP_INDENT);
	puts(s);
	free(s);
	return CMD_OK;
}

/* One expression: the operand left after the options, or -e's file. */
static void
check_operands(struct cmd_args *a, const char *exprfile)
{
	int left = a->argc - a->i;

	if (exprfile == NULL && left == 0)
		cmd_args_fail(a, "no expression: give one, or -e FILE");
	else if (exprfile != NULL && left > 0)
		cmd_args_fail(a, "an expression and -e %s: give one of them",
		    exprfile);
	else if (left > 1)
		cmd_args_fail(a, "one expression, please (got %s and %s); "
		    "quote an expression with spaces", a->argv[a->i],
		    a->argv[a->i + 1]);
}

int
cmd_jp(int argc, char **argv)
{
	struct cmd_args a;
	const char *input = NULL, *exprfile = NULL, *objfile = NULL;
	char *src = NULL;
	int unquoted = 0, rc = CMD_FAILED, col;
	struct jp_error err;
	struct jp_expr *e = NULL;
	struct jp_env env;
	json_t *data = NULL, *objs = NULL, *r;
	size_t len;

	cmd_args_init(&a, argc, argv);
	for (; a.i < argc && !a.error; a.i++) {
		if (cmd_args_opt(&a, "--help", "-h", 0)) {
			usage(stdout);
			return CMD_OK;
		} else if (cmd_args_opt(&a, "--unquoted", "-u", 0))
			unquoted = 1;
		else if (cmd_args_opt(&a, "--file", "-f", 1))
			input = a.value;
		else if (cmd_args_opt(&a, "--expr-file", "-e", 1))
			exprfile = a.value;
		else if (cmd_args_opt(&a, "--objects", NULL, 1))
			objfile = a.value;
		else if (strcmp(argv[a.i], "--") == 0) {
			a.i++;
			break;
		} else if (argv[a.i][0] == '-' && argv[a.i][1] != '\0')
			cmd_args_fail(&a, "unknown option %s", argv[a.i]);
		else
			break;
	}
	if (!a.error)
		check_operands(&a, exprfile);
	if (a.error) {
		usage(stderr);
		return CMD_USAGE;
	}
	if (exprfile) {
		if ((src = read_input("-e", exprfile, JP_MAX_EXPR + 1,
		    &len)) == NULL)
			return CMD_FAILED;
		while (len > 0 && (src[len - 1] == '\n' ||
		    src[len - 1] == '\r'))
			src[--len] = '\0';
	} else
		src = xstrdup(argv[a.i]);

	if ((e = jp_compile(src, &err)) == NULL) {
		col = err.pos >= 0 ? err.pos + 1 : 0;
		if (err.kind == JP_ERR_SYNTAX) {
			fprintf(stderr, "remediate jp: syntax error at column "
			    "%d: %s\n", col, err.msg);
			show_caret(src, err.pos);
			rc = CMD_USAGE;
		} else {
			fprintf(stderr, "remediate jp: %s: %s\n",
			    jp_errkind_name(err.kind), err.msg);
			show_caret(src, err.pos);
			rc = err.kind == JP_ERR_LIMIT ? CMD_USAGE : CMD_FAILED;
		}
		goto out;
	}
	if ((data = load_json("-f", input, input ? input : "stdin")) == NULL)
		goto out;
	memset(&env, 0, sizeof env);
	if (objfile) {
		if ((objs = load_json("--objects", objfile, objfile)) == NULL)
			goto out;
		if (json_is_object(objs) && json_is_array(json_object_get(objs,
		    "items"))) {
			r = json_incref(json_object_get(objs, "items"));
			json_decref(objs);
			objs = r;
		}
		if (!json_is_array(objs)) {
			fprintf(stderr, "remediate jp: %s: want an array of "
			    "objects or a List\n", objfile);
			goto out;
		}
		env.lookup = objects_lookup;
		env.lookup_ctx = objs;
	}
	if ((r = jp_eval(e, data, &env, &err)) == NULL) {
		fprintf(stderr, "remediate jp: error: %s: %s\n",
		    jp_errkind_name(err.kind), err.msg);
		goto out;
	}
	rc = print_result(r, unquoted);
	json_decref(r);
out:
	jp_free(e);
	json_decref(data);
	json_decref(objs);
	free(src);
	return rc;
}
