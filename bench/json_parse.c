/*
 * The replay benchmark's baseline: read an NDJSON file and parse every
 * line with jansson, nothing else.  replay's throughput is reported as a
 * ratio to this, so the pipeline's own cost shows.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

int
main(int argc, char **argv)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	long n = 0, bad = 0;

	if (argc != 2 || (f = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: json_parse FILE.ndjson\n");
		return 2;
	}
	while (getline(&line, &cap, f) != -1) {
		json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, NULL);

		if (j == NULL)
			bad++;
		json_decref(j);
		n++;
	}
	free(line);
	fclose(f);
	printf("%ld lines, %ld bad\n", n, bad);
	return 0;
}
