/* Fuzz target: kw_view getters and kw_buf writers (src/kw_buf.c).
 *
 * The first part of the input is a program: each byte picks a getter (and
 * the next bytes its size), run against the rest of the input as the
 * untrusted view. Every getter must consume exactly its size on success,
 * nothing on failure, clear its outputs on failure, and never hand out a
 * child view outside its parent. The bytes read are also written into a
 * kw_buf with a small maximum and checked against the view, and hex
 * encode/decode round-trips on them. */
#include <stdlib.h>

#include "fuzz_util.h"

#define BUF_MAX_OPS 256
#define BUF_WRITE_MAX 512

static void
check_step(kw_view before, kw_view after, kw_rv rv, size_t want)
{
	if (rv == KW_OK) {
		if (before.len < want || after.len != before.len - want ||
		    (after.len > 0 && after.ptr != before.ptr + want))
			abort();
	} else if (after.ptr != before.ptr || after.len != before.len ||
	    before.len >= want) {
		abort();
	}
}

static void
check_hex(kw_view v)
{
	char hex[2 * 64 + 1];
	kw_buf b;
	size_t n = v.len > 64 ? 64 : v.len;

	if (kw_hex_encode(v.ptr, n, hex, sizeof(hex)) != KW_OK)
		abort();
	if (n > 0 && kw_hex_encode(v.ptr, n, hex, 2 * n) != KW_ERR_RANGE)
		abort();
	kw_buf_init(&b, 64);
	if (kw_hex_encode(v.ptr, n, hex, sizeof(hex)) != KW_OK ||
	    kw_hex_decode(hex, &b) != KW_OK || b.len != n ||
	    (n > 0 && memcmp(b.data, v.ptr, n) != 0))
		abort();
	kw_buf_free(&b);
}

/* One getter chosen by op; appends what it read to w (when it fits). */
static void
run_op(uint8_t op, fz_in *prog, kw_view *v, kw_buf *w)
{
	kw_view before = *v, child;
	uint8_t b8, bytes[64];
	uint16_t b16;
	uint32_t b32;
	size_t n;
	kw_rv rv;

	switch (op % 8) {
	case 0:
		rv = kw_view_get_u8(v, &b8);
		check_step(before, *v, rv, 1);
		if (rv == KW_OK ? b8 != before.ptr[0] : b8 != 0)
			abort();
		if (rv == KW_OK)
			(void)kw_buf_put_u8(w, b8);
		break;
	case 1:
		rv = kw_view_get_u16be(v, &b16);
		check_step(before, *v, rv, 2);
		if (rv != KW_OK && b16 != 0)
			abort();
		if (rv == KW_OK)
			(void)kw_buf_put_u16be(w, b16);
		break;
	case 2:
		rv = kw_view_get_u32be(v, &b32);
		check_step(before, *v, rv, 4);
		if (rv != KW_OK && b32 != 0)
			abort();
		if (rv == KW_OK)
			(void)kw_buf_put_u32be(w, b32);
		break;
	case 3:
		n = fz_u16(prog);
		rv = kw_view_get_view(v, n, &child);
		check_step(before, *v, rv, n);
		if (rv == KW_OK ? child.len != n || (n > 0 && child.ptr != before.ptr)
		    : child.ptr != NULL || child.len != 0)
			abort();
		if (rv == KW_OK)
			(void)kw_buf_put_view(w, child);
		break;
	case 4:
		n = fz_u8(prog) % (sizeof(bytes) + 1);
		memset(bytes, 0xA5, sizeof(bytes));
		rv = kw_view_get_bytes(v, bytes, n);
		check_step(before, *v, rv, n);
		if (rv == KW_OK ? n > 0 && memcmp(bytes, before.ptr, n) != 0
		    : n > 0 && (bytes[0] != 0 || bytes[n - 1] != 0))
			abort();
		if (rv == KW_OK)
			(void)kw_buf_put(w, bytes, n);
		break;
	case 5:
		n = fz_u16(prog);
		rv = kw_view_skip(v, n);
		check_step(before, *v, rv, n);
		break;
	case 6:
		kw_view_get_rest(v, &child);
		if (!kw_view_empty(v) || !kw_view_equal(child, before) ||
		    kw_view_expect_end(v) != KW_OK)
			abort();
		check_hex(child);
		break;
	default:
		if ((kw_view_expect_end(v) == KW_OK) != kw_view_empty(v))
			abort();
		n = fz_u8(prog);
		(void)kw_buf_consume(w, n);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = fz_make(data, size);
	kw_view prog_bytes = fz_chunk8(&in);
	fz_in prog = fz_make(prog_bytes.ptr, prog_bytes.len);
	kw_view v = fz_bytes(&in, in.n);
	kw_buf w;
	char *text;
	unsigned ops = 0;

	kw_buf_init(&w, BUF_WRITE_MAX);
	while (prog.n > 0 && ops++ < BUF_MAX_OPS)
		run_op(fz_u8(&prog), &prog, &v, &w);
	if (w.len > BUF_WRITE_MAX || w.len > w.cap)
		abort();
	/* The untrusted bytes as a hex string (they are not valid hex mostly). */
	if ((text = malloc(v.len + 1)) != NULL) {
		kw_buf d;

		if (v.len > 0)
			memcpy(text, v.ptr, v.len);
		text[v.len] = '\0';
		kw_buf_init(&d, 256);
		(void)kw_hex_decode(text, &d);
		if (d.len > 256)
			abort();
		kw_buf_free(&d);
		free(text);
	}
	kw_buf_free(&w);
	return 0;
}
