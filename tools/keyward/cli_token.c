/* Finding tokens and choosing one by serial number or transport URI. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kw_log.h"
#include "kwcli.h"
#include "pcsc/kw_pcsc.h"

void
kwcli_uri_split(const char *uri, char *scheme, size_t scheme_len, const char **rest)
{
	const char *c = strchr(uri, ':');
	size_t n = c != NULL ? (size_t)(c - uri) : 0;

	*rest = c != NULL ? c + 1 : uri;
	if (scheme_len == 0)
		return;
	if (n >= scheme_len)
		n = scheme_len - 1;
	memcpy(scheme, uri, n);
	scheme[n] = '\0';
}

void
kwcli_token_close(kwcli_token *tok)
{
	kw_piv_free(&tok->piv);
	kw_transport_free(&tok->t);
	free(tok->uri);
	memset(tok, 0, sizeof(*tok));
}

static kw_rv
token_identify(kwcli_token *tok)
{
	kw_rv rv;

	if ((rv = kw_piv_select(tok->piv)) != KW_OK)
		return rv;
	/* Serial and version are YubiKey extensions: absent on plain PIV. */
	rv = kw_piv_get_serial(tok->piv, &tok->serial);
	tok->has_serial = rv == KW_OK;
	if (rv != KW_OK)
		kw_debug("%s: no serial: %s", tok->uri, kw_strerror(rv));
	rv = kw_piv_get_version(tok->piv, tok->version);
	tok->has_version = rv == KW_OK;
	if (rv != KW_OK)
		kw_debug("%s: no version: %s", tok->uri, kw_strerror(rv));
	return KW_OK;
}

kw_rv
kwcli_token_open_uri(const char *uri, kwcli_token *tok)
{
	kw_rv rv;

	memset(tok, 0, sizeof(*tok));
	if ((tok->uri = strdup(uri)) == NULL)
		return KW_ERR_NOMEM;
	if ((rv = kw_transport_open(uri, &tok->t)) != KW_OK)
		goto fail;
	if ((rv = kw_piv_new(tok->t, &tok->piv)) != KW_OK)
		goto fail;
	if ((rv = kw_transport_begin(tok->t)) != KW_OK)
		goto fail;
	rv = token_identify(tok);
	(void)kw_transport_end(tok->t);
	if (rv != KW_OK)
		goto fail;
	return KW_OK;
fail:
	kwcli_token_close(tok);
	return rv;
}

kw_rv
kwcli_token_uris(kw_strlist *out, bool hint)
{
	kw_strlist readers = { 0 };
	kw_rv rv;

	if ((rv = kw_transport_list_all(out)) != KW_OK)
		return rv;
	if (out->n > 0 || !hint)
		return KW_OK;
	rv = kw_pcsc_list_readers(&readers);
	if (rv == KW_ERR_NO_SERVICE)
		fprintf(stderr, "keyward: pcscd is not running (install and start the "
		    "pcscd package, or run under keyward-testenv)\n");
	else if (rv == KW_OK && readers.n == 0)
		fprintf(stderr, "keyward: no smart card reader or token is connected\n");
	kw_strlist_free(&readers);
	return KW_OK;
}

static bool
parse_serial(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* The serial attribute of an RFC 7512 URI's path ("token=..;serial=123"). */
static bool
pkcs11_uri_serial(const char *path, uint32_t *out)
{
	char buf[32];
	const char *a = path, *end;
	size_t n;

	while (*a != '\0' && *a != '?') {
		end = a + strcspn(a, ";?");
		if (strncmp(a, "serial=", 7) == 0 && (n = (size_t)(end - a - 7)) < sizeof(buf)) {
			memcpy(buf, a + 7, n);
			buf[n] = '\0';
			return parse_serial(buf, out);
		}
		a = *end == ';' ? end + 1 : end;
	}
	return false;
}

static void
print_candidates(kwcli_token *toks, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (toks[i].has_serial)
			fprintf(stderr, "  serial %u  ", toks[i].serial);
		else
			fprintf(stderr, "  (no serial)  ");
		kwcli_print_safe(stderr, toks[i].uri);
		fputc('\n', stderr);
	}
}

/* Open every token; keep the one that matches (all if want_serial is false). */
static kw_rv
token_pick(bool want_serial, uint32_t serial, kwcli_token *tok)
{
	kw_strlist uris = { 0 };
	kwcli_token *toks = NULL;
	size_t i, n = 0, match = 0, found = 0;
	kw_rv rv;

	if ((rv = kwcli_token_uris(&uris, true)) != KW_OK)
		goto out;
	if (uris.n > 0 && (toks = calloc(uris.n, sizeof(*toks))) == NULL) {
		rv = KW_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < uris.n; i++) {
		if ((rv = kwcli_token_open_uri(uris.v[i], &toks[n])) != KW_OK) {
			kw_debug("%s: %s", uris.v[i], kw_strerror(rv));
			continue;
		}
		if (!want_serial || (toks[n].has_serial && toks[n].serial == serial)) {
			match = n;
			found++;
		}
		n++;
	}
	rv = KW_ERR_NOT_FOUND;
	if (found == 0 && want_serial)
		fprintf(stderr, "keyward: no token with serial %u\n", serial);
	else if (found == 0)
		fprintf(stderr, "keyward: no token found\n");
	else if (found > 1) {
		fprintf(stderr, "keyward: %zu tokens are present; choose one with "
		    "--token SERIAL or --token URI:\n", found);
		print_candidates(toks, n);
		rv = KW_ERR_ARG;
	} else {
		*tok = toks[match];
		memset(&toks[match], 0, sizeof(toks[match]));
		rv = KW_OK;
	}
	for (i = 0; i < n; i++)
		kwcli_token_close(&toks[i]);
out:
	free(toks);
	kw_strlist_free(&uris);
	return rv;
}

kw_rv
kwcli_token_select(const char *sel, kwcli_token *tok)
{
	uint32_t serial;
	kw_rv rv;

	memset(tok, 0, sizeof(*tok));
	if (sel == NULL)
		return token_pick(false, 0, tok);
	if (parse_serial(sel, &serial))
		return token_pick(true, serial, tok);
	if (strncmp(sel, "pkcs11:", 7) == 0) {
		if (pkcs11_uri_serial(sel + 7, &serial))
			return token_pick(true, serial, tok);
		fprintf(stderr, "keyward: a pkcs11: URI selects a token by its serial "
		    "attribute (pkcs11:serial=NNN)\n");
		return KW_ERR_ARG;
	}
	if (strchr(sel, ':') == NULL) {
		fprintf(stderr, "keyward: --token wants a serial number or a URI such as "
		    "\"pcsc:<reader name>\"\n");
		return KW_ERR_ARG;
	}
	if ((rv = kwcli_token_open_uri(sel, tok)) != KW_OK) {
		fprintf(stderr, "keyward: ");
		kwcli_print_safe(stderr, sel);
		fprintf(stderr, ": %s\n", kw_strerror(rv));
	}
	return rv;
}
