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

	/* shared with the sender, under mu */
	pthread_mutex_t		 mu;
	pthread_cond_t		 wake;		/* sender: work or stop */
	pthread_cond_t		 idle;		/* page_flush: drained */
	struct page_fifo	 q[NDEST];
	int			 inflight;
	int			 dropping[NDEST]; /* overflow logged */
	int			 stop;
	pthread_t		 thread;
	int			 started;
};

/* send.c */
int	page_sender_start(struct page *, char **err);
void	page_sender_stop(struct page *);
/* Queues body (stolen) for dest; drops the oldest when full. */
void	page_enqueue(struct page *, enum page_dest, char *body);
int64_t	page_monotonic_ms(void);
void	page_log(const struct page *, const char *level, const char *msg,
	    json_t *fields);

/* aggregate.c */
void	page_conds_free(struct page *);

#endif /* PAGE_INT_H */
