/* keyward-vcard modem mode: the AT interpreter (vcard_at.c) on a
 * pseudo-terminal. The slave side is what a client opens, through a
 * symlink at the path given on the command line. The slave is kept open
 * here too, so that a client closing it does not hang up the master. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "kw_log.h"
#include "vcard_at.h"

#define MODEM_SLOW_MS 10
#define MODEM_SLOW_CHUNK 32

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
write_all(int fd, const uint8_t *p, size_t n, bool slow)
{
	size_t chunk;
	ssize_t w;

	if (slow && n > 0)
		sleep_ms(MODEM_SLOW_MS);
	while (n > 0) {
		chunk = slow && n > MODEM_SLOW_CHUNK ? MODEM_SLOW_CHUNK : n;
		w = write(fd, p, chunk);
		if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
			sleep_ms(1);
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		if (slow && n > 0)
			sleep_ms(1);
	}
	return 0;
}

static kw_rv
make_pty(const char *link, int *master, int *slave)
{
	struct termios t;
	char name[128];
	struct stat st;

	if (openpty(master, slave, name, NULL, NULL) != 0) {
		kw_err("vcard: openpty: %s", strerror(errno));
		return KW_ERR_IO;
	}
	if (tcgetattr(*slave, &t) == 0) {
		cfmakeraw(&t);
		(void)tcsetattr(*slave, TCSANOW, &t);
	}
	(void)fcntl(*master, F_SETFD, FD_CLOEXEC);
	(void)fcntl(*slave, F_SETFD, FD_CLOEXEC);
	if (lstat(link, &st) == 0 && S_ISLNK(st.st_mode))
		(void)unlink(link);
	if (symlink(name, link) != 0) {
		kw_err("vcard: cannot link %s to %s: %s", link, name, strerror(errno));
		close(*master);
		close(*slave);
		return KW_ERR_IO;
	}
	kw_info("vcard: modem on %s (%s)", link, name);
	return KW_OK;
}

typedef struct modem_io {
	vcard_at *at;
	vcard_uicc *uicc;
	const vcard_modem_cfg *cfg;
	int fd;
	char line[VCARD_AT_MAX_LINE + 2];
	size_t len;
	bool overflow;
	kw_buf out;
} modem_io;

/* A complete line arrived: answer it. Returns -1 to stop (vanish/error). */
static int
modem_line(modem_io *io)
{
	vcard_card *c = vcard_uicc_card(io->uicc);
	vcard_at_action act;
	kw_rv rv;

	if (io->overflow)
		rv = vcard_at_line(io->at, io->line, VCARD_AT_MAX_LINE + 1, &io->out, &act);
	else
		rv = vcard_at_line(io->at, io->line, io->len, &io->out, &act);
	io->len = 0;
	io->overflow = false;
	if (rv != KW_OK)
		return -1;
	if (c->dirty && io->cfg->persist != NULL &&
	    io->cfg->persist(c, io->cfg->persist_arg) != KW_OK)
		kw_err("vcard: could not save the token state");
	if (act == VCARD_AT_VANISH)
		return -1;
	if (act == VCARD_AT_LATE) {
		/* the card ran the command; the modem answers after the client's
		 * timeout (what follows on the line waits, as on a real modem) */
		kw_info("vcard: modem: answering late (%u ms)", io->cfg->late_ms);
		sleep_ms(io->cfg->late_ms != 0 ? (long)io->cfg->late_ms : 3000);
	}
	return write_all(io->fd, io->out.data, io->out.len,
	    (io->cfg->quirks & VCARD_AT_Q_SLOW) != 0);
}

static int
modem_bytes(modem_io *io, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' || p[i] == '\n') {
			if (p[i] == '\n' && io->len == 0 && !io->overflow)
				continue;
			if (modem_line(io) != 0)
				return -1;
		} else if (io->len < VCARD_AT_MAX_LINE) {
			io->line[io->len++] = (char)p[i];
		} else {
			io->overflow = true;
		}
	}
	return 0;
}

kw_rv
vcard_modem_run(vcard_uicc *u, const vcard_modem_cfg *cfg)
{
	modem_io io;
	struct pollfd pfd;
	uint8_t buf[1024];
	int master = -1, slave = -1, pr;
	ssize_t r;
	kw_rv rv;

	memset(&io, 0, sizeof(io));
	kw_buf_init(&io.out, 4 * VCARD_AT_MAX_LINE);
	if ((rv = vcard_at_new(u, cfg->quirks, cfg->trace, &io.at)) != KW_OK)
		goto done;
	vcard_at_set_faults(io.at, cfg->faults, cfg->fault_at);
	vcard_at_set_fault_ins(io.at, cfg->fault_ins > 0 ? cfg->fault_ins : -1);
	if ((rv = make_pty(cfg->link, &master, &slave)) != KW_OK)
		goto done;
	io.uicc = u;
	io.cfg = cfg;
	io.fd = master;
	pfd.fd = master;
	pfd.events = POLLIN;
	while (cfg->stop == NULL || !*cfg->stop) {
		pr = poll(&pfd, 1, 200);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			break;
		if (pr == 0 || (pfd.revents & POLLIN) == 0)
			continue;
		r = read(master, buf, sizeof(buf));
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			break;
		if (modem_bytes(&io, buf, (size_t)r) != 0)
			break;
	}
	(void)unlink(cfg->link);
done:
	if (master >= 0)
		close(master);
	if (slave >= 0)
		close(slave);
	vcard_at_free(&io.at);
	kw_buf_free(&io.out);
	return rv;
}
