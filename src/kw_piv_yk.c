/* YubiKey PIV extensions for the card as a whole: GET VERSION (FD),
 * GET SERIAL (F8), SET MANAGEMENT KEY (FF), SET RETRIES (FA), RESET (FB). */
#include <string.h>

#include "kw_piv_int.h"
#include "kw_secret.h"
#include "kw_tlv.h"

/* A response of exactly n bytes. */
static kw_rv
piv_fixed(kw_piv *p, uint8_t ins, uint8_t *out, size_t n)
{
	kw_buf r;
	kw_view v;
	kw_rv rv;

	memset(out, 0, n);
	kw_buf_init(&r, KW_MAX_RESPONSE);
	if ((rv = kw_piv_cmd(p, ins, 0x00, 0x00, NULL, 0, &r, NULL)) != KW_OK)
		goto fail;
	v = kw_buf_view(&r);
	if ((rv = kw_view_get_bytes(&v, out, n)) != KW_OK ||
	    (rv = kw_view_expect_end(&v)) != KW_OK)
		memset(out, 0, n);
fail:
	kw_buf_free(&r);
	return rv;
}

kw_rv
kw_piv_get_version(kw_piv *p, uint8_t version[3])
{
	if (version == NULL)
		return KW_ERR_ARG;
	return piv_fixed(p, KW_PIV_INS_YK_VERSION, version, 3);
}

kw_rv
kw_piv_get_serial(kw_piv *p, uint32_t *serial)
{
	uint8_t b[4];
	kw_rv rv;

	if (serial == NULL)
		return KW_ERR_ARG;
	*serial = 0;
	if ((rv = piv_fixed(p, KW_PIV_INS_YK_SERIAL, b, sizeof(b))) == KW_OK)
		*serial = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
		    ((uint32_t)b[2] << 8) | b[3];
	return rv;
}

kw_rv
kw_piv_set_mgmt_key(kw_piv *p, uint8_t alg, const uint8_t *key, size_t len,
    bool require_touch)
{
	uint8_t data[3 + 32];
	kw_rv rv;

	if (key == NULL || kw_piv_mgmt_key_len(alg) == 0 || len != kw_piv_mgmt_key_len(alg))
		return KW_ERR_ARG;
	data[0] = alg;
	data[1] = KW_PIV_SLOT_MGMT;
	data[2] = (uint8_t)len;
	memcpy(data + 3, key, len);
	rv = kw_piv_cmd(p, KW_PIV_INS_YK_SET_MGMT, 0xff, require_touch ? 0xfe : 0xff,
	    data, 3 + len, NULL, NULL);
	kw_memzero(data, sizeof(data));
	return rv;
}

kw_rv
kw_piv_set_retries(kw_piv *p, uint8_t pin_tries, uint8_t puk_tries)
{
	if (pin_tries == 0 || puk_tries == 0)
		return KW_ERR_ARG;
	return kw_piv_cmd(p, KW_PIV_INS_YK_SET_RETRIES, pin_tries, puk_tries, NULL, 0, NULL,
	    NULL);
}

kw_rv
kw_piv_reset(kw_piv *p)
{
	return kw_piv_cmd(p, KW_PIV_INS_YK_RESET, 0x00, 0x00, NULL, 0, NULL, NULL);
}
