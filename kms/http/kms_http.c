/* HTTPS server for keyward-kmsd (libmicrohttpd with GnuTLS).
 *
 * A pool of server.threads polling threads (epoll); each connection stays
 * on one thread and handlers run there, in parallel, without a global
 * lock. Before a handler runs:
 *  - connections are counted per client address and in total; beyond
 *    server.max_per_client / server.max_connections a request gets a fast
 *    503 "busy" and the connection is closed (twice those numbers are hard
 *    limits at accept time, so a flood cannot exhaust descriptors);
 *    idle connections, TLS handshakes included, close after
 *    server.connection_timeout seconds;
 *  - a path or query with a control byte (raw or %-encoded: NUL, CR, LF,
 *    ...) is a 400: the decoded string would silently end at a NUL;
 *  - a request with a body must say Content-Type: application/json (415):
 *    a web page cannot make a browser post one without a CORS preflight;
 *  - bodies are bounded by server.max_body (413). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "kms_http.h"
#include "kw_log.h"

#define SLOTS 1024

struct ip_count {
	char addr[64];
	unsigned n;
	struct ip_count *next;
};

struct kms_http {
	struct MHD_Daemon *d;
	kms_ctx *ctx;
	const kms_route *routes;
	pthread_mutex_t mu;       /* the counters */
	unsigned total;
	struct ip_count *slots[SLOTS];
};

struct conn_state {
	kw_buf body;
	bool too_big;
	bool bad_uri;
	bool started;
};

void
kms_resp_json(kms_resp *r, unsigned status, json_t *j)
{
	json_decref(r->json);
	r->status = status;
	r->json = j;
}

void
kms_resp_error(kms_resp *r, unsigned status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kms_resp_json(r, status, json_pack("{s:s,s:s}", "error", code, "message", msg));
}

const char *
kms_req_query(const kms_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
kms_req_str(const kms_req *req, kms_resp *resp, const char *name, size_t maxlen)
{
	json_t *v = req->json != NULL ? json_object_get(req->json, name) : NULL;
	const char *s;

	if (v == NULL || !json_is_string(v)) {
		kms_resp_error(resp, 400, "bad_request", "missing string member \"%s\"", name);
		return NULL;
	}
	s = json_string_value(v);
	if (strlen(s) > maxlen || strlen(s) != json_string_length(v)) {
		kms_resp_error(resp, 400, "bad_request", "member \"%s\" is too long or has NUL bytes",
		    name);
		return NULL;
	}
	return s;
}

static enum MHD_Result
send_resp(struct MHD_Connection *conn, kms_resp *r, bool close)
{
	struct MHD_Response *mr;
	char *text = NULL;
	enum MHD_Result ret;

	if (r->json != NULL) {
		text = json_dumps(r->json, JSON_COMPACT);
		mr = MHD_create_response_from_buffer(text != NULL ? strlen(text) : 0,
		    text, MHD_RESPMEM_MUST_COPY);
		r->content_type = "application/json";
	} else {
		mr = MHD_create_response_from_buffer(r->raw.len, r->raw.data,
		    MHD_RESPMEM_MUST_COPY);
	}
	free(text);
	if (mr == NULL)
		return MHD_NO;
	if (r->content_type != NULL)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (close)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(conn, r->status, mr);
	MHD_destroy_response(mr);
	return ret;
}

static const kms_route *
find_route(const kms_route *routes, const char *method, const char *path,
    bool *wrong_method)
{
	size_t i, n;

	*wrong_method = false;
	for (i = 0; routes[i].path != NULL; i++) {
		n = strlen(routes[i].path);
		if (routes[i].path[n - 1] == '/' ? strncmp(path, routes[i].path, n) != 0 ||
		    path[n] == '\0' : strcmp(path, routes[i].path) != 0)
			continue;
		if (strcmp(method, routes[i].method) == 0)
			return &routes[i];
		*wrong_method = true;
	}
	return NULL;
}

static void
client_addr(const struct sockaddr *sa, char *out, size_t outsz)
{
	snprintf(out, outsz, "?");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    out, (socklen_t)outsz);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    out, (socklen_t)outsz);
}

static void
conn_addr(struct MHD_Connection *conn, char *out, size_t outsz)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	client_addr(ci != NULL ? ci->client_addr : NULL, out, outsz);
}

static unsigned
slot_of(const char *addr)
{
	unsigned h = 2166136261u;

	for (; *addr != '\0'; addr++)
		h = (h ^ (unsigned char)*addr) * 16777619u;
	return h % SLOTS;
}

/* Count a connection in (delta 1) or out (-1); the address's count. */
static unsigned
count(kms_http *h, const char *addr, int delta, unsigned *total)
{
	struct ip_count **pp, *c;
	unsigned n = 0;

	pthread_mutex_lock(&h->mu);
	for (pp = &h->slots[slot_of(addr)]; (c = *pp) != NULL; pp = &c->next)
		if (strcmp(c->addr, addr) == 0)
			break;
	if (c == NULL && delta > 0 && (c = calloc(1, sizeof(*c))) != NULL) {
		snprintf(c->addr, sizeof(c->addr), "%s", addr);
		*pp = c;
	}
	if (c != NULL) {
		if (delta > 0)
			c->n++;
		else if (c->n > 0)
			c->n--;
		n = c->n;
		if (c->n == 0) {
			*pp = c->next;
			free(c);
		}
	}
	if (delta > 0)
		h->total++;
	else if (delta < 0 && h->total > 0)
		h->total--;
	if (total != NULL)
		*total = h->total;
	pthread_mutex_unlock(&h->mu);
	return n;
}

static unsigned
current(kms_http *h, const char *addr, unsigned *total)
{
	struct ip_count *c;
	unsigned n = 0;

	pthread_mutex_lock(&h->mu);
	for (c = h->slots[slot_of(addr)]; c != NULL; c = c->next)
		if (strcmp(c->addr, addr) == 0)
			n = c->n;
	*total = h->total;
	pthread_mutex_unlock(&h->mu);
	return n;
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	kms_http *h = cls;
	char addr[64];

	conn_addr(conn, addr, sizeof(addr));
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		count(h, addr, 1, NULL);
		*socket_context = h;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context == h) {
		count(h, addr, -1, NULL);
		*socket_context = NULL;
	}
}

static bool
has_control(const char *uri)
{
	const unsigned char *p = (const unsigned char *)uri;
	unsigned v;

	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return true;
		if (*p == '%' && isxdigit(p[1]) && isxdigit(p[2])) {
			sscanf((const char *)p + 1, "%2x", &v);
			if (v < 0x20 || v == 0x7f)
				return true;
		}
	}
	return false;
}

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	kms_http *h = cls;
	struct conn_state *cs = calloc(1, sizeof(*cs));

	(void)conn;
	if (cs != NULL) {
		kw_buf_init(&cs->body, (size_t)h->ctx->cfg.max_body);
		cs->bad_uri = uri == NULL || has_control(uri);
	}
	return cs;
}

static bool
is_json_ct(const char *ct)
{
	size_t n = strlen("application/json");

	return ct != NULL && strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Checks at the first call, before any body is read; true: refused. */
static bool
refuse_early(kms_http *h, struct MHD_Connection *conn, struct conn_state *cs,
    kms_resp *resp, bool *close)
{
	const char *cl, *te, *ct;
	char addr[64];
	unsigned mine, total;

	conn_addr(conn, addr, sizeof(addr));
	mine = current(h, addr, &total);
	if (mine > (unsigned)h->ctx->cfg.max_per_client ||
	    total > (unsigned)h->ctx->cfg.max_connections) {
		kms_resp_error(resp, 503, "busy", "too many connections%s; try again later",
		    mine > (unsigned)h->ctx->cfg.max_per_client ? " from this client" : "");
		*close = true;
		return true;
	}
	if (cs->bad_uri) {
		kms_resp_error(resp, 400, "bad_request", "control characters in the path or "
		    "query");
		*close = true;
		return true;
	}
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING);
	ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (((cl != NULL && strtoul(cl, NULL, 10) > 0) || te != NULL) && !is_json_ct(ct)) {
		kms_resp_error(resp, 415, "unsupported_media_type",
		    "a request body must be Content-Type: application/json");
		*close = true;
		return true;
	}
	return false;
}

static void
dispatch(kms_http *h, struct MHD_Connection *conn, const char *method,
    const char *url, struct conn_state *cs, kms_resp *resp)
{
	const kms_route *rt;
	kms_req req;
	char addr[64];
	const char *auth;
	json_error_t jerr;
	bool wrong;

	memset(&req, 0, sizeof(req));
	if (cs->too_big) {
		kms_resp_error(resp, 413, "too_large", "request body over %ld bytes",
		    h->ctx->cfg.max_body);
		return;
	}
	if ((rt = find_route(h->routes, method, url, &wrong)) == NULL) {
		if (wrong)
			kms_resp_error(resp, 405, "method_not_allowed", "%.16s not allowed here",
			    method);
		else
			kms_resp_error(resp, 404, "not_found", "no such endpoint");
		return;
	}
	if (rt->needs_json) {
		if (!is_json_ct(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_TYPE))) {
			kms_resp_error(resp, 415, "unsupported_media_type",
			    "the body must be Content-Type: application/json");
			return;
		}
		req.json = json_loadb((const char *)cs->body.data, cs->body.len,
		    JSON_REJECT_DUPLICATES, &jerr);
		if (req.json == NULL || !json_is_object(req.json)) {
			kms_resp_error(resp, 400, "bad_json", "body must be a JSON object%s%.100s",
			    req.json == NULL ? ": " : "", req.json == NULL ? jerr.text : "");
			goto done;
		}
	}
	conn_addr(conn, addr, sizeof(addr));
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	req.bearer = auth != NULL && strncmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
	req.method = method;
	req.path = url;
	req.client = addr;
	req.conn = conn;
	rt->fn(h->ctx, &req, resp);
	if (resp->status == 0)
		kms_resp_error(resp, 500, "internal", "handler gave no answer");
done:
	json_decref(req.json);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	kms_http *h = cls;
	struct conn_state *cs = *con_cls;
	kms_resp resp;
	enum MHD_Result ret;
	bool close = false, early;

	(void)version;
	if (cs == NULL)
		return MHD_NO;
	memset(&resp, 0, sizeof(resp));
	kw_buf_init(&resp.raw, 1u << 24);
	if (!cs->started) {
		cs->started = true;
		early = refuse_early(h, conn, cs, &resp, &close);
		if (!early) {
			kw_buf_free(&resp.raw);
			return MHD_YES;
		}
		goto answer;
	}
	if (*upload_data_size > 0) {
		if (!cs->too_big && kw_buf_put(&cs->body, upload_data,
		    *upload_data_size) != KW_OK) {
			cs->too_big = true;
			kw_buf_free(&cs->body);
		}
		*upload_data_size = 0;
		kw_buf_free(&resp.raw);
		return MHD_YES;
	}
	dispatch(h, conn, method, url, cs, &resp);
answer:
	ret = send_resp(conn, &resp, close);
	json_decref(resp.json);
	kw_buf_free(&resp.raw);
	return ret;
}

static void
on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn_state *cs = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (cs != NULL) {
		kw_buf_free(&cs->body);
		free(cs);
		*con_cls = NULL;
	}
}

static void
on_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	kw_debug("http: %s", msg);
}

static kw_rv
parse_listen(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	long port;
	char *end;

	memset(sa, 0, sizeof(*sa));
	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return KW_ERR_ARG;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535 ||
	    inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return KW_ERR_ARG;
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return KW_OK;
}

kw_rv
kms_http_start(kms_ctx *ctx, const kms_route *routes, const char *cert_pem,
    const char *key_pem, const char *key_pass, kms_http **out)
{
	struct sockaddr_in sa;
	kms_http *h;
	const kms_config *c = &ctx->cfg;

	*out = NULL;
	if (parse_listen(c->listen, &sa) != KW_OK) {
		kw_err("server.listen must be IPv4:port, not %.64s", c->listen);
		return KW_ERR_ARG;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		kw_err("libmicrohttpd was built without TLS");
		return KW_ERR_NOT_SUPPORTED;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return KW_ERR_NOMEM;
	h->ctx = ctx;
	h->routes = routes;
	pthread_mutex_init(&h->mu, NULL);
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_TLS | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->threads,
	    MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
	    MHD_OPTION_HTTPS_MEM_KEY, key_pem,
	    MHD_OPTION_HTTPS_KEY_PASSWORD, key_pass,
	    MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)(c->max_connections * 2 + c->threads),
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)(c->max_per_client * 2),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->conn_timeout,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		kw_err("cannot listen on %.64s (address in use, or bad TLS key/cert)", c->listen);
		pthread_mutex_destroy(&h->mu);
		free(h);
		return KW_ERR_IO;
	}
	*out = h;
	return KW_OK;
}

void
kms_http_stop(kms_http **hp)
{
	kms_http *h = *hp;
	struct ip_count *c, *next;
	size_t i;

	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	for (i = 0; i < SLOTS; i++)
		for (c = h->slots[i]; c != NULL; c = next) {
			next = c->next;
			free(c);
		}
	pthread_mutex_destroy(&h->mu);
	free(h);
	*hp = NULL;
}
