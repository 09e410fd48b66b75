/*
 * Telling glibc's malloc that this is a long-running daemon with a few
 * threads and a memory budget.  By default every thread that allocates
 * gets its own arena (up to 8 per core), and the threshold above which a
 * block is mmapped (and given back on free) grows to the largest block
 * freed: a watch thread's 2 MB list page then stays in its arena, and
 * each arena keeps its own free space.  `run` holding 100,000 pods in
 * 30 MiB depends on neither happening.
 */
#include "util/util.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

void
util_memory_tune(void)
{
#ifdef __GLIBC__
	mallopt(M_ARENA_MAX, 1);		/* one heap for all threads */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);	/* fixed: pages go back */
	mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
#endif
}
