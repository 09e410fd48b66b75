/*
 * The pager's layout, shared by its two halves: aggregate.c (the engine
 * thread: which records page, when, and what the alert says) and send.c
 * (the pager's thread: queues, HTTP, retries).
 */
#ifndef PAGE_INT_H
#define PAGE_INT_H

#include <pthread.h>

#include "page/page.h"
#include "util/util.h"

#define PAGE_MAGIC	0x70616765u	/* "page" */

enum page_dest { DEST_ALERTMANAGER, DEST_WEBHOOK, NDEST };

struct page_msg {
	char	*body;		/* owned JSON */
	int	 attempt;	/* sends tried so far */
	int64_t	 due;		/* ms, monotonic: not before */
	uint64_t seq;		/* its outbox entry (outbox.c) */
};

/* A page not yet accepted by its receiver: kept in the state file. */
struct page_out {
	enum page_dest	 dest;
	char	*body;		/* owned JSON */
	int	 queued;	/* in the sender's FIFO */
};

struct page_fifo {
	struct page_msg	*v;	/* owned ring of queue_max */
	size_t		 head, n;
};

struct page {
	unsigned		 magic;
	struct page_opts	 opts;		/* strings point into own */
	char			*own[4];	/* owned copies of opts' URLs
						   and token */
	char			*url[NDEST];	/* owned; NULL: not sent */

	/* engine thread */
	struct map		 conds;		/* key -> struct page_cond */
	struct map		 dirty;		/* key -> (void *)1 */
	struct map		 outbox;	/* seq key -> struct page_out */
	struct map		 outdirty;	/* seq key -> (void *)1 */
	uint64_t		 next_seq;

	/* shared with the sender, under mu */
	pthread_mutex_t		 mu;
	pthread_cond_t		 wake;		/* sender: work or stop */
	pthread_cond_t		 idle;		/* page_flush: drained */
	struct page_fifo	 q[NDEST];
	int			 inflight;
	int			 dropping[NDEST]; /* overflow logged */
	int			 stop;
	/* seqs the sender settled (accepted, or given up) or spilled
	   (dropped from a full FIFO, still due): the outbox takes them */
	uint64_t		*settled, *spilled;	/* owned */
	size_t			 nsettled, capsettled, nspilled, capspilled;
	pthread_t		 thread;
	int			 started;
};

/* send.c */
int	page_sender_start(struct page *, char **err);
void	page_sender_stop(struct page *);
/*
 * Queues body (stolen) for dest as outbox entry seq; a full FIFO spills
 * its oldest page (it stays in the outbox, due again at page_tick).
 */
void	page_enqueue(struct page *, enum page_dest, char *body, uint64_t seq);
/* Free room in dest's FIFO. */
size_t	page_fifo_room(struct page *, enum page_dest);
int64_t	page_monotonic_ms(void);
void	page_log(const struct page *, const char *level, const char *msg,
	    json_t *fields);

/* aggregate.c */
void	page_conds_free(struct page *);
/*
 * Journals a map of entries of kind: every entry (all), or the keys marked
 * in dirty (NULL for those no longer in live); clears dirty.
 */
void	page_journal_map(const struct map *live, struct map *dirty, int all,
	    const char *kind, json_t *(*to_json)(const void *),
	    void (*put)(void *, const char *, const char *, json_t *),
	    void *ctx);

/* outbox.c: the engine thread's record of every page not yet accepted */
void	page_outbox_add(struct page *, enum page_dest, const char *body);
void	page_outbox_requeue(struct page *);
void	page_outbox_journal(struct page *, int all, void (*put)(void *,
	    const char *, const char *, json_t *), void *ctx);
int	page_outbox_load(struct page *, const char *key, json_t *value);
void	page_outbox_free(struct page *);

#endif /* PAGE_INT_H */
