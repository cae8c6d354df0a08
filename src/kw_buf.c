#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "kw_buf.h"
#include "kw_secret.h"

/* Advance past n bytes already checked to be there. NULL + 0 is undefined
 * in C, and an empty view may have a NULL pointer: only move when n > 0. */
static void
view_advance(kw_view *v, size_t n)
{
	if (n > 0) {
		v->ptr += n;
		v->len -= n;
	}
}

kw_rv
kw_view_get_u8(kw_view *v, uint8_t *out)
{
	*out = 0;
	if (v->len < 1)
		return KW_ERR_TRUNCATED;
	*out = v->ptr[0];
	view_advance(v, 1);
	return KW_OK;
}

kw_rv
kw_view_get_u16be(kw_view *v, uint16_t *out)
{
	*out = 0;
	if (v->len < 2)
		return KW_ERR_TRUNCATED;
	*out = (uint16_t)((v->ptr[0] << 8) | v->ptr[1]);
	view_advance(v, 2);
	return KW_OK;
}

kw_rv
kw_view_get_u32be(kw_view *v, uint32_t *out)
{
	*out = 0;
	if (v->len < 4)
		return KW_ERR_TRUNCATED;
	*out = ((uint32_t)v->ptr[0] << 24) | ((uint32_t)v->ptr[1] << 16) |
	    ((uint32_t)v->ptr[2] << 8) | v->ptr[3];
	view_advance(v, 4);
	return KW_OK;
}

kw_rv
kw_view_get_view(kw_view *v, size_t n, kw_view *out)
{
	out->ptr = NULL;
	out->len = 0;
	if (n > v->len)
		return KW_ERR_TRUNCATED;
	out->ptr = v->ptr;
	out->len = n;
	view_advance(v, n);
	return KW_OK;
}

kw_rv
kw_view_get_bytes(kw_view *v, void *out, size_t n)
{
	if (n > v->len) {
		if (n > 0)
			memset(out, 0, n);
		return KW_ERR_TRUNCATED;
	}
	if (n > 0)
		memcpy(out, v->ptr, n);
	view_advance(v, n);
	return KW_OK;
}

kw_rv
kw_view_skip(kw_view *v, size_t n)
{
	if (n > v->len)
		return KW_ERR_TRUNCATED;
	view_advance(v, n);
	return KW_OK;
}

void
kw_view_get_rest(kw_view *v, kw_view *out)
{
	*out = *v;
	view_advance(v, v->len);
}

kw_rv
kw_view_expect_end(const kw_view *v)
{
	return v->len == 0 ? KW_OK : KW_ERR_TRAILING;
}

bool
kw_view_equal(kw_view a, kw_view b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

void
kw_buf_init(kw_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
kw_buf_free(kw_buf *b)
{
	size_t max = b->max;

	if (b->data != NULL)
		kw_freezero(b->data, b->cap);
	kw_buf_init(b, max);
}

void
kw_buf_reset(kw_buf *b)
{
	if (b->data != NULL)
		kw_memzero(b->data, b->cap);
	b->len = 0;
}

kw_rv
kw_buf_reserve(kw_buf *b, size_t extra)
{
	size_t max = b->max != 0 ? b->max : KW_BUF_DEFAULT_MAX;
	size_t need, ncap;
	uint8_t *n;

	if (extra > max || b->len > max - extra)
		return KW_ERR_RANGE;
	need = b->len + extra;
	if (need <= b->cap)
		return KW_OK;
	ncap = b->cap < 64 ? 64 : b->cap;
	while (ncap < need)
		ncap = ncap > max / 2 ? max : ncap * 2;
	/* No realloc: the old block may hold secrets and is wiped. */
	if ((n = calloc(1, ncap)) == NULL)
		return KW_ERR_NOMEM;
	if (b->data != NULL) {
		memcpy(n, b->data, b->len);
		kw_freezero(b->data, b->cap);
	}
	b->data = n;
	b->cap = ncap;
	return KW_OK;
}

kw_rv
kw_buf_put(kw_buf *b, const void *p, size_t n)
{
	kw_rv rv;

	if (n == 0)
		return KW_OK;
	if ((rv = kw_buf_reserve(b, n)) != KW_OK)
		return rv;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return KW_OK;
}

kw_rv
kw_buf_put_u8(kw_buf *b, uint8_t x)
{
	return kw_buf_put(b, &x, 1);
}

kw_rv
kw_buf_put_u16be(kw_buf *b, uint16_t x)
{
	uint8_t d[2] = { (uint8_t)(x >> 8), (uint8_t)x };
	return kw_buf_put(b, d, sizeof(d));
}

kw_rv
kw_buf_put_u32be(kw_buf *b, uint32_t x)
{
	uint8_t d[4] = { (uint8_t)(x >> 24), (uint8_t)(x >> 16), (uint8_t)(x >> 8), (uint8_t)x };
	return kw_buf_put(b, d, sizeof(d));
}

kw_rv
kw_buf_put_view(kw_buf *b, kw_view v)
{
	return kw_buf_put(b, v.ptr, v.len);
}

kw_rv
kw_buf_consume(kw_buf *b, size_t n)
{
	if (n > b->len)
		return KW_ERR_RANGE;
	if (n == 0)
		return KW_OK;
	memmove(b->data, b->data + n, b->len - n);
	kw_memzero(b->data + (b->len - n), n);
	b->len -= n;
	return KW_OK;
}

kw_rv
kw_hex_encode(const uint8_t *p, size_t n, char *out, size_t outsz)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	if (outsz == 0 || n > (outsz - 1) / 2) {
		if (outsz > 0)
			out[0] = '\0';
		return KW_ERR_RANGE;
	}
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
	return KW_OK;
}

static int
hex_nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

kw_rv
kw_hex_decode(const char *hex, kw_buf *b)
{
	int hi = -1, nib;
	kw_rv rv;

	for (; *hex != '\0'; hex++) {
		if (isspace((unsigned char)*hex) || *hex == ':')
			continue;
		if ((nib = hex_nibble((unsigned char)*hex)) < 0)
			return KW_ERR_FORMAT;
		if (hi < 0) {
			hi = nib;
			continue;
		}
		if ((rv = kw_buf_put_u8(b, (uint8_t)(hi << 4 | nib))) != KW_OK)
			return rv;
		hi = -1;
	}
	return hi < 0 ? KW_OK : KW_ERR_FORMAT;
}
