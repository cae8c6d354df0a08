/* Email control validation.
 *
 * start: a fresh value of 130 bits (26 base32 characters, Crockford
 * alphabet) is mailed to the address over SMTP (libcurl); only
 * SHA-256(email ":" value) is stored, with an expiry. Starting again
 * voids the previous value. Rate limits: validation.per_address and
 * validation.per_client starts per validation.window.
 * finish: the newest pending value is compared in constant time; a wrong
 * value costs an attempt (validation.max_attempts, then the value is
 * void); a right one is used up and gives a session token. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "kms_api.h"
#include "kw_log.h"
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

struct mail {
	char text[2048];
	size_t len, off;
};

static size_t
mail_read(char *p, size_t size, size_t nmemb, void *arg)
{
	struct mail *m = arg;
	size_t n = size * nmemb;

	if (n > m->len - m->off)
		n = m->len - m->off;
	memcpy(p, m->text + m->off, n);
	m->off += n;
	return n;
}

static kw_rv
send_mail(kms_ctx *ctx, const char *email, const char *value)
{
	struct mail m = { .len = 0, .off = 0 };
	char rcpt[300], from[300], date[64];
	struct curl_slist *to = NULL;
	time_t now = time(NULL);
	struct tm tm;
	CURL *c;
	CURLcode cc = CURLE_FAILED_INIT;

	if (ctx->cfg.smtp_url == NULL) {
		kw_err("smtp.url is not configured");
		return KW_ERR_NO_SERVICE;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	m.len = (size_t)snprintf(m.text, sizeof(m.text),
	    "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\nSubject: keyward email validation\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "Someone asked to enroll this address for encrypted mail.\r\n"
	    "Validation value: %s\r\n"
	    "It expires in %ld minutes. If it was not you, ignore this message.\r\n",
	    date, ctx->cfg.smtp_from, email, value, ctx->cfg.validation_ttl / 60);
	snprintf(rcpt, sizeof(rcpt), "<%s>", email);
	snprintf(from, sizeof(from), "<%s>", ctx->cfg.smtp_from);
	if ((c = curl_easy_init()) != NULL && (to = curl_slist_append(NULL, rcpt)) != NULL) {
		curl_easy_setopt(c, CURLOPT_URL, ctx->cfg.smtp_url);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
		curl_easy_setopt(c, CURLOPT_MAIL_RCPT, to);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, mail_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &m);
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, ctx->cfg.smtp_timeout);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		cc = curl_easy_perform(c);
	}
	if (cc != CURLE_OK)
		kw_err("smtp: cannot send to %.100s: %s", email, curl_easy_strerror(cc));
	curl_slist_free_all(to);
	curl_easy_cleanup(c);
	kw_memzero(&m, sizeof(m));
	return cc == CURLE_OK ? KW_OK : KW_ERR_NO_SERVICE;
}

static long
count_events(kms_ctx *ctx, const char *kind, const char *subject)
{
	sqlite3_stmt *st = kms_db_prepare(ctx->db, "SELECT COUNT(*) FROM events WHERE"
	    " kind = ? AND subject = ? AND ts > ?", "tti", kind, subject,
	    (int64_t)(kms_now() - ctx->cfg.rate_window));
	long n = 1L << 30;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static bool
rate_ok(kms_ctx *ctx, const char *email, const char *client, kms_resp *resp)
{
	if (count_events(ctx, "vstart-addr", email) >= ctx->cfg.rate_per_address) {
		kms_resp_error(resp, 429, "rate_limited",
		    "too many validation requests for this address; try again later");
		return false;
	}
	if (count_events(ctx, "vstart-client", client) >= ctx->cfg.rate_per_client) {
		kms_resp_error(resp, 429, "rate_limited",
		    "too many validation requests from this client; try again later");
		return false;
	}
	return kms_db_exec(ctx->db, "INSERT INTO events (kind, subject, ts) VALUES"
	    " ('vstart-addr', ?, ?), ('vstart-client', ?, ?)", "titi", email,
	    (int64_t)kms_now(), client, (int64_t)kms_now()) == KW_OK;
}

void
kms_api_validation_start(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	const char *raw;
	char *email = NULL, value[VALUE_LEN + 1];
	uint8_t h[32];

	if ((raw = kms_req_str(req, resp, "email", 254)) == NULL)
		return;
	if ((email = kms_email_normalize(raw)) == NULL) {
		kms_resp_error(resp, 400, "bad_email", "not a valid email address");
		return;
	}
	if (!rate_ok(ctx, email, req->client, resp))
		goto done;
	if (make_value(value) != KW_OK) {
		kms_resp_error(resp, 500, "internal", "no randomness");
		goto done;
	}
	value_hash(email, value, h);
	if (send_mail(ctx, email, value) != KW_OK) {
		kms_resp_error(resp, 502, "smtp_error", "the validation mail could not be sent");
		goto done;
	}
	if (kms_db_exec(ctx->db, "UPDATE challenges SET used = 1 WHERE email = ?", "t",
	    email) != KW_OK || kms_db_exec(ctx->db, "INSERT INTO challenges (email, hash,"
	    " expires, client, created) VALUES (?, ?, ?, ?, ?)", "tbiti", email, h, sizeof(h),
	    (int64_t)(kms_now() + ctx->cfg.validation_ttl), req->client,
	    (int64_t)kms_now()) != KW_OK) {
		kms_resp_error(resp, 500, "storage_error", "cannot record the validation");
		goto done;
	}
	kms_audit(ctx, "validation_sent", email, req->client, NULL);
	kms_resp_json(resp, 202, json_pack("{s:s,s:I}", "status", "sent",
	    "expires_in", (json_int_t)ctx->cfg.validation_ttl));
done:
	kw_memzero(value, sizeof(value));
	free(email);
}

static void
fail_attempt(kms_ctx *ctx, const char *email, const kms_req *req, kms_resp *resp,
    int64_t rowid, const char *why)
{
	kms_db_exec(ctx->db, "UPDATE challenges SET attempts = attempts + 1, used ="
	    " (attempts + 1 >= ?) WHERE rowid = ?", "ii",
	    (int64_t)ctx->cfg.validation_max_attempts, rowid);
	kms_audit(ctx, "validation_failed", email, req->client,
	    json_pack("{s:s}", "reason", why));
}

static void
grant_session(kms_ctx *ctx, const char *email, const kms_req *req, kms_resp *resp,
    int64_t rowid)
{
	char token[65];
	uint8_t h[32];

	if (kms_random_hex(token, 32) != KW_OK)
		goto fail;
	kms_sha256(token, 64, h);
	if (kms_db_exec(ctx->db, "UPDATE challenges SET used = 1 WHERE rowid = ?", "i",
	    rowid) != KW_OK || kms_db_exec(ctx->db, "INSERT INTO sessions (hash, email,"
	    " expires) VALUES (?, ?, ?)", "bti", h, sizeof(h), email,
	    (int64_t)(kms_now() + ctx->cfg.session_ttl)) != KW_OK)
		goto fail;
	kms_audit(ctx, "validated", email, req->client, NULL);
	kms_resp_json(resp, 200, json_pack("{s:s,s:s,s:I}", "email", email, "session",
	    token, "expires_in", (json_int_t)ctx->cfg.session_ttl));
	kw_memzero(token, sizeof(token));
	return;
fail:
	kw_memzero(token, sizeof(token));
	kms_resp_error(resp, 500, "storage_error", "cannot create the session");
}

void
kms_api_validation_finish(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	const char *raw, *value;
	char *email = NULL;
	uint8_t h[32];
	sqlite3_stmt *st = NULL;
	int64_t rowid;
	bool expired, match;

	if ((raw = kms_req_str(req, resp, "email", 254)) == NULL ||
	    (value = kms_req_str(req, resp, "value", 64)) == NULL)
		return;
	if ((email = kms_email_normalize(raw)) == NULL) {
		kms_resp_error(resp, 400, "bad_email", "not a valid email address");
		return;
	}
	st = kms_db_prepare(ctx->db, "SELECT rowid, hash, expires FROM challenges"
	    " WHERE email = ? AND used = 0 ORDER BY created DESC LIMIT 1", "t", email);
	if (st == NULL || sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_column_bytes(st, 1) != 32) {
		kms_audit(ctx, "validation_failed", email, req->client,
		    json_pack("{s:s}", "reason", "no pending value"));
		kms_resp_error(resp, 400, "no_pending_validation", "no pending validation "
		    "for this address (the value was already used, voided or never sent)");
		goto done;
	}
	rowid = sqlite3_column_int64(st, 0);
	expired = sqlite3_column_int64(st, 2) <= (int64_t)kms_now();
	value_hash(email, value, h);
	match = kw_timingsafe_eq(h, sqlite3_column_blob(st, 1), 32);
	sqlite3_finalize(st);
	st = NULL;
	if (expired) {
		kms_db_exec(ctx->db, "UPDATE challenges SET used = 1 WHERE rowid = ?", "i", rowid);
		kms_audit(ctx, "validation_failed", email, req->client,
		    json_pack("{s:s}", "reason", "expired"));
		kms_resp_error(resp, 400, "expired", "the validation value has expired; "
		    "request a new one");
	} else if (!match) {
		fail_attempt(ctx, email, req, resp, rowid, "wrong value");
		kms_resp_error(resp, 400, "wrong_value", "the validation value is wrong");
	} else
		grant_session(ctx, email, req, resp, rowid);
done:
	sqlite3_finalize(st);
	free(email);
}
