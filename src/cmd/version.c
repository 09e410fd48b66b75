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

#include "cmd/args.h"
#include "cmd/cmd.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: remediate version\n"
	    "Prints the version, the source revision and the versions of the\n"
	    "libraries this binary runs with.\n");
}

int
cmd_version(int argc, char **argv)
{
	struct cmd_args a;

	cmd_args_init(&a, argc, argv);
	if (a.i < argc && cmd_args_opt(&a, "--help", "-h", 0)) {
		usage(stdout);
		return CMD_OK;
	}
	if (a.i < argc) {
		cmd_args_fail(&a, "takes no arguments (got %s)",
		    argv[a.i]);
		usage(stderr);
		return CMD_USAGE;
	}
	printf("remediate %s (%s)\n", REMEDIATE_VERSION, REMEDIATE_GITREV);
	printf("  jansson %s, libyaml %s, sqlite %s, %s,\n"
	    "  curl %s, libmicrohttpd %s\n", JANSSON_VERSION,
	    yaml_get_version_string(), sqlite3_libversion(),
	    OpenSSL_version(OPENSSL_VERSION), curl_version_info(
	    CURLVERSION_NOW)->version, MHD_get_version());
	return CMD_OK;
}
