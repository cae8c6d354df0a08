/* Front -> share servers over HTTPS (see kms_share_client.h).
 *
 * All servers are asked at once (one libcurl multi handle per thread,
 * one easy handle per server kept with its connection, so a TLS
 * handshake is made once per thread and server, not per request). Each
 * request is bounded by shares.timeout (connecting by at most 2 s): a
 * stopped share server delays only the requests that need it, and by
 * that bound at most. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "kms_base.h"
#include "kms_share_client.h"
#include "kw_log.h"
#include "kw_secret.h"

struct kms_shares {
	const kms_config *cfg;
	kw_buf token;
	pthread_key_t key;
};

struct req {
	CURL *c;
	struct curl_slist *hdr;
	kw_buf out;
	char *body;
	long status;
	CURLcode cc;
};

struct tstate {
	CURLM *m;
	struct req r[KMS_MAX_SHARES];
};

static void
tstate_free(void *arg)
{
	struct tstate *t = arg;
	size_t i;

	for (i = 0; i < KMS_MAX_SHARES; i++) {
		if (t->r[i].c != NULL)
			curl_easy_cleanup(t->r[i].c);
		curl_slist_free_all(t->r[i].hdr);
		kw_buf_free(&t->r[i].out);
	}
	if (t->m != NULL)
		curl_multi_cleanup(t->m);
	free(t);
}

kw_rv
kms_shares_new(const kms_config *cfg, kw_view token, kms_shares **out)
{
	kms_shares *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL)
		return KW_ERR_NOMEM;
	s->cfg = cfg;
	kw_buf_init(&s->token, 256);
	if (kw_buf_put_view(&s->token, token) != KW_OK ||
	    pthread_key_create(&s->key, tstate_free) != 0) {
		kw_buf_free(&s->token);
		free(s);
		return KW_ERR_NOMEM;
	}
	*out = s;
	return KW_OK;
}

void
kms_shares_free(kms_shares **sp)
{
	kms_shares *s = *sp;
	struct tstate *t;

	if (s == NULL)
		return;
	if ((t = pthread_getspecific(s->key)) != NULL)
		tstate_free(t);
	pthread_key_delete(s->key);
	kw_buf_free(&s->token);
	free(s);
	*sp = NULL;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	kw_buf *b = arg;

	if (nmemb != 0 && size > SIZE_MAX / nmemb)
		return 0;
	return kw_buf_put(b, p, size * nmemb) == KW_OK ? size * nmemb : 0;
}

static struct tstate *
tstate(kms_shares *s)
{
	struct tstate *t = pthread_getspecific(s->key);
	size_t i;

	if (t != NULL)
		return t;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	for (i = 0; i < KMS_MAX_SHARES; i++)
		kw_buf_init(&t->r[i].out, 1 << 16);
	if ((t->m = curl_multi_init()) == NULL || pthread_setspecific(s->key, t) != 0) {
		tstate_free(t);
		return NULL;
	}
	return t;
}

/* Prepare request i (0-based) on server i; path NULL: /v1/shares/ID/i+1. */
static kw_rv
prepare(kms_shares *s, struct tstate *t, long i, const char *method, const char *key_id,
    const char *body, long timeout)
{
	struct req *r = &t->r[i];
	char url[600], auth[320];

	if (r->c == NULL && (r->c = curl_easy_init()) == NULL)
		return KW_ERR_NOMEM;
	curl_easy_reset(r->c);
	if (key_id != NULL)
		snprintf(url, sizeof(url), "%s/v1/shares/%s/%ld", s->cfg->share_url[i], key_id,
		    i + 1);
	else
		snprintf(url, sizeof(url), "%s/v1/health", s->cfg->share_url[i]);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %.*s", (int)s->token.len,
	    (const char *)s->token.data);
	curl_slist_free_all(r->hdr);
	r->hdr = curl_slist_append(NULL, auth);
	kw_memzero(auth, sizeof(auth));
	if (r->hdr != NULL)
		r->hdr = curl_slist_append(r->hdr, "Content-Type: application/json");
	if (r->hdr == NULL)
		return KW_ERR_NOMEM;
	kw_buf_reset(&r->out);
	r->status = 0;
	r->cc = CURLE_OK;
	r->body = NULL;
	curl_easy_setopt(r->c, CURLOPT_URL, url);
	curl_easy_setopt(r->c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(r->c, CURLOPT_HTTPHEADER, r->hdr);
	curl_easy_setopt(r->c, CURLOPT_CAINFO, s->cfg->share_cert[i]);
	curl_easy_setopt(r->c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(r->c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(r->c, CURLOPT_CONNECTTIMEOUT, timeout < 2 ? timeout : 2L);
	curl_easy_setopt(r->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(r->c, CURLOPT_WRITEDATA, &r->out);
	curl_easy_setopt(r->c, CURLOPT_PRIVATE, r);
	if (body != NULL)
		curl_easy_setopt(r->c, CURLOPT_POSTFIELDS, body);
	return curl_multi_add_handle(t->m, r->c) == CURLM_OK ? KW_OK : KW_ERR_INTERNAL;
}

/* Run every added request to its end (each bounded by its timeout). */
static void
run_all(struct tstate *t, long n)
{
	int running = 1, left;
	CURLMsg *msg;
	struct req *r;
	long i;

	while (running > 0) {
		if (curl_multi_perform(t->m, &running) != CURLM_OK)
			break;
		if (running > 0 && curl_multi_poll(t->m, NULL, 0, 200, NULL) != CURLM_OK)
			break;
	}
	while ((msg = curl_multi_info_read(t->m, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		r->cc = msg->data.result;
		if (r->cc == CURLE_OK)
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &r->status);
	}
	for (i = 0; i < n; i++)
		if (t->r[i].c != NULL)
			curl_multi_remove_handle(t->m, t->r[i].c);
}

static void
unreachable(const kms_config *cfg, long i, CURLcode cc, char *err, size_t errsz)
{
	snprintf(err, errsz, "share server %ld (%.200s) unreachable: %s", i + 1,
	    cfg->share_url[i], curl_easy_strerror(cc));
}

/* Run method on every server for key_id (bodies[i] or NULL). */
static kw_rv
call_all(kms_shares *s, const char *method, const char *key_id, char *const *bodies,
    long timeout, struct tstate **tp)
{
	struct tstate *t = tstate(s);
	long i, n = s->cfg->share_count;
	kw_rv rv = KW_OK;

	*tp = t;
	if (t == NULL)
		return KW_ERR_NOMEM;
	for (i = 0; i < n && rv == KW_OK; i++)
		rv = prepare(s, t, i, method, key_id, bodies != NULL ? bodies[i] : NULL, timeout);
	if (rv != KW_OK) {
		for (i = 0; i < n; i++)
			if (t->r[i].c != NULL)
				curl_multi_remove_handle(t->m, t->r[i].c);
		return rv;
	}
	run_all(t, n);
	return KW_OK;
}

static char *
share_body(kw_view share)
{
	char *b64 = kms_b64_encode(share.ptr, share.len), *body = NULL;
	json_t *j;

	if (b64 != NULL && (j = json_pack("{s:s}", "share", b64)) != NULL) {
		body = json_dumps(j, JSON_COMPACT);
		json_decref(j);
	}
	kw_freezero(b64, b64 != NULL ? strlen(b64) : 0);
	return body;
}

kw_rv
kms_shares_store(kms_shares *s, const char *key_id, const kw_buf *shares, char *err,
    size_t errsz)
{
	char *bodies[KMS_MAX_SHARES] = { NULL };
	struct tstate *t;
	long i, n = s->cfg->share_count;
	kw_rv rv = KW_ERR_NOMEM;

	for (i = 0; i < n; i++)
		if ((bodies[i] = share_body(kw_buf_view(&shares[i]))) == NULL)
			goto fail;
	if ((rv = call_all(s, "PUT", key_id, bodies, s->cfg->share_timeout, &t)) != KW_OK)
		goto fail;
	for (i = 0; i < n && rv == KW_OK; i++) {
		if (t->r[i].cc != CURLE_OK) {
			unreachable(s->cfg, i, t->r[i].cc, err, errsz);
			rv = KW_ERR_NO_SERVICE;
		} else if (t->r[i].status != 201) {
			snprintf(err, errsz, "share server %ld refused the share (HTTP %ld)", i + 1,
			    t->r[i].status);
			rv = t->r[i].status >= 500 ? KW_ERR_NO_SERVICE : KW_ERR_PROTOCOL;
		}
	}
fail:
	for (i = 0; i < n; i++)
		kw_freezero(bodies[i], bodies[i] != NULL ? strlen(bodies[i]) : 0);
	return rv;
}

kw_rv
kms_shares_fetch(kms_shares *s, const char *key_id, unsigned need, kw_buf *bufs,
    kw_view *views, unsigned *got, char *err, size_t errsz)
{
	struct tstate *t;
	json_t *j;
	const char *b64;
	long i, n = s->cfg->share_count;
	bool corrupt = false;
	kw_rv rv;

	*got = 0;
	if ((rv = call_all(s, "GET", key_id, NULL, s->cfg->share_timeout, &t)) != KW_OK)
		return rv;
	for (i = 0; i < n && *got < need; i++) {
		struct req *r = &t->r[i];

		if (r->cc != CURLE_OK) {
			unreachable(s->cfg, i, r->cc, err, errsz);
			continue;
		}
		j = r->status == 200 ? json_loadb((const char *)r->out.data, r->out.len, 0,
		    NULL) : NULL;
		if (r->status == 500 && strstr((const char *)r->out.data, "integrity_error")) {
			snprintf(err, errsz, "share server %ld holds a corrupt share of %s "
			    "(integrity error)", i + 1, key_id);
			corrupt = true;
		} else if (r->status != 200)
			snprintf(err, errsz, "share server %ld has no share for this key "
			    "(HTTP %ld)", i + 1, r->status);
		else if ((b64 = json_string_value(json_object_get(j, "share"))) == NULL ||
		    kms_b64_decode(b64, &bufs[*got]) != KW_OK) {
			snprintf(err, errsz, "share server %ld sent a malformed share", i + 1);
			corrupt = true;
		} else {
			views[*got] = kw_buf_view(&bufs[*got]);
			(*got)++;
		}
		json_decref(j);
		kw_buf_reset(&r->out);
	}
	if (*got >= need)
		return KW_OK;
	return corrupt ? KW_ERR_FORMAT : KW_ERR_NO_SERVICE;
}

kw_rv
kms_shares_delete(kms_shares *s, const char *key_id, char *err, size_t errsz)
{
	struct tstate *t;
	long i;
	kw_rv rv;

	if ((rv = call_all(s, "DELETE", key_id, NULL, s->cfg->share_timeout, &t)) != KW_OK)
		return rv;
	for (i = 0; i < s->cfg->share_count; i++)
		if (t->r[i].cc != CURLE_OK) {
			unreachable(s->cfg, i, t->r[i].cc, err, errsz);
			rv = KW_ERR_NO_SERVICE;
		} else if (t->r[i].status != 200) {
			snprintf(err, errsz, "share server %ld: delete answered HTTP %ld", i + 1,
			    t->r[i].status);
			rv = KW_ERR_NO_SERVICE;
		}
	return rv;
}

kw_rv
kms_shares_health(kms_shares *s, bool *up)
{
	struct tstate *t;
	long i;
	kw_rv rv;

	if ((rv = call_all(s, "GET", NULL, NULL, 1, &t)) != KW_OK)
		return rv;
	for (i = 0; i < s->cfg->share_count; i++)
		up[i] = t->r[i].cc == CURLE_OK && t->r[i].status == 200;
	return KW_OK;
}
