/* PIN and PUK: VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER.
 * References are 8 bytes padded with FF; the client accepts 6 to 8 bytes
 * and no FF byte inside (it would be indistinguishable from padding). */
#include <string.h>

#include "kw_piv_int.h"
#include "kw_secret.h"

#define KW_PIV_PIN_MIN 6
#define KW_PIV_PIN_MAX 8

static kw_rv
piv_pad(const uint8_t *pin, size_t len, uint8_t out[KW_PIV_PIN_MAX])
{
	size_t i;

	memset(out, 0xff, KW_PIV_PIN_MAX);
	if (pin == NULL || len < KW_PIV_PIN_MIN || len > KW_PIV_PIN_MAX)
		return KW_ERR_ARG;
	for (i = 0; i < len; i++)
		if (pin[i] == 0xff)
			return KW_ERR_ARG;
	memcpy(out, pin, len);
	return KW_OK;
}

static void
piv_set_tries(int *tries_left, uint16_t sw)
{
	if (tries_left != NULL)
		*tries_left = kw_piv_sw_tries(sw);
}

kw_rv
kw_piv_verify(kw_piv *p, uint8_t ref, const uint8_t *pin, size_t len, int *tries_left)
{
	uint8_t data[KW_PIV_PIN_MAX];
	uint16_t sw = 0;
	kw_rv rv;

	if (tries_left != NULL)
		*tries_left = -1;
	if (ref != KW_PIV_REF_PIN && ref != KW_PIV_REF_GLOBAL_PIN)
		return KW_ERR_ARG;
	if ((rv = piv_pad(pin, len, data)) == KW_OK) {
		rv = kw_piv_cmd(p, KW_PIV_INS_VERIFY, 0x00, ref, data, sizeof(data), NULL, &sw);
		piv_set_tries(tries_left, sw);
		if (rv == KW_OK)
			p->pin_verified = true;
	}
	kw_memzero(data, sizeof(data));
	return rv;
}

kw_rv
kw_piv_pin_status(kw_piv *p, uint8_t ref, int *tries_left)
{
	uint16_t sw = 0;
	kw_rv rv;

	if (tries_left != NULL)
		*tries_left = -1;
	if (ref != KW_PIV_REF_PIN && ref != KW_PIV_REF_GLOBAL_PIN)
		return KW_ERR_ARG;
	rv = kw_piv_cmd(p, KW_PIV_INS_VERIFY, 0x00, ref, NULL, 0, NULL, &sw);
	piv_set_tries(tries_left, sw);
	if (rv == KW_OK)
		p->pin_verified = true;
	return rv;
}

/* Two padded references in one 16-byte data field. */
static kw_rv
piv_two_refs(uint8_t ins, kw_piv *p, uint8_t ref, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen, int *tries_left)
{
	uint8_t data[2 * KW_PIV_PIN_MAX];
	uint16_t sw = 0;
	kw_rv rv;

	if (tries_left != NULL)
		*tries_left = -1;
	if ((rv = piv_pad(a, alen, data)) == KW_OK &&
	    (rv = piv_pad(b, blen, data + KW_PIV_PIN_MAX)) == KW_OK) {
		rv = kw_piv_cmd(p, ins, 0x00, ref, data, sizeof(data), NULL, &sw);
		piv_set_tries(tries_left, sw);
	}
	kw_memzero(data, sizeof(data));
	return rv;
}

kw_rv
kw_piv_change_reference(kw_piv *p, uint8_t ref, const uint8_t *old, size_t old_len,
    const uint8_t *new_, size_t new_len, int *tries_left)
{
	if (ref != KW_PIV_REF_PIN && ref != KW_PIV_REF_PUK && ref != KW_PIV_REF_GLOBAL_PIN) {
		if (tries_left != NULL)
			*tries_left = -1;
		return KW_ERR_ARG;
	}
	return piv_two_refs(KW_PIV_INS_CHANGE_REF, p, ref, old, old_len, new_, new_len,
	    tries_left);
}

kw_rv
kw_piv_unblock_pin(kw_piv *p, const uint8_t *puk, size_t puk_len,
    const uint8_t *new_pin, size_t new_len, int *tries_left)
{
	return piv_two_refs(KW_PIV_INS_RESET_RETRY, p, KW_PIV_REF_PIN, puk, puk_len,
	    new_pin, new_len, tries_left);
}

/* VERIFY with P1 = FF (SP 800-73-4 part 2, 3.2.1): the card resets the
 * PIN's security status; nothing can use PIN-protected keys afterwards. */
kw_rv
kw_piv_logout(kw_piv *p)
{
	return kw_piv_cmd(p, KW_PIV_INS_VERIFY, 0xFF, KW_PIV_REF_PIN, NULL, 0, NULL, NULL);
}
