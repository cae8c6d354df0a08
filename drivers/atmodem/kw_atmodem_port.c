/* The modem's serial port: exclusive open, raw termios, bounded line I/O
 * (kw_atmodem.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "atmodem/kw_at.h"
#include "atmodem/kw_atmodem.h"
#include "kw_lock.h"
#include "kw_log.h"
#include "kw_secret.h"

#define PORT_RBUF 4096

struct kw_at_port {
	int fd;
	bool gone;
	char lock_path[PATH_MAX];
	uint8_t rbuf[PORT_RBUF];
	size_t rlen;
};

static const char mm_hint[] =
    "ModemManager is using it: tell ModemManager to leave the port alone with "
    "keyward's udev rule (udev/70-keyward.rules sets ENV{ID_MM_PORT_IGNORE}=\"1\" "
    "for configured modem ports), or run 'mmcli -m 0 --inhibit' meanwhile";

int64_t
kw_at_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Does a process named ModemManager have `real` open? Its pid, or 0. */
static long
mm_holder(const char *real)
{
	char comm[32], dpath[64], fpath[PATH_MAX + 64], target[PATH_MAX];
	struct dirent *de, *fe;
	DIR *d, *fd_dir;
	ssize_t n;
	long pid, found = 0;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while (found == 0 && (de = readdir(d)) != NULL) {
		if ((pid = strtol(de->d_name, NULL, 10)) <= 0 ||
		    !kw_lock_proc_comm(pid, comm, sizeof(comm)) || strcmp(comm, "ModemManager") != 0)
			continue;
		snprintf(dpath, sizeof(dpath), "/proc/%ld/fd", pid);
		if ((fd_dir = opendir(dpath)) == NULL)
			continue;
		while ((fe = readdir(fd_dir)) != NULL) {
			snprintf(fpath, sizeof(fpath), "%s/%s", dpath, fe->d_name);
			n = readlink(fpath, target, sizeof(target) - 1);
			if (n > 0 && (target[n] = '\0', strcmp(target, real) == 0)) {
				found = pid;
				break;
			}
		}
		closedir(fd_dir);
	}
	closedir(d);
	return found;
}

/* /run/lock/LCK..ttyUSB2 (or LCK..pts_3) for the device path `real`. */
static void
lock_name(const char *real, char *out, size_t n)
{
	const char *dir = kw_lock_dir(), *name = real;
	char tmp[256];
	size_t i;

	if (strncmp(name, "/dev/", 5) == 0)
		name += 5;
	else if (strrchr(name, '/') != NULL)
		name = strrchr(name, '/') + 1;
	snprintf(tmp, sizeof(tmp), "%.255s", name);
	for (i = 0; tmp[i] != '\0'; i++)
		if (tmp[i] == '/')
			tmp[i] = '_';
	snprintf(out, n, "%.1024s/LCK..%.255s", dir, tmp);
}

static kw_rv
take_lock_file(kw_at_port *p, const char *real, const char *path)
{
	char buf[16], comm[32] = "?";
	long owner;
	int fd, tries;

	lock_name(real, p->lock_path, sizeof(p->lock_path));
	for (tries = 0; tries < 2; tries++) {
		fd = open(p->lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			snprintf(buf, sizeof(buf), "%10ld\n", (long)getpid());
			if (write(fd, buf, strlen(buf)) < 0)
				kw_debug("modem: writing %s: %s", p->lock_path, strerror(errno));
			close(fd);
			return KW_OK;
		}
		if (errno != EEXIST)
			break;
		if ((owner = kw_lock_file_pid(p->lock_path)) != 0) {
			(void)kw_lock_proc_comm(owner, comm, sizeof(comm));
			kw_err("modem: %.200s is locked by process %ld (%s, %s)%s%s", path,
			    owner, comm, p->lock_path,
			    strcmp(comm, "ModemManager") == 0 ? ": " : "",
			    strcmp(comm, "ModemManager") == 0 ? mm_hint : "");
			p->lock_path[0] = '\0';
			return KW_ERR_SHARING;
		}
		(void)unlink(p->lock_path);   /* stale */
	}
	/* No writable lock directory: flock on the port still protects us. */
	kw_debug("modem: no lock file %s: %s", p->lock_path, strerror(errno));
	p->lock_path[0] = '\0';
	return KW_OK;
}

static kw_rv
open_error(const char *path, int err)
{
	if (err == ENOENT || err == ENXIO || err == ENODEV) {
		kw_err("modem: no port %.200s", path);
		return KW_ERR_NO_READER;
	}
	if (err == EBUSY) {
		kw_err("modem: %.200s is busy; %s", path, mm_hint);
		return KW_ERR_SHARING;
	}
	if (err == EACCES || err == EPERM) {
		kw_err("modem: no permission to open %.200s (install udev/70-keyward.rules "
		    "and name the port in /etc/keyward/keyward.conf, or join the dialout group)",
		    path);
		return KW_ERR_IO;
	}
	kw_err("modem: cannot open %.200s: %s", path, strerror(err));
	return KW_ERR_IO;
}

static kw_rv
set_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) != 0)
		return KW_ERR_IO;
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cflag &= ~(tcflag_t)CRTSCTS;
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (cfsetispeed(&t, B115200) != 0 || cfsetospeed(&t, B115200) != 0 ||
	    tcsetattr(fd, TCSANOW, &t) != 0)
		return KW_ERR_IO;
	(void)tcflush(fd, TCIOFLUSH);
	return KW_OK;
}

static kw_rv
port_setup(kw_at_port *p, const char *path, const char *real)
{
	long mm;
	kw_rv rv;

	if (!isatty(p->fd)) {
		kw_err("modem: %.200s is not a terminal", path);
		return KW_ERR_ARG;
	}
	if ((mm = mm_holder(real)) != 0) {
		kw_err("modem: %.200s is open in ModemManager (pid %ld); %s", path, mm, mm_hint);
		return KW_ERR_SHARING;
	}
	if ((rv = kw_lock_flock(p->fd, 0)) != KW_OK) {
		kw_err("modem: %.200s is in use by another process", path);
		return rv;
	}
	(void)ioctl(p->fd, TIOCEXCL);
	if (set_raw(p->fd) != KW_OK) {
		kw_err("modem: cannot set %.200s to raw 115200 8N1: %s", path, strerror(errno));
		return KW_ERR_IO;
	}
	return take_lock_file(p, real, path);
}

kw_rv
kw_at_port_open(const char *path, kw_at_port **out)
{
	char real[PATH_MAX];
	kw_at_port *p;
	kw_rv rv;

	*out = NULL;
	if (path == NULL || *path == '\0' || strlen(path) >= PATH_MAX)
		return KW_ERR_ARG;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return KW_ERR_NOMEM;
	p->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (p->fd < 0) {
		rv = open_error(path, errno);
		free(p);
		return rv;
	}
	if (realpath(path, real) == NULL)
		snprintf(real, sizeof(real), "%s", path);
	if ((rv = port_setup(p, path, real)) != KW_OK) {
		kw_at_port_close(&p);
		return rv;
	}
	*out = p;
	return KW_OK;
}

void
kw_at_port_close(kw_at_port **pp)
{
	kw_at_port *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	if (p->lock_path[0] != '\0')
		(void)unlink(p->lock_path);
	if (p->fd >= 0) {
		(void)ioctl(p->fd, TIOCNXCL);
		close(p->fd);
	}
	kw_freezero(p, sizeof(*p));
	*pp = NULL;
}

void
kw_at_port_flush(kw_at_port *p)
{
	uint8_t junk[256];

	kw_memzero(p->rbuf, p->rlen);
	p->rlen = 0;
	if (p->gone)
		return;
	(void)tcflush(p->fd, TCIFLUSH);
	while (read(p->fd, junk, sizeof(junk)) > 0)
		;
	kw_memzero(junk, sizeof(junk));
}

/* Wait for `events` until the deadline. */
static kw_rv
port_wait(kw_at_port *p, short events, int64_t deadline_ms)
{
	struct pollfd pfd = { p->fd, events, 0 };
	int64_t left;
	int r;

	for (;;) {
		if (p->gone)
			return KW_ERR_SERVICE_GONE;
		left = deadline_ms - kw_at_now_ms();
		if (left <= 0)
			return KW_ERR_TIMEOUT;
		r = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (pfd.revents & (POLLERR | POLLNVAL)) != 0 ||
		    ((pfd.revents & POLLHUP) != 0 && (pfd.revents & POLLIN) == 0)) {
			p->gone = true;
			return KW_ERR_SERVICE_GONE;
		}
		if (r > 0)
			return KW_OK;
	}
}

kw_rv
kw_at_port_write(kw_at_port *p, const char *s, size_t n, int64_t deadline_ms)
{
	ssize_t w;
	kw_rv rv;

	while (n > 0) {
		if ((rv = port_wait(p, POLLOUT, deadline_ms)) != KW_OK)
			return rv;
		w = write(p->fd, s, n);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0) {
			p->gone = true;
			return KW_ERR_SERVICE_GONE;
		}
		s += w;
		n -= (size_t)w;
	}
	return KW_OK;
}

/* A terminated line in rbuf? Take it. */
static bool
take_line(kw_at_port *p, char *line, size_t cap, size_t *len, kw_rv *rv)
{
	size_t i;

	for (i = 0; i < p->rlen; i++)
		if (p->rbuf[i] == '\r' || p->rbuf[i] == '\n')
			break;
	if (i == p->rlen) {
		if (p->rlen > KW_AT_MAX_LINE) {
			*rv = KW_ERR_PROTOCOL;   /* overlong: drop what we have */
			kw_memzero(p->rbuf, p->rlen);
			p->rlen = 0;
			return true;
		}
		return false;
	}
	*rv = KW_OK;
	if (i >= cap || i > KW_AT_MAX_LINE) {
		*rv = KW_ERR_PROTOCOL;
		*len = 0;
	} else {
		memcpy(line, p->rbuf, i);
		line[i] = '\0';
		*len = i;
	}
	memmove(p->rbuf, p->rbuf + i + 1, p->rlen - i - 1);
	p->rlen -= i + 1;
	kw_memzero(p->rbuf + p->rlen, i + 1);
	return true;
}

kw_rv
kw_at_port_read_line(kw_at_port *p, char *line, size_t cap, size_t *len, int64_t deadline_ms)
{
	ssize_t r;
	kw_rv rv = KW_OK;

	*len = 0;
	if (cap > 0)
		line[0] = '\0';
	for (;;) {
		if (take_line(p, line, cap, len, &rv))
			return rv;
		if ((rv = port_wait(p, POLLIN, deadline_ms)) != KW_OK)
			return rv;
		r = read(p->fd, p->rbuf + p->rlen, sizeof(p->rbuf) - p->rlen);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			p->gone = true;
			return KW_ERR_SERVICE_GONE;
		}
		p->rlen += (size_t)r;
	}
}

kw_rv
kw_at_port_alive(kw_at_port *p)
{
	struct pollfd pfd = { p->fd, 0, 0 };

	if (p->gone)
		return KW_ERR_SERVICE_GONE;
	if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
		p->gone = true;
		return KW_ERR_SERVICE_GONE;
	}
	return KW_OK;
}
