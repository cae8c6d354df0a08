/* The APDU layer: encoding (short/extended), command chaining, 61xx GET
 * RESPONSE, 6Cxx re-send and logical-channel class bytes (ISO 7816-4).
 *
 * Policy: data longer than 255 bytes is sent with command chaining (CLA bit
 * 0x10) in short APDUs, which every PIV card accepts. Extended APDUs are used
 * only when the transport declares KW_TRANSPORT_EXTENDED and the caller asks
 * for more than 256 response bytes (le > 256) or sets KW_APDU_F_EXTENDED.
 * Responses are collected up to KW_APDU_MAX_RESP bytes of data per logical
 * command. */
#include <stdlib.h>
#include <string.h>

#include "kw_apdu.h"
#include "kw_log.h"
#include "kw_secret.h"

#define KW_APDU_MAX_RESP (64u * 1024u)   /* response data per command */
#define KW_APDU_MAX_DATA 65535u          /* command data per command */
#define KW_APDU_MAX_ROUNDS 1024u         /* GET RESPONSE rounds */
#define KW_APDU_SHORT_DATA 255u
#define KW_APDU_CHAIN 0x10
#define KW_APDU_INS_GET_RESPONSE 0xc0

/* One physical command: header + optional data + optional Le. */
typedef struct apdu_part {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t data_len;
	size_t le;
	bool ext;
} apdu_part;

/* State of one logical exchange. */
typedef struct apdu_ctx {
	kw_transport *t;
	uint8_t *rx;          /* receive buffer, KW_MAX_RESPONSE bytes, wiped */
	size_t rx_len;
	size_t rx_dirty;      /* bytes of rx a transport may have written */
	uint8_t log_ins;      /* INS the response bytes belong to (redaction) */
	bool secret;          /* KW_APDU_F_SECRET: redact whatever the INS */
	size_t collected;     /* response data appended so far */
} apdu_ctx;

kw_rv
kw_apdu_cla_for_channel(uint8_t cla, int channel, uint8_t *out)
{
	uint8_t prop = cla & 0x80, sm = (cla >> 2) & 0x03;

	*out = 0;
	/* The input must be in the first interindustry form, channel 0. */
	if ((cla & 0x60) != 0 || (cla & 0x03) != 0 || channel < 0 || channel > 19)
		return KW_ERR_ARG;
	if (channel <= 3) {
		*out = (uint8_t)(cla | (uint8_t)channel);
		return KW_OK;
	}
	/* Further interindustry: one SM bit (ISO SM without header auth). */
	if (sm != 0 && sm != 2)
		return KW_ERR_NOT_SUPPORTED;
	*out = (uint8_t)(prop | 0x40 | (sm == 2 ? 0x20 : 0) | (cla & KW_APDU_CHAIN) |
	    (uint8_t)(channel - 4));
	if (*out == 0xFF) {
		/* ISO 7816-4 reserves CLA FF (PPS): proprietary + SM + chaining
		 * cannot be expressed on channel 19. */
		*out = 0;
		return KW_ERR_NOT_SUPPORTED;
	}
	return KW_OK;
}

static kw_rv
apdu_encode(const apdu_part *a, kw_buf *cmd)
{
	uint8_t hdr[4] = { a->cla, a->ins, a->p1, a->p2 };
	kw_rv rv;

	kw_buf_reset(cmd);
	if ((rv = kw_buf_put(cmd, hdr, sizeof(hdr))) != KW_OK)
		return rv;
	if (a->data_len > 0) {
		if (a->ext)
			rv = kw_buf_put_u8(cmd, 0);
		if (rv == KW_OK)
			rv = a->ext ? kw_buf_put_u16be(cmd, (uint16_t)a->data_len) :
			    kw_buf_put_u8(cmd, (uint8_t)a->data_len);
		if (rv == KW_OK)
			rv = kw_buf_put(cmd, a->data, a->data_len);
		if (rv != KW_OK)
			return rv;
	}
	if (a->le == 0)
		return KW_OK;
	if (!a->ext)
		return kw_buf_put_u8(cmd, (uint8_t)(a->le & 0xff));
	/* Extended Le: after Lc two bytes, without data three (00 + two). */
	if (a->data_len == 0 && (rv = kw_buf_put_u8(cmd, 0)) != KW_OK)
		return rv;
	return kw_buf_put_u16be(cmd, (uint16_t)(a->le & 0xffff));
}

/* Log through kw_log_apdu (redaction by INS), or as lengths only when the
 * caller marked the exchange secret. Commands have >= 4 bytes, responses
 * >= 2 when logged. */
static void
apdu_log(const apdu_ctx *c, const char *dir, const uint8_t *p, size_t len, int is_resp,
    uint8_t ins)
{
	if (!c->secret) {
		kw_log_apdu(dir, p, len, is_resp, ins);
		return;
	}
	if (kw_log_get_level() < KW_LOG_TRACE)
		return;
	if (is_resp)
		kw_log(KW_LOG_TRACE, "%s [%zu bytes redacted] %02X%02X", dir, len - 2,
		    p[len - 2], p[len - 1]);
	else
		kw_log(KW_LOG_TRACE, "%s %02X%02X%02X%02X [%zu bytes redacted]", dir, p[0], p[1],
		    p[2], p[3], len - 4);
}

/* Send one encoded command; on return ctx->rx holds the response and *sw
 * its status word. */
static kw_rv
apdu_send_raw(apdu_ctx *c, const apdu_part *a, uint16_t *sw)
{
	kw_buf cmd;
	kw_rv rv;

	*sw = 0;
	kw_buf_init(&cmd, KW_APDU_MAX_DATA + 16);
	if ((rv = apdu_encode(a, &cmd)) != KW_OK)
		goto fail;
	apdu_log(c, ">>", cmd.data, cmd.len, 0, a->ins);
	kw_memzero(c->rx, c->rx_len);
	c->rx_len = KW_MAX_RESPONSE;
	rv = kw_transport_transmit(c->t, cmd.data, cmd.len, c->rx, &c->rx_len);
	if (rv != KW_OK || c->rx_len > KW_MAX_RESPONSE)
		c->rx_dirty = KW_MAX_RESPONSE;
	else if (c->rx_len > c->rx_dirty)
		c->rx_dirty = c->rx_len;
	if (rv != KW_OK) {
		c->rx_len = 0;
		goto fail;
	}
	if (c->rx_len < 2 || c->rx_len > KW_MAX_RESPONSE) {
		kw_debug("apdu: response of %zu bytes", c->rx_len);
		c->rx_len = 0;
		rv = KW_ERR_PROTOCOL;
		goto fail;
	}
	apdu_log(c, "<<", c->rx, c->rx_len, 1, c->log_ins);
	*sw = (uint16_t)((c->rx[c->rx_len - 2] << 8) | c->rx[c->rx_len - 1]);
fail:
	kw_buf_free(&cmd);
	return rv;
}

/* Send one command; on 6Cxx re-send it once with Le = xx. */
static kw_rv
apdu_send(apdu_ctx *c, const apdu_part *a, uint16_t *sw)
{
	apdu_part again;
	kw_rv rv;

	if ((rv = apdu_send_raw(c, a, sw)) != KW_OK || (*sw & 0xff00) != 0x6c00)
		return rv;
	again = *a;
	again.le = (*sw & 0xff) != 0 ? (*sw & 0xff) : 256;
	return apdu_send_raw(c, &again, sw);
}

/* Append the data of the response in ctx->rx (without SW) to resp. */
static kw_rv
apdu_collect(apdu_ctx *c, kw_buf *resp)
{
	size_t n = c->rx_len - 2;

	if (n > KW_APDU_MAX_RESP - c->collected)
		return KW_ERR_RANGE;
	c->collected += n;
	return kw_buf_put(resp, c->rx, n);
}

/* Send the last (or only) part, then GET RESPONSE while the card says 61xx. */
static kw_rv
apdu_final(apdu_ctx *c, const apdu_part *a, uint8_t cla, kw_buf *resp, uint16_t *sw)
{
	apdu_part gr = { cla, KW_APDU_INS_GET_RESPONSE, 0, 0, NULL, 0, 0, false };
	unsigned rounds = 0;
	kw_rv rv;

	if ((rv = apdu_send(c, a, sw)) != KW_OK || (rv = apdu_collect(c, resp)) != KW_OK)
		return rv;
	while ((*sw & 0xff00) == 0x6100) {
		if (++rounds > KW_APDU_MAX_ROUNDS)
			return KW_ERR_PROTOCOL;
		gr.le = (*sw & 0xff) != 0 ? (*sw & 0xff) : 256;
		if ((rv = apdu_send(c, &gr, sw)) != KW_OK || (rv = apdu_collect(c, resp)) != KW_OK)
			return rv;
	}
	return KW_OK;
}

static kw_rv
apdu_check(const kw_transport *t, const kw_apdu *a, const kw_buf *resp, const uint16_t *sw)
{
	if (t == NULL || a == NULL || resp == NULL || sw == NULL)
		return KW_ERR_ARG;
	if ((a->data_len > 0 && a->data == NULL) || a->le > 65536)
		return KW_ERR_ARG;
	if (a->data_len > KW_APDU_MAX_DATA)
		return KW_ERR_RANGE;
	return KW_OK;
}

/* Send all parts of a (chained when needed) and collect the response. */
static kw_rv
apdu_run(apdu_ctx *c, const kw_apdu *a, uint8_t cla, kw_buf *resp, uint16_t *sw)
{
	bool ext = (a->le > 256 || (a->flags & KW_APDU_F_EXTENDED) != 0) &&
	    kw_transport_has_flag(c->t, KW_TRANSPORT_EXTENDED);
	apdu_part part = { cla, a->ins, a->p1, a->p2, a->data, a->data_len, 0, ext };
	size_t off = 0;
	kw_rv rv;

	if (!ext) {
		/* Chain while more than one short APDU's worth remains. */
		while (a->data_len - off > KW_APDU_SHORT_DATA) {
			part.cla = cla | KW_APDU_CHAIN;
			part.data = a->data + off;
			part.data_len = KW_APDU_SHORT_DATA;
			if ((rv = apdu_send_raw(c, &part, sw)) != KW_OK)
				return rv;
			if (*sw != 0x9000)
				return KW_OK;  /* the card refused a link: its SW is final */
			off += KW_APDU_SHORT_DATA;
		}
		part.cla = cla;
		part.data = a->data_len > 0 ? a->data + off : NULL;
		part.data_len = a->data_len - off;
	}
	part.le = ext ? a->le : (a->le > 256 ? 256 : a->le);
	return apdu_final(c, &part, cla, resp, sw);
}

kw_rv
kw_apdu_transmit(kw_transport *t, const kw_apdu *a, kw_buf *resp, uint16_t *sw)
{
	apdu_ctx c;
	uint8_t cla;
	kw_rv rv;

	if (sw != NULL)
		*sw = 0;
	if ((rv = apdu_check(t, a, resp, sw)) != KW_OK)
		return rv;
	if ((rv = kw_apdu_cla_for_channel(a->cla, kw_transport_channel(t), &cla)) != KW_OK)
		return rv;
	memset(&c, 0, sizeof(c));
	c.t = t;
	c.log_ins = a->ins;
	c.secret = (a->flags & KW_APDU_F_SECRET) != 0;
	if ((c.rx = malloc(KW_MAX_RESPONSE)) == NULL)
		return KW_ERR_NOMEM;
	/* Chain links and GET RESPONSE rounds must not interleave with another
	 * process's APDUs: one (nested) transaction around the command. */
	if ((rv = kw_transport_begin(t)) == KW_OK) {
		rv = apdu_run(&c, a, cla, resp, sw);
		(void)kw_transport_end(t);
	}
	kw_freezero(c.rx, c.rx_dirty);   /* only what was written: no 64 KiB wipe */
	if (rv != KW_OK)
		*sw = 0;
	return rv;
}

kw_rv
kw_apdu_exchange(kw_transport *t, const kw_apdu *a, kw_buf *resp, uint16_t *sw)
{
	kw_rv rv;

	if ((rv = kw_apdu_transmit(t, a, resp, sw)) != KW_OK)
		return rv;
	return kw_sw_to_rv(*sw);
}
