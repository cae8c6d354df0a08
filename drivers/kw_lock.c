/* Cross-process locks of the transports (kw_lock.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "kw_lock.h"
#include "kw_log.h"

#define POLL_MS 10

struct kw_lock {
	int fd;
	bool writable;
	char path[PATH_MAX];
	char prev[KW_LOCK_NOTE_MAX + 1];
};

const char *
kw_lock_dir(void)
{
	const char *dir = getenv("KEYWARD_LOCK_DIR");

	return dir != NULL && *dir != '\0' ? dir : KW_LOCK_DIR_DEFAULT;
}

bool
kw_lock_proc_comm(long pid, char *comm, size_t n)
{
	char path[64];
	FILE *f;
	size_t len;

	if (n == 0)
		return false;
	comm[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if ((f = fopen(path, "re")) == NULL)
		return false;
	len = fread(comm, 1, n - 1, f);
	fclose(f);
	comm[len] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return true;
}

/* "PID[ NOTE]\n" from fd: the pid (0 if none) and the note. */
static long
read_content(int fd, char *note, size_t n)
{
	char buf[32 + KW_LOCK_NOTE_MAX];
	ssize_t r;
	char *end, *p;
	long pid;

	if (n > 0)
		note[0] = '\0';
	r = pread(fd, buf, sizeof(buf) - 1, 0);
	if (r <= 0)
		return 0;
	buf[r] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || pid <= 0)
		return 0;
	p = end + strspn(end, " ");
	if (n > 0)
		snprintf(note, n, "%.*s", KW_LOCK_NOTE_MAX, p);
	return pid;
}

long
kw_lock_file_pid(const char *path)
{
	long pid;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	pid = read_content(fd, NULL, 0);
	close(fd);
	if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno != EPERM))
		return 0;
	return pid;
}

void
kw_lock_describe(long pid, char *out, size_t n)
{
	char comm[32];

	if (pid <= 0)
		snprintf(out, n, "another process");
	else if (kw_lock_proc_comm(pid, comm, sizeof(comm)))
		snprintf(out, n, "process %ld (%.31s)", pid, comm);
	else
		snprintf(out, n, "process %ld", pid);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

kw_rv
kw_lock_flock(int fd, int timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct timespec pause = { 0, POLL_MS * 1000000L };

	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return KW_OK;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return KW_ERR_IO;
		if (now_ms() >= deadline)
			return KW_ERR_SHARING;
		(void)nanosleep(&pause, NULL);
	}
}

static bool
write_note(kw_lock *l, const char *note)
{
	char buf[32 + KW_LOCK_NOTE_MAX];
	int n;

	if (!l->writable)
		return false;
	n = snprintf(buf, sizeof(buf), "%ld %.*s\n", (long)getpid(), KW_LOCK_NOTE_MAX,
	    note != NULL ? note : "");
	if (n < 0 || (size_t)n >= sizeof(buf))
		return false;
	if (ftruncate(l->fd, 0) != 0 || pwrite(l->fd, buf, (size_t)n, 0) != n)
		return false;
	return true;
}

kw_rv
kw_lock_take(const char *name, const char *note, int timeout_ms, char *holder,
    size_t holder_len, kw_lock **out)
{
	kw_lock *l;
	kw_rv rv;
	int n;

	*out = NULL;
	if (holder != NULL && holder_len > 0)
		holder[0] = '\0';
	if (name == NULL || *name == '\0' || strchr(name, '/') != NULL)
		return KW_ERR_ARG;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return KW_ERR_NOMEM;
	n = snprintf(l->path, sizeof(l->path), "%s/%s", kw_lock_dir(), name);
	if (n < 0 || (size_t)n >= sizeof(l->path)) {
		free(l);
		return KW_ERR_ARG;
	}
	l->writable = true;
	l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (l->fd < 0 && (errno == EACCES || errno == EPERM || errno == EROFS)) {
		l->writable = false;    /* another user's lock file: flock works read-only */
		l->fd = open(l->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (l->fd < 0) {
		kw_err("cannot open the lock file %.200s: %s (set KEYWARD_LOCK_DIR to a "
		    "writable directory)", l->path, strerror(errno));
		free(l);
		return KW_ERR_IO;
	}
	if ((rv = kw_lock_flock(l->fd, timeout_ms)) != KW_OK) {
		if (rv == KW_ERR_SHARING) {
			if (holder != NULL && holder_len > 0)
				kw_lock_describe(kw_lock_file_pid(l->path), holder, holder_len);
		} else {
			kw_err("cannot lock %.200s: %s", l->path, strerror(errno));
		}
		close(l->fd);
		free(l);
		return rv;
	}
	(void)read_content(l->fd, l->prev, sizeof(l->prev));
	(void)write_note(l, note);
	*out = l;
	return KW_OK;
}

const char *
kw_lock_prev_note(const kw_lock *l)
{
	return l->prev;
}

bool
kw_lock_set_note(kw_lock *l, const char *note)
{
	return write_note(l, note);
}

void
kw_lock_release(kw_lock **lp)
{
	kw_lock *l;

	if (lp == NULL || (l = *lp) == NULL)
		return;
	(void)flock(l->fd, LOCK_UN);
	close(l->fd);
	free(l);
	*lp = NULL;
}
