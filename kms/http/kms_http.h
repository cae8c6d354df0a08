/* The HTTPS front end of keyward-kmsd (libmicrohttpd with TLS): request
 * bodies bounded by server.max_body, JSON in and out, errors as
 * {"error": code, "message": text} with a 4xx/5xx status. */
#ifndef KMS_HTTP_H
#define KMS_HTTP_H

#include <jansson.h>

#include "kms.h"

struct MHD_Connection;
typedef struct kms_http kms_http;

typedef struct kms_req {
	const char *method;
	const char *path;
	const char *client;     /* peer address */
	const char *bearer;     /* Authorization: Bearer value, or NULL */
	json_t *json;           /* parsed JSON object body, or NULL */
	struct MHD_Connection *conn;
} kms_req;

typedef struct kms_resp {
	unsigned status;
	json_t *json;           /* owned */
	kw_buf raw;             /* used when json == NULL */
	const char *content_type;
} kms_resp;

typedef void (*kms_handler)(kms_ctx *ctx, const kms_req *req, kms_resp *resp);

typedef struct kms_route {
	const char *method;
	const char *path;       /* exact, or a prefix when it ends with '/' */
	kms_handler fn;
	bool needs_json;        /* body must be a JSON object */
} kms_route;

void kms_resp_error(kms_resp *r, unsigned status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void kms_resp_json(kms_resp *r, unsigned status, json_t *j /* stolen */);
/* Query parameter or NULL. */
const char *kms_req_query(const kms_req *req, const char *name);
/* Required string member of the JSON body (sets a 400 error when absent). */
const char *kms_req_str(const kms_req *req, kms_resp *resp, const char *name,
    size_t maxlen);

/* Listen on server.listen with server.threads threads (see kms_http.c). */
kw_rv kms_http_start(kms_ctx *ctx, const kms_route *routes, const char *cert_pem,
    const char *key_pem, const char *key_pass, kms_http **h);
void kms_http_stop(kms_http **h);

#endif
