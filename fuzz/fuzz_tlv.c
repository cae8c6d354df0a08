/* Fuzz target: BER-TLV (src/kw_tlv.c) over arbitrary input.
 *
 * The whole input is parsed as a TLV sequence with kw_tlv_get, descending
 * into constructed values (bit 6 of the first tag byte) up to a fixed
 * depth; kw_tlv_validate, kw_tlv_find and kw_tlv_expect must agree with
 * that walk, every value must lie inside its parent, and each TLV read
 * must re-encode (kw_tlv_put) to bytes that read back as the same tag and
 * value. Any disagreement aborts. */
#include <stdlib.h>

#include "fuzz_util.h"
#include "kw_tlv.h"

#define TLV_MAX_DEPTH 8

static void
check_inside(kw_view outer, kw_view inner)
{
	if (inner.len == 0)
		return;
	if (inner.ptr < outer.ptr || inner.len > outer.len ||
	    (size_t)(inner.ptr - outer.ptr) > outer.len - inner.len)
		abort();
}

static uint8_t
tag_first_byte(uint32_t tag)
{
	return (uint8_t)(tag > 0xffff ? tag >> 16 : tag > 0xff ? tag >> 8 : tag);
}

/* Re-encode one TLV and read it back. */
static void
check_roundtrip(uint32_t tag, kw_view value)
{
	kw_buf b;
	kw_view v, again;
	uint32_t t;

	kw_buf_init(&b, 0);
	if (kw_tlv_put(&b, tag, value.ptr, value.len) != KW_OK)
		abort();
	if (b.len != kw_tlv_header_size(tag, value.len) + value.len)
		abort();
	v = kw_buf_view(&b);
	if (kw_tlv_get(&v, &t, &again) != KW_OK || t != tag || !kw_view_equal(again, value) ||
	    !kw_view_empty(&v))
		abort();
	kw_buf_free(&b);
}

/* Walk v; returns what kw_tlv_get returned last (KW_OK: well formed). */
static kw_rv
walk(kw_view v, int depth)
{
	kw_view rest = v, value, found, probe;
	uint32_t tag, first_tag = 0;
	size_t count = 0;
	kw_rv rv = KW_OK, vrv;

	vrv = kw_tlv_validate(v);
	while (!kw_view_empty(&rest)) {
		kw_view before = rest;

		if ((rv = kw_tlv_get(&rest, &tag, &value)) != KW_OK) {
			/* failure consumes nothing and clears outputs */
			if (rest.ptr != before.ptr || rest.len != before.len ||
			    tag != 0 || value.len != 0 || value.ptr != NULL)
				abort();
			break;
		}
		check_inside(before, value);
		if (rest.len >= before.len)
			abort();
		if (count++ == 0)
			first_tag = tag;
		check_roundtrip(tag, value);
		/* The first sibling with this tag is found; it may be an earlier one. */
		if (kw_tlv_find(v, tag, &found) != KW_OK)
			abort();
		check_inside(v, found);
		if ((tag_first_byte(tag) & 0x20) && depth < TLV_MAX_DEPTH)
			(void)walk(value, depth + 1);
	}
	if ((rv == KW_OK) != (vrv == KW_OK))
		abort();
	/* kw_tlv_expect on the first TLV: its tag matches, any other does not. */
	if (count > 0) {
		probe = v;
		if (kw_tlv_expect(&probe, first_tag, &value) != KW_OK)
			abort();
		probe = v;
		if (kw_tlv_expect(&probe, first_tag ^ 1, &value) == KW_OK ||
		    probe.ptr != v.ptr || probe.len != v.len)
			abort();
	}
	return rv;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kw_view v = kw_view_make(data, size), value;
	uint32_t tag;

	(void)walk(v, 0);
	/* Searches for tags that may be absent, taken from the input itself. */
	if (size >= 3) {
		tag = (uint32_t)data[0] << 16 | (uint32_t)data[1] << 8 | data[2];
		(void)kw_tlv_find(v, tag, &value);
		(void)kw_tlv_find(v, tag >> 8, &value);
		(void)kw_tlv_find(v, tag >> 16, &value);
	}
	return 0;
}
