/*
 * A file's text without a copy: mapped read-only where it can be (a
 * regular file), read into memory where it cannot (a pipe named on the
 * command line).  A scan over a mapping may give pages back behind it
 * (util_jlist), which a buffer of its own would not allow.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

int
util_map_file(struct util_mapped *m, const char *path, size_t max,
    char **err)
{
	struct stat st;
	void *p;
	int fd;

	memset(m, 0, sizeof *m);
	*err = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		if ((m->text = util_read_file(path, max, &m->len, err)) ==
		    NULL)
			return -1;
		return 0;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		*err = xasprintf("%s: larger than the %zu-byte limit", path,
		    max);
		return -1;
	}
	m->len = (size_t)st.st_size;
	if (m->len == 0) {	/* mmap refuses a length of 0 */
		close(fd);
		m->text = xstrdup("");
		return 0;
	}
	p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		*err = xasprintf("%s: cannot map: %s", path, strerror(errno));
		return -1;
	}
	(void)madvise(p, m->len, MADV_SEQUENTIAL);
	m->text = p;
	m->mapped = 1;
	return 0;
}

void
util_unmap_file(struct util_mapped *m)
{
	if (m->mapped)
		munmap(m->text, m->len);
	else
		free(m->text);
	memset(m, 0, sizeof *m);
}
