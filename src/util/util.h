/*
 * util: the small pieces every stage uses.
 *
 *   allocation   x*() wrappers that abort on out-of-memory, so no caller
 *                carries a half-handled NULL path;
 *   buf          a growable byte buffer with an optional hard maximum,
 *                for everything filled from outside;
 *   diag         user-input diagnostics (file:line:col: severity: message,
 *                the source line and a caret), collected so one run shows
 *                every problem;
 *   time         one replaceable clock in milliseconds since the epoch,
 *                RFC 3339 parsing/formatting, Go durations (ms and ns);
 *   text         did-you-mean suggestions, glob matching, hashing;
 *   base64       Go's standard encoding, both ways;
 *   utf8         decoding and encoding one code point;
 *   mapfile      a file's text mapped, not copied;
 *   jlist        a JSON list's items one at a time (snapshots, list pages).
 */
#ifndef UTIL_H
#define UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#define UTIL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define UTIL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- allocation: every result is owned by the caller, never NULL ------- */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
/* Grows *ptr (of *cap elements of size sz) to hold at least need elements. */
void	 xgrow(void *ptrp, size_t *cap, size_t need, size_t sz);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) UTIL_PRINTF(1, 2);
char	*xvasprintf(const char *, va_list) UTIL_PRINTF(1, 0);

/* ---- buf: growable buffer, NUL-terminated at all times ------------------ */
struct buf {
	char	*data;		/* owned; "" until the first append */
	size_t	 len;		/* bytes, excluding the NUL */
	size_t	 cap;		/* bytes allocated */
	size_t	 max;		/* bytes; 0 means unbounded */
	int	 overflow;	/* set once an append would exceed max */
};

void	 buf_init(struct buf *, size_t max);
/*
 * A buffer over the caller's mem (size >= 1 bytes), never reallocated:
 * appending past size - 1 bytes is an overflow, as past max.  For text
 * that usually fits a scratch area on the stack; never buf_free'd or
 * buf_steal'd.
 */
void	 buf_init_on(struct buf *, char *mem, size_t size);
/* buf_add's way when the bytes do not fit in what is allocated or max. */
int	 buf_add_slow(struct buf *, const void *, size_t);
/*
 * Appends; on exceeding max sets overflow, keeps what fit, returns -1.
 * Inline: writers of JSON and records append a few bytes at a time, and
 * the call cost more than the copy (a literal's copy is a store here).
 */
static inline int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n < b->cap && (b->max == 0 || b->len + n <= b->max)) {
		if (n)
			memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_add_slow(b, p, n);
}
static inline int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}
static inline int
buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}
int	 buf_printf(struct buf *, const char *, ...) UTIL_PRINTF(2, 3);
/* v in decimal, as printf's "%lld" writes it, without printf. */
int	 buf_add_int(struct buf *, long long v);
void	 buf_reset(struct buf *);
/* Returns the owned string and leaves the buf empty and reusable. */
char	*buf_steal(struct buf *);
void	 buf_free(struct buf *);

/*
 * Reads a whole file into an owned NUL-terminated string.  Returns NULL and
 * sets *err (owned) on failure or when the file exceeds max bytes.
 */
char	*util_read_file(const char *path, size_t max, size_t *len, char **err);

/*
 * A descriptor's lines, read a chunk at a time (a read(2) returns what a
 * pipe has, so a line is handed out as soon as it is complete) and found
 * with memchr: glibc's getc costs some 14 instructions a byte.  The
 * reader owns the descriptor's position from init on; offset counts the
 * bytes it has handed out, so offset plus the descriptor's position at
 * init is where the next line starts.
 */
#define UTIL_LINES_CHUNK	65536	/* bytes read ahead */

struct util_lines {
	int	 fd;
	char	*buf;		/* owned: UTIL_LINES_CHUNK bytes read ahead */
	size_t	 start, end;	/* what is left of them */
	uint64_t offset;	/* bytes handed out (skipped lines included) */
	int	 eof;
};

void	 util_lines_init(struct util_lines *, int fd);
/*
 * Reads the next line, its '\n' included, into b (reset first).  A line
 * longer than max bytes is read to its end but not kept: *toolong is set
 * and b stays empty, so a 1 GiB line costs max bytes of memory, not 1 GiB.
 * Returns 1 for a line (possibly the last, without '\n'), 0 at the end of
 * the input, -1 on a read error (errno says which).
 */
int	 util_lines_next(struct util_lines *, struct buf *b, size_t max,
	    int *toolong);
/* Frees the read-ahead buffer (the descriptor stays the caller's). */
void	 util_lines_free(struct util_lines *);

/*
 * A file's text, mapped read-only when it is a regular file (no copy:
 * pages read as touched), else read into memory.  Not NUL-terminated
 * when mapped.  Returns 0, or -1 with *err set (owned) when the file
 * cannot be read or exceeds max bytes; util_unmap_file releases it.
 */
struct util_mapped {
	char	*text;		/* owned: the mapping or the buffer */
	size_t	 len;		/* bytes */
	int	 mapped;	/* text is a mapping (else malloc'd) */
};
int	 util_map_file(struct util_mapped *, const char *path, size_t max,
	    char **err);
void	 util_unmap_file(struct util_mapped *);

/* ---- jlist: the items of a JSON list, one at a time (jlist.c) ---------- */
struct util_jlist {
	const char	*p;		/* borrowed text */
	size_t		 n, i;		/* its length, the scan position */
	int		 flags;		/* jansson's, for every value */
	int		 mapped;	/* p is util_map_file's mapping: give
					   pages behind the scan back */
	size_t		 released;	/* bytes of p given back */
	int		 list;		/* the last value was a list */
	size_t		 items;		/* items it handed on */
	int		 restored;	/* the item handed got its list's
					   kind or apiVersion: its text
					   lacks them */
	size_t		 err_off;	/* after -1: where the text is bad */
	char		 err[160];	/* after -1: why */
	size_t		 where_off, where_bol;	/* util_jlist_where's */
	int		 where_line;
	/*
	 * Optional, set after init: reads each item of a list instead of
	 * the whole tree (the cluster view's decoder builds only what
	 * it keeps).  text[0..len) runs from the item on; kind is what the
	 * list gives its items (its kind without "List"; NULL for a List).
	 * A new reference with *end the bytes read, or NULL with *why
	 * (static text).
	 */
	json_t		*(*read_item)(void *ctx, const char *text, size_t len,
			    const char *kind, size_t *end, const char **why);
	void		*read_ctx;
};
/*
 * fn gets one value: item is borrowed (valid for the call: incref to
 * keep it); head the list's other members read so far (kind, apiVersion,
 * metadata...), or NULL for a value that is no list; off and len where
 * the item's text lies in the scanned text.
 */
typedef void	 util_jlist_fn(void *ctx, json_t *item, const json_t *head,
		    size_t off, size_t len);
/* Scans text (borrowed; need not end in NUL); flags are jansson's. */
void	 util_jlist_init(struct util_jlist *, const char *text, size_t len,
	    int flags);
/*
 * Reads the next JSON value of the text (several may follow each other:
 * NDJSON).  A list (an object whose "kind" is "List" or ends in "List",
 * with an "items" array or null, in any order of members) has its items
 * handed to fn one at a time, each parsed alone, with the list's kind
 * (without "List") and apiVersion given to an item lacking them; *head
 * gets the list's other members (owned).  Any other value goes to fn
 * whole, head NULL and *head NULL.  Returns 1 after a value, 0 at the end
 * of the text, -1 on bad text (err and err_off say why and where; items
 * before it were handed on).
 */
int	 util_jlist_next(struct util_jlist *, util_jlist_fn *, void *ctx,
	    json_t **head);
/* Gives a list's item the kind (kind of head without "List") and
 * apiVersion of its list (head) when the item has none; 1 when it gave
 * one. */
int	 util_jlist_restore(json_t *item, const json_t *head);
/* Line and column (1-based, bytes) of offset off of the scanned text;
 * cheap for offsets asked in increasing order. */
void	 util_jlist_where(struct util_jlist *, size_t off, int *line,
	    int *col);

/* ---- diag: diagnostics about user input --------------------------------- */
enum diag_level { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct loc {
	const char	*file;	/* borrowed; NULL when unknown */
	int		 line;	/* 1-based; 0 when unknown */
	int		 col;	/* 1-based; 0 when unknown */
};

struct diag {
	enum diag_level	 level;
	char		*file;	/* owned, may be NULL */
	int		 line, col;
	char		*msg;	/* owned */
	char		*hint;	/* owned, may be NULL: "did you mean ..." */
};

struct diags {
	struct diag	*v;	/* owned */
	size_t		 n, cap;
	size_t		 errors, warnings;
};

void	 diag_init(struct diags *);
void	 diag_free(struct diags *);
void	 diag_add(struct diags *, enum diag_level, struct loc,
	    const char *fmt, ...) UTIL_PRINTF(4, 5);
void	 diag_error(struct diags *, struct loc, const char *fmt, ...)
	    UTIL_PRINTF(3, 4);
void	 diag_warn(struct diags *, struct loc, const char *fmt, ...)
	    UTIL_PRINTF(3, 4);
/* Attaches a hint to the most recent diagnostic. */
void	 diag_hint(struct diags *, const char *fmt, ...) UTIL_PRINTF(2, 3);
/*
 * Prints every diagnostic in order as "file:line:col: level: msg", then the
 * source line with a caret under the column (read from the file), then the
 * hint.  Sorted by file and position so output is stable.
 */
void	 diag_print(struct diags *, FILE *);

/* ---- time ---------------------------------------------------------------- */
/*
 * All instants are int64 milliseconds since the Unix epoch (UTC).  Code that
 * needs "now" asks the clock it was given, never the system: replay and the
 * tests substitute their own.
 */
struct clock {
	int64_t	 (*now)(const struct clock *);
	int64_t	 fixed;		/* ms; used by the fixed clock */
};

int64_t	 clock_now(const struct clock *);
void	 clock_system(struct clock *);
/*
 * Milliseconds since boot, suspend included (CLOCK_BOOTTIME): not the
 * epoch, never stepped by NTP or an operator, and still counting while
 * the machine sleeps, for deadlines that must hold across a suspend
 * (leader fencing: CLOCK_MONOTONIC stops there, so a leader woken from
 * a suspend would believe in a lease its successor already holds).
 */
void	 clock_boottime(struct clock *);
/*
 * The instant ms from now on clock id (CLOCK_REALTIME, CLOCK_MONOTONIC),
 * for pthread_cond_timedwait.
 */
struct timespec time_deadline(clockid_t id, int64_t ms);
void	 clock_fixed(struct clock *, int64_t ms);
/*
 * Milliseconds on the monotonic clock: for durations and deadlines, never
 * for "now" (no clock replaces it, nothing records it).
 */
int64_t	 clock_monotonic_ms(void);
/*
 * Sleeps ms of real time (the whole of it: a signal does not cut it
 * short).  Only for waits an action itself asks for (a retry's backoff,
 * a poll); never for "now".
 */
void	 util_sleep_ms(int64_t ms);
/*
 * A busy handler for SQLite connections that share a file (the audit
 * store, the intake): sqlite3_busy_handler(db, util_busy_wait, NULL).
 * SQLite's own sleeps 1, 2, 5, 10... ms per retry, which makes a writer
 * that meets another's short commit wait far longer than the commit took;
 * this one sleeps 50 us, growing to 1 ms, and gives up after about 5 s.
 * Returns 1 to retry, 0 to give up (SQLITE_BUSY).
 */
int	 util_busy_wait(void *ctx, int count);

/*
 * Proleptic Gregorian calendar arithmetic, valid for any year: days since
 * 1970-01-01 of a date (m 1..12, d 1..31) and back, and the length of a
 * month (m 1..12).
 */
int64_t	 time_days_from_civil(int64_t y, int m, int d);
void	 time_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
int	 time_days_in_month(int64_t y, int m);
/*
 * Seconds since the epoch broken into fields.  The seconds may be UTC or
 * a zone's wall clock counted as if it were UTC (utc + tz_offset()).
 */
struct time_civil {
	int64_t	 y;
	int	 mon, day;	/* 1..12, 1..31 */
	int	 hour, min, sec;
	int	 wday;		/* 0 = Sunday */
};
void	 time_civil_from_secs(int64_t secs, struct time_civil *);

/* RFC 3339 ("2026-11-25T10:00:00Z", fractions, offsets): 0 ok, -1 bad. */
int	 time_parse(const char *, int64_t *ms);
/* Formats as UTC "2026-11-25T10:00:00Z" (".123Z" when ms != 0). */
void	 time_format(int64_t ms, char *out, size_t outlen);
#define TIME_FMTLEN 32

/*
 * Go durations exactly as time.ParseDuration reads them ("5m", "1h30m",
 * "250ms", "1.5h", "-90s", "0"; not "1e3h", "5" or "5d"), in nanoseconds:
 * returns 0, or -1 for anything Go refuses, overflow included.  The n form
 * takes s's length (a NUL inside is not a duration).
 */
int	 duration_parse_ns(const char *s, int64_t *ns);
int	 duration_parsen_ns(const char *s, size_t n, int64_t *ns);
/* Go's time.Duration.String() ("1h30m0s", "1.5ms", "0s"); out of at least
 * DURATION_FMTLEN bytes holds any value. */
void	 duration_format_ns(int64_t ns, char *out, size_t outlen);
#define DURATION_FMTLEN 32
/* duration_parse_ns in ms, rounded half away from zero: 0 ok, -1 bad. */
int	 duration_parse(const char *, int64_t *ms);
/*
 * An age, as --retain and --since take it: a Go duration, or whole days
 * ("7d", at most 100000).  0 with *ms (not negative), or -1.
 */
int	 duration_parse_age(const char *, int64_t *ms);
/* Formats as the shortest Go-style duration ("15m", "1h30m", "250ms"). */
void	 duration_format(int64_t ms, char *out, size_t outlen);

/* ---- text ---------------------------------------------------------------- */
/* The candidate closest to word by edit distance, or NULL if none is close. */
const char *util_suggest(const char *word, const char *const *cands, size_t n);
/* Frees n owned strings of v, then v itself (NULL is a no-op). */
void	 util_strv_free(char **v, size_t n);
/* a and b the same text, or both NULL: 1, else 0. */
int	 util_same_str(const char *a, const char *b);
/* Shell-style glob with '*' and '?', as Kyverno's wildcard names. */
int	 util_glob(const char *pattern, const char *s);
/* FNV-1a 64-bit. */
uint64_t util_hash(const void *, size_t, uint64_t seed);
#define UTIL_HASH_SEED 0xcbf29ce484222325ULL
/* The second half of an event id: h1 hashed again under this seed. */
#define UTIL_HASH_SEED2 0x84222325cbf29ce4ULL
/* v as 16 lower-case hex digits and a NUL: printf's "%016llx". */
void	 util_hex64(char out[17], uint64_t v);
/*
 * util_hex64's reverse: the 16 lower-case hex digits at s into *v (upper
 * case would not write back the same), 0; -1 when they are not that.
 */
int	 util_hex64_read(const char *s, uint64_t *v);
/*
 * An event's id from h1, the hash of what makes it unique: h1's 16 hex
 * digits, then those of util_hash(&h1, 8, seed2) (owned).
 */
char	*util_hash_id(uint64_t h1, uint64_t seed2);
/* Decimal integer with full range and garbage checks: 0 ok, -1 bad. */
int	 util_parse_int(const char *, long long *);
/* The value of hex digit c (either case), or -1. */
int	 util_hex_digit(int c);
/* The first n (nn bytes) in h (hn bytes), or NULL; an empty n is at h. */
const char *util_memfind(const char *h, size_t hn, const char *n, size_t nn);

/* ---- base64: Go's encoding/base64.StdEncoding ---------------------------- */
/* Appends the padded standard encoding of data (n bytes) to b. */
void	 base64_encode(struct buf *b, const void *data, size_t n);
/*
 * Appends the bytes s (n bytes) encodes to b, as Go's DecodeString: CR
 * and LF are ignored, padding is required.  Returns 0, or -1 with *at
 * (if not NULL) the input offset Go's error names ("illegal base64 data
 * at input byte N"); b then holds a prefix of no use.
 */
int	 base64_decode(struct buf *b, const char *s, size_t n, size_t *at);

/* ---- utf8 ---------------------------------------------------------------- */
/*
 * The code point at the start of s (n > 0 bytes): returns it and sets *len
 * to its length, or returns -1 with *len = 1 when s does not start a valid
 * sequence (a stray byte, truncated, overlong, a surrogate, > U+10FFFF).
 */
long	 utf8_decode(const char *s, size_t n, size_t *len);
/* utf8_decode at s + *i (*i < n), advancing *i; a bad byte is U+FFFD. */
uint32_t utf8_next(const char *s, size_t n, size_t *i);
/* Writes r (<= U+10FFFF) into out (4 bytes at most); returns the length. */
size_t	 utf8_encode(uint32_t r, char *out);

/* ---- logs -------------------------------------------------------------- */
/*
 * One JSON log line {"time","level","msg",...fields} on stderr; fields are
 * stolen (may be NULL).  Safe from any thread: a line is written whole.
 */
void	 util_log_json(const char *level, const char *msg, json_t *fields);
/* A JSON value's type as messages name it: "object", "array", "string",
 * "number", "boolean" or "null" (also for NULL).  Static. */
const char *util_json_type(const json_t *);
/*
 * o[key] (borrowed), created as an empty object when absent.  NULL when
 * o is not an object, or o[key] is something else.
 */
json_t	*util_json_child(json_t *o, const char *key);
/*
 * v appended to b as json_dumps(v, flags) prints it, where flags are
 * JSON_COMPACT, optionally JSON_SORT_KEYS, and a JSON_REAL_PRECISION
 * (see jsonw.c); without jansson's dump.  -1 when v holds a string or key
 * outside ASCII or with a NUL, or a real jansson will not print: b then
 * holds a partial text the caller discards (it takes json_dumps' way).
 */
int	 util_json_write(struct buf *b, json_t *v, size_t flags);
/*
 * json_dumps(v, flags): the same text (owned) or the same NULL, written
 * by util_json_write where it can (no cycle check, no printf), by
 * jansson where it cannot.
 */
char	*util_json_dumps(json_t *v, size_t flags);
/*
 * v in decimal as "%" JSON_INTEGER_FORMAT prints it, without printf, into
 * num (UTIL_INT_TEXT bytes, not NUL-terminated); returns its length.
 */
#define UTIL_INT_TEXT	24
size_t	 util_json_int(char *num, json_int_t v);
/* ASCII s as a JSON string, escaped as jansson escapes it, onto b. */
void	 util_json_str(struct buf *b, const char *s);
/* A deep copy of v (a tree), as json_deep_copy makes it: new reference. */
json_t	*util_json_copy(json_t *v);
/*
 * s, the text of v, as a JSON string (new reference): v itself when it is
 * the string s whole (no new string per call), a new string when s stops
 * at a NUL inside v or is not v's, null for NULL (json_pack's "s?").
 */
json_t	*util_json_str_ref(json_t *v, const char *s);
/* 1 when s (NULL too) holds no byte outside ASCII. */
int	 util_json_plain(const char *s);
/*
 * Whether any of the 8 bytes of w is '"', '\\', below 0x20 or above 0x7f:
 * the bytes a plain run of a JSON string stops at, for the reader and
 * the writer alike.  (Bit tricks of the "has a zero byte" kind; exact
 * for each byte.)
 */
static inline int
util_json_word_stops(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t high = 0x8080808080808080ULL;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	return (((q - ones) & ~q) | ((b - ones) & ~b) |
	    ((w - ones * 0x20) & ~w) | w) & high ? 1 : 0;
}
/*
 * JSON text one token or value at a time (jsonr.c): the one lexer and
 * tree builder behind util_json_loadb and the cluster view's projecting
 * decoder, in jansson's grammar and ranges exactly.  A scan starts at
 * sc->pos (a string's at its opening quote) and leaves sc->pos past what
 * it read; on failure it returns -1 (or NULL), and notes the first
 * reason (sc->why, static text) and where (sc->errpos, bytes from the
 * start).  remediate never calls setlocale: strtod reads '.' as jansson
 * does.
 */
struct util_jscan {
	const unsigned char	*s;		/* borrowed: the text */
	size_t			 len, pos;
	size_t			 flags;		/* jansson's: JSON_ALLOW_NUL
						   and JSON_REJECT_DUPLICATES
						   are read here */
	size_t			 depth;		/* values open, counted as
						   jansson counts them */
	const char		*why;		/* the first error, or NULL */
	size_t			 errpos;
	size_t			 key_at;	/* where util_jscan_member's
						   last key began */
	int			 escaped;	/* the last string had
						   escapes */
	size_t			 nul_skipped;	/* NUL bytes jansson's quirk
						   skipped (nul_after_token):
						   its positions leave them
						   out */
	struct buf		 str;		/* that string, decoded */
};
void	 util_jscan_init(struct util_jscan *, const char *text, size_t len,
	    size_t flags);
/* Frees sc->str; the text stays the caller's. */
void	 util_jscan_clear(struct util_jscan *);
/* Notes why at byte at, unless an earlier failure was noted; -1. */
int	 util_jscan_fail(struct util_jscan *, size_t at, const char *why);
/* The first byte of s[i..len) that is not JSON's blank, or len. */
static inline size_t
util_json_skip_ws(const void *s, size_t len, size_t i)
{
	const unsigned char *p = s;

	while (i < len && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' ||
	    p[i] == '\t'))
		i++;
	return i;
}
static inline void
util_jscan_ws(struct util_jscan *sc)
{
	sc->pos = util_json_skip_ws(sc->s, sc->len, sc->pos);
}
/*
 * A string, checked (UTF-8, escapes, surrogate pairs; \u0000 refused as
 * jansson refuses it by default).  With p, its bytes: in the text when
 * it has no escape, else decoded in sc->str (valid until the next one).
 */
int	 util_jscan_string(struct util_jscan *, const char **p, size_t *n);
/* A number; with out, its value: an integer or a real, as jansson's. */
int	 util_jscan_number(struct util_jscan *, json_t **out);
/* true, false or null; with out, the value. */
int	 util_jscan_literal(struct util_jscan *, json_t **out);
/*
 * One more value open (every value counts, scalars too): -1 past
 * jansson's JSON_PARSER_MAX_DEPTH.  The caller closes it (depth--).
 */
int	 util_jscan_enter(struct util_jscan *);
/* The value at sc->pos whole, as json_loadb builds it: new, or NULL. */
json_t	*util_jscan_value(struct util_jscan *);
/*
 * An object a member at a time, after its '{' (n: the members read
 * before, 0 on the first call): 1 with its key in *k, *klen (as
 * util_jscan_string gives it; a key decoding to a NUL byte is refused,
 * as jansson refuses it) and sc->pos at its value; 0 past the '}'; -1.
 */
int	 util_jscan_member(struct util_jscan *, size_t n, const char **k,
	    size_t *klen);
/* An array the same way: 1 with sc->pos at an element, 0 past ']', -1. */
int	 util_jscan_element(struct util_jscan *, size_t n);
/*
 * json_loadb / json_loads, read faster (jsonr.c): the same tree (new
 * reference) or the same NULL with jansson's own *err, for any text and
 * the flags JSON_REJECT_DUPLICATES, JSON_DECODE_ANY,
 * JSON_DISABLE_EOF_CHECK and JSON_ALLOW_NUL (others are jansson's).
 * Safe from any thread.
 */
json_t	*util_json_loadb(const char *text, size_t n, size_t flags,
	    json_error_t *err);
json_t	*util_json_loads(const char *text, size_t flags,
	    json_error_t *err);
/* How many texts went to jansson's reader (errors, rare numbers): tests. */
size_t	 util_json_fallbacks(void);

/* ---- map: string keys to pointers, open addressing ----------------------- */
struct map_slot;
struct map {
	struct map_slot	*slots;		/* owned */
	size_t		 cap;		/* power of two, 0 before first put */
	size_t		 used;		/* live + deleted slots */
	size_t		 live;
};

void	 map_init(struct map *);
/*
 * Frees the table and its key copies; calls free_value on each value when
 * not NULL.
 */
void	 map_clear(struct map *, void (*free_value)(void *));
/* The value stored under key, or NULL. */
void	*map_get(const struct map *, const char *key);
/*
 * Stores value under key (copied).  Returns the previous value (now the
 * caller's) or NULL.
 */
void	*map_put(struct map *, const char *key, void *value);
/* Removes key; returns its value (now the caller's) or NULL. */
void	*map_del(struct map *, const char *key);
/* Visits every entry; stops early when fn returns non-zero. */
void	 map_each(const struct map *, int (*fn)(void *ctx, const char *key,
	    void *value), void *ctx);

/*
 * Tunes malloc for a long-running daemon with a few threads (memtune.c
 * says why).  Call once, before threads start.
 */
void	 util_memory_tune(void);

/* ---- ptab: a hash set of pointers (ptab.c) ------------------------------ */
struct ptab {
	void	**slots;	/* owned array; the elements are not */
	size_t	  cap;		/* power of two, 0 before the first insert */
	size_t	  live;
};

typedef uint32_t ptab_hash_fn(const void *elem);	/* the element's hash */
typedef int	 ptab_eq_fn(const void *elem, const void *key);

/* The element equal to key (whose hash is h), or NULL. */
void	*ptab_find(const struct ptab *t, uint32_t h, ptab_eq_fn *eq,
	    const void *key);
/* Inserts elem (hash h, not already present), growing the table. */
void	 ptab_insert(struct ptab *t, uint32_t h, void *elem,
	    ptab_hash_fn *hf);
/* Removes and returns the element equal to key, or NULL. */
void	*ptab_remove(struct ptab *t, uint32_t h, ptab_eq_fn *eq,
	    const void *key, ptab_hash_fn *hf);
/* Frees the slots (not the elements); the table is empty again. */
void	 ptab_clear(struct ptab *);
/*
 * Empties the table but keeps its slots: for a table emptied and filled
 * again and again (a cache), so its slots are not allocated afresh each
 * time (a slot array of a kilobyte or more makes glibc consolidate its
 * free lists, on every refill).
 */
void	 ptab_empty(struct ptab *);
/* Bytes the slot array takes. */
size_t	 ptab_bytes(const struct ptab *);

/* ---- slab: small allocations without malloc's header (slab.c) ---------- */
#define SLAB_MAX	256	/* bytes: larger sizes go to malloc */

struct slab {
	void	*free[SLAB_MAX / 8];	/* per 8-byte class: freed slots */
	void	*blocks;		/* owned: every block, linked */
	char	*cur;			/* the block being carved */
	size_t	 left;			/* bytes left at cur */
	size_t	 bytes;			/* blocks allocated */
};

/*
 * n bytes, 8-aligned (owned by the slab: give them back with slab_free
 * and the same n); aborts when out of memory.  A zeroed struct slab is
 * an empty one.
 */
void	*slab_alloc(struct slab *, size_t n);
/* Gives back p (NULL: a no-op), allocated with size n. */
void	 slab_free(struct slab *, void *p, size_t n);
/* Frees every block: every allocation is gone. */
void	 slab_clear(struct slab *);

#endif /* UTIL_H */
