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
#include <time.h>
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

/* The journal's pending validation: its end (local clock), 0 if none. */
static json_int_t
validation_pending(const kwcli_enroll_ctx *c)
{
	json_int_t until = json_integer_value(json_object_get(c->jr.j, "validation_until"));

	return until > (json_int_t)time(NULL) ? until : 0;
}

static kw_rv
validation_start(kwcli_enroll_ctx *c)
{
	long expires_in = 0;
	kw_rv rv;

	kwcli_progress(c, "asking the KMS to send a validation value to %s", c->o->email);
	json_object_del(c->jr.j, "validation_until");
	if ((rv = kwkms_validation_start(c->kms, c->o->email, &expires_in)) != KW_OK) {
		kwcli_kms_report(c->kms, "email validation could not start", rv);
		(void)kwcli_journal_save(&c->jr);
		return rv;
	}
	/* A rerun before the end (with a margin for clock skew and typing)
	 * finishes this validation instead of voiding its value. */
	if (expires_in > 60)
		json_object_set_new(c->jr.j, "validation_until",
		    json_integer((json_int_t)time(NULL) + expires_in - 30));
	return kwcli_journal_save(&c->jr);
}

/* The value: --validation-value once (it belongs to the validation pending
 * when the run started), else a prompt. */
static kw_rv
validation_value(kwcli_enroll_ctx *c, bool *from_option, char *value, size_t max)
{
	memset(value, 0, max);
	if (*from_option && c->o->validation_value != NULL &&
	    strlen(c->o->validation_value) < max) {
		*from_option = false;
		memcpy(value, c->o->validation_value, strlen(c->o->validation_value));
		return KW_OK;
	}
	*from_option = false;
	if (kwcli_prompt_line("Validation value from the mail: ", value, max) != KW_OK) {
		fprintf(stderr, "keyward: no validation value entered; run the same command "
		    "again with --validation-value VALUE (the value mailed stays valid until "
		    "it expires)\n");
		return KW_ERR_NOT_FOUND;
	}
	return KW_OK;
}

kw_rv
kwcli_enroll_kms_session(kwcli_enroll_ctx *c)
{
	char value[128];
	bool from_option = true, reused = false;
	const char *e;
	kw_rv rv;

	if (*kwkms_session(c->kms) != '\0')
		return KW_OK;
	if (validation_pending(c) != 0) {
		reused = true;
		kwcli_progress(c, "finishing the validation started earlier: use the value "
		    "already mailed to %s", c->o->email);
	} else if ((rv = validation_start(c)) != KW_OK)
		return rv;
	for (;;) {
		if ((rv = validation_value(c, &from_option, value, sizeof(value))) != KW_OK)
			return rv;
		rv = kwkms_validation_finish(c->kms, c->o->email, value);
		kw_memzero(value, sizeof(value));
		e = kwkms_error(c->kms);
		/* The earlier validation is over (expired, voided, used): a new one,
		 * once. A wrong value keeps it pending (the KMS counts the tries). */
		if (rv != KW_OK && reused && (strcmp(e, "expired") == 0 ||
		    strcmp(e, "no_pending_validation") == 0)) {
			reused = false;
			kwcli_progress(c, "the validation started earlier is no longer pending (%s)",
			    strcmp(e, "expired") == 0 ? "expired" : "used or replaced");
			if ((rv = validation_start(c)) != KW_OK)
				return rv;
			continue;
		}
		break;
	}
	if (rv != KW_OK) {
		kwcli_kms_report(c->kms, "email validation failed", rv);
		return rv;
	}
	json_object_del(c->jr.j, "validation_until");
	kwcli_progress(c, "email address validated");
	return kwcli_journal_save(&c->jr);
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

/* need_kms: this run will talk to the KMS. Then, and whenever the token
 * is about to be initialized, the KMS is reached first: a wrong URL or CA
 * file must not leave a half-enrolled token with a new PIN behind. */
static kw_rv
initialize(kwcli_enroll_ctx *c, bool need_kms)
{
	kwcli_defaults d;
	kw_secret puk = { 0 };
	bool changed = false;
	kw_rv rv;

	kwcli_admin_defaults(&c->tok, &d);
	if ((need_kms || d.pin == 1 || d.puk == 1 || d.mgmt == 1) &&
	    (rv = kwcli_kms_reach(c)) != KW_OK)
		goto fail;
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
	bool need_kms;
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
	/* Validate the address before any key is made (a rerun of a finished
	 * enrollment needs the KMS only if the token lost something). */
	need_kms = !c->was_complete || c->o->mode != KWCLI_ENROLL;
	if ((rv = initialize(c, need_kms)) != KW_OK)
		return rv;
	if (need_kms && (rv = kwcli_enroll_kms_session(c)) != KW_OK)
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
