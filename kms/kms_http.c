/* HTTPS server for keyward-kmsd: body accumulation with a hard limit,
 * routing, JSON responses. Handlers run one at a time (ctx->lock). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "kms_http.h"
#include "kw_log.h"

struct conn_state {
	kw_buf body;
	bool too_big;
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
send_resp(struct MHD_Connection *conn, kms_resp *r)
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
client_addr(struct MHD_Connection *conn, char *out, size_t outsz)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(out, outsz, "?");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    out, (socklen_t)outsz);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    out, (socklen_t)outsz);
}

static void
dispatch(kms_ctx *ctx, struct MHD_Connection *conn, const char *method,
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
		    ctx->cfg.max_body);
		return;
	}
	if ((rt = find_route(ctx->routes, method, url, &wrong)) == NULL) {
		if (wrong)
			kms_resp_error(resp, 405, "method_not_allowed", "%.16s not allowed here",
			    method);
		else
			kms_resp_error(resp, 404, "not_found", "no such endpoint");
		return;
	}
	if (rt->needs_json) {
		req.json = json_loadb((const char *)cs->body.data, cs->body.len,
		    JSON_REJECT_DUPLICATES, &jerr);
		if (req.json == NULL || !json_is_object(req.json)) {
			kms_resp_error(resp, 400, "bad_json", "body must be a JSON object%s%.100s",
			    req.json == NULL ? ": " : "", req.json == NULL ? jerr.text : "");
			goto done;
		}
	}
	client_addr(conn, addr, sizeof(addr));
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	req.bearer = auth != NULL && strncmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
	req.method = method;
	req.path = url;
	req.client = addr;
	req.conn = conn;
	pthread_mutex_lock(&ctx->lock);
	rt->fn(ctx, &req, resp);
	pthread_mutex_unlock(&ctx->lock);
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
	kms_ctx *ctx = cls;
	struct conn_state *cs = *con_cls;
	kms_resp resp;
	enum MHD_Result ret;

	if (cs == NULL) {
		if ((cs = calloc(1, sizeof(*cs))) == NULL)
			return MHD_NO;
		kw_buf_init(&cs->body, (size_t)ctx->cfg.max_body);
		*con_cls = cs;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!cs->too_big && kw_buf_put(&cs->body, upload_data,
		    *upload_data_size) != KW_OK) {
			cs->too_big = true;
			kw_buf_free(&cs->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	memset(&resp, 0, sizeof(resp));
	kw_buf_init(&resp.raw, 1u << 24);
	dispatch(ctx, conn, method, url, cs, &resp);
	ret = send_resp(conn, &resp);
	json_decref(resp.json);
	kw_buf_free(&resp.raw);
	return ret;
}

static void
on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn_state *cs = *con_cls;

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
    const char *key_pem, const char *key_pass, struct MHD_Daemon **d)
{
	struct sockaddr_in sa;

	if (parse_listen(ctx->cfg.listen, &sa) != KW_OK) {
		kw_err("server.listen must be IPv4:port, not %.64s", ctx->cfg.listen);
		return KW_ERR_ARG;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		kw_err("libmicrohttpd was built without TLS");
		return KW_ERR_NOT_SUPPORTED;
	}
	ctx->routes = routes;
	*d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, ctx,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
	    MHD_OPTION_HTTPS_MEM_KEY, key_pem,
	    MHD_OPTION_HTTPS_KEY_PASSWORD, key_pass,
	    MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)128,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL,
	    MHD_OPTION_END);
	if (*d == NULL) {
		kw_err("cannot listen on %.64s (address in use, or bad TLS key/cert)",
		    ctx->cfg.listen);
		return KW_ERR_IO;
	}
	return KW_OK;
}

void
kms_http_stop(struct MHD_Daemon **d)
{
	if (*d != NULL)
		MHD_stop_daemon(*d);
	*d = NULL;
}
