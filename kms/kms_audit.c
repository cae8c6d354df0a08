/* Append-only audit log: one JSON object per line, hash-chained.
 *   {"seq":N,"time":T,"event":E,"email":..,"client":..,"detail":{..},
 *    "prev":H(N-1),"hash":H(N)}
 * H(N) = SHA-256 over the line's JSON without "hash" (compact, sorted
 * keys). The file is opened O_APPEND for every entry and written with one
 * write(); an edited or removed line breaks the chain (kms_audit_verify). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kms.h"
#include "kw_log.h"

static void
entry_hash(json_t *e, char out[65])
{
	char *text = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
	uint8_t h[32];

	kms_sha256(text != NULL ? text : "", text != NULL ? strlen(text) : 0, h);
	kw_hex_encode(h, sizeof(h), out, 65);
	free(text);
}

/* Check one parsed line against the chain; update prev/seq. */
static kw_rv
check_line(json_t *e, char prev[65], uint64_t *seq)
{
	json_t *copy;
	const char *hash, *p;
	char want[65];
	kw_rv rv = KW_ERR_FORMAT;

	hash = json_string_value(json_object_get(e, "hash"));
	p = json_string_value(json_object_get(e, "prev"));
	if (hash == NULL || p == NULL || strcmp(p, prev) != 0 ||
	    json_integer_value(json_object_get(e, "seq")) != (json_int_t)(*seq + 1))
		return rv;
	if ((copy = json_deep_copy(e)) == NULL)
		return KW_ERR_NOMEM;
	json_object_del(copy, "hash");
	entry_hash(copy, want);
	json_decref(copy);
	if (strcmp(want, hash) == 0) {
		snprintf(prev, 65, "%s", hash);
		(*seq)++;
		rv = KW_OK;
	}
	return rv;
}

static kw_rv
scan(const char *path, char prev[65], uint64_t *seq)
{
	FILE *f;
	char line[16384];
	json_t *e;
	kw_rv rv = KW_OK;

	memset(prev, '0', 64);
	prev[64] = '\0';
	*seq = 0;
	if ((f = fopen(path, "r")) == NULL)
		return KW_OK; /* no log yet */
	while (rv == KW_OK && fgets(line, sizeof(line), f) != NULL) {
		if ((e = json_loads(line, 0, NULL)) == NULL)
			rv = KW_ERR_FORMAT;
		else
			rv = check_line(e, prev, seq);
		json_decref(e);
	}
	fclose(f);
	return rv;
}

kw_rv
kms_audit_verify(const char *path, size_t *n)
{
	char prev[65];
	uint64_t seq;
	kw_rv rv = scan(path, prev, &seq);

	*n = (size_t)seq;
	return rv;
}

static void
append(kms_ctx *ctx, json_t *e)
{
	char *text;
	int fd;
	size_t len;

	entry_hash(e, ctx->audit_prev);
	json_object_set_new(e, "hash", json_string(ctx->audit_prev));
	if ((text = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return;
	len = strlen(text);
	text[len] = '\n'; /* json_dumps' NUL becomes the newline */
	fd = open(ctx->cfg.audit_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, text, len + 1) != (ssize_t)(len + 1) || fsync(fd) != 0)
		kw_err("audit: cannot append to %.200s", ctx->cfg.audit_log);
	if (fd >= 0)
		close(fd);
	free(text);
}

void
kms_audit(kms_ctx *ctx, const char *event, const char *email, const char *client,
    json_t *detail)
{
	json_t *e;

	pthread_mutex_lock(&ctx->audit_lock);
	if (!ctx->audit_loaded) {
		if (scan(ctx->cfg.audit_log, ctx->audit_prev, &ctx->audit_seq) != KW_OK)
			kw_err("audit: %.200s fails verification; appending anyway",
			    ctx->cfg.audit_log);
		ctx->audit_loaded = true;
	}
	e = json_pack("{s:I,s:I,s:s,s:s?,s:s?,s:o,s:s}",
	    "seq", (json_int_t)(ctx->audit_seq + 1), "time", (json_int_t)kms_now(),
	    "event", event, "email", email, "client", client,
	    "detail", detail != NULL ? detail : json_object(), "prev", ctx->audit_prev);
	if (e != NULL) {
		ctx->audit_seq++;
		append(ctx, e);
	}
	json_decref(e);
	pthread_mutex_unlock(&ctx->audit_lock);
}
