/*
 * Listen addresses: "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8080",
 * ":8080" (every address, IPv4 and IPv6), "localhost:8080".  Only numeric
 * addresses and localhost: a listen address that depends on a resolver at
 * start is a surprise nobody wants in a daemon.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "http/http_int.h"

static int
parse_port(const char *s, unsigned *port)
{
	long long v;

	if (*s == '\0' || util_parse_int(s, &v) == -1 || v < 0 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

int
http_addr_parse(const char *text, struct http_addr *a, char **err)
{
	char host[INET6_ADDRSTRLEN + 8];
	const char *colon, *hs;
	size_t hl;

	memset(a, 0, sizeof *a);
	if (text == NULL || *text == '\0')
		goto bad;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		hs = text + 1;
		hl = (size_t)(close - hs);
		colon = close + 1;
		a->v6 = 1;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL || memchr(text, ':', (size_t)(colon - text)))
			goto bad;	/* a bare IPv6 address needs [] */
		hs = text;
		hl = (size_t)(colon - text);
	}
	if (hl >= sizeof host || parse_port(colon + 1, &a->port) == -1)
		goto bad;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (hl == 0 && !a->v6) {
		a->any = 1;
		return 0;
	}
	if (!a->v6 && strcmp(host, "localhost") == 0)
		memcpy(host, "127.0.0.1", sizeof "127.0.0.1");
	if (a->v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->sa;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			goto bad;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)a->port);
		a->salen = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a->sa;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			goto bad;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)a->port);
		a->salen = sizeof *s4;
	}
	return 0;
bad:
	*err = xasprintf("listen address \"%s\" is not HOST:PORT (like "
	    "127.0.0.1:8080, [::1]:8080, 0.0.0.0:8080 or :8080)",
	    text ? text : "");
	return -1;
}

int
http_listen_check(const char *text, char **err)
{
	struct http_addr a;

	return http_addr_parse(text, &a, err);
}
