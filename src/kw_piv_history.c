/* Key History object 5FC10C (SP 800-73-4 part 1, 3.3.2): C1 keys with
 * on-card certificates, C2 keys with off-card certificates, F3 URL of the
 * off-card certificates (present when C2 > 0), FE LRC. */
#include <string.h>

#include "kw_piv_int.h"
#include "kw_tlv.h"

#define KW_PIV_RETIRED_SLOTS 20

enum { SEEN_ON = 1, SEEN_OFF = 2, SEEN_URL = 4, SEEN_LRC = 8 };

static kw_rv
piv_kh_url(kw_view val, kw_piv_key_history *kh)
{
	size_t i;

	if (val.len >= sizeof(kh->url))
		return KW_ERR_FORMAT;
	for (i = 0; i < val.len; i++)
		if (val.ptr[i] < 0x20 || val.ptr[i] > 0x7e)
			return KW_ERR_FORMAT;  /* printable ASCII only */
	memcpy(kh->url, val.ptr, val.len);
	kh->url[val.len] = '\0';
	return KW_OK;
}

static kw_rv
piv_kh_field(uint32_t tag, kw_view val, kw_piv_key_history *kh, unsigned *seen)
{
	unsigned bit;
	uint8_t n;
	kw_rv rv = KW_OK;

	switch (tag) {
	case 0xc1: bit = SEEN_ON; break;
	case 0xc2: bit = SEEN_OFF; break;
	case 0xf3: bit = SEEN_URL; break;
	case 0xfe: bit = SEEN_LRC; break;
	default: return KW_ERR_FORMAT;
	}
	if ((*seen & bit) != 0)
		return KW_ERR_FORMAT;
	*seen |= bit;
	if (tag == 0xc1 || tag == 0xc2) {
		if (val.len != 1)
			return KW_ERR_FORMAT;
		(void)kw_piv_tlv_u8(val, &n);
		if (n > KW_PIV_RETIRED_SLOTS)
			return KW_ERR_FORMAT;
		if (tag == 0xc1)
			kh->on_card_certs = n;
		else
			kh->off_card_certs = n;
	} else if (tag == 0xf3) {
		rv = piv_kh_url(val, kh);
	}
	return rv;
}

kw_rv
kw_piv_key_history_parse(kw_view v, kw_piv_key_history *kh)
{
	unsigned seen = 0;
	uint32_t tag;
	kw_view val;
	kw_rv rv;

	if (kh == NULL)
		return KW_ERR_ARG;
	memset(kh, 0, sizeof(*kh));
	while (!kw_view_empty(&v)) {
		if ((rv = kw_tlv_get(&v, &tag, &val)) != KW_OK ||
		    (rv = piv_kh_field(tag, val, kh, &seen)) != KW_OK)
			goto fail;
	}
	rv = KW_ERR_FORMAT;
	if ((seen & (SEEN_ON | SEEN_OFF)) != (SEEN_ON | SEEN_OFF) ||
	    kh->on_card_certs + kh->off_card_certs > KW_PIV_RETIRED_SLOTS)
		goto fail;
	return KW_OK;
fail:
	memset(kh, 0, sizeof(*kh));
	return rv;
}

kw_rv
kw_piv_read_key_history(kw_piv *p, kw_piv_key_history *kh)
{
	kw_buf obj;
	kw_rv rv;

	if (kh == NULL)
		return KW_ERR_ARG;
	memset(kh, 0, sizeof(*kh));
	kw_buf_init(&obj, KW_MAX_RESPONSE);
	if ((rv = kw_piv_get_data(p, KW_PIV_OBJ_KEY_HISTORY, &obj)) == KW_OK) {
		if (obj.len == 0)
			rv = KW_ERR_NOT_FOUND;
		else
			rv = kw_piv_key_history_parse(kw_buf_view(&obj), kh);
	}
	kw_buf_free(&obj);
	return rv;
}

kw_rv
kw_piv_write_key_history(kw_piv *p, const kw_piv_key_history *kh)
{
	uint8_t on, off;
	size_t url_len;
	kw_buf obj;
	kw_rv rv;

	if (kh == NULL || kh->on_card_certs < 0 || kh->off_card_certs < 0 ||
	    kh->on_card_certs + kh->off_card_certs > KW_PIV_RETIRED_SLOTS)
		return KW_ERR_ARG;
	url_len = strnlen(kh->url, sizeof(kh->url));
	if (url_len == sizeof(kh->url) || (kh->off_card_certs > 0) != (url_len > 0))
		return KW_ERR_ARG;
	on = (uint8_t)kh->on_card_certs;
	off = (uint8_t)kh->off_card_certs;
	kw_buf_init(&obj, 512);
	if ((rv = kw_tlv_put(&obj, 0xc1, &on, 1)) != KW_OK ||
	    (rv = kw_tlv_put(&obj, 0xc2, &off, 1)) != KW_OK ||
	    (url_len > 0 && (rv = kw_tlv_put(&obj, 0xf3, kh->url, url_len)) != KW_OK) ||
	    (rv = kw_tlv_put(&obj, 0xfe, NULL, 0)) != KW_OK)
		goto fail;
	rv = kw_piv_put_data(p, KW_PIV_OBJ_KEY_HISTORY, obj.data, obj.len);
fail:
	kw_buf_free(&obj);
	return rv;
}
