/* PIV data objects: GET DATA (CB) and PUT DATA (DB), SP 800-73-4 part 2
 * sections 3.1.2 and 3.3.2, part 1 table 3 (containers and access rules).
 * Stored objects are returned as 53 { content }; the Discovery Object (7E)
 * and the BIT Group Template (7F61) are whole TLVs of their own tag. */
#include <string.h>

#include "vcard.h"
#include "kw_tlv.h"

/* Discovery Object: PIV AID, PIN usage policy "PIV PIN only" (40 00). */
static const uint8_t discovery[] = {
	0x7E, 0x12, 0x4F, 0x0B, 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10,
	0x00, 0x01, 0x00, 0x5F, 0x2F, 0x02, 0x40, 0x00
};

static bool view_to_tag(kw_view v, uint32_t *tag);

#define TAG_DISCOVERY 0x7E
#define TAG_BIT_GROUP 0x7F61

static bool
tag_valid(uint32_t tag)
{
	if (tag == TAG_DISCOVERY || tag == TAG_BIT_GROUP)
		return true;
	if (tag >= 0x5FC101 && tag <= 0x5FC123)
		return true;
	return tag >= 0x5FFF00 && tag <= 0x5FFF1F;  /* YubiKey objects */
}

/* Fingerprints, facial image, printed information, iris: PIN to read. */
static bool
tag_needs_pin(uint32_t tag)
{
	return tag == 0x5FC103 || tag == 0x5FC108 || tag == 0x5FC109 || tag == 0x5FC121;
}

bool
vc_obj_data_is_protected(kw_view data)
{
	kw_view tv;
	uint32_t tag;

	return kw_tlv_expect(&data, 0x5C, &tv) == KW_OK && view_to_tag(tv, &tag) &&
	    tag_needs_pin(tag);
}

vc_object *
vc_obj_find(vcard_card *c, uint32_t tag)
{
	size_t i;

	for (i = 0; i < VC_MAX_OBJECTS; i++)
		if (c->objects[i].tag == tag)
			return &c->objects[i];
	return NULL;
}

void
vc_obj_delete(vcard_card *c, uint32_t tag)
{
	vc_object *o = vc_obj_find(c, tag);

	if (o != NULL) {
		kw_buf_reset(&o->data);
		o->tag = 0;
	}
}

kw_rv
vc_obj_set(vcard_card *c, uint32_t tag, const uint8_t *p, size_t n)
{
	vc_object *o;
	kw_rv rv;

	if (tag == 0 || n > VC_OBJ_MAX + 16)
		return KW_ERR_RANGE;
	if ((o = vc_obj_find(c, tag)) == NULL && (o = vc_obj_find(c, 0)) == NULL)
		return KW_ERR_RANGE;
	kw_buf_reset(&o->data);
	o->tag = tag;
	if ((rv = kw_buf_put(&o->data, p, n)) != KW_OK)
		o->tag = 0;
	return rv;
}

static bool
view_to_tag(kw_view v, uint32_t *tag)
{
	size_t i;

	*tag = 0;
	if (v.len == 0 || v.len > 3)
		return false;
	for (i = 0; i < v.len; i++)
		*tag = (*tag << 8) | v.ptr[i];
	return true;
}

uint16_t
vc_obj_get_data(vcard_card *c, const vc_cmd *cmd, kw_buf *out)
{
	kw_view v = cmd->data, tv;
	uint32_t tag;
	vc_object *o;

	if (cmd->p1 != 0x3F || cmd->p2 != 0xFF)
		return VC_SW_WRONG_P1P2;
	if (kw_tlv_expect(&v, 0x5C, &tv) != KW_OK || kw_view_expect_end(&v) != KW_OK ||
	    !view_to_tag(tv, &tag) || !tag_valid(tag))
		return VC_SW_WRONG_DATA;
	if (tag == TAG_DISCOVERY)
		return kw_buf_put(out, discovery, sizeof(discovery)) == KW_OK ?
		    VC_SW_OK : VC_SW_NO_PRECISE;
	if (tag_needs_pin(tag) && !c->ses.pin_verified)
		return VC_SW_SECURITY;
	if ((o = vc_obj_find(c, tag)) == NULL)
		return VC_SW_NOT_FOUND;
	if (tag == TAG_BIT_GROUP)
		return kw_buf_put(out, o->data.data, o->data.len) == KW_OK ?
		    VC_SW_OK : VC_SW_NO_PRECISE;
	return kw_tlv_put(out, 0x53, o->data.data, o->data.len) == KW_OK ?
	    VC_SW_OK : VC_SW_NO_PRECISE;
}

static uint16_t
store(vcard_card *c, uint32_t tag, const uint8_t *p, size_t n)
{
	if (n > VC_OBJ_MAX)
		return VC_SW_NO_SPACE;
	if (vc_obj_set(c, tag, p, n) != KW_OK)
		return VC_SW_NO_SPACE;
	c->dirty = true;
	return VC_SW_OK;
}

uint16_t
vc_obj_put_data(vcard_card *c, const vc_cmd *cmd)
{
	kw_view v = cmd->data, content;
	uint32_t tag;

	if (cmd->p1 != 0x3F || cmd->p2 != 0xFF)
		return VC_SW_WRONG_P1P2;
	if (!c->ses.mgmt_authed)
		return VC_SW_SECURITY;
	if (kw_tlv_get(&v, &tag, &content) != KW_OK)
		return VC_SW_WRONG_DATA;
	if (tag == TAG_BIT_GROUP) {
		if (kw_view_expect_end(&v) != KW_OK)
			return VC_SW_WRONG_DATA;
		return store(c, tag, cmd->data.ptr, cmd->data.len);
	}
	if (tag != 0x5C || !view_to_tag(content, &tag) || !tag_valid(tag) ||
	    tag == TAG_DISCOVERY || tag == TAG_BIT_GROUP)
		return VC_SW_WRONG_DATA;
	if (kw_tlv_expect(&v, 0x53, &content) != KW_OK || kw_view_expect_end(&v) != KW_OK)
		return VC_SW_WRONG_DATA;
	if (content.len == 0) {
		vc_obj_delete(c, tag);
		c->dirty = true;
		return VC_SW_OK;
	}
	return store(c, tag, content.ptr, content.len);
}
