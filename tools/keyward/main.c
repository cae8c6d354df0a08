/* keyward: the admin and enrollment CLI. main() parses the global options
 * and dispatches to one verb (cmd_<verb>.c). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "kw_log.h"
#include "kwcli.h"

static const kwcli_verb verbs[] = {
	{ "list", "list every token (transport, reader, serial, keys, certificates)",
	    kwcli_cmd_list },
	{ "status", "show one token in detail (PIN/PUK, management key, slots)",
	    kwcli_cmd_status },
	{ "enroll", "provision a token from the KMS (signing key, escrowed keys, certificates)",
	    kwcli_cmd_enroll },
	{ "renew", "new signing certificate; encryption keys after a KMS rotation",
	    kwcli_cmd_renew },
	{ "recover", "a replacement token: same encryption keys, new signing key",
	    kwcli_cmd_recover },
	{ "pin", "change the PIN or PUK, or unblock the PIN (pin change|unblock)",
	    kwcli_cmd_pin },
	{ "reset", "erase the token's PIV application (asks for confirmation)",
	    kwcli_cmd_reset },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
	    "Usage: keyward [--verbose] [--help] [--version] VERB [OPTIONS]\n"
	    "\n"
	    "Manage keyward PIV tokens: USB tokens and card readers (pcscd), SIM cards\n"
	    "(uicc:, at: modems) and Bluetooth keys (ble:); enroll them from a KMS.\n"
	    "\n"
	    "Verbs:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f,
	    "\n"
	    "Options:\n"
	    "  -v, --verbose   debug messages on stderr (repeat for APDU traces,\n"
	    "                  secrets redacted); KEYWARD_LOG=level works too\n"
	    "  -h, --help      this text; `keyward VERB --help` for a verb\n"
	    "  -V, --version   print the version\n"
	    "\n"
	    "Exit status: 0 ok, 1 error, 2 usage error.\n");
}

static const kwcli_verb *
verb_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const kwcli_verb *v;
	int c, verbose = 0;

	/* Stop at the verb: its options are its own. */
	while ((c = getopt_long(argc, argv, "+vhV", lopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return KWCLI_OK;
		case 'V':
			printf("keyward %s\n", PACKAGE_VERSION);
			return KWCLI_OK;
		default:
			usage(stderr);
			return KWCLI_USAGE;
		}
	}
	kw_log_init(verbose == 0 ? -1 : verbose == 1 ? KW_LOG_DEBUG : KW_LOG_TRACE);
	if (optind >= argc) {
		usage(stderr);
		return KWCLI_USAGE;
	}
	if ((v = verb_find(argv[optind])) == NULL) {
		fprintf(stderr, "keyward: unknown verb '%s'\n\n", argv[optind]);
		usage(stderr);
		return KWCLI_USAGE;
	}
	return v->run(argc - optind, argv + optind);
}
