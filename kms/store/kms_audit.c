/* The audit log, part of the store: one hash-chained entry per action,
 * written in the transaction of the action it records.
 *   {"seq":N,"time":T,"event":E,"email":..,"client":..,"detail":{..},
 *    "prev":H(N-1),"hash":H(N)}
 * H(N) = SHA-256 over the entry's JSON without "hash" (compact, sorted
 * keys); H(0) is 64 zeros. The table keeps each entry's exact line, so an
 * export (kms_store_audit_export) is those lines in order and verifies
 * with the same code as the stored chain. Entries are serialized by the
 * writing transaction (SQLite: the database lock; a server database: the
 * primary key on seq makes a concurrent second writer fail and retry). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms_base.h"
#include "kms_store_int.h"
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

kw_rv
kms_audit_append(kms_store *st, kms_db *db, const kms_audit_ev *ev)
{
	char prev[65], hash[65], *line = NULL;
	int64_t seq = 0;
	json_t *e = NULL, *detail;
	kms_q *q;
	bool row;
	kw_rv rv;

	if (ev == NULL || ev->event == NULL)
		return KW_ERR_ARG;
	memset(prev, '0', 64);
	prev[64] = '\0';
	if ((rv = kms_q_first(st, db, Q_AUDIT_HEAD, &q, &row, "")) != KW_OK)
		return rv;
	if (row) {
		seq = st->be->col_int(q, 0);
		snprintf(prev, sizeof(prev), "%s", st->be->col_text(q, 1));
	}
	st->be->finish(q);
	detail = ev->detail != NULL ? json_deep_copy(ev->detail) : json_object();
	e = json_pack("{s:I,s:I,s:s,s:s?,s:s?,s:o,s:s}", "seq", (json_int_t)(seq + 1),
	    "time", (json_int_t)kms_now(), "event", ev->event, "email", ev->email,
	    "client", ev->client, "detail", detail, "prev", prev);
	if (e == NULL)
		return KW_ERR_NOMEM;
	entry_hash(e, hash);
	if (json_object_set_new(e, "hash", json_string(hash)) != 0 ||
	    (line = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		rv = KW_ERR_NOMEM;
	else
		rv = kms_q_exec(st, db, Q_AUDIT_ADD, "itt", seq + 1, hash, line);
	if (rv != KW_OK)
		kw_err("audit: cannot record %.32s: the action is refused", ev->event);
	free(line);
	json_decref(e);
	return rv;
}

/* Check one line against the chain; update prev/seq. */
static kw_rv
check_line(const char *line, char prev[65], uint64_t *seq)
{
	json_t *e, *copy = NULL;
	const char *hash, *p;
	char want[65];
	kw_rv rv = KW_ERR_FORMAT;

	if ((e = json_loads(line, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return rv;
	hash = json_string_value(json_object_get(e, "hash"));
	p = json_string_value(json_object_get(e, "prev"));
	if (hash == NULL || p == NULL || strcmp(p, prev) != 0 ||
	    json_integer_value(json_object_get(e, "seq")) != (json_int_t)(*seq + 1))
		goto done;
	if ((copy = json_deep_copy(e)) == NULL) {
		rv = KW_ERR_NOMEM;
		goto done;
	}
	json_object_del(copy, "hash");
	entry_hash(copy, want);
	if (strcmp(want, hash) == 0) {
		snprintf(prev, 65, "%s", hash);
		(*seq)++;
		rv = KW_OK;
	}
done:
	json_decref(copy);
	json_decref(e);
	return rv;
}

kw_rv
kms_audit_verify_file(const char *path, size_t *n)
{
	char prev[65], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint64_t seq = 0;
	FILE *f;
	kw_rv rv = KW_OK;

	*n = 0;
	memset(prev, '0', 64);
	prev[64] = '\0';
	if ((f = fopen(path, "r")) == NULL)
		return KW_ERR_IO;
	while (rv == KW_OK && (len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] != '\n') {
			rv = KW_ERR_TRUNCATED;   /* a partial last line */
			break;
		}
		line[len - 1] = '\0';
		rv = check_line(line, prev, &seq);
	}
	if (ferror(f))
		rv = KW_ERR_IO;
	free(line);
	fclose(f);
	*n = (size_t)seq;
	return rv;
}

struct export_arg { FILE *out; size_t *n; };

static kw_rv
t_export(kms_store *st, kms_db *db, void *arg)
{
	struct export_arg *a = arg;
	char prev[65];
	uint64_t seq = 0;
	kms_q *q;
	bool row;
	kw_rv rv;

	memset(prev, '0', 64);
	prev[64] = '\0';
	if ((rv = kms_q_first(st, db, Q_AUDIT_ALL, &q, &row, "")) != KW_OK)
		return rv;
	while (rv == KW_OK && row) {
		if ((rv = check_line(st->be->col_text(q, 1), prev, &seq)) != KW_OK)
			break;
		if (a->out != NULL && fprintf(a->out, "%s\n", st->be->col_text(q, 1)) < 0)
			rv = KW_ERR_IO;
		else
			rv = st->be->step(q, &row);
	}
	st->be->finish(q);
	*a->n = (size_t)seq;
	return rv;
}

kw_rv
kms_store_audit_export(kms_store *st, FILE *out, size_t *n)
{
	struct export_arg a = { out, n };

	*n = 0;
	return kms_store_txn(st, false, t_export, &a);
}

kw_rv
kms_store_audit_verify(kms_store *st, size_t *n)
{
	return kms_store_audit_export(st, NULL, n);
}
