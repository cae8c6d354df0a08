#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw_log.h"
#include "kw_transport.h"

struct kw_transport {
	const kw_transport_ops *ops;
	void *ctx;
	char *uri;
	uint64_t apdus;
};

kw_rv
kw_strlist_add(kw_strlist *l, const char *s)
{
	char **nv, *d;

	if ((d = strdup(s)) == NULL)
		return KW_ERR_NOMEM;
	if ((nv = realloc(l->v, (l->n + 2) * sizeof(*nv))) == NULL) {
		free(d);
		return KW_ERR_NOMEM;
	}
	nv[l->n++] = d;
	nv[l->n] = NULL;
	l->v = nv;
	return KW_OK;
}

void
kw_strlist_free(kw_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

const kw_transport_ops *
kw_transport_find_ops(const char *scheme)
{
	size_t i;

	for (i = 0; kw_builtin_transports[i] != NULL; i++)
		if (strcmp(kw_builtin_transports[i]->scheme, scheme) == 0)
			return kw_builtin_transports[i];
	return NULL;
}

kw_rv
kw_transport_open_ops(const kw_transport_ops *ops, const char *rest, kw_transport **out)
{
	kw_transport *t;
	size_t n;
	kw_rv rv;

	*out = NULL;
	if (ops == NULL || ops->open == NULL || ops->transmit == NULL || rest == NULL)
		return KW_ERR_ARG;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return KW_ERR_NOMEM;
	n = strlen(ops->scheme) + 1 + strlen(rest) + 1;
	if ((t->uri = malloc(n)) == NULL) {
		free(t);
		return KW_ERR_NOMEM;
	}
	snprintf(t->uri, n, "%s:%s", ops->scheme, rest);
	t->ops = ops;
	if ((rv = ops->open(rest, &t->ctx)) != KW_OK) {
		free(t->uri);
		free(t);
		return rv;
	}
	*out = t;
	return KW_OK;
}

kw_rv
kw_transport_open(const char *uri, kw_transport **out)
{
	const kw_transport_ops *ops;
	const char *colon;
	char scheme[16];
	size_t n;

	*out = NULL;
	if (uri == NULL || (colon = strchr(uri, ':')) == NULL)
		return KW_ERR_ARG;
	n = (size_t)(colon - uri);
	if (n == 0 || n >= sizeof(scheme))
		return KW_ERR_ARG;
	memcpy(scheme, uri, n);
	scheme[n] = '\0';
	if ((ops = kw_transport_find_ops(scheme)) == NULL)
		return KW_ERR_NOT_SUPPORTED;
	return kw_transport_open_ops(ops, colon + 1, out);
}

void
kw_transport_free(kw_transport **tp)
{
	kw_transport *t;

	if (tp == NULL || (t = *tp) == NULL)
		return;
	if (t->ops->close != NULL)
		t->ops->close(t->ctx);
	free(t->uri);
	free(t);
	*tp = NULL;
}

kw_rv
kw_transport_list_all(kw_strlist *out)
{
	size_t i;
	kw_rv rv;

	for (i = 0; kw_builtin_transports[i] != NULL; i++) {
		if (kw_builtin_transports[i]->list == NULL)
			continue;
		rv = kw_builtin_transports[i]->list(out);
		/* A transport whose service is absent lists nothing; others go on. */
		if (rv != KW_OK && rv != KW_ERR_NO_SERVICE && rv != KW_ERR_NO_READER)
			kw_debug("listing %s devices: %s", kw_builtin_transports[i]->scheme,
			    kw_strerror(rv));
	}
	return KW_OK;
}

kw_rv
kw_transport_list_slots(const kw_transport_ops *ops, kw_strlist *out)
{
	if (ops == NULL || out == NULL)
		return KW_ERR_ARG;
	if (ops->list_slots != NULL)
		return ops->list_slots(out);
	return ops->list != NULL ? ops->list(out) : KW_OK;
}

struct kw_transport_monitor {
	const kw_transport_ops *ops;
	void *ctx;
};

kw_rv
kw_transport_monitor_new(const kw_transport_ops *ops, kw_transport_monitor **out)
{
	kw_transport_monitor *m;
	kw_rv rv;

	if (out == NULL)
		return KW_ERR_ARG;
	*out = NULL;
	if (ops == NULL || ops->monitor_new == NULL || ops->monitor_wait == NULL ||
	    ops->monitor_cancel == NULL || ops->monitor_free == NULL)
		return KW_ERR_NOT_SUPPORTED;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return KW_ERR_NOMEM;
	m->ops = ops;
	if ((rv = ops->monitor_new(&m->ctx)) != KW_OK) {
		free(m);
		return rv;
	}
	*out = m;
	return KW_OK;
}

kw_rv
kw_transport_monitor_wait(kw_transport_monitor *m, int timeout_ms, bool *changed)
{
	if (changed != NULL)
		*changed = false;
	if (m == NULL || changed == NULL)
		return KW_ERR_ARG;
	return m->ops->monitor_wait(m->ctx, timeout_ms, changed);
}

kw_rv
kw_transport_monitor_cancel(kw_transport_monitor *m)
{
	return m != NULL ? m->ops->monitor_cancel(m->ctx) : KW_ERR_ARG;
}

void
kw_transport_monitor_free(kw_transport_monitor **mp)
{
	kw_transport_monitor *m;

	if (mp == NULL || (m = *mp) == NULL)
		return;
	m->ops->monitor_free(m->ctx);
	free(m);
	*mp = NULL;
}

const char *kw_transport_name(const kw_transport *t) { return t->uri; }
const kw_transport_ops *kw_transport_get_ops(const kw_transport *t) { return t->ops; }
void *kw_transport_ctx(const kw_transport *t) { return t->ctx; }
uint64_t kw_transport_apdu_count(const kw_transport *t) { return t->apdus; }

bool
kw_transport_has_flag(const kw_transport *t, unsigned flag)
{
	return (t->ops->flags & flag) != 0;
}

kw_rv
kw_transport_transmit(kw_transport *t, const uint8_t *cmd, size_t cmd_len,
    uint8_t *resp, size_t *resp_len)
{
	t->apdus++;
	return t->ops->transmit(t->ctx, cmd, cmd_len, resp, resp_len);
}

kw_rv
kw_transport_get_atr(kw_transport *t, uint8_t *atr, size_t *atr_len)
{
	if (t->ops->get_atr == NULL) {
		*atr_len = 0;
		return KW_ERR_NOT_SUPPORTED;
	}
	return t->ops->get_atr(t->ctx, atr, atr_len);
}

kw_rv
kw_transport_reset(kw_transport *t)
{
	return t->ops->reset != NULL ? t->ops->reset(t->ctx) : KW_ERR_NOT_SUPPORTED;
}

kw_rv
kw_transport_begin(kw_transport *t)
{
	return t->ops->begin != NULL ? t->ops->begin(t->ctx) : KW_OK;
}

kw_rv
kw_transport_end(kw_transport *t)
{
	return t->ops->end != NULL ? t->ops->end(t->ctx) : KW_OK;
}

kw_rv
kw_transport_present(kw_transport *t)
{
	return t->ops->present != NULL ? t->ops->present(t->ctx) : KW_OK;
}

int
kw_transport_channel(const kw_transport *t)
{
	return t->ops->channel != NULL ? t->ops->channel(t->ctx) : 0;
}
