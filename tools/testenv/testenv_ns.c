/* The private world of a testenv run: a new mount namespace (propagation
 * private, a tmpfs on /run/pcscd so our pcscd's fixed socket path neither
 * clashes with nor exposes the host's) and a new network namespace with
 * only `lo` up (vpcd listens on 0.0.0.0; here that is unreachable from any
 * network). Non-root users get a user namespace too where the kernel
 * allows it. */
#include "testenv.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int
kwt_ns_write_file(const char *path, const char *text)
{
	int fd, rc = -1;
	size_t len = strlen(text);

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, text, len) == (ssize_t)len)
		rc = 0;
	close(fd);
	return rc;
}

/* Map our uid/gid to root inside a fresh user namespace. */
static int
kwt_ns_map_user(uid_t uid, gid_t gid)
{
	char map[64];

	if (kwt_ns_write_file("/proc/self/setgroups", "deny") != 0 &&
	    errno != ENOENT)
		return -1;
	snprintf(map, sizeof(map), "0 %lu 1\n", (unsigned long)uid);
	if (kwt_ns_write_file("/proc/self/uid_map", map) != 0)
		return -1;
	snprintf(map, sizeof(map), "0 %lu 1\n", (unsigned long)gid);
	return kwt_ns_write_file("/proc/self/gid_map", map);
}

static int
kwt_ns_unshare(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (unshare(CLONE_NEWNS | CLONE_NEWNET) == 0)
		return 0;
	if (errno != EPERM || uid == 0)
		goto denied;
	/* Not root: a user namespace makes us root over the new ones. */
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) != 0)
		goto denied;
	if (kwt_ns_map_user(uid, gid) != 0) {
		kwt_msg("cannot map uid/gid in the user namespace: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
denied:
	kwt_msg("cannot create mount+network namespaces: %s", strerror(errno));
	kwt_msg("run as root (or where unprivileged user namespaces are "
	    "allowed), or use --no-namespace to run on the host's "
	    "/run/pcscd when no pcscd is running there");
	return -1;
}

/* Make /run/pcscd an empty private tmpfs. */
static int
kwt_ns_mount_rundir(void)
{
	if (mkdir(KWT_PCSCD_RUNDIR, 0755) != 0 && errno != EEXIST) {
		/* Unprivileged: /run is not ours, so replace /run itself. */
		if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV,
		    "mode=0755") != 0 || mkdir(KWT_PCSCD_RUNDIR, 0755) != 0) {
			kwt_msg("cannot create %s: %s", KWT_PCSCD_RUNDIR,
			    strerror(errno));
			return -1;
		}
	}
	if (mount("tmpfs", KWT_PCSCD_RUNDIR, "tmpfs",
	    MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") != 0) {
		kwt_msg("cannot mount a tmpfs on %s: %s", KWT_PCSCD_RUNDIR,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Our pcscd must not claim the host's USB readers (the host's pcscd owns
 * them): hide /dev/bus/usb where it exists. */
static void
kwt_ns_hide_usb(void)
{
	struct stat st;

	if (stat("/dev/bus/usb", &st) != 0 || !S_ISDIR(st.st_mode))
		return;
	if (mount("tmpfs", "/dev/bus/usb", "tmpfs", MS_NOSUID | MS_NOEXEC,
	    "mode=0755") != 0)
		kwt_msg("warning: cannot hide /dev/bus/usb: %s",
		    strerror(errno));
}

static int
kwt_ns_lo_up(void)
{
	struct ifreq ifr;
	int fd, rc = -1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
		goto fail;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
		goto fail;
	rc = 0;
fail:
	if (rc != 0)
		kwt_msg("cannot bring up lo: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* 1 if a pcscd answers on the host socket, 0 if not (a stale socket file
 * is removed), -1 on error. */
int
kwt_ns_check_host_pcscd(void)
{
	struct sockaddr_un sa;
	int fd, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", KWT_PCSCD_SOCKET);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc == 0)
		return 1;
	if (errno == ECONNREFUSED && unlink(KWT_PCSCD_SOCKET) != 0) {
		kwt_msg("stale %s cannot be removed: %s", KWT_PCSCD_SOCKET,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
kwt_ns_host(void)
{
	int rc = kwt_ns_check_host_pcscd();

	if (rc < 0)
		return -1;
	if (rc > 0) {
		kwt_msg("--no-namespace: a pcscd is already running on this "
		    "host (%s); stop it, or run without --no-namespace as "
		    "root", KWT_PCSCD_SOCKET);
		return -1;
	}
	if (mkdir(KWT_PCSCD_RUNDIR, 0755) != 0 && errno != EEXIST) {
		kwt_msg("cannot create %s: %s", KWT_PCSCD_RUNDIR,
		    strerror(errno));
		return -1;
	}
	kwt_msg("warning: --no-namespace: vpcd listens on all interfaces "
	    "(TCP %d..%d) for the duration of the run", KWT_VPCD_PORT_BASE,
	    KWT_VPCD_PORT_BASE + KWT_MAX_TOKENS - 1);
	return 0;
}

int
kwt_ns_enter(const struct kwt_opts *opt)
{
	if (opt->no_namespace)
		return kwt_ns_host();
	if (kwt_ns_unshare() != 0)
		return -1;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		kwt_msg("cannot make mounts private: %s", strerror(errno));
		return -1;
	}
	if (kwt_ns_mount_rundir() != 0)
		return -1;
	kwt_ns_hide_usb();
	return kwt_ns_lo_up();
}
