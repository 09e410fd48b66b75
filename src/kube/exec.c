/*
 * exec credential plugins (client.authentication.k8s.io): a program that
 * prints an ExecCredential with a token or a client certificate, and
 * when it expires.  It runs with fork and execve, never through a shell,
 * with our environment plus the kubeconfig's env entries; its output is
 * bounded and it is killed when it takes too long.
 */
#define _GNU_SOURCE	/* pipe2 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kube/kube.h"
#include "util/util.h"

#define MAX_OUTPUT	(1u << 20)	/* bytes of ExecCredential */

extern char **environ;

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The program to run: as given when it has a slash, else found in PATH. */
static char *
find_program(const char *cmd)
{
	const char *path = getenv("PATH"), *p, *q;
	char *f;
	struct stat st;

	if (strchr(cmd, '/'))
		return xstrdup(cmd);
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = q + 1) {
		q = strchr(p, ':');
		if (q == NULL)
			q = p + strlen(p);
		f = xasprintf("%.*s/%s", (int)(q - p), q == p ? "." : p, cmd);
		if (stat(f, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(f, X_OK) == 0)
			return f;
		free(f);
		if (*q == '\0')
			return NULL;
	}
}

static char *
exec_info(const struct kube_exec *e, const char *server)
{
	json_t *o, *spec;
	char *s;

	spec = json_pack("{s:b}", "interactive", 0);
	if (e->provide_cluster_info && server)
		json_object_set_new(spec, "cluster", json_pack("{s:s}",
		    "server", server));
	o = json_pack("{s:s, s:s, s:o}", "kind", "ExecCredential",
	    "apiVersion", e->api_version, "spec", spec);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* envp for the child: ours, then the plugin's entries (which win). */
static char **
child_env(const struct kube_exec *e, char *info)
{
	size_t n = 0, i, j, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = xcalloc(n + e->nenv + 2, sizeof *env);
	for (i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t kl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		int shadowed = strncmp(environ[i], "KUBERNETES_EXEC_INFO=",
		    21) == 0;

		for (j = 0; j < e->nenv && !shadowed; j++)
			shadowed = strncmp(e->env[j], environ[i], kl) == 0 &&
			    e->env[j][kl] == '=';
		if (!shadowed)
			env[k++] = environ[i];
	}
	for (j = 0; j < e->nenv; j++)
		env[k++] = e->env[j];
	env[k++] = info;
	env[k] = NULL;
	return env;
}

int
kube_exec_parse(const char *text, size_t len, char **token, char **cert,
    char **key, int64_t *expires, char **err)
{
	json_t *root, *st;
	json_error_t jerr;
	const char *s;

	*token = *cert = *key = NULL;
	*expires = 0;
	*err = NULL;
	if ((root = util_json_loadb(text, len, 0, &jerr)) == NULL) {
		*err = xasprintf("exec plugin output is not JSON: %s",
		    jerr.text);
		return -1;
	}
	s = json_string_value(json_object_get(root, "kind"));
	st = json_object_get(root, "status");
	if (s == NULL || strcmp(s, "ExecCredential") != 0 ||
	    !json_is_object(st)) {
		*err = xstrdup("exec plugin output is not an ExecCredential "
		    "with a status");
		goto fail;
	}
	if ((s = json_string_value(json_object_get(st, "token"))) && *s)
		*token = xstrdup(s);
	if ((s = json_string_value(json_object_get(st,
	    "clientCertificateData"))) && *s)
		*cert = xstrdup(s);
	if ((s = json_string_value(json_object_get(st, "clientKeyData"))) &&
	    *s)
		*key = xstrdup(s);
	if ((s = json_string_value(json_object_get(st,
	    "expirationTimestamp"))) && time_parse(s, expires) < 0) {
		*err = xasprintf("exec plugin expirationTimestamp \"%s\" is "
		    "not RFC 3339", s);
		goto fail;
	}
	if (*token == NULL && (*cert == NULL || *key == NULL)) {
		*err = xstrdup("exec plugin gave neither a token nor a client "
		    "certificate and key");
		goto fail;
	}
	json_decref(root);
	return 0;
fail:
	free(*token);
	free(*cert);
	free(*key);
	*token = *cert = *key = NULL;
	json_decref(root);
	return -1;
}

#define STOP_CHECK_MS	100	/* how soon a stop is seen */

/*
 * Reads the child's stdout until EOF or the deadline; -1 on timeout, -2
 * when *stop became non-zero (looked at every STOP_CHECK_MS).
 */
static int
read_output(int fd, struct buf *out, int64_t deadline, atomic_int *stop)
{
	char chunk[4096];
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t n;
	int64_t left;

	for (;;) {
		if (stop && atomic_load(stop))
			return -2;
		if ((left = deadline - mono_ms()) <= 0)
			return -1;
		if (poll(&pfd, 1, (int)(left < STOP_CHECK_MS ? left :
		    STOP_CHECK_MS)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pfd.revents == 0)
			continue;
		if ((n = read(fd, chunk, sizeof chunk)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		buf_add(out, chunk, (size_t)n);	/* overflow checked later */
	}
}

int
kube_exec_credential(const struct kube_exec *e, const char *server,
    atomic_int *stop, char **token, char **cert, char **key,
    int64_t *expires, char **err)
{
	char *prog, *info, *infoenv, **argv, **envp;
	int fds[2], devnull, status = 0, read_rc;
	pid_t pid;
	size_t i;
	struct buf out;
	int rc = -1;

	*token = *cert = *key = NULL;
	*err = NULL;
	if ((prog = find_program(e->command)) == NULL) {
		*err = xasprintf("exec plugin \"%s\" not found in PATH",
		    e->command);
		return -1;
	}
	info = exec_info(e, server);
	infoenv = xasprintf("KUBERNETES_EXEC_INFO=%s", info);
	argv = xcalloc(e->nargs + 2, sizeof *argv);
	argv[0] = e->command;
	for (i = 0; i < e->nargs; i++)
		argv[i + 1] = e->args[i];
	envp = child_env(e, infoenv);
	buf_init(&out, MAX_OUTPUT);
	/* close-on-exec: a child another thread forks meanwhile (git,
	   another plugin) must not hold the pipe open, nor the plugin its
	   read end */
	if (pipe2(fds, O_CLOEXEC) < 0) {
		*err = xasprintf("exec plugin: pipe: %s", strerror(errno));
		goto done;
	}
	if ((pid = fork()) < 0) {
		*err = xasprintf("exec plugin: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		goto done;
	}
	if (pid == 0) {
		/* only async-signal-safe calls from here on; dup2 clears
		   close-on-exec, which an fd already in place keeps */
		if (fds[1] != 1)
			dup2(fds[1], 1);
		else
			fcntl(1, F_SETFD, 0);
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull > 0)
			dup2(devnull, 0);
		else if (devnull == 0)
			fcntl(0, F_SETFD, 0);
		execve(prog, argv, envp);
		_exit(127);
	}
	close(fds[1]);
	read_rc = read_output(fds[0], &out, mono_ms() +
	    KUBE_EXEC_TIMEOUT_MS, stop);
	close(fds[0]);
	if (read_rc < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (read_rc == -2)
		*err = xasprintf("exec plugin %s: stopped: the client is "
		    "closing", e->command);
	else if (read_rc < 0)
		*err = xasprintf("exec plugin %s: no answer within %ds",
		    e->command, KUBE_EXEC_TIMEOUT_MS / 1000);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 127 &&
	    out.len == 0)
		*err = xasprintf("exec plugin %s: could not be run", prog);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		*err = xasprintf("exec plugin %s failed (%s %d)", e->command,
		    WIFEXITED(status) ? "exit status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) :
		    WTERMSIG(status));
	else if (out.overflow)
		*err = xasprintf("exec plugin %s: output larger than %u "
		    "bytes", e->command, MAX_OUTPUT);
	else
		rc = kube_exec_parse(out.data, out.len, token, cert, key,
		    expires, err);
done:
	buf_free(&out);
	free(envp);
	free(argv);
	free(infoenv);
	free(info);
	free(prog);
	return rc;
}
