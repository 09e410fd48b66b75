/*
 * cmd internals shared by the subcommands' files; not part of the
 * module's public surface (cmd.h is).
 */
#ifndef CMD_INT_H
#define CMD_INT_H

#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

/*
 * statelog.c: o's log (the state store's warnings) for people, as
 * "remediate COMMAND: ...", each record that does not read named and
 * counted from now on; cmd_state_unreadable says how many so far.
 */
struct audit_opts;
void	cmd_state_log(struct audit_opts *o, const char *command);
long	cmd_state_unreadable(void);

/*
 * replay.c: replays signals (a file of NDJSON lines) through the
 * configuration at config (nconfig paths), against the cluster snapshot
 * and Prometheus recording when given (may be NULL), and appends each
 * decision record (as JSON, new references) to out instead of printing
 * it.  Diagnostics go to stderr.  Returns CMD_OK, or CMD_FAILED when the
 * configuration, snapshot or signals do not load or a line is bad.
 */
int	cmd_replay_collect(const char **config, size_t nconfig,
	    const char *cluster, const char *recording, const char *signals,
	    json_t *out);

/*
 * replay_whole.c: the latest whole version of each compact-kind object
 * (Pods, workloads, Nodes) replay has seen, keyed by kind, namespace and
 * name, answering the cluster view's fetch hook (cluster_set_fetch) so
 * cluster_get_whole never gives the projection in replay.  Objects of
 * other kinds are ignored: the view keeps them whole itself.
 */
struct replay_whole;

struct replay_whole *replay_whole_new(void);		/* owned */
void	replay_whole_free(struct replay_whole *);
/*
 * Where watch lines are re-read from: fd (borrowed, open while the store
 * is used) is a regular file that pread reads; -1 (the default) when
 * the signals come from a pipe, so put_line copies each line.
 */
void	replay_whole_set_source(struct replay_whole *, int fd);
/*
 * A snapshot object (borrowed): where its text lies in a snapshot file
 * (src, as cluster_load gives it: read back when fetched), or with src
 * NULL its text, kept.
 */
struct cluster_src;
void	replay_whole_put_object(struct replay_whole *, json_t *obj,
	    const struct cluster_src *src);
/*
 * A watch line's object: the line is the len bytes at off in the
 * source, or text (borrowed, copied) without one.  obj is borrowed until
 * replay_whole_line_done: until then a fetch of it returns obj itself
 * (a new reference), the line's own parse, rather than parsing it again.
 */
void	replay_whole_put_line(struct replay_whole *, json_t *obj, off_t off,
	    const char *text, size_t len);
void	replay_whole_line_done(struct replay_whole *);
/* A DELETED watch: forgets the object. */
void	replay_whole_del(struct replay_whole *, const char *kind,
	    const char *ns, const char *name);
/*
 * The cluster_fetch_fn (ctx is the store): the object parsed anew, a new
 * reference; NULL when the store does not hold it or its text cannot be
 * read back or is not that object (a file changed since).
 */
json_t	*replay_whole_fetch(void *ctx, const char *api_version,
	    const char *kind, const char *ns, const char *name);
size_t	replay_whole_count(const struct replay_whole *);	/* objects */

#endif /* CMD_INT_H */
