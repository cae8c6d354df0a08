/* The YubiKey convention for a PIN-protected management key, as the Yubico
 * tools use it, so tokens keyward initializes stay usable with them:
 *   5FFF00 admin data:      80 { 81 flags (01 PUK blocked, 02 management key
 *                           stored), 82 salt (legacy), 83 PIN timestamp }
 *   5FC109 protected data:  88 { 89 management key }   (read needs the PIN) */
#include <string.h>

#include "kw_log.h"
#include "kw_piv_int.h"
#include "kw_secret.h"
#include "kw_tlv.h"

kw_rv
kw_piv_admin_parse(kw_view v, kw_piv_admin *a)
{
	kw_view tmpl, val;
	uint32_t tag;
	kw_rv rv;

	if (a == NULL)
		return KW_ERR_ARG;
	memset(a, 0, sizeof(*a));
	if ((rv = kw_tlv_expect(&v, 0x80, &tmpl)) != KW_OK ||
	    (rv = kw_view_expect_end(&v)) != KW_OK)
		goto fail;
	while (!kw_view_empty(&tmpl)) {
		if ((rv = kw_tlv_get(&tmpl, &tag, &val)) != KW_OK)
			goto fail;
		rv = KW_ERR_FORMAT;
		if (tag == 0x81 && (val.len != 1 || kw_piv_tlv_u8(val, &a->flags) != KW_OK))
			goto fail;
		if (tag == 0x82)
			a->has_salt = true;
		if (tag == 0x83) {
			if (val.len != 4)
				goto fail;
			a->pin_timestamp = ((uint32_t)val.ptr[0] << 24) |
			    ((uint32_t)val.ptr[1] << 16) | ((uint32_t)val.ptr[2] << 8) | val.ptr[3];
		}
	}
	return KW_OK;
fail:
	memset(a, 0, sizeof(*a));
	return rv;
}

kw_rv
kw_piv_read_admin(kw_piv *p, kw_piv_admin *a)
{
	kw_buf obj;
	kw_rv rv;

	if (a == NULL)
		return KW_ERR_ARG;
	memset(a, 0, sizeof(*a));
	kw_buf_init(&obj, KW_MAX_RESPONSE);
	if ((rv = kw_piv_get_data(p, KW_PIV_OBJ_YK_ADMIN, &obj)) == KW_OK)
		rv = obj.len == 0 ? KW_ERR_NOT_FOUND : kw_piv_admin_parse(kw_buf_view(&obj), a);
	kw_buf_free(&obj);
	return rv;
}

/* Rebuild the admin object with new flags, keeping the fields we do not
 * own (salt, timestamp, future tags) as they were. */
static kw_rv
piv_admin_rebuild(kw_view old, uint8_t flags, kw_buf *out)
{
	kw_view tmpl = { NULL, 0 }, val;
	kw_buf inner;
	uint32_t tag;
	kw_rv rv;

	kw_buf_init(&inner, 1024);
	if (old.len > 0 && ((rv = kw_tlv_expect(&old, 0x80, &tmpl)) != KW_OK ||
	    (rv = kw_view_expect_end(&old)) != KW_OK))
		goto fail;
	if ((rv = kw_tlv_put(&inner, 0x81, &flags, 1)) != KW_OK)
		goto fail;
	while (!kw_view_empty(&tmpl)) {
		if ((rv = kw_tlv_get(&tmpl, &tag, &val)) != KW_OK)
			goto fail;
		if (tag != 0x81 && (rv = kw_tlv_put(&inner, tag, val.ptr, val.len)) != KW_OK)
			goto fail;
	}
	rv = kw_tlv_put(out, 0x80, inner.data, inner.len);
fail:
	kw_buf_free(&inner);
	return rv;
}

static kw_rv
piv_admin_set_flag(kw_piv *p, uint8_t flag, bool on)
{
	kw_piv_admin a;
	kw_buf old, obj;
	kw_rv rv;

	memset(&a, 0, sizeof(a));
	kw_buf_init(&old, KW_MAX_RESPONSE);
	kw_buf_init(&obj, 1024);
	rv = kw_piv_get_data(p, KW_PIV_OBJ_YK_ADMIN, &old);
	if (rv == KW_ERR_NOT_FOUND) {
		kw_buf_reset(&old);
		rv = KW_OK;
	}
	if (rv != KW_OK)
		goto fail;
	if (old.len > 0 && (rv = kw_piv_admin_parse(kw_buf_view(&old), &a)) != KW_OK) {
		kw_warn("piv: admin data unreadable (%s): rewriting it", kw_strerror(rv));
		kw_buf_reset(&old);
		a.flags = 0;
	} else if (old.len == 0) {
		a.flags = 0;
	}
	a.flags = on ? (uint8_t)(a.flags | flag) : (uint8_t)(a.flags & ~flag);
	if ((rv = piv_admin_rebuild(kw_buf_view(&old), a.flags, &obj)) != KW_OK)
		goto fail;
	rv = kw_piv_put_data(p, KW_PIV_OBJ_YK_ADMIN, obj.data, obj.len);
fail:
	kw_buf_free(&old);
	kw_buf_free(&obj);
	return rv;
}

kw_rv
kw_piv_protected_mgmt_key_parse(kw_view v, kw_secret *key)
{
	kw_view tmpl, k;
	kw_rv rv;

	if (key == NULL)
		return KW_ERR_ARG;
	kw_secret_free(key);   /* outputs are cleared first (wiped if held) */
	if ((rv = kw_tlv_expect(&v, 0x88, &tmpl)) != KW_OK ||
	    (rv = kw_view_expect_end(&v)) != KW_OK)
		return rv;
	if ((rv = kw_tlv_find(tmpl, 0x89, &k)) != KW_OK)
		return rv == KW_ERR_NOT_FOUND ? KW_ERR_FORMAT : rv;
	if (k.len != 16 && k.len != 24 && k.len != 32)
		return KW_ERR_FORMAT;
	return kw_secret_set(key, k.ptr, k.len);
}

kw_rv
kw_piv_read_protected_mgmt_key(kw_piv *p, kw_secret *key)
{
	kw_buf obj;
	kw_rv rv;

	if (key == NULL)
		return KW_ERR_ARG;
	kw_secret_free(key);
	kw_buf_init(&obj, KW_MAX_RESPONSE);
	if ((rv = kw_piv_get_data(p, KW_PIV_OBJ_YK_PRINTED, &obj)) == KW_OK)
		rv = obj.len == 0 ? KW_ERR_NOT_FOUND :
		    kw_piv_protected_mgmt_key_parse(kw_buf_view(&obj), key);
	kw_buf_free(&obj);
	return rv;
}

kw_rv
kw_piv_write_protected_mgmt_key(kw_piv *p, const uint8_t *key, size_t len)
{
	kw_buf obj;
	kw_rv rv;

	if ((key == NULL) != (len == 0) || (len != 0 && len != 16 && len != 24 && len != 32))
		return KW_ERR_ARG;
	if (p == NULL)
		return KW_ERR_ARG;
	kw_buf_init(&obj, 128);
	if (len > 0 && ((rv = kw_tlv_put_header(&obj, 0x88, 2 + len)) != KW_OK ||
	    (rv = kw_tlv_put(&obj, 0x89, key, len)) != KW_OK))
		goto fail;
	/* Object and flag, and the read-modify-write of the admin data, in
	 * one transaction. */
	if ((rv = kw_transport_begin(p->t)) != KW_OK)
		goto fail;
	if ((rv = kw_piv_put_data(p, KW_PIV_OBJ_YK_PRINTED, obj.data, obj.len)) == KW_OK)
		rv = piv_admin_set_flag(p, KW_PIV_ADMIN_MGMT_PROTECTED, len > 0);
	(void)kw_transport_end(p->t);
fail:
	kw_buf_free(&obj);
	return rv;
}
