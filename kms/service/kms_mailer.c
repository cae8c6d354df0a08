/* The outbox sender: one thread hands queued validation mail to smtp.url
 * (libcurl), outside any request and any transaction. A message that
 * cannot be handed over is retried with exponential backoff (2, 4, 8 ...
 * seconds, at most 10 minutes apart) and given up after 12 tries, which is
 * audited ("mail_failed"); a delivered one is deleted from the outbox and
 * audited ("mail_sent"). A hung SMTP server delays only mail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "kms_service.h"
#include "kw_log.h"
#include "kw_secret.h"

#define MAX_TRIES 12

struct kms_mailer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, wake;
};

struct reader {
	const char *text;
	size_t len, off;
};

static size_t
mail_read(char *p, size_t size, size_t nmemb, void *arg)
{
	struct reader *m = arg;
	size_t n = size * nmemb;

	if (n > m->len - m->off)
		n = m->len - m->off;
	memcpy(p, m->text + m->off, n);
	m->off += n;
	return n;
}

static kw_rv
send_one(kms_ctx *ctx, const kms_mail *m)
{
	struct reader r = { m->text, strlen(m->text), 0 };
	char rcpt[300], from[300];
	struct curl_slist *to = NULL;
	CURL *c;
	CURLcode cc = CURLE_FAILED_INIT;

	if (ctx->cfg.smtp_url == NULL) {
		kw_err("smtp.url is not configured: validation mail cannot be sent");
		return KW_ERR_NO_SERVICE;
	}
	snprintf(rcpt, sizeof(rcpt), "<%s>", m->rcpt);
	snprintf(from, sizeof(from), "<%s>", ctx->cfg.smtp_from);
	if ((c = curl_easy_init()) != NULL && (to = curl_slist_append(NULL, rcpt)) != NULL) {
		curl_easy_setopt(c, CURLOPT_URL, ctx->cfg.smtp_url);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
		curl_easy_setopt(c, CURLOPT_MAIL_RCPT, to);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, mail_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &r);
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, ctx->cfg.smtp_timeout);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		cc = curl_easy_perform(c);
	}
	if (cc != CURLE_OK)
		kw_err("smtp: cannot send to %.100s: %s", m->rcpt, curl_easy_strerror(cc));
	curl_slist_free_all(to);
	curl_easy_cleanup(c);
	return cc == CURLE_OK ? KW_OK : KW_ERR_NO_SERVICE;
}

/* Send what is due; the seconds to wait before looking again. */
static int64_t
drain(kms_ctx *ctx)
{
	kms_mail m;
	kms_audit_ev ev = { NULL, NULL, NULL, NULL };
	int64_t wait = 30, backoff;

	while (kms_store_outbox_next(ctx->store, kms_now(), &m) == KW_OK) {
		ev.email = m.rcpt;
		if (send_one(ctx, &m) == KW_OK) {
			ev.event = "mail_sent";
			if (kms_store_outbox_done(ctx->store, m.id, &ev) != KW_OK)
				kw_err("outbox: sent mail to %.100s stays queued (storage)", m.rcpt);
		} else if (m.tries + 1 >= MAX_TRIES) {
			ev.event = "mail_failed";
			ev.detail = json_pack("{s:I}", "tries", (json_int_t)(m.tries + 1));
			kms_store_outbox_done(ctx->store, m.id, &ev);
			json_decref(ev.detail);
			ev.detail = NULL;
		} else {
			backoff = (int64_t)2 << (m.tries < 9 ? m.tries : 9);
			if (backoff > 600)
				backoff = 600;
			kms_store_outbox_retry(ctx->store, m.id, kms_now() + backoff);
		}
		kms_mail_clear(&m);
		pthread_mutex_lock(&ctx->mailer->mu);
		if (ctx->mailer->stop) {
			pthread_mutex_unlock(&ctx->mailer->mu);
			return 0;
		}
		pthread_mutex_unlock(&ctx->mailer->mu);
	}
	if (kms_store_outbox_due(ctx->store, kms_now(), &wait) != KW_OK)
		wait = 30;
	return wait < 1 ? 1 : wait > 30 ? 30 : wait;
}

static void *
run(void *arg)
{
	kms_ctx *ctx = arg;
	kms_mailer *ml = ctx->mailer;
	struct timespec ts;
	int64_t wait;

	for (;;) {
		wait = drain(ctx);
		pthread_mutex_lock(&ml->mu);
		if (!ml->wake && !ml->stop) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += wait;
			pthread_cond_timedwait(&ml->cv, &ml->mu, &ts);
		}
		ml->wake = false;
		if (ml->stop) {
			pthread_mutex_unlock(&ml->mu);
			break;
		}
		pthread_mutex_unlock(&ml->mu);
	}
	return NULL;
}

kw_rv
kms_mailer_start(kms_ctx *ctx)
{
	kms_mailer *ml = calloc(1, sizeof(*ml));

	if (ml == NULL)
		return KW_ERR_NOMEM;
	pthread_mutex_init(&ml->mu, NULL);
	pthread_cond_init(&ml->cv, NULL);
	ml->wake = true;
	ctx->mailer = ml;
	if (pthread_create(&ml->thread, NULL, run, ctx) != 0) {
		pthread_mutex_destroy(&ml->mu);
		pthread_cond_destroy(&ml->cv);
		free(ml);
		ctx->mailer = NULL;
		return KW_ERR_INTERNAL;
	}
	return KW_OK;
}

void
kms_mailer_wake(kms_ctx *ctx)
{
	if (ctx->mailer == NULL)
		return;
	pthread_mutex_lock(&ctx->mailer->mu);
	ctx->mailer->wake = true;
	pthread_cond_signal(&ctx->mailer->cv);
	pthread_mutex_unlock(&ctx->mailer->mu);
}

void
kms_mailer_stop(kms_ctx *ctx)
{
	kms_mailer *ml = ctx->mailer;

	if (ml == NULL)
		return;
	pthread_mutex_lock(&ml->mu);
	ml->stop = true;
	pthread_cond_signal(&ml->cv);
	pthread_mutex_unlock(&ml->mu);
	pthread_join(ml->thread, NULL);
	pthread_mutex_destroy(&ml->mu);
	pthread_cond_destroy(&ml->cv);
	free(ml);
	ctx->mailer = NULL;
}
