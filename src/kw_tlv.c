#include "kw_tlv.h"

static kw_rv
tlv_get_tag(kw_view *v, uint32_t *tag)
{
	uint8_t b;
	uint32_t t;
	int n = 0;
	kw_rv rv;

	*tag = 0;
	if ((rv = kw_view_get_u8(v, &b)) != KW_OK)
		return rv;
	t = b;
	if ((b & 0x1f) == 0x1f) {
		/* Subsequent bytes: bit 8 set means more follow; at most 3 bytes. */
		do {
			if (++n > 2)
				return KW_ERR_FORMAT;
			if ((rv = kw_view_get_u8(v, &b)) != KW_OK)
				return rv;
			t = (t << 8) | b;
		} while (b & 0x80);
	}
	*tag = t;
	return KW_OK;
}

static kw_rv
tlv_get_len(kw_view *v, size_t *len)
{
	uint8_t b, i, n;
	size_t l = 0;
	kw_rv rv;

	*len = 0;
	if ((rv = kw_view_get_u8(v, &b)) != KW_OK)
		return rv;
	if (b < 0x80) {
		*len = b;
		return KW_OK;
	}
	n = b & 0x7f;
	if (n == 0 || n > 3)
		return KW_ERR_FORMAT; /* indefinite or over-long */
	for (i = 0; i < n; i++) {
		if ((rv = kw_view_get_u8(v, &b)) != KW_OK)
			return rv;
		l = (l << 8) | b;
	}
	*len = l;
	return KW_OK;
}

kw_rv
kw_tlv_get(kw_view *v, uint32_t *tag, kw_view *value)
{
	kw_view tmp = *v;
	size_t len;
	kw_rv rv;

	value->ptr = NULL;
	value->len = 0;
	*tag = 0;
	if ((rv = tlv_get_tag(&tmp, tag)) != KW_OK ||
	    (rv = tlv_get_len(&tmp, &len)) != KW_OK ||
	    (rv = kw_view_get_view(&tmp, len, value)) != KW_OK) {
		*tag = 0;
		return rv;
	}
	*v = tmp;
	return KW_OK;
}

kw_rv
kw_tlv_expect(kw_view *v, uint32_t tag, kw_view *value)
{
	kw_view tmp = *v;
	uint32_t t;
	kw_rv rv;

	if ((rv = kw_tlv_get(&tmp, &t, value)) != KW_OK)
		return rv;
	if (t != tag) {
		value->ptr = NULL;
		value->len = 0;
		return KW_ERR_FORMAT;
	}
	*v = tmp;
	return KW_OK;
}

kw_rv
kw_tlv_find(kw_view v, uint32_t tag, kw_view *value)
{
	uint32_t t;
	kw_view val;
	kw_rv rv;

	value->ptr = NULL;
	value->len = 0;
	while (!kw_view_empty(&v)) {
		if ((rv = kw_tlv_get(&v, &t, &val)) != KW_OK)
			return rv;
		if (t == tag) {
			*value = val;
			return KW_OK;
		}
	}
	return KW_ERR_NOT_FOUND;
}

kw_rv
kw_tlv_validate(kw_view v)
{
	uint32_t t;
	kw_view val;
	kw_rv rv;

	while (!kw_view_empty(&v))
		if ((rv = kw_tlv_get(&v, &t, &val)) != KW_OK)
			return rv;
	return KW_OK;
}

static size_t
tag_size(uint32_t tag)
{
	return tag > 0xffff ? 3 : tag > 0xff ? 2 : 1;
}

static size_t
len_size(size_t len)
{
	return len < 0x80 ? 1 : len <= 0xff ? 2 : len <= 0xffff ? 3 : 4;
}

size_t
kw_tlv_header_size(uint32_t tag, size_t len)
{
	return tag_size(tag) + len_size(len);
}

kw_rv
kw_tlv_put_header(kw_buf *b, uint32_t tag, size_t len)
{
	uint8_t h[8];
	size_t n = 0, ts = tag_size(tag), i;

	if (tag > 0xffffff || len > 0xffffff)
		return KW_ERR_RANGE;
	for (i = ts; i > 0; i--)
		h[n++] = (uint8_t)(tag >> (8 * (i - 1)));
	if (len < 0x80) {
		h[n++] = (uint8_t)len;
	} else if (len <= 0xff) {
		h[n++] = 0x81;
		h[n++] = (uint8_t)len;
	} else if (len <= 0xffff) {
		h[n++] = 0x82;
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	} else {
		h[n++] = 0x83;
		h[n++] = (uint8_t)(len >> 16);
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	}
	return kw_buf_put(b, h, n);
}

kw_rv
kw_tlv_put(kw_buf *b, uint32_t tag, const void *value, size_t len)
{
	kw_rv rv;

	if ((rv = kw_tlv_put_header(b, tag, len)) != KW_OK)
		return rv;
	return kw_buf_put(b, value, len);
}
