/* The enrollment of one token (enroll, renew, recover): token, journal,
 * credentials, first-use initialization, the KMS session (email control
 * validation), then the signing slot (cli_enroll_sign.c) and the
 * encryption slots (cli_enroll_keys.c). Every step checks the token first
 * and does only what is missing, so a rerun after an interruption ends in
 * the same state as an uninterrupted run. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "kw_log.h"
#include "kwenroll.h"

void
kwcli_progress(const kwcli_enroll_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->o->quiet)
		return;
	if (c->o->label != NULL)
		fprintf(stderr, "[%s] ", c->o->label);
	else
		fprintf(stderr, "keyward: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

kw_rv
kwcli_enroll_kms_session(kwcli_enroll_ctx *c)
{
	char value[128];
	kw_rv rv;

	if (*kwkms_session(c->kms) != '\0')
		return KW_OK;
	kwcli_progress(c, "asking the KMS to send a validation value to %s", c->o->email);
	if ((rv = kwkms_validation_start(c->kms, c->o->email)) != KW_OK) {
		kwcli_kms_report(c->kms, "email validation could not start", rv);
		return rv;
	}
	memset(value, 0, sizeof(value));
	if (c->o->validation_value != NULL &&
	    strlen(c->o->validation_value) < sizeof(value))
		memcpy(value, c->o->validation_value, strlen(c->o->validation_value));
	else if ((rv = kwcli_prompt_line("Validation value from the mail: ", value,
	    sizeof(value))) != KW_OK) {
		fprintf(stderr, "keyward: no validation value entered\n");
		return rv;
	}
	rv = kwkms_validation_finish(c->kms, c->o->email, value);
	kw_memzero(value, sizeof(value));
	if (rv != KW_OK)
		kwcli_kms_report(c->kms, "email validation failed", rv);
	else
		kwcli_progress(c, "email address validated");
	return rv;
}

kw_rv
kwcli_enroll_check_cert(kwcli_enroll_ctx *c, const kw_buf *der, int purpose)
{
	kw_rv rv;

	if (c->ca_pem == NULL && (rv = kwkms_ca(c->kms, &c->ca_pem)) != KW_OK) {
		kwcli_kms_report(c->kms, "cannot get the KMS CA certificate", rv);
		return rv;
	}
	if ((rv = kwcli_cert_check_chain(der->data, der->len, c->ca_pem, purpose)) != KW_OK)
		fprintf(stderr, "keyward: a certificate from the KMS does not chain to the KMS "
		    "CA for S/MIME %s: not written to the token\n",
		    purpose == X509_PURPOSE_SMIME_SIGN ? "signing" : "encryption");
	return rv;
}

static void
token_id(const kwcli_token *tok, char *out, size_t len)
{
	if (tok->has_serial)
		snprintf(out, len, "%u", tok->serial);
	else
		snprintf(out, len, "noserial");
}

/* PIN (new one on a fresh token) and, when still the default, a new PUK. */
static kw_rv
credentials(kwcli_enroll_ctx *c, const kwcli_defaults *d, kw_secret *puk)
{
	kwcli_secret_src pin_src = { d->pin == 1 ? "new PIN (6-8 characters)" : "PIN",
		c->o->pin_file, "KEYWARD_PIN", d->pin == 1 };
	kwcli_secret_src puk_src = { "new PUK (6-8 characters)", c->o->puk_file,
		"KEYWARD_PUK", true };
	kwcli_secret_src pw_src = { "key-protection password", c->o->password_file, NULL,
		false };
	kw_secret tmp = { 0 };
	kw_rv rv;

	if (c->o->password_stdin)
		pw_src.file = "-";
	if (c->o->password_stdin || c->o->password_file != NULL) {
		/* libkwkms wants a C string: keep a NUL inside the secret. */
		if ((rv = kwcli_secret_get(&pw_src, &tmp)) == KW_OK &&
		    (rv = kw_secret_alloc(&c->password, tmp.len + 1)) == KW_OK)
			memcpy(c->password.ptr, tmp.ptr, tmp.len);
		kw_secret_free(&tmp);
		if (rv != KW_OK)
			return rv;
		c->have_password = true;
	}
	if ((rv = kwcli_secret_get(&pin_src, &c->pin)) != KW_OK)
		return rv;
	if (!kwcli_pin_ok(&c->pin)) {
		fprintf(stderr, "keyward: a PIN has 6 to 8 characters\n");
		return KW_ERR_ARG;
	}
	if (d->puk == 1) {
		if ((rv = kwcli_secret_get(&puk_src, puk)) != KW_OK)
			return rv;
		if (!kwcli_pin_ok(puk)) {
			fprintf(stderr, "keyward: a PUK has 6 to 8 characters\n");
			return KW_ERR_ARG;
		}
	}
	return KW_OK;
}

static kw_rv
initialize(kwcli_enroll_ctx *c)
{
	kwcli_defaults d;
	kw_secret puk = { 0 };
	bool changed = false;
	kw_rv rv;

	kwcli_admin_defaults(&c->tok, &d);
	if ((rv = credentials(c, &d, &puk)) != KW_OK)
		goto fail;
	if (d.pin == 1 || d.puk == 1 || d.mgmt == 1)
		kwcli_progress(c, "new token: setting PIN, PUK and a random management key");
	if (d.pin == -1)
		kwcli_progress(c, "this token cannot say whether its PIN and PUK are still the "
		    "factory ones (no GET METADATA): if so, change them with `keyward pin change`");
	if ((rv = kw_transport_begin(c->tok.t)) != KW_OK)
		goto fail;
	rv = kwcli_admin_init(&c->tok, &c->pin, &puk, &changed);
	(void)kw_transport_end(c->tok.t);
	if (rv == KW_OK)
		json_object_set_new(c->res, "initialized", json_boolean(changed));
fail:
	kw_secret_free(&puk);
	return rv;
}

/* The journal belongs to this address and KMS; another enrollment of the
 * same token starts a new one. Renew/recover mark themselves pending so an
 * interrupted run resumes instead of starting over. */
static kw_rv
journal_open(kwcli_enroll_ctx *c)
{
	const char *email, *kms, *pending;
	const char *mode = c->o->mode == KWCLI_RENEW ? "renew" :
	    c->o->mode == KWCLI_RECOVER ? "recover" : NULL;
	kw_rv rv;

	if ((rv = kwcli_journal_load(&c->jr, c->token_id)) != KW_OK)
		return rv;
	email = kwcli_journal_str(&c->jr, "email");
	kms = kwcli_journal_str(&c->jr, "kms");
	if (email == NULL || kms == NULL || strcmp(email, c->o->email) != 0 ||
	    strcmp(kms, c->o->kms_url) != 0) {
		json_object_clear(c->jr.j);
		if ((rv = kwcli_journal_set_str(&c->jr, "email", c->o->email)) != KW_OK ||
		    (rv = kwcli_journal_set_str(&c->jr, "kms", c->o->kms_url)) != KW_OK)
			return rv;
	} else
		json_object_set_new(c->res, "resumed", json_boolean(
		    json_object_get(c->jr.j, "complete") == NULL ||
		    json_object_get(c->jr.j, "pending") != NULL));
	pending = kwcli_journal_str(&c->jr, "pending");
	if (mode != NULL && pending == NULL) {
		/* A new run of renew/recover: the signing key is replaced. */
		json_object_del(c->jr.j, "sign_complete");
		json_object_del(c->jr.j, "sign_key");
		json_object_del(c->jr.j, "sign_cert");
		if ((rv = kwcli_journal_set_str(&c->jr, "pending", mode)) != KW_OK)
			return rv;
	}
	c->was_complete = json_is_true(json_object_get(c->jr.j, "complete"));
	json_object_del(c->jr.j, "complete");
	return kwcli_journal_save(&c->jr);
}

/* recover --revoke: the lost token's signing certificate (the KMS accepts
 * only the caller's own). */
static kw_rv
kms_revoke_old(kwcli_enroll_ctx *c)
{
	const char *done = kwcli_journal_str(&c->jr, "revoked");
	kw_rv rv;

	if (done != NULL && strcmp(done, c->o->revoke) == 0) {
		json_object_set_new(c->res, "revoked", json_string(c->o->revoke));
		return KW_OK;   /* a rerun: revoked by the interrupted run */
	}
	if ((rv = kwcli_enroll_kms_session(c)) != KW_OK)
		return rv;
	kwcli_progress(c, "revoking the lost token's signing certificate %s", c->o->revoke);
	if ((rv = kwkms_revoke(c->kms, c->o->revoke, 1)) != KW_OK) {
		kwcli_kms_report(c->kms, "revocation failed", rv);
		return rv;
	}
	json_object_set_new(c->res, "revoked", json_string(c->o->revoke));
	if ((rv = kwcli_journal_set_str(&c->jr, "revoked", c->o->revoke)) == KW_OK)
		rv = kwcli_journal_save(&c->jr);
	return rv;
}

static kw_rv
enroll_steps(kwcli_enroll_ctx *c)
{
	kw_rv rv;

	if ((rv = kwcli_token_select(c->o->token, &c->tok)) != KW_OK)
		return rv;
	token_id(&c->tok, c->token_id, sizeof(c->token_id));
	json_object_set_new(c->res, "token", json_string(c->tok.uri));
	if (c->tok.has_serial)
		json_object_set_new(c->res, "serial", json_integer(c->tok.serial));
	kwcli_progress(c, "token %s (serial %s)", c->tok.uri, c->token_id);
	if ((rv = journal_open(c)) != KW_OK ||
	    (rv = kwkms_new(c->o->kms_url, c->o->kms_ca, &c->kms)) != KW_OK)
		return rv;
	if ((rv = initialize(c)) != KW_OK)
		return rv;
	/* Validate the address before any key is made (a rerun of a finished
	 * enrollment needs the KMS only if the token lost something). */
	if ((!c->was_complete || c->o->mode != KWCLI_ENROLL) &&
	    (rv = kwcli_enroll_kms_session(c)) != KW_OK)
		return rv;
	if ((rv = kwcli_enroll_sign_slot(c)) != KW_OK)
		return rv;
	if ((rv = kwcli_enroll_enc_slots(c)) != KW_OK)
		return rv;
	if (c->o->revoke != NULL && (rv = kms_revoke_old(c)) != KW_OK)
		return rv;
	json_object_del(c->jr.j, "pending");
	json_object_set_new(c->jr.j, "complete", json_true());
	if ((rv = kwcli_journal_save(&c->jr)) != KW_OK)
		return rv;
	kwcli_progress(c, "done: the token holds the signing key and the encryption keys");
	return KW_OK;
}

/* After a failure past the token selection: what happened and that a rerun
 * resumes (the journal and the token keep what was done). */
static void
stopped_hint(const kwcli_enroll_ctx *c, kw_rv rv)
{
	switch (rv) {
	case KW_ERR_CARD_REMOVED: case KW_ERR_CARD_RESET: case KW_ERR_NO_CARD: case KW_ERR_NO_READER:
	case KW_ERR_SERVICE_GONE: case KW_ERR_TRANSPORT: case KW_ERR_TIMEOUT:
		fprintf(stderr, "keyward: the token stopped answering (%s): was it pulled "
		    "out?\n", kw_strerror(rv));
		break;
	case KW_ERR_PROTOCOL:
		if (c->kms == NULL || *kwkms_error(c->kms) == '\0')
			fprintf(stderr, "keyward: the token stopped answering properly "
			    "(was it pulled out?)\n");
		break;
	case KW_ERR_PIN_INCORRECT: case KW_ERR_PIN_BLOCKED: case KW_ERR_ARG:
		return;
	default:
		break;
	}
	fprintf(stderr, "keyward: enrollment of token %s stopped; run the same command "
	    "again to resume where it stopped\n", c->token_id);
}

int
kwcli_enroll_run(const kwcli_enroll_opts *o, json_t **result)
{
	kwcli_enroll_ctx c;
	kw_rv rv;

	memset(&c, 0, sizeof(c));
	c.o = o;
	*result = NULL;
	if ((c.res = json_pack("{s:s,s:b}", "email", o->email, "ok", 0)) == NULL)
		return KWCLI_ERROR;
	rv = enroll_steps(&c);
	if (rv != KW_OK && c.jr.j != NULL)
		stopped_hint(&c, rv);
	json_object_set_new(c.res, "ok", json_boolean(rv == KW_OK));
	if (rv != KW_OK) {
		json_object_set_new(c.res, "error", json_string(kw_strerror(rv)));
		if (c.kms != NULL && *kwkms_error(c.kms) != '\0')
			json_object_set_new(c.res, "kms_error", json_string(kwkms_error(c.kms)));
	}
	*result = c.res;
	kw_secret_free(&c.pin);
	kw_secret_free(&c.password);
	kwkms_free(&c.kms);
	free(c.ca_pem);
	kwcli_journal_free(&c.jr);
	kwcli_token_close(&c.tok);
	return rv == KW_OK ? KWCLI_OK : KWCLI_ERROR;
}
