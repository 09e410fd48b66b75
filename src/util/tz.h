/*
 * tz: IANA time zones read from the system's tzdata (TZif files under
 * $TZDIR, default /usr/share/zoneinfo, with their POSIX TZ footer for
 * times past the last transition), never through setenv(TZ)/localtime,
 * which would race with every other thread of the daemon.  The calendar
 * source, time filters and conditionsReset all read zones here.
 */
#ifndef UTIL_TZ_H
#define UTIL_TZ_H

#include <stddef.h>
#include <stdint.h>

struct tz;

/*
 * Loads zone name as Go's time.LoadLocation does: "" and "UTC" (also
 * "Etc/UTC") are UTC without a file; "Local" is /etc/localtime; anything
 * else an IANA name read from $TZDIR.  Without zone files installed,
 * "Local", "GMT" and "Etc/GMT" are UTC.  Returns an owned zone, or NULL
 * and *err (owned) when the name is malformed or unknown or its file is
 * not TZif.
 */
struct tz	*tz_load(const char *name, char **err);
/* Parses TZif bytes (tests, fuzzing); as tz_load. */
struct tz	*tz_parse(const char *name, const unsigned char *, size_t len,
		    char **err);
void		 tz_free(struct tz *);
/* The name it was loaded by; "UTC" for NULL. */
const char	*tz_name(const struct tz *);
/*
 * The UTC offset (seconds east) in force at utc (seconds since the epoch)
 * and, when abbr is not NULL, its abbreviation ("CET"), written to abbr.
 * A NULL zone is UTC.
 */
int		 tz_offset(const struct tz *, int64_t utc, char *abbr,
		    size_t abbrlen);

#endif /* UTIL_TZ_H */
