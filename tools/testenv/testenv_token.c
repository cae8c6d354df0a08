/* Virtual tokens: where keyward-vcard is, starting token i (the one place
 * that knows how a token is started: token kinds other than vpcd/PC/SC
 * extend kwt_token_start), and waiting until PC/SC sees every card. */
#include "testenv.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <winscard.h>

#define KWT_VCARD_NAME "keyward-vcard"

static const char *const kwt_kind_names[] = { "pcsc", "uicc", "modem", "ble" };

const char *
kwt_kind_name(enum kwt_kind kind)
{
	return kwt_kind_names[kind];
}

static int
kwt_kind_lookup(const char *name, size_t len, enum kwt_kind *out)
{
	size_t k;

	for (k = 0; k < sizeof(kwt_kind_names) / sizeof(kwt_kind_names[0]);
	    k++) {
		if (strlen(kwt_kind_names[k]) == len &&
		    memcmp(kwt_kind_names[k], name, len) == 0) {
			*out = (enum kwt_kind)k;
			return 0;
		}
	}
	kwt_msg("--token-kind: unknown kind \"%.*s\" (pcsc, uicc, "
	    "modem, ble)", (int)(len > 32 ? 32 : len), name);
	return -1;
}

/* --token-kind LIST: one kind per token, comma separated; the last one
 * repeats for the remaining tokens. */
int
kwt_kinds_parse(struct kwt_env *env)
{
	const char *p = env->opt.kinds, *end;
	enum kwt_kind kind = KWT_KIND_PCSC;
	int i;

	for (i = 0; i < env->opt.tokens; i++) {
		if (p != NULL && *p != '\0') {
			end = strchr(p, ',');
			if (end == NULL)
				end = p + strlen(p);
			if (kwt_kind_lookup(p, (size_t)(end - p), &kind) != 0)
				return -1;
			p = *end == ',' ? end + 1 : end;
		}
		env->tok[i].kind = kind;
	}
	if (p != NULL && *p != '\0') {
		kwt_msg("--token-kind: more kinds than tokens");
		return -1;
	}
	if (kwt_dbus_needed(env) > 1) {
		kwt_msg("--token-kind: at most one ble token per run (it owns "
		    "org.bluez on the run's bus)");
		return -1;
	}
	return 0;
}

static int
kwt_vcard_try(struct kwt_env *env, const char *dir, const char *rel)
{
	char path[PATH_MAX];

	if (kwt_path(path, sizeof(path), dir, "%s", rel) != 0)
		return 0;
	if (access(path, X_OK) != 0)
		return 0;
	snprintf(env->vcard, sizeof(env->vcard), "%s", path);
	return 1;
}

static int
kwt_vcard_search_path(struct kwt_env *env)
{
	const char *path = getenv("PATH");
	char dir[PATH_MAX];
	const char *p, *end;
	size_t len;

	for (p = path; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (len == 0 || len >= sizeof(dir))
			continue;
		memcpy(dir, p, len);
		dir[len] = '\0';
		if (kwt_vcard_try(env, dir, KWT_VCARD_NAME))
			return 1;
	}
	return 0;
}

/* $KEYWARD_VCARD, else next to this executable (../vcard/ in the build
 * tree, the same bindir once installed), else PATH. */
int
kwt_vcard_find(struct kwt_env *env, const char *argv0)
{
	const char *over = getenv("KEYWARD_VCARD");
	char self[PATH_MAX];
	char *dir;
	ssize_t n;

	(void)argv0;
	if (over != NULL && *over != '\0') {
		if (access(over, X_OK) != 0) {
			kwt_msg("KEYWARD_VCARD=%s is not executable: %s", over,
			    strerror(errno));
			return -1;
		}
		snprintf(env->vcard, sizeof(env->vcard), "%s", over);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		dir = dirname(self);
		if (kwt_vcard_try(env, dir, "../vcard/" KWT_VCARD_NAME) ||
		    kwt_vcard_try(env, dir, KWT_VCARD_NAME))
			return 0;
	}
	if (kwt_vcard_search_path(env))
		return 0;
	kwt_msg("%s not found (next to keyward-testenv, in ../vcard/ of the "
	    "build tree, or in PATH); set KEYWARD_VCARD", KWT_VCARD_NAME);
	return -1;
}

static int
kwt_token_paths(struct kwt_env *env, struct kwt_token *t)
{
	if (kwt_path(t->modem, sizeof(t->modem), env->dir, "modem-%d",
	    t->index) != 0 ||
	    kwt_path(t->state, sizeof(t->state), env->dir, "token-%d.state",
	    t->index) != 0 ||
	    kwt_path(t->trace, sizeof(t->trace), env->dir, "token-%d.trace",
	    t->index) != 0 ||
	    kwt_path(t->log, sizeof(t->log), env->dir, "token-%d.log",
	    t->index) != 0)
		return -1;
	return 0;
}

static void
kwt_token_write_pid(struct kwt_env *env, const struct kwt_token *t)
{
	char path[PATH_MAX];
	FILE *f;

	if (kwt_path(path, sizeof(path), env->dir, "token-%d.pid",
	    t->index) != 0)
		return;
	f = fopen(path, "w");
	if (f == NULL)
		return;
	fprintf(f, "%ld\n", (long)t->proc.pid);
	fclose(f);
}

int
kwt_token_start(struct kwt_env *env, int i)
{
	struct kwt_token *t = &env->tok[i];
	char vpcd[32], serial[24];
	char *argv[24];
	int n = 0;

	t->index = i;
	if (kwt_token_paths(env, t) != 0)
		return -1;
	t->fresh = access(t->state, F_OK) != 0;
	t->serial = KWT_SERIAL_BASE + (unsigned long)i;
	snprintf(vpcd, sizeof(vpcd), "127.0.0.1:%d", t->port);
	snprintf(serial, sizeof(serial), "%lu", t->serial);
	argv[n++] = env->vcard;
	argv[n++] = "--state";
	argv[n++] = t->state;
	argv[n++] = "--trace";
	argv[n++] = t->trace;
	switch (t->kind) {
	case KWT_KIND_UICC:
		argv[n++] = "--uicc";
		/* FALLTHROUGH */
	case KWT_KIND_PCSC:
		argv[n++] = "--vpcd";
		argv[n++] = vpcd;
		break;
	case KWT_KIND_MODEM:
		unlink(t->modem); /* a link left by a killed run */
		argv[n++] = "--modem";
		argv[n++] = t->modem;
		if (env->opt.modem_quirks != NULL) {
			argv[n++] = "--modem-quirks";
			argv[n++] = (char *)env->opt.modem_quirks;
		}
		break;
	case KWT_KIND_BLE:
		snprintf(t->ble_addr, sizeof(t->ble_addr), KWT_BLE_ADDR_FMT,
		    (unsigned)(i + 1));
		argv[n++] = "--ble";
		argv[n++] = "--bus";
		argv[n++] = env->bus_addr;
		argv[n++] = "--address";
		argv[n++] = t->ble_addr;
		if (env->opt.ble_faults != NULL) {
			argv[n++] = "--faults";
			argv[n++] = (char *)env->opt.ble_faults;
		}
		break;
	}
	if (t->fresh) {
		argv[n++] = "--serial";
		argv[n++] = serial;
		if (env->opt.firmware != NULL) {
			argv[n++] = "--version";
			argv[n++] = (char *)env->opt.firmware;
		}
	}
	if (env->ca_cert[0] != '\0') {
		argv[n++] = "--attest-ca-cert";
		argv[n++] = env->ca_cert;
		argv[n++] = "--attest-ca-key";
		argv[n++] = env->ca_key;
	}
	argv[n] = NULL;
	kwt_vmsg(env, "token %d (%s): %s, %s", i, kwt_kind_name(t->kind),
	    env->vcard, t->kind == KWT_KIND_MODEM ? t->modem :
	    t->kind == KWT_KIND_BLE ? t->ble_addr : t->reader);
	if (kwt_proc_spawn(&t->proc, argv, t->log, KWT_SPAWN_DAEMON) != 0)
		return -1;
	kwt_token_write_pid(env, t);
	return 0;
}

/* 1 when every vpcd token's reader shows a responsive card, every
 * modem token's pty link exists and the BLE token owns org.bluez. */
static int
kwt_tokens_present(struct kwt_env *env, SCARDCONTEXT ctx)
{
	SCARD_READERSTATE st[KWT_MAX_TOKENS];
	DWORD i, n = 0;

	memset(st, 0, sizeof(st));
	for (i = 0; i < (DWORD)env->opt.tokens; i++) {
		if (env->tok[i].kind == KWT_KIND_MODEM) {
			if (access(env->tok[i].modem, F_OK) != 0)
				return 0;
			continue;
		}
		if (env->tok[i].kind == KWT_KIND_BLE) {
			if (!kwt_dbus_has_bluez(env))
				return 0;
			continue;
		}
		st[n].szReader = env->tok[i].reader;
		st[n++].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	if (n == 0)
		return 1;
	if (ctx == 0 || SCardGetStatusChange(ctx, 0, st, n) != SCARD_S_SUCCESS)
		return 0;
	for (i = 0; i < n; i++)
		if (!(st[i].dwEventState & SCARD_STATE_PRESENT) ||
		    (st[i].dwEventState & SCARD_STATE_MUTE))
			return 0;
	return 1;
}

static int
kwt_tokens_check_alive(struct kwt_env *env)
{
	char how[128];
	int i;

	if (env->pcscd.reaped) {
		kwt_proc_describe(&env->pcscd, how, sizeof(how));
		kwt_msg("pcscd %s while the tokens started", how);
		return -1;
	}
	for (i = 0; i < env->opt.tokens; i++) {
		if (!env->tok[i].proc.reaped)
			continue;
		kwt_proc_describe(&env->tok[i].proc, how, sizeof(how));
		kwt_msg("token %d (%s) %s at start-up", i, env->vcard, how);
		kwt_log_tail(env->tok[i].log, "keyward-vcard");
		return -1;
	}
	return 0;
}

static void
kwt_tokens_report_missing(struct kwt_env *env, SCARDCONTEXT ctx)
{
	char buf[2048];
	DWORD len = sizeof(buf);
	const char *r;

	kwt_msg("the tokens did not all appear in PC/SC within %d ms",
	    KWT_READY_TIMEOUT_MS);
	if (ctx != 0 && SCardListReaders(ctx, NULL, buf, &len) ==
	    SCARD_S_SUCCESS) {
		for (r = buf; *r != '\0'; r += strlen(r) + 1)
			kwt_msg("  reader: %.128s", r);
	}
	kwt_log_tail(env->tok[0].log, "keyward-vcard token 0");
}

int
kwt_tokens_wait_ready(struct kwt_env *env)
{
	long long deadline = kwt_now_ms() + KWT_READY_TIMEOUT_MS;
	SCARDCONTEXT ctx = 0;
	int rc = -1;

	while (kwt_now_ms() < deadline) {
		if (kwt_tokens_check_alive(env) != 0 || env->got_signal)
			goto out;
		if (ctx == 0 && SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL,
		    NULL, &ctx) != SCARD_S_SUCCESS)
			ctx = 0;
		if (kwt_tokens_present(env, ctx)) {
			rc = 0;
			goto out;
		}
		kwt_proc_wait_event(env, 50);
	}
	kwt_tokens_report_missing(env, ctx);
out:
	if (ctx != 0)
		SCardReleaseContext(ctx);
	return rc;
}
