/* keyward status: one token in detail. */
#include <string.h>

#include "kwenroll.h"

static const char status_usage[] =
    "Usage: keyward status [--token SERIAL|URI] [--json]\n"
    "\n"
    "Show one token in detail: firmware version, serial, PIN and PUK retry\n"
    "counters, whether the PIN, PUK and management key are still the factory\n"
    "defaults, each slot's key (algorithm, origin, PIN and touch policies) and\n"
    "certificate (subject, issuer, validity), and the key history object.\n"
    "Nothing is changed on the token and no PIN try is spent.\n"
    "\n"
    "  --token SERIAL|URI  the token to show (required when several are present);\n"
    "                      a serial number or a transport URI such as\n"
    "                      \"pcsc:Yubico YubiKey OTP+FIDO+CCID 00 00\"\n"
    "  --json              machine-readable output\n"
    "  --help              this text\n"
    "\n"
    "Exit status: 0 ok, 1 error, 2 usage error or ambiguous token choice.\n";

static json_t *
tristate(int v)
{
	return v < 0 ? json_null() : json_boolean(v != 0);
}

static json_t *
pin_json(const kwcli_pin_info *pi)
{
	return json_pack("{s:o, s:o, s:o}",
	    "retries_left", pi->known && pi->left >= 0 ? json_integer(pi->left) : json_null(),
	    "retries_total", pi->total >= 0 ? json_integer(pi->total) : json_null(),
	    "default", tristate(pi->is_default));
}

/* An AES management key (what `keyward enroll` sets) cannot be used by
 * tools that only know 3DES ones, such as Debian 12's yubico-piv-tool 2.2. */
static bool
mgmt_is_aes(const kwcli_mgmt_info *m)
{
	return m->alg == KW_PIV_ALG_AES128 || m->alg == KW_PIV_ALG_AES192 ||
	    m->alg == KW_PIV_ALG_AES256;
}

#define KWCLI_AES_NOTE \
	"yubico-piv-tool 2.2 (Debian 12) and other tools without AES management " \
	"keys cannot administer this token; use keyward's verbs (pin, renew, recover, " \
	"reset), which use the PIN-protected management key after the PIN"

static json_t *
mgmt_json(const kwcli_mgmt_info *m)
{
	return json_pack("{s:o, s:o, s:o, s:o}",
	    "algorithm", m->alg != 0 ? json_string(kwcli_alg_name(m->alg)) : json_null(),
	    "default", tristate(m->is_default),
	    "touch_policy", m->alg != 0 ?
	    json_string(kwcli_touch_policy_name(m->touch_policy)) : json_null(),
	    "note", mgmt_is_aes(m) ? json_string(KWCLI_AES_NOTE) : json_null());
}

static json_t *
cert_json(const kwcli_slot *s)
{
	kwcli_cert_info ci;

	if (!s->has_cert)
		return json_null();
	kwcli_cert_parse(&s->cert, &ci);
	if (!ci.ok)
		return json_pack("{s:b, s:I}", "parsed", 0, "length", (json_int_t)s->cert.len);
	return json_pack("{s:b, s:I, s:s, s:s, s:s, s:s, s:s, s:b}", "parsed", 1,
	    "length", (json_int_t)s->cert.len, "subject", ci.subject, "issuer", ci.issuer,
	    "serial", ci.serial, "not_before", ci.not_before, "not_after", ci.not_after,
	    "expired", ci.expired);
}

static json_t *
key_json(const kwcli_slot *s)
{
	const kw_piv_metadata *md = &s->md;

	if (!s->has_key)
		return json_null();
	if (!s->has_md)
		return json_pack("{s:s}", "known_from", "certificate");
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "known_from", "metadata",
	    "algorithm", kwcli_alg_name(md->alg), "origin", kwcli_origin_name(md->origin),
	    "pin_policy", kwcli_pin_policy_name(md->pin_policy),
	    "touch_policy", kwcli_touch_policy_name(md->touch_policy));
}

/* SHA-256 of the key's SubjectPublicKeyInfo (from metadata), or null. */
static json_t *
pubkey_json(const kwcli_slot *s)
{
	char id[65];

	if (!s->has_md || s->md.pubkey == NULL || kwcli_pubkey_id(s->md.pubkey, id) != KW_OK)
		return json_null();
	return json_string(id);
}

/* Does the certificate hold the slot's public key? null if unknown. */
static json_t *
match_json(const kwcli_slot *s)
{
	if (!s->has_md || s->md.pubkey == NULL || !s->has_cert)
		return json_null();
	return json_boolean(kwcli_cert_matches_key(s->cert.data, s->cert.len, s->md.pubkey));
}

static json_t *
slots_json(const kwcli_probe *pr)
{
	json_t *a = json_array();
	char hex[3];
	size_t i;

	for (i = 0; a != NULL && i < KWCLI_NSLOTS; i++) {
		const kwcli_slot *s = &pr->slots[i];

		if (!s->has_key && !s->has_cert)
			continue;
		kwcli_slot_hex(s->slot, hex);
		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "slot", hex,
		    "name", kwcli_slot_name(s->slot), "key", key_json(s),
		    "certificate", cert_json(s), "public_key_sha256", pubkey_json(s),
		    "certificate_matches_key", match_json(s)));
	}
	return a;
}

static json_t *
status_json(const kwcli_token *tok, const kwcli_probe *pr)
{
	char scheme[16], ver[16], atr[2 * KW_MAX_ATR + 1] = "";
	const char *rest;

	kwcli_uri_split(tok->uri, scheme, sizeof(scheme), &rest);
	kwcli_version_str(tok, ver, sizeof(ver));
	(void)kw_hex_encode(pr->atr, pr->atr_len, atr, sizeof(atr));
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:b, s:o, s:o, s:o, s:o, s:o}",
	    "uri", tok->uri, "transport", scheme, "reader", rest,
	    "serial", tok->has_serial ? json_integer(tok->serial) : json_null(),
	    "version", tok->has_version ? json_string(ver) : json_null(),
	    "atr", atr,
	    "metadata_supported", pr->metadata,
	    "pin", pin_json(&pr->pin), "puk", pin_json(&pr->puk),
	    "management_key", mgmt_json(&pr->mgmt),
	    "slots", slots_json(pr),
	    "key_history", pr->has_history ?
	    json_pack("{s:i, s:i, s:s}", "on_card_certs", pr->history.on_card_certs,
		"off_card_certs", pr->history.off_card_certs, "url", pr->history.url) :
	    json_null());
}

static void
text_pin(const char *label, const kwcli_pin_info *pi)
{
	printf("%-16s", label);
	if (pi->known && pi->total >= 0)
		printf("%d of %d tries left", pi->left, pi->total);
	else if (pi->known)
		printf("%d tries left", pi->left);
	else
		printf("tries unknown");
	if (pi->is_default == 1)
		printf(", factory default: change it");
	printf("\n");
}

static void
text_slot(const kwcli_slot *s)
{
	const kw_piv_metadata *md = &s->md;
	kwcli_cert_info ci;

	printf("  %02x  %-24s", s->slot, kwcli_slot_name(s->slot));
	if (!s->has_key)
		printf("no key\n");
	else if (!s->has_md)
		printf("key (known from its certificate)\n");
	else
		printf("key %s, %s, PIN %s, touch %s\n", kwcli_alg_name(md->alg),
		    kwcli_origin_name(md->origin), kwcli_pin_policy_name(md->pin_policy),
		    kwcli_touch_policy_name(md->touch_policy));
	if (!s->has_cert)
		return;
	kwcli_cert_parse(&s->cert, &ci);
	printf("      %-24s", "");
	if (!ci.ok) {
		printf("certificate (%zu bytes) does not parse\n", s->cert.len);
		return;
	}
	printf("cert ");
	kwcli_print_safe(stdout, ci.subject);
	printf("\n      %-24s%s %s\n", "", ci.expired ? "EXPIRED" : "expires", ci.not_after);
}

static void
status_text(const kwcli_token *tok, const kwcli_probe *pr)
{
	char ver[16], atr[2 * KW_MAX_ATR + 1] = "";
	size_t i, shown = 0;

	kwcli_version_str(tok, ver, sizeof(ver));
	(void)kw_hex_encode(pr->atr, pr->atr_len, atr, sizeof(atr));
	if (tok->has_serial)
		printf("Token: serial %u, firmware %s\n", tok->serial, ver);
	else
		printf("Token: no serial, firmware %s\n", ver);
	printf("%-16s", "URI:");
	kwcli_print_safe(stdout, tok->uri);
	printf("\n%-16s%s\n", "ATR:", atr);
	text_pin("PIN:", &pr->pin);
	text_pin("PUK:", &pr->puk);
	printf("%-16s", "Management key:");
	if (pr->mgmt.alg == 0)
		printf("unknown (no GET METADATA)\n");
	else
		printf("%s, touch %s%s\n", kwcli_alg_name(pr->mgmt.alg),
		    kwcli_touch_policy_name(pr->mgmt.touch_policy),
		    pr->mgmt.is_default == 1 ? ", factory default: change it" : ", not default");
	if (mgmt_is_aes(&pr->mgmt))
		printf("%-16s%s\n", "", "note: " KWCLI_AES_NOTE);
	printf("Slots:\n");
	for (i = 0; i < KWCLI_NSLOTS; i++) {
		if (!pr->slots[i].has_key && !pr->slots[i].has_cert)
			continue;
		text_slot(&pr->slots[i]);
		shown++;
	}
	if (shown == 0)
		printf("  (no keys or certificates)\n");
	printf("%-16s", "Key history:");
	if (!pr->has_history)
		printf("none\n");
	else {
		printf("%d on-card, %d off-card certificates", pr->history.on_card_certs,
		    pr->history.off_card_certs);
		if (pr->history.url[0] != '\0') {
			printf(", URL ");
			kwcli_print_safe(stdout, pr->history.url);
		}
		printf("\n");
	}
}

int
kwcli_cmd_status(int argc, char **argv)
{
	kwcli_token tok;
	kwcli_probe pr;
	kwcli_opts o;
	kw_rv rv;
	int rc;

	if ((rc = kwcli_parse_opts(argc, argv, true, status_usage, &o)) >= 0)
		return rc;
	if ((rv = kwcli_token_select(o.token, &tok)) != KW_OK)
		return rv == KW_ERR_ARG ? KWCLI_USAGE : KWCLI_ERROR;
	rv = kwcli_probe_token(&tok, KWCLI_PROBE_ALL, &pr);
	if (rv != KW_OK) {
		fprintf(stderr, "keyward status: ");
		kwcli_print_safe(stderr, tok.uri);
		fprintf(stderr, ": %s\n", kw_strerror(rv));
		rc = KWCLI_ERROR;
	} else if (o.json) {
		rc = kwcli_json_print(status_json(&tok, &pr));
	} else {
		status_text(&tok, &pr);
		rc = fflush(stdout) == 0 ? KWCLI_OK : KWCLI_ERROR;
	}
	kwcli_probe_free(&pr);
	kwcli_token_close(&tok);
	return rc;
}
