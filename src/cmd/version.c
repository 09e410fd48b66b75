/*
 * remediate version: what this binary is and what it was built with, so a
 * bug report carries everything needed to reproduce it.
 */
#include <stdio.h>

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <sqlite3.h>
#include <yaml.h>

#include "cmd/cmd.h"

int
cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("remediate %s (%s)\n", REMEDIATE_VERSION, REMEDIATE_GITREV);
	printf("  jansson %s, libyaml %s, sqlite %s, %s,\n"
	    "  curl %s, libmicrohttpd %s\n", JANSSON_VERSION,
	    yaml_get_version_string(), sqlite3_libversion(),
	    OpenSSL_version(OPENSSL_VERSION), curl_version_info(
	    CURLVERSION_NOW)->version, MHD_get_version());
	return CMD_OK;
}
