/* PIN and PUK: VERIFY (20), CHANGE REFERENCE DATA (24), RESET RETRY
 * COUNTER (2C) per SP 800-73-4 part 2 sections 3.2.1-3.2.3, and the
 * YubiKey SET PIN RETRIES (FA). Reference data is 8 bytes, FF padded,
 * 6 to 8 characters long. */
#include <string.h>

#include "vcard.h"
#include "kw_secret.h"

void
vc_pin_set_default(vc_pin *p, const char *value, uint8_t tries)
{
	size_t n = strlen(value);

	memset(p->value, 0xFF, sizeof(p->value));
	memcpy(p->value, value, n > VC_PIN_MAXLEN ? VC_PIN_MAXLEN : n);
	p->tries = tries;
	p->max = tries;
}

bool
vc_pin_is_default(const vc_pin *p, const char *value)
{
	vc_pin d;
	bool eq;

	vc_pin_set_default(&d, value, 1);
	eq = kw_timingsafe_eq(d.value, p->value, sizeof(d.value));
	kw_memzero(&d, sizeof(d));
	return eq;
}

/* 6 to 8 characters then FF padding only. */
static bool
pin_format_ok(const uint8_t *v)
{
	size_t i, n = VC_PIN_MAXLEN;

	for (i = 0; i < VC_PIN_MAXLEN; i++) {
		if (v[i] == 0xFF) {
			n = i;
			break;
		}
	}
	for (i = n; i < VC_PIN_MAXLEN; i++)
		if (v[i] != 0xFF)
			return false;
	return n >= 6;
}

static uint16_t
tries_sw(const vc_pin *p)
{
	return (uint16_t)(0x63C0 | (p->tries > 15 ? 15 : p->tries));
}

/* Compare against p, counting a failure. Returns 9000, 63Cx or 6983. */
static uint16_t
check_ref(vcard_card *c, vc_pin *p, const uint8_t *value)
{
	if (p->tries == 0)
		return VC_SW_BLOCKED;
	if (kw_timingsafe_eq(p->value, value, VC_PIN_MAXLEN)) {
		if (p->tries != p->max)
			c->dirty = true;
		p->tries = p->max;
		return VC_SW_OK;
	}
	p->tries--;
	c->dirty = true;
	return tries_sw(p);
}

static vc_pin *
ref_for(vcard_card *c, uint8_t p2)
{
	if (p2 == VC_KEYREF_PIN)
		return &c->pin;
	if (p2 == VC_KEYREF_PUK)
		return &c->puk;
	return NULL;
}

uint16_t
vc_pin_verify(vcard_card *c, const vc_cmd *cmd)
{
	vc_pin *p;
	uint16_t sw;

	if (cmd->p1 == 0xFF && cmd->data.len == 0) {
		if (ref_for(c, cmd->p2) == NULL)
			return VC_SW_REF_NOT_FOUND;
		if (cmd->p2 == VC_KEYREF_PIN) {
			c->ses.pin_verified = false;
			c->ses.pin_fresh = false;
		}
		return VC_SW_OK;
	}
	if (cmd->p1 != 0x00)
		return VC_SW_WRONG_P1P2;
	if ((p = ref_for(c, cmd->p2)) == NULL)
		return VC_SW_REF_NOT_FOUND;
	if (cmd->data.len == 0) {
		if (p->tries == 0)
			return VC_SW_BLOCKED;
		if (p == &c->pin && c->ses.pin_verified)
			return VC_SW_OK;
		return tries_sw(p);
	}
	if (cmd->data.len != VC_PIN_MAXLEN)
		return VC_SW_WRONG_DATA;
	sw = check_ref(c, p, cmd->data.ptr);
	if (p == &c->pin) {
		c->ses.pin_verified = sw == VC_SW_OK;
		c->ses.pin_fresh = sw == VC_SW_OK;
	}
	return sw;
}

uint16_t
vc_pin_change(vcard_card *c, const vc_cmd *cmd)
{
	vc_pin *p;
	uint16_t sw;

	if (cmd->p1 != 0x00)
		return VC_SW_WRONG_P1P2;
	if ((p = ref_for(c, cmd->p2)) == NULL)
		return VC_SW_REF_NOT_FOUND;
	if (cmd->data.len != 2 * VC_PIN_MAXLEN)
		return VC_SW_WRONG_DATA;
	if (p->tries == 0)
		return VC_SW_BLOCKED;
	if (!pin_format_ok(cmd->data.ptr + VC_PIN_MAXLEN))
		return VC_SW_WRONG_DATA;
	sw = check_ref(c, p, cmd->data.ptr);
	if (sw != VC_SW_OK) {
		if (p == &c->pin)
			c->ses.pin_verified = c->ses.pin_fresh = false;
		return sw;
	}
	memcpy(p->value, cmd->data.ptr + VC_PIN_MAXLEN, VC_PIN_MAXLEN);
	c->dirty = true;
	return VC_SW_OK;
}

uint16_t
vc_pin_reset_retry(vcard_card *c, const vc_cmd *cmd)
{
	uint16_t sw;

	if (cmd->p1 != 0x00)
		return VC_SW_WRONG_P1P2;
	if (cmd->p2 != VC_KEYREF_PIN)
		return VC_SW_REF_NOT_FOUND;
	if (cmd->data.len != 2 * VC_PIN_MAXLEN)
		return VC_SW_WRONG_DATA;
	if (c->puk.tries == 0)
		return VC_SW_BLOCKED;
	if (!pin_format_ok(cmd->data.ptr + VC_PIN_MAXLEN))
		return VC_SW_WRONG_DATA;
	sw = check_ref(c, &c->puk, cmd->data.ptr);
	if (sw != VC_SW_OK)
		return sw;
	memcpy(c->pin.value, cmd->data.ptr + VC_PIN_MAXLEN, VC_PIN_MAXLEN);
	c->pin.tries = c->pin.max;
	c->ses.pin_verified = c->ses.pin_fresh = false;
	c->dirty = true;
	return VC_SW_OK;
}

/* YubiKey FA: P1 = PIN tries, P2 = PUK tries; needs the management key
 * and the PIN; PIN and PUK go back to their defaults. */
uint16_t
vc_pin_set_retries(vcard_card *c, const vc_cmd *cmd)
{
	if (!c->ses.mgmt_authed || !c->ses.pin_verified)
		return VC_SW_SECURITY;
	if (cmd->p1 == 0 || cmd->p2 == 0)
		return VC_SW_WRONG_P1P2;
	vc_pin_set_default(&c->pin, VC_DEFAULT_PIN, cmd->p1);
	vc_pin_set_default(&c->puk, VC_DEFAULT_PUK, cmd->p2);
	c->ses.pin_verified = c->ses.pin_fresh = false;
	c->dirty = true;
	return VC_SW_OK;
}
