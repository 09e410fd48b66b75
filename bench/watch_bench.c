/*
 * watch_bench: the consumer side of bench/watch.  Runs one list+watch of
 * pods in all namespaces through the kube client and counts what it
 * delivers; on each line of stdin prints one JSON line of counters, the
 * process' CPU seconds and peak RSS.  Quits at end of input.
 *
 *	watch_bench KUBECONFIG
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "kube/kube.h"

static atomic_ullong counts[4];

static void
on_event(void *ctx, enum kube_event_type t, json_t *obj)
{
	(void)ctx;
	(void)obj;
	atomic_fetch_add(&counts[t], 1);
}

int
main(int argc, char **argv)
{
	struct kube_config cfg;
	struct kube_client *c;
	struct kube_watch_spec sp = { 0 };
	struct kube_watch_status st;
	struct kube_watch *w;
	struct rusage ru;
	char *err = NULL, line[64];
	double cpu;

	if (argc != 2) {
		fprintf(stderr, "usage: watch_bench KUBECONFIG\n");
		return 2;
	}
	if (kube_config_load(argv[1], NULL, &cfg, &err) < 0 ||
	    (c = kube_client_new(&cfg, &err)) == NULL) {
		fprintf(stderr, "watch_bench: %s\n", err);
		return 1;
	}
	kube_config_clear(&cfg);
	sp.version = "v1";
	sp.resource = "pods";
	/* the emulator copies every object for each page: few pages */
	sp.page_limit = getenv("WATCH_BENCH_PAGE") ?
	    strtol(getenv("WATCH_BENCH_PAGE"), NULL, 10) : 1000;
	if ((w = kube_watch_start(c, &sp, on_event, NULL, &err)) == NULL) {
		fprintf(stderr, "watch_bench: %s\n", err);
		return 1;
	}
	while (fgets(line, sizeof line, stdin) != NULL) {
		kube_watch_status(w, &st);
		getrusage(RUSAGE_SELF, &ru);
		cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
		printf("{\"sync\":%llu,\"added\":%llu,\"modified\":%llu,"
		    "\"deleted\":%llu,\"synced\":%d,\"healthy\":%d,"
		    "\"restarts\":%llu,\"relists\":%llu,\"cached\":%zu,"
		    "\"cpu\":%.3f,\"maxrss_kb\":%ld}\n",
		    (unsigned long long)atomic_load(&counts[KUBE_SYNC]),
		    (unsigned long long)atomic_load(&counts[KUBE_ADDED]),
		    (unsigned long long)atomic_load(&counts[KUBE_MODIFIED]),
		    (unsigned long long)atomic_load(&counts[KUBE_DELETED]),
		    st.synced, st.healthy, (unsigned long long)st.restarts,
		    (unsigned long long)st.relists, st.cached, cpu,
		    ru.ru_maxrss);
		fflush(stdout);
		free(st.last_error);
	}
	kube_watch_stop(w);
	kube_client_free(c);
	return 0;
}
