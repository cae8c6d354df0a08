/* keyward pin change | unblock: change the PIN (or the PUK), or set a new
 * PIN with the PUK. One attempt each: a wrong PIN/PUK is reported with the
 * tries left and never retried. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "kwenroll.h"

static const char pin_usage[] =
    "Usage: keyward pin change [--puk] [--token SEL] [--pin-file F] [--new-pin-file F]\n"
    "       keyward pin unblock [--token SEL] [--puk-file F] [--new-pin-file F]\n"
    "\n"
    "change   change the PIN (with --puk: the PUK), giving the current one\n"
    "unblock  set a new PIN with the PUK (after the PIN got blocked)\n"
    "\n"
    "  --token SEL          serial, transport URI or pkcs11:serial=N\n"
    "  --pin-file FILE      the current PIN (else $KEYWARD_PIN, else a prompt)\n"
    "  --puk-file FILE      the PUK (else $KEYWARD_PUK, else a prompt)\n"
    "  --new-pin-file FILE  the new PIN/PUK (else $KEYWARD_NEW_PIN, else a prompt,\n"
    "                       asked twice)\n"
    "  --json               result as JSON\n"
    "  --help               this text\n"
    "\n"
    "PINs and PUKs have 6 to 8 characters; they are never echoed or logged, and a\n"
    "wrong one is not retried. Exit status: 0 ok, 1 error, 2 usage error.\n";

typedef struct pin_args {
	const char *token, *pin_file, *puk_file, *new_file;
	bool puk, json;
} pin_args;

static int
parse(int argc, char **argv, pin_args *a)
{
	static const struct option lo[] = {
		{ "token", required_argument, NULL, 't' },
		{ "pin-file", required_argument, NULL, 'p' },
		{ "puk-file", required_argument, NULL, 'u' },
		{ "new-pin-file", required_argument, NULL, 'n' },
		{ "puk", no_argument, NULL, 'K' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 't': a->token = optarg; break;
		case 'p': a->pin_file = optarg; break;
		case 'u': a->puk_file = optarg; break;
		case 'n': a->new_file = optarg; break;
		case 'K': a->puk = true; break;
		case 'j': a->json = true; break;
		case 'h':
			fputs(pin_usage, stdout);
			return KWCLI_OK;
		default:
			fputs(pin_usage, stderr);
			return KWCLI_USAGE;
		}
	}
	return -1;
}

static void
report(kw_rv rv, int left, const char *what, bool json, const char *done)
{
	if (rv == KW_ERR_PIN_INCORRECT)
		fprintf(stderr, "keyward: wrong %s (%d tries left; not retried)\n", what, left);
	else if (rv == KW_ERR_PIN_BLOCKED)
		fprintf(stderr, "keyward: the %s is blocked\n", what);
	else if (rv != KW_OK)
		fprintf(stderr, "keyward: %s\n", kw_strerror(rv));
	if (json)
		kwcli_json_print(json_pack("{s:b,s:s,s:o}", "ok", rv == KW_OK, "action", done,
		    "tries_left", left >= 0 && rv != KW_OK ? json_integer(left) : json_null()));
	else if (rv == KW_OK)
		printf("%s\n", done);
}

static kw_rv
get_pair(const pin_args *a, const char *old_what, const char *old_file, const char *old_env,
    const char *new_what, kw_secret *old, kw_secret *new_)
{
	kwcli_secret_src so = { old_what, old_file, old_env, false };
	kwcli_secret_src sn = { new_what, a->new_file, "KEYWARD_NEW_PIN", true };
	kw_rv rv;

	if ((rv = kwcli_secret_get(&so, old)) != KW_OK ||
	    (rv = kwcli_secret_get(&sn, new_)) != KW_OK)
		return rv;
	if (!kwcli_pin_ok(new_)) {
		fprintf(stderr, "keyward: the %s must have 6 to 8 characters\n", new_what);
		return KW_ERR_ARG;
	}
	return KW_OK;
}

int
kwcli_cmd_pin(int argc, char **argv)
{
	pin_args a;
	kwcli_token tok;
	kw_secret old = { 0 }, new_ = { 0 };
	bool unblock;
	int rc, left = -1;
	kw_rv rv;

	memset(&a, 0, sizeof(a));
	if (argc < 2 || (strcmp(argv[1], "change") != 0 && strcmp(argv[1], "unblock") != 0)) {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			fputs(pin_usage, stdout);
			return KWCLI_OK;
		}
		fputs(pin_usage, stderr);
		return KWCLI_USAGE;
	}
	unblock = strcmp(argv[1], "unblock") == 0;
	if ((rc = parse(argc - 1, argv + 1, &a)) >= 0)
		return rc;
	if (optind < argc - 1 || (unblock && a.puk)) {
		fputs(pin_usage, stderr);
		return KWCLI_USAGE;
	}
	if (unblock)
		rv = get_pair(&a, "PUK", a.puk_file, "KEYWARD_PUK", "new PIN", &old, &new_);
	else if (a.puk)
		rv = get_pair(&a, "current PUK", a.puk_file, "KEYWARD_PUK", "new PUK", &old, &new_);
	else
		rv = get_pair(&a, "current PIN", a.pin_file, "KEYWARD_PIN", "new PIN", &old, &new_);
	if (rv != KW_OK || (rv = kwcli_token_select(a.token, &tok)) != KW_OK) {
		kw_secret_free(&old);
		kw_secret_free(&new_);
		return rv == KW_ERR_ARG ? KWCLI_USAGE : KWCLI_ERROR;
	}
	if (unblock)
		rv = kw_piv_unblock_pin(tok.piv, old.ptr, old.len, new_.ptr, new_.len, &left);
	else
		rv = kw_piv_change_reference(tok.piv, a.puk ? KW_PIV_REF_PUK : KW_PIV_REF_PIN,
		    old.ptr, old.len, new_.ptr, new_.len, &left);
	report(rv, left, unblock || a.puk ? "PUK" : "PIN", a.json,
	    unblock ? "PIN unblocked and set" : a.puk ? "PUK changed" : "PIN changed");
	kw_secret_free(&old);
	kw_secret_free(&new_);
	kwcli_token_close(&tok);
	return rv == KW_OK ? KWCLI_OK : KWCLI_ERROR;
}
