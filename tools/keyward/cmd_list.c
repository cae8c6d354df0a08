/* keyward list: every token, with the slots that hold keys and certificates. */
#include <string.h>

#include "kw_log.h"
#include "kwcli.h"

static const char list_usage[] =
    "Usage: keyward list [--json]\n"
    "\n"
    "List every PIV token reachable through keyward's transports: transport,\n"
    "reader, serial number, firmware version, the slots that hold keys (from\n"
    "GET METADATA where the token supports it, else from certificates) and\n"
    "the slots that hold certificates.\n"
    "\n"
    "  --json   machine-readable output: {\"tokens\": [...], \"errors\": [...]}\n"
    "  --help   this text\n"
    "\n"
    "Exit status: 0 ok, 1 a token could not be read, 2 usage error.\n";

/* The slots (as "9c" strings) that hold a key or a certificate. */
static json_t *
slot_array(const kwcli_probe *pr, bool certs)
{
	json_t *a = json_array();
	char hex[3];
	size_t i;

	for (i = 0; a != NULL && i < KWCLI_NSLOTS; i++) {
		const kwcli_slot *s = &pr->slots[i];

		if (s->slot == KW_PIV_SLOT_ATTEST)
			continue;     /* the attestation key is not a user key */
		if (certs ? !s->has_cert : !s->has_key)
			continue;
		kwcli_slot_hex(s->slot, hex);
		json_array_append_new(a, json_string(hex));
	}
	return a;
}

static json_t *
token_json(const kwcli_token *tok, const kwcli_probe *pr)
{
	char scheme[16], ver[16];
	const char *rest;
	json_t *o;

	kwcli_uri_split(tok->uri, scheme, sizeof(scheme), &rest);
	kwcli_version_str(tok, ver, sizeof(ver));
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s}",
	    "uri", tok->uri,
	    "transport", scheme,
	    "reader", rest,
	    "serial", tok->has_serial ? json_integer(tok->serial) : json_null(),
	    "version", tok->has_version ? json_string(ver) : json_null(),
	    "keys", slot_array(pr, false),
	    "certificates", slot_array(pr, true),
	    "keys_from", pr->metadata ? "metadata" : "certificates");
	return o;
}

static void
print_slots(const char *label, json_t *a)
{
	size_t i;
	json_t *v;

	printf("  %-13s", label);
	if (json_array_size(a) == 0)
		printf(" none");
	json_array_foreach(a, i, v)
		printf(" %s", json_string_value(v));
	printf("\n");
}

static void
token_text(size_t idx, json_t *o)
{
	json_t *serial = json_object_get(o, "serial");
	json_t *ver = json_object_get(o, "version");

	printf("Token %zu: ", idx + 1);
	if (json_is_integer(serial))
		printf("serial %lld", (long long)json_integer_value(serial));
	else
		printf("no serial");
	printf(", firmware %s\n", json_is_string(ver) ? json_string_value(ver) : "unknown");
	printf("  %-13s ", "uri:");
	kwcli_print_safe(stdout, json_string_value(json_object_get(o, "uri")));
	printf("\n  %-13s %s\n", "transport:", json_string_value(json_object_get(o, "transport")));
	printf("  %-13s ", "reader:");
	kwcli_print_safe(stdout, json_string_value(json_object_get(o, "reader")));
	printf("\n");
	print_slots("keys:", json_object_get(o, "keys"));
	print_slots("certificates:", json_object_get(o, "certificates"));
	if (strcmp(json_string_value(json_object_get(o, "keys_from")), "metadata") != 0)
		printf("  (this token has no GET METADATA: keys inferred from certificates)\n");
}

/* Probe one URI; a token goes to `tokens`, a failure to `errors`. */
static void
list_one(const char *uri, json_t *tokens, json_t *errors)
{
	kwcli_token tok;
	kwcli_probe pr;
	json_t *o;
	kw_rv rv;

	if ((rv = kwcli_token_open_uri(uri, &tok)) != KW_OK) {
		/* A card without the PIV application is not ours to list. */
		if (rv == KW_ERR_NOT_FOUND)
			kw_debug("%s: no PIV application", uri);
		else
			json_array_append_new(errors, json_pack("{s:s, s:s}", "uri", uri,
			    "error", kw_strerror(rv)));
		return;
	}
	rv = kwcli_probe_token(&tok, KWCLI_PROBE_SLOTS, &pr);
	if (rv == KW_OK && (o = token_json(&tok, &pr)) != NULL)
		json_array_append_new(tokens, o);
	else
		json_array_append_new(errors, json_pack("{s:s, s:s}", "uri", uri,
		    "error", rv != KW_OK ? kw_strerror(rv) : "not representable as JSON"));
	kwcli_probe_free(&pr);
	kwcli_token_close(&tok);
}

int
kwcli_cmd_list(int argc, char **argv)
{
	kw_strlist uris = { 0 };
	json_t *tokens, *errors, *v;
	kwcli_opts o;
	size_t i;
	int rc;

	if ((rc = kwcli_parse_opts(argc, argv, false, list_usage, &o)) >= 0)
		return rc;
	if (kwcli_token_uris(&uris, !o.json) != KW_OK) {
		fprintf(stderr, "keyward list: cannot enumerate devices\n");
		return KWCLI_ERROR;
	}
	tokens = json_array();
	errors = json_array();
	for (i = 0; tokens != NULL && errors != NULL && i < uris.n; i++)
		list_one(uris.v[i], tokens, errors);
	kw_strlist_free(&uris);
	rc = json_array_size(errors) > 0 ? KWCLI_ERROR : KWCLI_OK;
	if (o.json) {
		if (kwcli_json_print(json_pack("{s:o, s:o}", "tokens", tokens,
		    "errors", errors)) != KWCLI_OK)
			rc = KWCLI_ERROR;
		return rc;
	}
	if (json_array_size(tokens) == 0 && json_array_size(errors) == 0)
		printf("No tokens found.\n");
	json_array_foreach(tokens, i, v)
		token_text(i, v);
	json_array_foreach(errors, i, v) {
		fprintf(stderr, "keyward list: ");
		kwcli_print_safe(stderr, json_string_value(json_object_get(v, "uri")));
		fprintf(stderr, ": %s\n", json_string_value(json_object_get(v, "error")));
	}
	json_decref(tokens);
	json_decref(errors);
	return rc;
}
