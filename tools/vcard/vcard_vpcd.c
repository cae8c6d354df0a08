/* vpcd front-end: the card is a TCP client of pcsc-lite's vpcd driver.
 * Frames are a 2-byte big-endian length and a payload; a 1-byte payload is
 * a control code (00 power off, 01 power on, 02 reset: no reply; 04 get
 * ATR: reply the ATR); anything longer is a command APDU answered by a
 * response APDU. TCP_NODELAY once and TCP_QUICKACK after every receive,
 * since vpcd writes length and payload separately (delayed-ACK stalls). */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vcard_io.h"
#include "kw_log.h"

#define VPCD_POWER_OFF 0x00
#define VPCD_POWER_ON  0x01
#define VPCD_RESET     0x02
#define VPCD_GET_ATR   0x04
#define VPCD_FRAME_MAX 65536 + 16

enum { IO_OK = 1, IO_EOF = 0, IO_ERR = -1, IO_STOP = -2, IO_PULL = -3 };

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		break;
}

static int
connect_vpcd(const char *host, const char *port)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void
quickack(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static int
read_exact(int fd, uint8_t *p, size_t n, volatile sig_atomic_t *stop)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t r;
	int pr;

	while (n > 0) {
		if (stop != NULL && *stop)
			return IO_STOP;
		pr = poll(&pfd, 1, 200);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return IO_ERR;
		if (pr == 0)
			continue;
		r = recv(fd, p, n, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return IO_ERR;
		if (r == 0)
			return IO_EOF;
		quickack(fd);
		p += r;
		n -= (size_t)r;
	}
	return IO_OK;
}

static int
send_frame(int fd, const uint8_t *p, size_t n)
{
	uint8_t hdr[2] = { (uint8_t)(n >> 8), (uint8_t)n };
	struct iovec iov[2] = { { hdr, 2 }, { (void *)p, n } };
	struct msghdr msg;
	ssize_t w;
	size_t total = n + 2, done = 0;

	if (n > 0xFFFF)
		return IO_ERR;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	while (done < total) {
		w = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return IO_ERR;
		done += (size_t)w;
		while (msg.msg_iovlen > 0 && (size_t)w >= msg.msg_iov[0].iov_len) {
			w -= (ssize_t)msg.msg_iov[0].iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen > 0) {
			msg.msg_iov[0].iov_base = (uint8_t *)msg.msg_iov[0].iov_base + w;
			msg.msg_iov[0].iov_len -= (size_t)w;
		}
	}
	return IO_OK;
}

static void
card_reset(vcard_card *c, const vcard_vpcd_cfg *cfg)
{
	if (cfg->uicc != NULL)
		vcard_uicc_reset(cfg->uicc);
	else
		vcard_card_reset(c);
}

static int
handle_control(vcard_card *c, int fd, uint8_t code, const vcard_vpcd_cfg *cfg)
{
	const uint8_t *atr;
	size_t atr_len;

	switch (code) {
	case VPCD_POWER_OFF:
	case VPCD_POWER_ON:
	case VPCD_RESET:
		card_reset(c, cfg);
		return IO_OK;
	case VPCD_GET_ATR:
		atr = cfg->uicc != NULL ? vcard_uicc_atr(&atr_len) : vcard_card_atr(&atr_len);
		return send_frame(fd, atr, atr_len);
	default:
		kw_warn("vcard: unknown vpcd control code %02X", code);
		return IO_OK;
	}
}

static bool
word_num(const char *w, size_t len, const char *name, int base, unsigned long max,
    unsigned *out)
{
	size_t n = strlen(name);
	char num[16], *end;
	unsigned long v;

	if (len <= n + 1 || len - n - 1 >= sizeof(num) || strncmp(w, name, n) != 0 ||
	    w[n] != '=')
		return false;
	memcpy(num, w + n + 1, len - n - 1);
	num[len - n - 1] = '\0';
	errno = 0;
	v = strtoul(num, &end, base);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

kw_rv
vcard_vpcd_parse_faults(const char *s, vcard_vpcd_faults *out)
{
	static const struct { const char *name; unsigned what; } kinds[] = {
		{ "pull", VCARD_VPCD_F_PULL }, { "pull-after", VCARD_VPCD_F_PULL_AFTER },
		{ "garble", VCARD_VPCD_F_GARBLE },
	};
	const char *p = s, *e;
	size_t len, i;
	bool ok;

	memset(out, 0, sizeof(*out));
	out->at = 1;
	out->hold_ms = 3000;
	while (*p != '\0') {
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		ok = word_num(p, len, "at", 10, 1000000, &out->at) && out->at > 0;
		ok = ok || word_num(p, len, "hold-ms", 10, 600000, &out->hold_ms);
		for (i = 0; !ok && i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (word_num(p, len, kinds[i].name, 16, 0xff, &out->ins))
				ok = (out->what = kinds[i].what) != 0;
		if (!ok)
			return KW_ERR_ARG;
		p += len + (e != NULL ? 1 : 0);
	}
	return KW_OK;
}

/* Does the fault strike this command? (once) */
static unsigned
fault_now(const vcard_vpcd_cfg *cfg, const uint8_t *apdu, size_t len)
{
	static unsigned seen;
	static bool done;

	if (cfg->faults.what == 0 || done || len < 4 || apdu[1] != cfg->faults.ins)
		return 0;
	if (++seen < cfg->faults.at)
		return 0;
	done = true;
	kw_info("vcard: vpcd fault on INS %02X (%s)", apdu[1],
	    cfg->faults.what == VCARD_VPCD_F_PULL ? "pull" :
	    cfg->faults.what == VCARD_VPCD_F_PULL_AFTER ? "pull after executing" : "garble");
	return cfg->faults.what;
}

static int
handle_apdu(vcard_card *c, int fd, const uint8_t *apdu, size_t len, const vcard_vpcd_cfg *cfg)
{
	unsigned f = fault_now(cfg, apdu, len);
	kw_buf resp;
	int r = IO_ERR;

	if (f == VCARD_VPCD_F_PULL)
		return IO_PULL;
	kw_buf_init(&resp, VPCD_FRAME_MAX);
	if ((cfg->uicc != NULL ? vcard_uicc_process(cfg->uicc, apdu, len, &resp) :
	    vcard_card_process(c, apdu, len, &resp)) != KW_OK) {
		kw_buf_reset(&resp);
		if (kw_buf_put_u16be(&resp, VC_SW_NO_PRECISE) != KW_OK)
			goto done;
	}
	if (c->last_sensitive)
		vcard_trace_exchange_redacted(cfg->trace, apdu, len, resp.data, resp.len);
	else
		vcard_trace_exchange(cfg->trace, apdu, len, resp.data, resp.len, c->last_ins);
	if (c->dirty && cfg->persist != NULL) {
		if (cfg->persist(c, cfg->persist_arg) != KW_OK)
			kw_err("vcard: could not save the token state");
	}
	if (f == VCARD_VPCD_F_PULL_AFTER)
		r = IO_PULL;
	else if (f == VCARD_VPCD_F_GARBLE)
		r = send_frame(fd, resp.data, 1);
	else
		r = send_frame(fd, resp.data, resp.len);
done:
	kw_buf_free(&resp);
	return r;
}

/* Serve one connection until it closes or *stop. */
static int
serve(vcard_card *c, int fd, const vcard_vpcd_cfg *cfg, kw_buf *frame)
{
	uint8_t hdr[2];
	size_t len;
	int r;

	for (;;) {
		if ((r = read_exact(fd, hdr, 2, cfg->stop)) != IO_OK)
			return r;
		len = ((size_t)hdr[0] << 8) | hdr[1];
		kw_buf_reset(frame);
		if (len == 0)
			continue;
		if (kw_buf_reserve(frame, len) != KW_OK)
			return IO_ERR;
		if ((r = read_exact(fd, frame->data, len, cfg->stop)) != IO_OK)
			return r;
		frame->len = len;
		if (len == 1)
			r = handle_control(c, fd, frame->data[0], cfg);
		else
			r = handle_apdu(c, fd, frame->data, len, cfg);
		if (r != IO_OK)
			return r;
	}
}

kw_rv
vcard_vpcd_run(vcard_card *c, const vcard_vpcd_cfg *cfg)
{
	kw_buf frame;
	bool warned = false;
	int fd, r;

	kw_buf_init(&frame, VPCD_FRAME_MAX);
	while (cfg->stop == NULL || !*cfg->stop) {
		if ((fd = connect_vpcd(cfg->host, cfg->port)) < 0) {
			if (!warned)
				kw_info("vcard: waiting for vpcd at %s:%s", cfg->host, cfg->port);
			warned = true;
			sleep_ms(200);
			continue;
		}
		kw_info("vcard: connected to vpcd at %s:%s", cfg->host, cfg->port);
		warned = false;
		r = serve(c, fd, cfg, &frame);
		close(fd);
		card_reset(c, cfg);
		if (r == IO_STOP || cfg->once)
			break;
		sleep_ms(r == IO_PULL ? (long)cfg->faults.hold_ms : 200);
	}
	kw_buf_free(&frame);
	return KW_OK;
}
