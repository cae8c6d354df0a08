/* Bounds-checked byte handling, modelled on OpenSSH's sshbuf.
 *
 * kw_view: a read-only cursor over untrusted bytes. Getters consume only on
 * success and clear their outputs first; nested structures are read through
 * child views; bounds are checked by subtraction, never pointer addition.
 *
 * kw_buf: a growable writer. Growth never uses realloc (the old block is
 * wiped and freed), so a buffer can hold secrets; kw_buf_free wipes. */
#ifndef KW_BUF_H
#define KW_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kw_err.h"

typedef struct kw_view {
	const uint8_t *ptr;
	size_t len;
} kw_view;

static inline kw_view
kw_view_make(const void *p, size_t len)
{
	kw_view v = { (const uint8_t *)p, p != NULL ? len : 0 };
	return v;
}

static inline bool kw_view_empty(const kw_view *v) { return v->len == 0; }

kw_rv kw_view_get_u8(kw_view *v, uint8_t *out);
kw_rv kw_view_get_u16be(kw_view *v, uint16_t *out);
kw_rv kw_view_get_u32be(kw_view *v, uint32_t *out);
/* Take the next n bytes as a child view. */
kw_rv kw_view_get_view(kw_view *v, size_t n, kw_view *out);
/* Copy the next n bytes into out. */
kw_rv kw_view_get_bytes(kw_view *v, void *out, size_t n);
kw_rv kw_view_skip(kw_view *v, size_t n);
/* Take the remaining bytes as a child view (v becomes empty). */
void kw_view_get_rest(kw_view *v, kw_view *out);
/* KW_ERR_TRAILING unless v is empty. */
kw_rv kw_view_expect_end(const kw_view *v);
bool kw_view_equal(kw_view a, kw_view b);

#define KW_BUF_DEFAULT_MAX (1u << 20)

typedef struct kw_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;  /* never grows beyond this; KW_ERR_RANGE instead */
} kw_buf;

/* A zeroed kw_buf is valid (max defaults to KW_BUF_DEFAULT_MAX). */
void kw_buf_init(kw_buf *b, size_t max);
void kw_buf_free(kw_buf *b);               /* wipes, frees, re-inits */
void kw_buf_reset(kw_buf *b);              /* wipes contents, keeps storage */
kw_rv kw_buf_reserve(kw_buf *b, size_t extra);
kw_rv kw_buf_put(kw_buf *b, const void *p, size_t n);
kw_rv kw_buf_put_u8(kw_buf *b, uint8_t x);
kw_rv kw_buf_put_u16be(kw_buf *b, uint16_t x);
kw_rv kw_buf_put_u32be(kw_buf *b, uint32_t x);
kw_rv kw_buf_put_view(kw_buf *b, kw_view v);
/* Drop the first n bytes (wiping the vacated tail). */
kw_rv kw_buf_consume(kw_buf *b, size_t n);
static inline kw_view kw_buf_view(const kw_buf *b) { return kw_view_make(b->data, b->len); }

/* Hex helpers for logs and tools (never for secrets). out gets a
 * NUL-terminated string; returns KW_ERR_RANGE if outsz is too small. */
kw_rv kw_hex_encode(const uint8_t *p, size_t n, char *out, size_t outsz);
/* Decodes hex (whitespace and ':' ignored) into b. */
kw_rv kw_hex_decode(const char *hex, kw_buf *b);

#endif
