/* Email control validation.
 *
 * start: a fresh value of 130 bits (26 base32 characters, Crockford
 * alphabet); only SHA-256(email ":" value) is stored, with an expiry.
 * The rate limits (validation.per_address / per_client starts per
 * validation.window), voiding older values, the value, its mail (into the
 * outbox, sent by kms_mailer.c) and the audit entry are one transaction:
 * no mail leaves for a value that was not stored, and no SMTP server is
 * talked to while a request waits.
 * finish: the newest pending value is compared in constant time; a wrong
 * value costs an attempt (validation.max_attempts, then it is void); a
 * right one is used up and gives a session token, in one transaction. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms_service.h"
#include "kw_secret.h"

#define VALUE_LEN 26

static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static kw_rv
make_value(char out[VALUE_LEN + 1])
{
	uint8_t r[VALUE_LEN];
	size_t i;
	kw_rv rv;

	/* 26 draws of 5 bits each: 130 bits. */
	if ((rv = kms_random(r, sizeof(r))) != KW_OK)
		return rv;
	for (i = 0; i < VALUE_LEN; i++)
		out[i] = b32[r[i] & 31];
	out[VALUE_LEN] = '\0';
	kw_memzero(r, sizeof(r));
	return KW_OK;
}

/* Hash of email ":" value, the value upper-cased (people retype it). */
static void
value_hash(const char *email, const char *value, uint8_t h[32])
{
	char buf[400];
	int n = snprintf(buf, sizeof(buf), "%s:%s", email, value), i;

	for (i = (int)strlen(email) + 1; n > 0 && i < n && i < (int)sizeof(buf); i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	kms_sha256(buf, n > 0 ? (size_t)n : 0, h);
	kw_memzero(buf, sizeof(buf));
}

static int
mail_text(const kms_ctx *ctx, const char *email, const char *value, char *out,
    size_t outsz)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	return snprintf(out, outsz,
	    "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\nSubject: keyward email validation\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "Someone asked to enroll this address for encrypted mail.\r\n"
	    "Validation value: %s\r\n"
	    "It expires in %ld minutes. If it was not you, ignore this message.\r\n",
	    date, ctx->cfg.smtp_from, email, value, ctx->cfg.validation_ttl / 60);
}

kw_rv
kms_validation_start(kms_ctx *ctx, const char *email, const char *client,
    kms_rate_which *limited)
{
	char value[VALUE_LEN + 1], text[2048];
	uint8_t h[32];
	kms_challenge c;
	kms_audit_ev ev = { "validation_sent", email, client, NULL };
	int n;
	kw_rv rv;

	*limited = KMS_RATE_OK;
	if ((rv = make_value(value)) != KW_OK)
		return rv;
	value_hash(email, value, h);
	n = mail_text(ctx, email, value, text, sizeof(text));
	kw_memzero(value, sizeof(value));
	if (n < 0 || (size_t)n >= sizeof(text)) {
		kw_memzero(text, sizeof(text));
		return KW_ERR_RANGE;
	}
	c = (kms_challenge){ email, h, (int64_t)kms_now() + ctx->cfg.validation_ttl, client,
		text, ctx->cfg.rate_per_address, ctx->cfg.rate_per_client,
		ctx->cfg.rate_window };
	rv = kms_store_challenge_create(ctx->store, &c, kms_now(), &ev, limited);
	kw_memzero(text, sizeof(text));
	if (rv == KW_OK)
		kms_mailer_wake(ctx);
	return rv;
}

kw_rv
kms_validation_finish(kms_ctx *ctx, const char *email, const char *value,
    const char *client, char token[65], kms_ch_result *res)
{
	uint8_t h[32], sh[32];
	kw_rv rv;

	*res = KMS_CH_NONE;
	if ((rv = kms_random_hex(token, 32)) != KW_OK)
		return rv;
	kms_sha256(token, 64, sh);
	value_hash(email, value, h);
	rv = kms_store_challenge_consume(ctx->store, email, h, kms_now(),
	    ctx->cfg.validation_max_attempts, sh, (int64_t)kms_now() + ctx->cfg.session_ttl,
	    client, res);
	if (rv != KW_OK || *res != KMS_CH_OK)
		kw_memzero(token, 65);
	return rv;
}
