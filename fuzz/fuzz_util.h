/* Helpers shared by keyward's fuzz targets: a consumer of the fuzzer's
 * input (every getter is total: past the end it yields zeros / empty
 * views) and a mock transport whose card answers are taken from the
 * input. Header-only so each target stays one file plus this. */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kw_buf.h"
#include "kw_mock.h"
#include "kw_transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz_in {
	const uint8_t *p;
	size_t n;
} fz_in;

static inline fz_in
fz_make(const uint8_t *p, size_t n)
{
	fz_in in = { p, n };
	return in;
}

static inline uint8_t
fz_u8(fz_in *in)
{
	uint8_t x = 0;

	if (in->n > 0) {
		x = in->p[0];
		in->p++;
		in->n--;
	}
	return x;
}

static inline uint16_t
fz_u16(fz_in *in)
{
	uint16_t hi = fz_u8(in);

	return (uint16_t)(hi << 8 | fz_u8(in));
}

/* Up to n bytes (fewer at the end of the input). */
static inline kw_view
fz_bytes(fz_in *in, size_t n)
{
	kw_view v;

	if (n > in->n)
		n = in->n;
	v = kw_view_make(n > 0 ? in->p : NULL, n);
	in->p += n;
	in->n -= n;
	return v;
}

/* A chunk: a 2-byte big-endian length, then that many bytes. */
static inline kw_view
fz_chunk(fz_in *in)
{
	return fz_bytes(in, fz_u16(in));
}

/* A chunk with a 1-byte length. */
static inline kw_view
fz_chunk8(fz_in *in)
{
	return fz_bytes(in, fz_u8(in));
}

/* ---- mock card answering from the input ------------------------------ */

/* Each command gets the next chunk of `in` as its whole response (data and
 * SW); an exhausted input answers 6A82, or a transport error every
 * `fail_every` commands when set. Answers of fewer than two bytes are sent
 * as they are (the APDU layer must reject them). */
typedef struct fz_card {
	fz_in in;
	unsigned commands;
	unsigned limit;           /* stop answering (card removed) after this many */
} fz_card;

static inline kw_rv
fz_card_answer(void *arg, kw_view cmd, kw_buf *resp)
{
	fz_card *c = arg;
	kw_view r;

	(void)cmd;
	if (++c->commands > c->limit)
		return KW_ERR_CARD_REMOVED;
	if (c->in.n == 0)
		return kw_buf_put(resp, "\x6a\x82", 2);
	r = fz_chunk(&c->in);
	return kw_buf_put_view(resp, r);
}

/* Open a mock transport answering through card (flags/channel as given:
 * the ops table must live as long as the transport). */
static inline kw_rv
fz_card_open(const kw_transport_ops *ops, fz_card *card, kw_transport **t)
{
	kw_rv rv;

	if ((rv = kw_transport_open_ops(ops, "fuzz", t)) != KW_OK)
		return rv;
	kw_mock_set_handler((kw_mock *)kw_transport_ctx(*t), fz_card_answer, card);
	return KW_OK;
}

#endif
