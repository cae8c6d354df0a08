/* keyward reset: the YubiKey PIV reset (every key, certificate and
 * credential back to the factory state). The card accepts RESET only with
 * the PIN and the PUK blocked, so they are blocked first on purpose, with
 * values that are not the real ones. Asks for confirmation unless --yes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kwenroll.h"

static const char reset_usage[] =
    "Usage: keyward reset [--token SEL] [--yes] [--json]\n"
    "\n"
    "Erase the token's PIV application: every key (including the escrowed\n"
    "encryption keys: get them back with `keyward recover`), every certificate;\n"
    "PIN 123456, PUK 12345678 and the default management key again. The PIN and\n"
    "PUK are blocked first (the token requires it). Also forgets keyward's\n"
    "enrollment journal of that token.\n"
    "\n"
    "  --token SEL  serial, transport URI or pkcs11:serial=N\n"
    "  --yes        do not ask for confirmation (scripts)\n"
    "  --json       result as JSON\n"
    "  --help       this text\n"
    "\n"
    "Exit status: 0 ok, 1 error, 2 usage error or not confirmed.\n";

/* Block PIN (ref 80, VERIFY) or PUK (ref 81, RESET RETRY COUNTER with a
 * wrong PUK) by spending its tries. Two different wrong values so that a
 * real PIN equal to one of them cannot stop it. */
static kw_rv
block(kw_piv *piv, uint8_t ref)
{
	static const uint8_t w1[8] = "\x30\x30\x30\x30\x30\x30\x30\x30";
	static const uint8_t w2[8] = "\x39\x39\x39\x39\x39\x39\x39\x39";
	int i, left = -1;
	kw_rv rv = KW_OK;

	for (i = 0; i < 32; i++) {
		const uint8_t *w = (i & 1) ? w2 : w1;

		if (ref == KW_PIV_REF_PIN)
			rv = kw_piv_verify(piv, ref, w, 8, &left);
		else
			rv = kw_piv_unblock_pin(piv, w, 8, w1, 8, &left);
		if (rv == KW_ERR_PIN_BLOCKED || (rv == KW_ERR_PIN_INCORRECT && left == 0))
			return KW_OK;
		if (rv != KW_OK && rv != KW_ERR_PIN_INCORRECT)
			return rv;
	}
	return KW_ERR_CARD;
}

static bool
confirmed(const kwcli_token *tok)
{
	char line[64], want[16];

	snprintf(want, sizeof(want), "%u", tok->has_serial ? tok->serial : 0);
	fprintf(stderr, "This erases every key and certificate on token %s (serial %s).\n",
	    tok->uri, want);
	if (kwcli_prompt_line("Type the serial number to confirm: ", line, sizeof(line)) != KW_OK)
		return false;
	return strcmp(line, want) == 0;
}

static void
forget_journal(const kwcli_token *tok)
{
	kwcli_journal jr;
	char id[32];

	snprintf(id, sizeof(id), "%u", tok->serial);
	if (tok->has_serial && kwcli_journal_load(&jr, id) == KW_OK) {
		(void)unlink(jr.path);
		kwcli_journal_free(&jr);
	}
}

int
kwcli_cmd_reset(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "token", required_argument, NULL, 't' },
		{ "yes", no_argument, NULL, 'y' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sel = NULL;
	bool yes = false, json = false;
	kwcli_token tok;
	kw_rv rv;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 't': sel = optarg; break;
		case 'y': yes = true; break;
		case 'j': json = true; break;
		case 'h':
			fputs(reset_usage, stdout);
			return KWCLI_OK;
		default:
			fputs(reset_usage, stderr);
			return KWCLI_USAGE;
		}
	}
	if (optind < argc) {
		fputs(reset_usage, stderr);
		return KWCLI_USAGE;
	}
	if (kwcli_token_select(sel, &tok) != KW_OK)
		return KWCLI_ERROR;
	if (!yes && !confirmed(&tok)) {
		fprintf(stderr, "keyward: not confirmed; nothing changed\n");
		kwcli_token_close(&tok);
		return KWCLI_USAGE;
	}
	if ((rv = kw_transport_begin(tok.t)) == KW_OK) {
		if ((rv = block(tok.piv, KW_PIV_REF_PIN)) == KW_OK &&
		    (rv = block(tok.piv, KW_PIV_REF_PUK)) == KW_OK)
			rv = kw_piv_reset(tok.piv);
		(void)kw_transport_end(tok.t);
	}
	if (rv == KW_OK)
		forget_journal(&tok);
	else
		fprintf(stderr, "keyward: reset failed: %s\n", kw_strerror(rv));
	if (json)
		kwcli_json_print(json_pack("{s:b,s:s}", "ok", rv == KW_OK, "token", tok.uri));
	else if (rv == KW_OK)
		printf("token %s reset to factory state\n", tok.uri);
	kwcli_token_close(&tok);
	return rv == KW_OK ? KWCLI_OK : KWCLI_ERROR;
}
