/* pcscd with the vpcd driver. vpcd gives each reader.conf entry two
 * slots, listening on PORT and PORT+1, so entry K serves tokens 2K and
 * 2K+1: token i listens on KWT_VPCD_PORT_BASE+i and its reader is
 * "Yubico YubiKey keyward vcard <i/2> 00 0<i%2>" (pcscd appends the reader and
 * slot numbers). ykcs11 and ykpiv only use readers named "Yubico...".
 *
 * vpcd keeps its connection state in globals indexed by slot only, so two
 * entries that load the same library file share (and break) them: entry
 * K > 0 loads its own copy, DIR/vpcd/libifdvpcd-K.so, which the dynamic
 * loader maps as a separate object. */
#include "testenv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static const char *const kwt_pcscd_paths[] = {
	"/usr/sbin/pcscd", "/usr/local/sbin/pcscd", "/sbin/pcscd", NULL,
};

/* The vpcd driver: $KEYWARD_VPCD_DRIVER or Debian's path. */
static const char *
kwt_vpcd_driver(void)
{
	const char *env = getenv("KEYWARD_VPCD_DRIVER");

	return env != NULL && *env != '\0' ? env : KWT_VPCD_DRIVER;
}

static int
kwt_pcscd_copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n = 0;
	int in, out, rc = -1;

	in = open(from, O_RDONLY | O_CLOEXEC);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (in < 0 || out < 0)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			goto out;
	rc = n == 0 ? 0 : -1;
out:
	if (rc != 0)
		kwt_msg("cannot copy %s to %s: %s", from, to, strerror(errno));
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) != 0)
		rc = -1;
	return rc;
}

/* The driver library for entry k (see the top of this file). */
static int
kwt_pcscd_driver(const struct kwt_env *env, int k, char *lib, size_t libsz)
{
	char dir[PATH_MAX];
	struct statvfs vfs;

	if (k == 0) {
		snprintf(lib, libsz, "%s", kwt_vpcd_driver());
		return 0;
	}
	if (kwt_path(dir, sizeof(dir), env->dir, "vpcd") != 0 ||
	    kwt_path(lib, libsz, dir, "libifdvpcd-%d.so", k) != 0)
		return -1;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		kwt_msg("cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_NOEXEC)) {
		kwt_msg("%s is on a noexec file system: more than 2 tokens "
		    "need vpcd driver copies there; use --state-dir or "
		    "TMPDIR elsewhere", dir);
		return -1;
	}
	return kwt_pcscd_copy_file(kwt_vpcd_driver(), lib);
}

static int
kwt_pcscd_write_entry(const struct kwt_env *env, FILE *f, int k)
{
	char lib[PATH_MAX];
	int port = KWT_VPCD_PORT_BASE + 2 * k;

	if (kwt_pcscd_driver(env, k, lib, sizeof(lib)) != 0)
		return -1;
	fprintf(f, "FRIENDLYNAME \"%s %d\"\n", KWT_READER_PREFIX, k);
	fprintf(f, "DEVICENAME   /dev/null:0x%X\n", (unsigned)port);
	fprintf(f, "LIBPATH      %s\n", lib);
	fprintf(f, "CHANNELID    0x%X\n\n", (unsigned)port);
	return 0;
}

/* One reader.conf with the entries in token order: pcscd lists readers in
 * the order it reads them (a reader.conf.d is read in readdir order), so
 * token 0 is the first reader, which clients pick by default. */
int
kwt_pcscd_write_conf(struct kwt_env *env)
{
	int i, rc = 0, entries = (env->opt.tokens + 1) / 2;
	FILE *f;

	if (access(kwt_vpcd_driver(), R_OK) != 0) {
		kwt_msg("the vpcd reader driver (%s) is missing: "
		    "apt-get install vsmartcard-vpcd", kwt_vpcd_driver());
		return -1;
	}
	if (kwt_path(env->conf, sizeof(env->conf), env->dir,
	    "reader.conf") != 0)
		return -1;
	f = fopen(env->conf, "w");
	if (f == NULL) {
		kwt_msg("cannot write %s: %s", env->conf, strerror(errno));
		return -1;
	}
	for (i = 0; i < entries && rc == 0; i++)
		rc = kwt_pcscd_write_entry(env, f, i);
	if (fclose(f) != 0 && rc == 0) {
		kwt_msg("cannot write %s: %s", env->conf, strerror(errno));
		rc = -1;
	}
	for (i = 0; i < env->opt.tokens; i++) {
		env->tok[i].port = KWT_VPCD_PORT_BASE + i;
		snprintf(env->tok[i].reader, sizeof(env->tok[i].reader),
		    "%s %d 00 %02X", KWT_READER_PREFIX, i / 2, i % 2);
	}
	return rc;
}

static const char *
kwt_pcscd_find(void)
{
	const char *env = getenv("KEYWARD_PCSCD");
	int i;

	if (env != NULL && *env != '\0')
		return access(env, X_OK) == 0 ? env : NULL;
	for (i = 0; kwt_pcscd_paths[i] != NULL; i++)
		if (access(kwt_pcscd_paths[i], X_OK) == 0)
			return kwt_pcscd_paths[i];
	return NULL;
}

static int
kwt_pcscd_socket_ready(void)
{
	struct stat st;

	return stat(KWT_PCSCD_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int
kwt_pcscd_wait_socket(struct kwt_env *env, const char *log)
{
	long long deadline = kwt_now_ms() + 5000;
	char how[128];

	while (!kwt_pcscd_socket_ready()) {
		if (env->pcscd.reaped) {
			kwt_proc_describe(&env->pcscd, how, sizeof(how));
			kwt_msg("pcscd %s before opening %s", how,
			    KWT_PCSCD_SOCKET);
			kwt_log_tail(log, "pcscd");
			return -1;
		}
		if (kwt_now_ms() > deadline) {
			kwt_msg("pcscd did not open %s within 5 s",
			    KWT_PCSCD_SOCKET);
			kwt_log_tail(log, "pcscd");
			return -1;
		}
		kwt_proc_wait_event(env, 20);
	}
	return 0;
}

int
kwt_pcscd_start(struct kwt_env *env)
{
	char log[PATH_MAX];
	const char *pcscd = kwt_pcscd_find();
	char *argv[] = { NULL, "--foreground", "--error", "-c", NULL, NULL };

	if (pcscd == NULL) {
		kwt_msg("pcscd not found (or $KEYWARD_PCSCD not executable): "
		    "apt-get install pcscd");
		return -1;
	}
	if (kwt_path(log, sizeof(log), env->dir, "pcscd.log") != 0)
		return -1;
	argv[0] = (char *)pcscd;
	argv[4] = env->conf;
	kwt_vmsg(env, "starting %s -c %s", pcscd, env->conf);
	if (kwt_proc_spawn(&env->pcscd, argv, log, KWT_SPAWN_DAEMON) != 0)
		return -1;
	return kwt_pcscd_wait_socket(env, log);
}
