#include <stdlib.h>
#include <string.h>

#include "kw_mock.h"

typedef struct mock_step {
	kw_buf cmd;      /* empty with any_cmd: match anything */
	int any_cmd;
	kw_buf resp;
	kw_rv err;
} mock_step;

struct kw_mock {
	mock_step *steps;
	size_t nsteps, next;
	size_t mismatches;
	kw_mock_handler handler;
	void *handler_arg;
	uint8_t atr[KW_MAX_ATR];
	size_t atr_len;
};

static kw_rv
mock_open(const char *rest, void **ctx)
{
	static const uint8_t default_atr[] = { 0x3b, 0x80, 0x80, 0x01, 0x01 };
	kw_mock *m;

	(void)rest;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return KW_ERR_NOMEM;
	memcpy(m->atr, default_atr, sizeof(default_atr));
	m->atr_len = sizeof(default_atr);
	*ctx = m;
	return KW_OK;
}

static void
mock_close(void *ctx)
{
	kw_mock *m = ctx;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nsteps; i++) {
		kw_buf_free(&m->steps[i].cmd);
		kw_buf_free(&m->steps[i].resp);
	}
	free(m->steps);
	free(m);
}

static kw_rv
mock_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
	kw_mock *m = ctx;
	kw_buf out;
	mock_step *s;
	kw_rv rv;

	if (m->handler != NULL) {
		kw_buf_init(&out, KW_MAX_RESPONSE);
		rv = m->handler(m->handler_arg, kw_view_make(cmd, cmd_len), &out);
		if (rv == KW_OK && out.len > *resp_len)
			rv = KW_ERR_RANGE;
		if (rv == KW_OK) {
			if (out.len > 0)
				memcpy(resp, out.data, out.len);
			*resp_len = out.len;
		}
		kw_buf_free(&out);
		return rv;
	}
	if (m->next >= m->nsteps) {
		m->mismatches++;
		return KW_ERR_CARD_REMOVED;
	}
	s = &m->steps[m->next++];
	if (!s->any_cmd && !kw_view_equal(kw_buf_view(&s->cmd), kw_view_make(cmd, cmd_len))) {
		m->mismatches++;
		return KW_ERR_PROTOCOL;
	}
	if (s->err != KW_OK)
		return s->err;
	if (s->resp.len > *resp_len)
		return KW_ERR_RANGE;
	if (s->resp.len > 0)
		memcpy(resp, s->resp.data, s->resp.len);
	*resp_len = s->resp.len;
	return KW_OK;
}

static kw_rv
mock_get_atr(void *ctx, uint8_t *atr, size_t *atr_len)
{
	kw_mock *m = ctx;

	if (*atr_len < m->atr_len)
		return KW_ERR_RANGE;
	memcpy(atr, m->atr, m->atr_len);
	*atr_len = m->atr_len;
	return KW_OK;
}

const kw_transport_ops kw_mock_ops = {
	.scheme = "mock",
	.flags = KW_TRANSPORT_EXTENDED,
	.open = mock_open,
	.close = mock_close,
	.transmit = mock_transmit,
	.get_atr = mock_get_atr,
};

kw_mock *
kw_mock_of(kw_transport *t)
{
	return kw_transport_get_ops(t) == &kw_mock_ops ? kw_transport_ctx(t) : NULL;
}

static kw_rv
mock_add(kw_mock *m, const char *cmd_hex, const char *resp_hex, kw_rv err)
{
	mock_step *ns, *s;
	kw_rv rv;

	if ((ns = realloc(m->steps, (m->nsteps + 1) * sizeof(*ns))) == NULL)
		return KW_ERR_NOMEM;
	m->steps = ns;
	s = &ns[m->nsteps];
	memset(s, 0, sizeof(*s));
	kw_buf_init(&s->cmd, KW_MAX_RESPONSE);
	kw_buf_init(&s->resp, KW_MAX_RESPONSE);
	s->any_cmd = cmd_hex == NULL;
	s->err = err;
	if ((cmd_hex != NULL && (rv = kw_hex_decode(cmd_hex, &s->cmd)) != KW_OK) ||
	    (resp_hex != NULL && (rv = kw_hex_decode(resp_hex, &s->resp)) != KW_OK)) {
		kw_buf_free(&s->cmd);
		kw_buf_free(&s->resp);
		return rv;
	}
	m->nsteps++;
	return KW_OK;
}

kw_rv
kw_mock_expect(kw_mock *m, const char *cmd_hex, const char *resp_hex)
{
	return mock_add(m, cmd_hex, resp_hex, KW_OK);
}

kw_rv
kw_mock_expect_err(kw_mock *m, const char *cmd_hex, kw_rv err)
{
	return mock_add(m, cmd_hex, NULL, err);
}

void
kw_mock_set_handler(kw_mock *m, kw_mock_handler fn, void *arg)
{
	m->handler = fn;
	m->handler_arg = arg;
}

void
kw_mock_set_atr(kw_mock *m, const uint8_t *atr, size_t len)
{
	if (len > sizeof(m->atr))
		len = sizeof(m->atr);
	memcpy(m->atr, atr, len);
	m->atr_len = len;
}

size_t kw_mock_pending(const kw_mock *m) { return m->nsteps - m->next; }
size_t kw_mock_mismatches(const kw_mock *m) { return m->mismatches; }
