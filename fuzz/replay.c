/*
 * Replays a fuzz target's corpus in the ordinary test run (as SQLite's
 * fuzzcheck does): every file of FUZZ_CORPUS goes through
 * LLVMFuzzerTestOneInput once.  A crash or a sanitizer report fails the
 * run; the last line is "N passed, 0 failed".
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : FUZZ_CORPUS;
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0, len;
	char *path, *data, *err;

	if (d == NULL) {
		perror(dir);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if ((data = util_read_file(path, 16u << 20, &len, &err))) {
			LLVMFuzzerTestOneInput((const uint8_t *)data, len);
			n++;
			free(data);
		} else
			free(err);
		free(path);
	}
	closedir(d);
	printf("%zu passed, 0 failed\n", n);
	return 0;
}
