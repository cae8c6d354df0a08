/* The UICC transport: the key applet on a logical channel (kw_uicc.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kw_config.h"
#include "kw_log.h"
#include "kw_secret.h"
#include "pcsc/kw_pcsc.h"
#include "uicc/kw_uicc.h"

#define UICC_MAX_CHANNEL 19
#define UICC_INS_MANAGE_CHANNEL 0x70

typedef struct uicc_tr {
	kw_transport *inner;
	int channel;        /* 1-19 when open, 0 when lost or closed */
	pid_t pid;          /* the process that opened it */
	struct uicc_tr *next;
} uicc_tr;

/* Open transports of this process. A process that exits without closing
 * them (an application that never calls C_Finalize) would leave its
 * logical channels open on the card, and pcscd does not reset the card
 * behind a dead client: a SIM has few channels (often 3), so they are
 * closed at exit by the destructor below. */
static pthread_mutex_t uicc_lock = PTHREAD_MUTEX_INITIALIZER;
static uicc_tr *uicc_open_list;

static void
uicc_register(uicc_tr *u)
{
	pthread_mutex_lock(&uicc_lock);
	u->pid = getpid();
	u->next = uicc_open_list;
	uicc_open_list = u;
	pthread_mutex_unlock(&uicc_lock);
}

static void
uicc_unregister(uicc_tr *u)
{
	uicc_tr **pp;

	pthread_mutex_lock(&uicc_lock);
	for (pp = &uicc_open_list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	pthread_mutex_unlock(&uicc_lock);
}

int
kw_uicc_cla_channel(uint8_t cla)
{
	if (cla == 0xFF)
		return -1;
	if ((cla & 0x40) != 0)
		return 4 + (cla & 0x0F);
	if ((cla & 0x20) != 0)
		return -1;     /* RFU in the first interindustry form */
	return cla & 0x03;
}

kw_rv
kw_uicc_cla_set_channel(uint8_t cla, int channel, uint8_t *out)
{
	uint8_t prop = cla & 0x80, chain = cla & 0x10, sm;

	*out = 0;
	if (kw_uicc_cla_channel(cla) < 0 || channel < 0 || channel > UICC_MAX_CHANNEL)
		return KW_ERR_ARG;
	if ((cla & 0x40) != 0)
		sm = (cla & 0x20) != 0 ? 2 : 0;
	else
		sm = (cla >> 2) & 0x03;
	if (channel <= 3) {
		*out = (uint8_t)(prop | chain | (uint8_t)(sm << 2) | (uint8_t)channel);
		return KW_OK;
	}
	if (sm != 0 && sm != 2)
		return KW_ERR_NOT_SUPPORTED;
	*out = (uint8_t)(prop | 0x40 | (sm == 2 ? 0x20 : 0) | chain | (uint8_t)(channel - 4));
	return KW_OK;
}

/* MANAGE CHANNEL on the basic channel; returns the card's status word in
 * *sw and the response data (at most 1 byte) in *data. */
static kw_rv
uicc_manage(uicc_tr *u, uint8_t p1, uint8_t p2, bool want_le, uint16_t *sw, int *data)
{
	uint8_t cmd[5] = { 0x00, UICC_INS_MANAGE_CHANNEL, p1, p2, 0x01 };
	uint8_t resp[8];
	size_t len = sizeof(resp);
	kw_rv rv;

	*sw = 0;
	*data = -1;
	kw_log_apdu(">>", cmd, want_le ? 5 : 4, 0, UICC_INS_MANAGE_CHANNEL);
	rv = kw_transport_transmit(u->inner, cmd, want_le ? 5 : 4, resp, &len);
	if (rv != KW_OK)
		return rv;
	if (len < 2 || len > 3) {
		kw_debug("uicc: MANAGE CHANNEL answered %zu bytes", len);
		return KW_ERR_PROTOCOL;
	}
	kw_log_apdu("<<", resp, len, 1, UICC_INS_MANAGE_CHANNEL);
	*sw = (uint16_t)((resp[len - 2] << 8) | resp[len - 1]);
	if ((*sw >> 8) == 0x91 || (*sw >> 8) == 0x92)
		*sw = 0x9000;   /* 91XX / 92XX: see kw_uicc_normalize_sw */
	if (len == 3)
		*data = resp[0];
	return KW_OK;
}

static kw_rv
uicc_open_channel(uicc_tr *u)
{
	uint16_t sw;
	int ch;
	kw_rv rv;

	if ((rv = uicc_manage(u, 0x00, 0x00, true, &sw, &ch)) != KW_OK)
		return rv;
	if (sw != 0x9000) {
		kw_warn("uicc: the card refused to open a logical channel (SW %04X)%s", sw,
		    sw == 0x6A81 ? ": all its logical channels are in use (by other "
		    "applications, or left open by one that was killed; reinsert the card)" : "");
		return sw == 0x6881 || sw == 0x6A81 || sw == 0x6D00 || sw == 0x6E00 ?
		    KW_ERR_NOT_SUPPORTED : kw_sw_to_rv(sw) != KW_OK ? kw_sw_to_rv(sw) : KW_ERR_CARD;
	}
	if (ch < 1 || ch > UICC_MAX_CHANNEL) {
		kw_warn("uicc: MANAGE CHANNEL gave channel %d", ch);
		return KW_ERR_PROTOCOL;
	}
	u->channel = ch;
	kw_debug("uicc: logical channel %d open", ch);
	return KW_OK;
}

static void
uicc_close_channel(uicc_tr *u)
{
	uint16_t sw;
	int data;

	if (u->channel == 0)
		return;
	if (uicc_manage(u, 0x80, (uint8_t)u->channel, false, &sw, &data) != KW_OK ||
	    sw != 0x9000)
		kw_debug("uicc: closing channel %d: SW %04X", u->channel, sw);
	u->channel = 0;
}

/* At exit: close the channels this process still holds (not a forked
 * child's copies of its parent's). Best effort; nothing is freed. */
__attribute__((destructor)) static void
uicc_at_exit(void)
{
	pid_t self = getpid();
	uicc_tr *u;

	if (pthread_mutex_trylock(&uicc_lock) != 0)
		return;
	for (u = uicc_open_list; u != NULL; u = u->next)
		if (u->pid == self && u->channel != 0 && kw_transport_begin(u->inner) == KW_OK) {
			uicc_close_channel(u);
			(void)kw_transport_end(u->inner);
		}
	uicc_open_list = NULL;
	pthread_mutex_unlock(&uicc_lock);
}

static kw_rv
uicc_open(const char *rest, void **ctx)
{
	uicc_tr *u;
	kw_rv rv;

	*ctx = NULL;
	if (strncmp(rest, "uicc:", 5) == 0)
		return KW_ERR_ARG;   /* no UICC inside a UICC */
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return KW_ERR_NOMEM;
	if ((rv = kw_transport_open(rest, &u->inner)) != KW_OK)
		goto fail;
	if ((rv = kw_transport_begin(u->inner)) != KW_OK)
		goto fail;
	rv = uicc_open_channel(u);
	(void)kw_transport_end(u->inner);
	if (rv != KW_OK)
		goto fail;
	uicc_register(u);
	*ctx = u;
	return KW_OK;
fail:
	kw_transport_free(&u->inner);
	free(u);
	return rv;
}

static void
uicc_close(void *ctx)
{
	uicc_tr *u = ctx;

	if (u == NULL)
		return;
	uicc_unregister(u);
	if (u->channel != 0 && kw_transport_begin(u->inner) == KW_OK) {
		uicc_close_channel(u);
		(void)kw_transport_end(u->inner);
	}
	kw_transport_free(&u->inner);
	free(u);
}

/* The channel was lost with a reset or removal: open a new one. */
static kw_rv
uicc_ensure_channel(uicc_tr *u)
{
	return u->channel != 0 ? KW_OK : uicc_open_channel(u);
}

static kw_rv
uicc_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
	uicc_tr *u = ctx;
	uint8_t *copy = NULL;
	const uint8_t *send = cmd;
	kw_rv rv;

	if (cmd_len < 4)
		return KW_ERR_ARG;
	if ((rv = uicc_ensure_channel(u)) != KW_OK)
		return rv;
	if (kw_uicc_cla_channel(cmd[0]) != u->channel) {
		/* Encoded for a channel since lost: move it to the current one. */
		if ((copy = malloc(cmd_len)) == NULL)
			return KW_ERR_NOMEM;
		memcpy(copy, cmd, cmd_len);
		if ((rv = kw_uicc_cla_set_channel(cmd[0], u->channel, &copy[0])) != KW_OK)
			goto done;
		send = copy;
	}
	rv = kw_transport_transmit(u->inner, send, cmd_len, resp, resp_len);
	if (rv == KW_OK)
		kw_uicc_normalize_sw(resp, *resp_len);
	if (rv == KW_ERR_CARD_REMOVED || rv == KW_ERR_CARD_RESET || rv == KW_ERR_NO_CARD)
		u->channel = 0;   /* a reset closes logical channels too */
done:
	if (copy != NULL)
		kw_freezero(copy, cmd_len);   /* may hold a PIN */
	return rv;
}

static kw_rv
uicc_get_atr(void *ctx, uint8_t *atr, size_t *atr_len)
{
	return kw_transport_get_atr(((uicc_tr *)ctx)->inner, atr, atr_len);
}

static kw_rv
uicc_reset(void *ctx)
{
	uicc_tr *u = ctx;
	kw_rv rv;

	u->channel = 0;
	if ((rv = kw_transport_reset(u->inner)) != KW_OK)
		return rv;
	return uicc_open_channel(u);
}

static kw_rv
uicc_begin(void *ctx)
{
	uicc_tr *u = ctx;
	kw_rv rv;

	if ((rv = kw_transport_begin(u->inner)) != KW_OK)
		return rv;
	if ((rv = uicc_ensure_channel(u)) != KW_OK)
		(void)kw_transport_end(u->inner);
	return rv;
}

static kw_rv
uicc_end(void *ctx)
{
	return kw_transport_end(((uicc_tr *)ctx)->inner);
}

static int
uicc_channel(void *ctx)
{
	uicc_tr *u = ctx;

	/* Before a lost channel is reopened, report 1: the command is
	 * re-encoded in transmit once the real number is known. */
	return u->channel != 0 ? u->channel : 1;
}

static kw_rv
uicc_present(void *ctx)
{
	return kw_transport_present(((uicc_tr *)ctx)->inner);
}

static bool
strlist_has(const kw_strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

/* Configured UICC readers that pcscd knows, as "uicc:pcsc:<reader>". */
static kw_rv
uicc_list(kw_strlist *out)
{
	static const char prefix[] = "uicc:pcsc:";
	kw_strlist readers = { NULL, 0 };
	kw_config cfg;
	char *uri;
	size_t i, n;
	kw_rv rv;

	if ((rv = kw_config_load(&cfg)) != KW_OK)
		return rv;
	if (cfg.uicc_readers.n == 0 || (rv = kw_pcsc_list_readers(&readers)) != KW_OK)
		goto done;
	for (i = 0; i < cfg.uicc_readers.n; i++) {
		if (!strlist_has(&readers, cfg.uicc_readers.v[i]))
			continue;
		n = sizeof(prefix) + strlen(cfg.uicc_readers.v[i]);
		if ((uri = malloc(n)) == NULL) {
			rv = KW_ERR_NOMEM;
			break;
		}
		memcpy(uri, prefix, sizeof(prefix) - 1);
		memcpy(uri + sizeof(prefix) - 1, cfg.uicc_readers.v[i], n - sizeof(prefix) + 1);
		rv = kw_strlist_add(out, uri);
		free(uri);
		if (rv != KW_OK)
			break;
	}
done:
	kw_strlist_free(&readers);
	kw_config_free(&cfg);
	return rv;
}

const kw_transport_ops kw_uicc_ops = {
	.scheme = "uicc",
	.flags = 0,
	.list = uicc_list,
	.open = uicc_open,
	.close = uicc_close,
	.transmit = uicc_transmit,
	.get_atr = uicc_get_atr,
	.reset = uicc_reset,
	.begin = uicc_begin,
	.end = uicc_end,
	.channel = uicc_channel,
	.present = uicc_present,
};
