/* libkwkms: HTTPS/JSON client of keyward-kmsd (see kwkms.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "kwkms.h"
#include "kwkms_int.h"
#include "kw_buf.h"

struct kwkms {
	char *url;
	char *ca_file;
	char session[80];
	char error[64];
	char message[512];
	long status;
};

kw_rv
kwkms_new(const char *url, const char *ca_file, kwkms **out)
{
	kwkms *k;

	*out = NULL;
	if (url == NULL || strncmp(url, "https://", 8) != 0)
		return KW_ERR_ARG;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return KW_ERR_NOMEM;
	k->url = strdup(url);
	k->ca_file = ca_file != NULL ? strdup(ca_file) : NULL;
	if (k->url == NULL || (ca_file != NULL && k->ca_file == NULL)) {
		kwkms_free(&k);
		return KW_ERR_NOMEM;
	}
	if (k->url[strlen(k->url) - 1] == '/')
		k->url[strlen(k->url) - 1] = '\0';
	*out = k;
	return KW_OK;
}

void
kwkms_free(kwkms **kp)
{
	kwkms *k = *kp;

	if (k == NULL)
		return;
	kw_memzero(k->session, sizeof(k->session));
	free(k->url);
	free(k->ca_file);
	free(k);
	*kp = NULL;
}

const char *kwkms_error(const kwkms *k) { return k->error; }
const char *kwkms_message(const kwkms *k) { return k->message; }
long kwkms_status(const kwkms *k) { return k->status; }
const char *kwkms_session(const kwkms *k) { return k->session; }

kw_rv
kwkms_set_session(kwkms *k, const char *token)
{
	if (token == NULL || strlen(token) >= sizeof(k->session))
		return KW_ERR_ARG;
	snprintf(k->session, sizeof(k->session), "%s", token);
	return KW_OK;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	if (nmemb != 0 && size > SIZE_MAX / nmemb)
		return 0;
	return kw_buf_put(arg, p, size * nmemb) == KW_OK ? size * nmemb : 0;
}

static void
take_error(kwkms *k, json_t *j)
{
	const char *e = json_string_value(json_object_get(j, "error"));
	const char *m = json_string_value(json_object_get(j, "message"));

	snprintf(k->error, sizeof(k->error), "%s", e != NULL ? e : "http_error");
	snprintf(k->message, sizeof(k->message), "%s", m != NULL ? m : "unexpected answer");
}

static kwkms_exchange_fn exchange_hook;
static void *exchange_arg;

void
kwkms_test_set_exchange(kwkms_exchange_fn fn, void *arg)
{
	exchange_hook = fn;
	exchange_arg = arg;
}

/* One HTTPS request with libcurl: the status and the body. */
static kw_rv
http_exchange(kwkms *k, const char *method, const char *path, const char *body,
    kw_buf *resp)
{
	char url[1024], auth[120];
	struct curl_slist *hdr = NULL;
	CURL *c;
	CURLcode cc;
	kw_rv rv = KW_OK;

	if ((c = curl_easy_init()) == NULL)
		return KW_ERR_NOMEM;
	snprintf(url, sizeof(url), "%s%s", k->url, path);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	if (k->session[0] != '\0') {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", k->session);
		hdr = curl_slist_append(hdr, auth);
		kw_memzero(auth, sizeof(auth));
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	if (k->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, k->ca_file);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		snprintf(k->error, sizeof(k->error), "%s",
		    cc == CURLE_PEER_FAILED_VERIFICATION ? "tls_untrusted" :
		    cc == CURLE_SSL_CACERT_BADFILE ? "bad_ca_file" : "unreachable");
		snprintf(k->message, sizeof(k->message), "%s", curl_easy_strerror(cc));
		rv = KW_ERR_NO_SERVICE;
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &k->status);
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return rv;
}

/* Send req (or GET when NULL); *out gets the answer (JSON object) or raw. */
kw_rv
kwkms_call(kwkms *k, const char *method, const char *path, json_t *req,
    json_t **out, kw_buf *raw)
{
	char *body = NULL;
	kw_buf resp;
	json_t *j = NULL;
	kw_rv rv;

	k->error[0] = k->message[0] = '\0';
	k->status = 0;
	if (out != NULL)
		*out = NULL;
	kw_buf_init(&resp, 8u << 20);
	if (req != NULL && (body = json_dumps(req, JSON_COMPACT)) == NULL)
		return KW_ERR_NOMEM;
	if (exchange_hook != NULL)
		rv = exchange_hook(exchange_arg, method, path, body, &k->status, &resp);
	else
		rv = http_exchange(k, method, path, body, &resp);
	if (rv != KW_OK)
		goto fail;
	if (raw != NULL && k->status < 300) {
		rv = kw_buf_put_view(raw, kw_buf_view(&resp));
		goto fail;
	}
	j = json_loadb((const char *)resp.data, resp.len, 0, NULL);
	if (k->status >= 300 || !json_is_object(j)) {
		take_error(k, j);
		rv = KW_ERR_PROTOCOL;
		goto fail;
	}
	if (out != NULL) {
		*out = j;
		j = NULL;
	}
	rv = KW_OK;
fail:
	json_decref(j);
	if (body != NULL)
		kw_freezero(body, strlen(body));
	kw_buf_free(&resp);
	return rv;
}

static kw_rv
post(kwkms *k, const char *path, json_t *req, json_t **out)
{
	kw_rv rv;

	if (req == NULL)
		return KW_ERR_NOMEM;
	rv = kwkms_call(k, "POST", path, req, out, NULL);
	json_decref(req);
	return rv;
}

kw_rv
kwkms_validation_start(kwkms *k, const char *email, long *expires_in)
{
	json_t *j = NULL, *e;
	kw_rv rv;

	if (expires_in != NULL)
		*expires_in = 0;
	rv = post(k, "/v1/validation/start", json_pack("{s:s}", "email", email), &j);
	e = json_object_get(j, "expires_in");
	if (rv == KW_OK && expires_in != NULL && json_is_integer(e) &&
	    json_integer_value(e) > 0 && json_integer_value(e) < 86400 * 7)
		*expires_in = (long)json_integer_value(e);
	json_decref(j);
	return rv;
}

kw_rv
kwkms_validation_finish(kwkms *k, const char *email, const char *value)
{
	json_t *j = NULL;
	const char *s;
	kw_rv rv;

	rv = post(k, "/v1/validation/finish", json_pack("{s:s,s:s}", "email", email,
	    "value", value), &j);
	if (rv == KW_OK) {
		s = json_string_value(json_object_get(j, "session"));
		rv = s != NULL ? kwkms_set_session(k, s) : KW_ERR_PROTOCOL;
	}
	json_decref(j);
	return rv;
}

kw_rv
kwkms_set_password(kwkms *k, const char *password, const char *old_password)
{
	return post(k, "/v1/password", json_pack("{s:s,s:s*}", "password", password,
	    "old_password", old_password), NULL);
}

static kw_rv
dup_member(json_t *j, const char *name, char **out)
{
	const char *s = json_string_value(json_object_get(j, name));

	*out = NULL;
	if (s == NULL)
		return KW_ERR_PROTOCOL;
	return (*out = strdup(s)) != NULL ? KW_OK : KW_ERR_NOMEM;
}

kw_rv
kwkms_sign_csr_attested(kwkms *k, const char *csr_pem, const char *const *att_pem,
    size_t n_att, char **cert_pem, char **serial, bool *attested)
{
	json_t *j = NULL, *req = json_pack("{s:s}", "csr", csr_pem), *arr = NULL;
	size_t i;
	kw_rv rv;

	*cert_pem = NULL;
	*serial = NULL;
	if (attested != NULL)
		*attested = false;
	if (req != NULL && n_att > 0) {
		arr = json_array();
		for (i = 0; arr != NULL && i < n_att; i++)
			if (json_array_append_new(arr, json_string(att_pem[i])) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		if (arr == NULL || json_object_set_new(req, "attestation", arr) != 0) {
			json_decref(req);
			req = NULL;
		}
	}
	rv = post(k, "/v1/certs/sign", req, &j);
	if (rv == KW_OK && (rv = dup_member(j, "cert", cert_pem)) == KW_OK &&
	    (rv = dup_member(j, "serial", serial)) != KW_OK) {
		free(*cert_pem);
		*cert_pem = NULL;
	}
	if (rv == KW_OK && attested != NULL)
		*attested = json_is_true(json_object_get(j, "attested"));
	json_decref(j);
	return rv;
}

kw_rv
kwkms_sign_csr(kwkms *k, const char *csr_pem, char **cert_pem, char **serial)
{
	return kwkms_sign_csr_attested(k, csr_pem, NULL, 0, cert_pem, serial, NULL);
}

kw_rv
kwkms_revoke(kwkms *k, const char *serial, int reason)
{
	return post(k, "/v1/certs/revoke", json_pack("{s:s,s:i}", "serial", serial,
	    "reason", reason), NULL);
}

kw_rv
kwkms_directory(kwkms *k, const char *email, char **cert_pem)
{
	char path[400], *esc;
	json_t *j = NULL;
	CURL *c = curl_easy_init();
	kw_rv rv = KW_ERR_NOMEM;

	*cert_pem = NULL;
	if (c == NULL || (esc = curl_easy_escape(c, email, 0)) == NULL)
		goto fail;
	snprintf(path, sizeof(path), "/v1/directory?email=%.300s", esc);
	curl_free(esc);
	if ((rv = kwkms_call(k, "GET", path, NULL, &j, NULL)) == KW_OK)
		rv = dup_member(j, "cert", cert_pem);
fail:
	json_decref(j);
	curl_easy_cleanup(c);
	return rv;
}

kw_rv
kwkms_ca(kwkms *k, char **ca_pem)
{
	kw_buf raw;
	kw_rv rv;

	*ca_pem = NULL;
	kw_buf_init(&raw, 1 << 16);
	if ((rv = kwkms_call(k, "GET", "/v1/ca", NULL, NULL, &raw)) == KW_OK &&
	    (rv = kw_buf_put_u8(&raw, 0)) == KW_OK)
		rv = (*ca_pem = strdup((const char *)raw.data)) != NULL ? KW_OK : KW_ERR_NOMEM;
	kw_buf_free(&raw);
	return rv;
}
