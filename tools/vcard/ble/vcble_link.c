/* The link of the BLE virtual token: client frames from the control point
 * are reassembled, MSG payloads go to the applet, answers go back as status
 * notifications (fragmented at the control-point length), KEEPALIVE while
 * busy; PING echoes, CANCEL drops the exchange; faults are applied here. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "kw_log.h"
#include "kw_secret.h"
#include "vcble_int.h"

#define KA_PROCESSING 0x01

/* One packet on the acquired notify socket. BlueZ drops a notification
 * its client does not take; the emulation waits a little instead (no
 * radio paces it here). */
static void
notify_sock(vcble_dev *d, const uint8_t *p, size_t n)
{
	struct pollfd pfd = { .fd = d->notify_fd, .events = POLLOUT };
	ssize_t r;

	for (;;) {
		r = send(d->notify_fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r == (ssize_t)n)
			return;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN && poll(&pfd, 1, 2000) > 0)
			continue;
		kw_warn("vcard-ble: notification on the acquired socket lost: %s",
		    r < 0 ? strerror(errno) : "short write");
		return;
	}
}

/* One notification: on the acquired socket, or the status Value changes
 * (PropertiesChanged, seen by everyone on the bus). */
static void
notify(vcble_dev *d, const uint8_t *p, size_t n)
{
	int r;

	if (!d->connected || !vcble_dev_notifying(d))
		return;
	d->notifs_since_fault++;
	if (d->faults.drop_notify != 0 && d->notifs_since_fault == d->faults.drop_notify) {
		kw_info("vcard-ble: fault: dropping notification %u", d->notifs_since_fault);
		d->faults.drop_notify = 0;
		return;
	}
	if (d->notify_fd >= 0) {
		notify_sock(d, p, n);
	} else {
		memcpy(d->value, p, n);
		d->value_len = n;
		r = sd_bus_emit_properties_changed(d->bus, d->st_path,
		    "org.bluez.GattCharacteristic1", "Value", NULL);
		if (r < 0)
			kw_warn("vcard-ble: notification failed: %s", strerror(-r));
	}
	d->frames_out++;
	d->bytes_out += n;
}

/* Fragment one message into notifications. */
static void
send_msg(vcble_dev *d, uint8_t cmd, const uint8_t *p, size_t n)
{
	uint8_t f[VCBLE_FRAME_MAX];
	size_t cpl = vcble_dev_cpl(d), off = 0, take;
	uint8_t seq = 0;

	if (n > VCBLE_MSG_MAX)
		return;
	take = n < cpl - 3 ? n : cpl - 3;
	f[0] = cmd;
	f[1] = (uint8_t)(n >> 8);
	f[2] = (uint8_t)n;
	memcpy(f + 3, p, take);
	notify(d, f, 3 + take);
	for (off = take; off < n && d->connected; off += take) {
		take = n - off < cpl - 1 ? n - off : cpl - 1;
		f[0] = seq;
		seq = (uint8_t)((seq + 1) & 0x7F);
		memcpy(f + 1, p + off, take);
		notify(d, f, 1 + take);
	}
	kw_memzero(f, sizeof(f));
}

static void
send_error(vcble_dev *d, uint8_t code)
{
	send_msg(d, VCBLE_CMD_ERROR, &code, 1);
}

void
vcble_link_abort(vcble_dev *d)
{
	d->work = sd_event_source_disable_unref(d->work);
	d->keepalive = sd_event_source_disable_unref(d->keepalive);
	d->busy = false;
	d->ping_pending = false;
	kw_buf_reset(&d->apdu);
	vcble_asm_reset(&d->rx);
}

static int
on_keepalive(sd_event_source *s, uint64_t usec, void *arg)
{
	vcble_dev *d = arg;
	uint8_t st = KA_PROCESSING;

	(void)usec;
	send_msg(d, VCBLE_CMD_KEEPALIVE, &st, 1);
	if (sd_event_source_set_time_relative(s, (uint64_t)d->faults.keepalive_ms * 1000) < 0)
		return 0;
	return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* stray=ping / stray=cont: unsolicited frames just before an answer, after
 * the request's last frame: a client can tell them from the answer. (A
 * duplicated answer could not be told from the next request's: no
 * request ids; the profile forbids it, and no fault makes one.) */
static void
stray_before(vcble_dev *d)
{
	static const uint8_t nonce[8] = { 0x57, 0x52, 0x41, 0x59, 0xde, 0xad, 0xbe, 0xef };
	static const uint8_t cont[4] = { 0x05, 0x90, 0x00, 0x00 };

	if (d->faults.stray & VCBLE_STRAY_PING) {
		kw_info("vcard-ble: fault: stray PING before the answer");
		send_msg(d, VCBLE_CMD_PING, nonce, sizeof(nonce));
	}
	if (d->faults.stray & VCBLE_STRAY_CONT) {
		kw_info("vcard-ble: fault: stray CONT frame before the answer");
		notify(d, cont, sizeof(cont));
	}
}

void
vcble_link_notify_started(vcble_dev *d)
{
	if ((d->faults.stray & VCBLE_STRAY_ACQUIRE) && d->last_answer.len > 0) {
		kw_info("vcard-ble: fault: the last answer again as a session starts");
		send_msg(d, VCBLE_CMD_MSG, d->last_answer.data, d->last_answer.len);
	}
}

/* Run the APDU through the applet and answer. */
static int
on_work(sd_event_source *s, uint64_t usec, void *arg)
{
	vcble_dev *d = arg;
	const vcble_cfg *cfg = d->cfg;
	kw_buf resp;

	(void)s; (void)usec;
	d->work = sd_event_source_disable_unref(d->work);
	d->keepalive = sd_event_source_disable_unref(d->keepalive);
	kw_buf_init(&resp, VCBLE_MSG_MAX);
	if (vcard_card_process(d->card, d->apdu.data, d->apdu.len, &resp) != KW_OK) {
		kw_buf_reset(&resp);
		(void)kw_buf_put_u16be(&resp, VC_SW_NO_PRECISE);
	}
	if (d->card->last_sensitive)
		vcard_trace_exchange_redacted(cfg->trace, d->apdu.data, d->apdu.len, resp.data,
		    resp.len);
	else
		vcard_trace_exchange(cfg->trace, d->apdu.data, d->apdu.len, resp.data, resp.len,
		    d->card->last_ins);
	if (d->card->dirty && cfg->persist != NULL &&
	    cfg->persist(d->card, cfg->persist_arg) != KW_OK)
		kw_err("vcard-ble: could not save the token state");
	d->busy = false;
	kw_buf_reset(&d->apdu);
	stray_before(d);
	send_msg(d, VCBLE_CMD_MSG, resp.data, resp.len);
	kw_buf_reset(&d->last_answer);
	(void)kw_buf_put_view(&d->last_answer, kw_buf_view(&resp));
	kw_buf_free(&resp);
	if (d->ping_pending) {
		d->ping_pending = false;
		send_msg(d, VCBLE_CMD_PING, d->ping.data, d->ping.len);
	}
	return 0;
}

static void
start_work(vcble_dev *d)
{
	uint64_t delay = (uint64_t)d->faults.delay_ms * 1000;

	if (kw_buf_put_view(&d->apdu, kw_buf_view(&d->rx.msg)) != KW_OK) {
		send_error(d, VCBLE_ERR_OTHER);
		return;
	}
	d->busy = true;
	/* answer after the write's reply, from the event loop */
	if (sd_event_add_time_relative(d->ev, &d->work, CLOCK_MONOTONIC, delay, 1, on_work,
	    d) < 0) {
		vcble_link_abort(d);
		send_error(d, VCBLE_ERR_OTHER);
		return;
	}
	if (delay > 0 && d->faults.keepalive_ms > 0)
		(void)sd_event_add_time_relative(d->ev, &d->keepalive, CLOCK_MONOTONIC,
		    (uint64_t)d->faults.keepalive_ms * 1000 < delay ?
		    (uint64_t)d->faults.keepalive_ms * 1000 : delay / 2, 1, on_keepalive, d);
}

/* Returns true when the fault took the device away. */
static bool
fault_on_ins(vcble_dev *d)
{
	if (d->faults.disconnect_ins == 0 || d->rx.msg.len < 2 ||
	    d->rx.msg.data[1] != (uint8_t)d->faults.disconnect_ins)
		return false;
	kw_info("vcard-ble: fault: disconnecting on INS %02X", d->rx.msg.data[1]);
	d->faults.disconnect_ins = 0;
	vcble_asm_reset(&d->rx);
	vcble_dev_set_connected(d, false);
	return true;
}

static int
on_message(vcble_dev *d)
{
	if (d->rx.cmd == VCBLE_CMD_MSG && fault_on_ins(d))
		return -ENOTCONN;
	switch (d->rx.cmd) {
	case VCBLE_CMD_MSG:
		if (d->busy)
			send_error(d, VCBLE_ERR_BUSY);
		else if (d->rx.msg.len < 4)
			send_error(d, VCBLE_ERR_INVALID_LEN);
		else
			start_work(d);
		break;
	case VCBLE_CMD_PING:
		/* answers stay in order: no echo before a pending MSG answer */
		if (!d->busy) {
			send_msg(d, VCBLE_CMD_PING, d->rx.msg.data, d->rx.msg.len);
		} else if (d->ping_pending) {
			send_error(d, VCBLE_ERR_BUSY);
		} else {
			kw_buf_reset(&d->ping);
			d->ping_pending = kw_buf_put_view(&d->ping, kw_buf_view(&d->rx.msg)) == KW_OK;
		}
		break;
	case VCBLE_CMD_CANCEL:
		if (d->busy && d->faults.ignore_cancel) {
			kw_info("vcard-ble: fault: ignoring CANCEL");
		} else if (d->busy) {
			kw_info("vcard-ble: exchange cancelled by the client");
			vcble_link_abort(d);
		}
		break;
	default:
		send_error(d, VCBLE_ERR_INVALID_CMD);
		break;
	}
	vcble_asm_reset(&d->rx);
	return 0;
}

int
vcble_link_write(vcble_dev *d, const uint8_t *p, size_t n)
{
	int r;

	d->frames_in++;
	d->bytes_in += n;
	d->frames_since_fault++;
	if (d->faults.disconnect_after != 0 &&
	    d->frames_since_fault >= d->faults.disconnect_after) {
		kw_info("vcard-ble: fault: disconnecting at frame %u", d->frames_since_fault);
		d->faults.disconnect_after = 0;
		vcble_dev_set_connected(d, false);
		return -ENOTCONN;
	}
	/* one ERROR per broken message: its remaining CONT frames are dropped */
	if (d->skip_cont && n > 0 && (p[0] & 0x80) == 0)
		return 0;
	d->skip_cont = false;
	r = vcble_asm_frame(&d->rx, p, n, vcble_dev_cpl(d));
	if (r < 0) {
		kw_warn("vcard-ble: bad frame from the client (error %d)", -r);
		/* a CANCEL while a MSG is half received still cancels */
		send_error(d, (uint8_t)-r);
		d->skip_cont = true;
		return 0;
	}
	if (r == VCBLE_ASM_DONE)
		return on_message(d);
	return 0;
}
