/* keyward-testenv: run a command next to a private pcscd, the vpcd driver
 * and N keyward-vcard virtual tokens; stop everything afterwards and exit
 * with the command's status. See usage() and testenv.h. */
#include "testenv.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char kwt_usage_text[] =
"usage: keyward-testenv run [OPTIONS] -- COMMAND [ARGS...]\n"
"       keyward-testenv shell [OPTIONS]\n"
"\n"
"Runs COMMAND with a private pcscd (own mount and network namespace: the\n"
"host's pcscd is neither seen nor disturbed, vpcd is reachable only on the\n"
"namespace's loopback), pcsc-lite's vpcd reader driver and N virtual PIV\n"
"tokens (keyward-vcard); then stops them and exits with COMMAND's status\n"
"(128+N if it died of signal N, 124 on --timeout, 125 if this machine\n"
"lacks what it needs: namespaces, pcscd, the vpcd driver, keyward-vcard;\n"
"1 if pcscd or a token failed, at start or while COMMAND ran).\n"
"Processes COMMAND leaves running are ended with it. `shell` runs $SHELL\n"
"the same way.\n"
"\n"
"Options:\n"
"  -n, --tokens N       number of virtual tokens, 1..16 (default 1)\n"
"      --token-kind LIST  pcsc (default: a PIV card in a reader), uicc (a SIM\n"
"                       in a reader: PIV on logical channels), modem (AT\n"
"                       commands on a pty, no reader) or ble (a bonded BLE\n"
"                       device behind an emulated BlueZ on a private D-Bus\n"
"                       bus; one per run); comma separated, one per token,\n"
"                       the last one repeats\n"
"      --firmware X.Y.Z firmware version of new tokens (5.7+: RSA-3072/4096)\n"
"      --modem-quirks LIST  quirks of the modem tokens (keyward-vcard:\n"
"                       bare-ccho, no-cgla, urc, slow)\n"
"      --ble-faults LIST  faults of the BLE token at start (keyward-vcard\n"
"                       --faults: mtu=N, drop-notify=N, delay=MS, ...)\n"
"  -d, --state-dir DIR  keep token states, traces and logs in DIR (reused\n"
"                       by later runs; never removed)\n"
"  -a, --attest-ca      create a test attestation CA (DIR/attest-ca.pem and\n"
"                       .key) and give it to every token\n"
"  -k, --keep           keep the temporary directory and print its path\n"
"  -t, --timeout SECS   kill COMMAND after SECS seconds (exit status 124)\n"
"      --no-namespace   use the host's /run/pcscd (only when no pcscd runs\n"
"                       there; vpcd then listens on all interfaces)\n"
"  -v, --verbose        say what is started\n"
"  -h, --help           this text\n"
"      --version        print the version\n"
"\n"
"COMMAND's environment:\n"
"  KEYWARD_TESTENV_DIR         the state directory: token-I.state,\n"
"                              token-I.trace (one '>' line per APDU),\n"
"                              token-I.log, token-I.pid, pcscd.log\n"
"  KEYWARD_TESTENV_TOKENS      N\n"
"  KEYWARD_TESTENV_KIND_I      pcsc, uicc, modem or ble\n"
"  KEYWARD_TESTENV_READER_I    PC/SC reader name of token I (0-based; pcsc,\n"
"                              uicc)\n"
"  KEYWARD_TESTENV_PORT_I      its vpcd port on 127.0.0.1 (pcsc, uicc)\n"
"  KEYWARD_TESTENV_MODEM_I     the modem's pty (modem)\n"
"  KEYWARD_TESTENV_BLE_I       the device's Bluetooth address (ble)\n"
"  KEYWARD_TESTENV_SERIAL_I    its serial (tokens created by this run)\n"
"  KEYWARD_TESTENV_URI_I       its keyward transport URI (pcsc:READER,\n"
"                              uicc:pcsc:READER, at:MODEM or ble:ADDR)\n"
"  KEYWARD_UICC_READERS, KEYWARD_MODEM_PORTS\n"
"                              the uicc readers and modem ports (';'-\n"
"                              separated), so that keyward finds them\n"
"  KEYWARD_BLE_BUS             the private bus with the BLE token (ble)\n"
"                              (busctl --address=$KEYWARD_BLE_BUS call\n"
"                              org.bluez /org/keyward/vcardble\n"
"                              org.keyward.VcardBle1 SetFaults s LIST)\n"
"  KEYWARD_LOCK_DIR            DIR/lock, the transports' lock files (unless\n"
"                              set: /run/lock may be hidden here)\n"
"  KEYWARD_TESTENV_VCARD       the keyward-vcard executable\n"
"  KEYWARD_TESTENV_ATTEST_CA   the attestation CA certificate (--attest-ca)\n"
"\n"
"keyward-vcard is $KEYWARD_VCARD, else next to this program (or in\n"
"../vcard/ of a build tree), else found in PATH. Needs pcscd and\n"
"vsmartcard-vpcd (Debian: apt-get install pcscd vsmartcard-vpcd), and\n"
"dbus-daemon for a ble token;\n"
"$KEYWARD_PCSCD and $KEYWARD_VPCD_DRIVER override their paths.\n"
"$KEYWARD_TESTENV_TOKEN_KIND and $KEYWARD_TESTENV_MODEM_QUIRKS are the\n"
"defaults of --token-kind and --modem-quirks (a whole suite on SIM tokens).\n";

enum { KWT_OPT_NO_NS = 256, KWT_OPT_VERSION, KWT_OPT_KIND, KWT_OPT_FIRMWARE,
	KWT_OPT_QUIRKS, KWT_OPT_BLE_FAULTS };

static const struct option kwt_longopts[] = {
	{ "tokens", required_argument, NULL, 'n' },
	{ "token-kind", required_argument, NULL, KWT_OPT_KIND },
	{ "firmware", required_argument, NULL, KWT_OPT_FIRMWARE },
	{ "modem-quirks", required_argument, NULL, KWT_OPT_QUIRKS },
	{ "ble-faults", required_argument, NULL, KWT_OPT_BLE_FAULTS },
	{ "state-dir", required_argument, NULL, 'd' },
	{ "attest-ca", no_argument, NULL, 'a' },
	{ "keep", no_argument, NULL, 'k' },
	{ "timeout", required_argument, NULL, 't' },
	{ "no-namespace", no_argument, NULL, KWT_OPT_NO_NS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, KWT_OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void
kwt_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("keyward-testenv: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
kwt_vmsg(const struct kwt_env *env, const char *fmt, ...)
{
	va_list ap;

	if (!env->opt.verbose)
		return;
	fputs("keyward-testenv: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
kwt_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* 0: parsed; 1: --help/--version done; -1: usage error. */
static int
kwt_parse_opt(struct kwt_opts *o, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case 'n':
		if (kwt_parse_uint(arg, KWT_MAX_TOKENS, &v) != 0 || v == 0) {
			kwt_msg("--tokens: 1..%d", KWT_MAX_TOKENS);
			return -1;
		}
		o->tokens = (int)v;
		return 0;
	case 't':
		if (kwt_parse_uint(arg, 86400, &v) != 0 || v == 0) {
			kwt_msg("--timeout: seconds, 1..86400");
			return -1;
		}
		o->timeout_s = (unsigned)v;
		return 0;
	case 'd': o->state_dir = arg; return 0;
	case KWT_OPT_KIND: o->kinds = arg; return 0;
	case KWT_OPT_FIRMWARE: o->firmware = arg; return 0;
	case KWT_OPT_QUIRKS: o->modem_quirks = arg; return 0;
	case KWT_OPT_BLE_FAULTS: o->ble_faults = arg; return 0;
	case 'a': o->attest_ca = 1; return 0;
	case 'k': o->keep = 1; return 0;
	case 'v': o->verbose = 1; return 0;
	case KWT_OPT_NO_NS: o->no_namespace = 1; return 0;
	case 'h': fputs(kwt_usage_text, stdout); return 1;
	case KWT_OPT_VERSION: printf("keyward-testenv %s\n", PACKAGE_VERSION);
		return 1;
	default: return -1;
	}
}

static char *kwt_shell_argv[2];

/* Defaults from the environment, so that a whole suite runs on other
 * token kinds unchanged: KEYWARD_TESTENV_TOKEN_KIND=uicc make check. */
static void
kwt_env_defaults(struct kwt_opts *o)
{
	const char *v;

	if (o->kinds == NULL && (v = getenv("KEYWARD_TESTENV_TOKEN_KIND")) != NULL && *v)
		o->kinds = v;
	if (o->modem_quirks == NULL && (v = getenv("KEYWARD_TESTENV_MODEM_QUIRKS")) != NULL &&
	    *v)
		o->modem_quirks = v;
}

/* argv[1] is the verb. Returns 0, 1 (help shown) or -1. */
static int
kwt_parse_args(struct kwt_opts *o, int argc, char **argv)
{
	int c, rc, shell;
	const char *sh;

	if (argc < 2)
		goto usage;
	if (strcmp(argv[1], "--version") == 0)
		return kwt_parse_opt(o, KWT_OPT_VERSION, NULL);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return kwt_parse_opt(o, 'h', NULL);
	shell = strcmp(argv[1], "shell") == 0;
	o->shell = shell;
	if (!shell && strcmp(argv[1], "run") != 0) {
		kwt_msg("unknown command \"%.32s\" (run or shell)", argv[1]);
		goto usage;
	}
	o->tokens = 1;
	optind = 2;
	while ((c = getopt_long(argc, argv, "+n:d:akt:vh", kwt_longopts,
	    NULL)) != -1)
		if ((rc = kwt_parse_opt(o, c, optarg)) != 0)
			return rc < 0 ? -1 : 1;
	if (shell && optind == argc) {
		kwt_env_defaults(o);
		sh = getenv("SHELL");
		kwt_shell_argv[0] = (char *)(sh != NULL && *sh ? sh : "/bin/sh");
		o->cmd = kwt_shell_argv;
		return 0;
	}
	if (shell || optind == argc) {
		kwt_msg(shell ? "shell takes no COMMAND" : "run needs a COMMAND");
		goto usage;
	}
	o->cmd = argv + optind;
	kwt_env_defaults(o);
	return 0;
usage:
	fputs(kwt_usage_text, stderr);
	return -1;
}

/* KEYWARD_TESTENV_URI_i, and the lists keyward's uicc and at transports
 * read (kw_config.h), so that COMMAND's keyward finds SIM tokens. */
static int
kwt_export_sim(struct kwt_env *env)
{
	char name[64], uri[PATH_MAX + 16];
	char uicc[KWT_MAX_TOKENS * 130 + 1] = "", modems[KWT_MAX_TOKENS * 256] = "";
	size_t lu = 0, lm = 0;
	int i, rc = 0;

	for (i = 0; i < env->opt.tokens; i++) {
		const struct kwt_token *t = &env->tok[i];

		if (t->kind == KWT_KIND_BLE) {
			snprintf(uri, sizeof(uri), "ble:%s", t->ble_addr);
		} else if (t->kind == KWT_KIND_MODEM) {
			snprintf(uri, sizeof(uri), "at:%s", t->modem);
			if (lm + strlen(t->modem) + 2 < sizeof(modems))
				lm += (size_t)snprintf(modems + lm, sizeof(modems) - lm, "%s;",
				    t->modem);
		} else {
			snprintf(uri, sizeof(uri), "%s%s", t->kind == KWT_KIND_UICC ?
			    "uicc:pcsc:" : "pcsc:", t->reader);
			if (t->kind == KWT_KIND_UICC &&
			    lu + strlen(t->reader) + 2 < sizeof(uicc))
				lu += (size_t)snprintf(uicc + lu, sizeof(uicc) - lu, "%s;",
				    t->reader);
		}
		snprintf(name, sizeof(name), "KEYWARD_TESTENV_URI_%d", i);
		rc |= setenv(name, uri, 1);
	}
	rc |= lu > 0 ? setenv("KEYWARD_UICC_READERS", uicc, 1) : 0;
	rc |= lm > 0 ? setenv("KEYWARD_MODEM_PORTS", modems, 1) : 0;
	rc |= env->bus_addr[0] != '\0' ? setenv("KEYWARD_BLE_BUS", env->bus_addr, 1) : 0;
	return rc;
}

static int
kwt_export(struct kwt_env *env)
{
	char name[64], val[64];
	int i, rc = 0;

	snprintf(val, sizeof(val), "%d", env->opt.tokens);
	rc |= setenv("KEYWARD_TESTENV_DIR", env->dir, 1);
	if (getenv("KEYWARD_LOCK_DIR") == NULL) {
		char lockdir[sizeof(env->dir) + 8];

		snprintf(lockdir, sizeof(lockdir), "%s/lock", env->dir);
		if (mkdir(lockdir, 0755) == 0 || errno == EEXIST)
			rc |= setenv("KEYWARD_LOCK_DIR", lockdir, 1);
	}
	rc |= setenv("KEYWARD_TESTENV_TOKENS", val, 1);
	rc |= setenv("KEYWARD_TESTENV_VCARD", env->vcard, 1);
	if (env->ca_cert[0] != '\0')
		rc |= setenv("KEYWARD_TESTENV_ATTEST_CA", env->ca_cert, 1);
	for (i = 0; i < env->opt.tokens; i++) {
		const struct kwt_token *t = &env->tok[i];

		int modem = t->kind == KWT_KIND_MODEM, ble = t->kind == KWT_KIND_BLE;

		snprintf(name, sizeof(name), "KEYWARD_TESTENV_KIND_%d", i);
		rc |= setenv(name, kwt_kind_name(t->kind), 1);
		snprintf(name, sizeof(name), "KEYWARD_TESTENV_READER_%d", i);
		rc |= modem || ble ? unsetenv(name) : setenv(name, t->reader, 1);
		snprintf(name, sizeof(name), "KEYWARD_TESTENV_PORT_%d", i);
		snprintf(val, sizeof(val), "%d", t->port);
		rc |= modem || ble ? unsetenv(name) : setenv(name, val, 1);
		snprintf(name, sizeof(name), "KEYWARD_TESTENV_BLE_%d", i);
		rc |= ble ? setenv(name, t->ble_addr, 1) : unsetenv(name);
		snprintf(name, sizeof(name), "KEYWARD_TESTENV_MODEM_%d", i);
		rc |= modem ? setenv(name, t->modem, 1) : unsetenv(name);
		snprintf(name, sizeof(name), "KEYWARD_TESTENV_SERIAL_%d", i);
		snprintf(val, sizeof(val), "%lu", t->serial);
		rc |= t->fresh ? setenv(name, val, 1) : unsetenv(name);
	}
	rc |= kwt_export_sim(env);
	return rc == 0 ? 0 : -1;
}

/* 0, or the exit status: KWT_EXIT_SETUP when this machine lacks what a
 * testenv needs (namespaces, pcscd, the vpcd driver, keyward-vcard),
 * KWT_EXIT_FAILED when pcscd or a token failed to start (a bug to see,
 * not an environment to skip). */
static int
kwt_setup(struct kwt_env *env, const char *argv0)
{
	int i;

	if (kwt_kinds_parse(env) != 0)
		return KWT_EXIT_USAGE;
	if (kwt_ns_enter(&env->opt) != 0 || kwt_dir_setup(env) != 0 ||
	    kwt_vcard_find(env, argv0) != 0 || kwt_pcscd_write_conf(env) != 0)
		return KWT_EXIT_SETUP;
	if (env->opt.attest_ca && kwt_ca_create(env) != 0)
		return KWT_EXIT_FAILED;
	if (kwt_pcscd_start(env) != 0)
		return env->pcscd.pid > 0 ? KWT_EXIT_FAILED : KWT_EXIT_SETUP;
	if (kwt_dbus_needed(env) && kwt_dbus_start(env) != 0)
		return env->dbus.pid > 0 ? KWT_EXIT_FAILED : KWT_EXIT_SETUP;
	for (i = 0; i < env->opt.tokens; i++)
		if (kwt_token_start(env, i) != 0)
			return KWT_EXIT_FAILED;
	if (kwt_tokens_wait_ready(env) != 0)
		return KWT_EXIT_FAILED;
	return kwt_export(env) == 0 ? 0 : KWT_EXIT_SETUP;
}

static void
kwt_banner(const struct kwt_env *env)
{
	int i;

	fprintf(stderr, "keyward-testenv: %d virtual token(s); state in %s\n",
	    env->opt.tokens, env->dir);
	for (i = 0; i < env->opt.tokens; i++) {
		const struct kwt_token *t = &env->tok[i];

		if (t->kind == KWT_KIND_MODEM)
			fprintf(stderr, "  token %d: modem on %s, trace %s\n",
			    i, t->modem, t->trace);
		else if (t->kind == KWT_KIND_BLE)
			fprintf(stderr, "  token %d: ble device %s on bus %s, "
			    "trace %s\n", i, t->ble_addr, env->bus_addr,
			    t->trace);
		else
			fprintf(stderr, "  token %d: %s in reader \"%s\", "
			    "vpcd port %d, trace %s\n", i,
			    kwt_kind_name(t->kind), t->reader, t->port,
			    t->trace);
	}
	fprintf(stderr, "keyward-testenv: exit the shell to stop them\n");
}

/* Run COMMAND to its end; forward our signals to its process group. */
static int
kwt_run_command(struct kwt_env *env)
{
	long long deadline = 0;
	int timed_out = 0;

	if (env->opt.shell)
		kwt_banner(env);
	if (kwt_proc_spawn(&env->cmd, env->opt.cmd, NULL,
	    KWT_SPAWN_SEARCH) != 0)
		return -1;
	kwt_proc_take_terminal(env->cmd.pid);
	if (env->opt.timeout_s > 0)
		deadline = kwt_now_ms() + 1000LL * env->opt.timeout_s;
	while (!env->cmd.reaped && !timed_out) {
		kwt_proc_wait_event(env, deadline ? 200 : -1);
		if (env->got_signal) {
			kill(-env->cmd.pid, env->got_signal);
			env->got_signal = 0;
		}
		if (deadline && kwt_now_ms() >= deadline)
			timed_out = !env->cmd.reaped;
	}
	kwt_proc_give_back_terminal();
	if (timed_out)
		kwt_msg("COMMAND timed out after %u s: stopping it",
		    env->opt.timeout_s);
	return timed_out;
}

static int
kwt_exit_status(const struct kwt_proc *p)
{
	if (WIFEXITED(p->status))
		return WEXITSTATUS(p->status);
	if (WIFSIGNALED(p->status))
		return 128 + WTERMSIG(p->status);
	return KWT_EXIT_SETUP;
}

/* Report daemons that crashed or failed; 1 if any did. */
static int
kwt_report_daemons(const struct kwt_env *env)
{
	char how[128];
	int i, bad = 0;

	for (i = 0; i < env->opt.tokens; i++) {
		const struct kwt_token *t = &env->tok[i];

		if (!kwt_proc_abnormal(&t->proc))
			continue;
		kwt_proc_describe(&t->proc, how, sizeof(how));
		kwt_msg("token %d (keyward-vcard) %s", i, how);
		kwt_log_tail(t->log, "keyward-vcard");
		bad = 1;
	}
	if (kwt_proc_abnormal(&env->pcscd)) {
		kwt_proc_describe(&env->pcscd, how, sizeof(how));
		kwt_msg("pcscd %s", how);
		bad = 1;
	}
	return bad;
}

int
main(int argc, char **argv)
{
	static struct kwt_env env;
	int rc, status = KWT_EXIT_SETUP;

	rc = kwt_parse_args(&env.opt, argc, argv);
	if (rc != 0)
		return rc > 0 ? 0 : KWT_EXIT_USAGE;
	if (kwt_proc_init_signals() != 0) {
		kwt_msg("cannot block signals: %s", strerror(errno));
		return KWT_EXIT_SETUP;
	}
	status = kwt_setup(&env, argv[0]);
	if (status != 0)
		goto out;
	rc = kwt_run_command(&env);
	if (rc < 0) {
		status = KWT_EXIT_FAILED;
		goto out;
	}
	status = rc > 0 ? KWT_EXIT_TIMEOUT : kwt_exit_status(&env.cmd);
out:
	kwt_proc_stop_all(&env);
	if (kwt_report_daemons(&env) && status == 0) {
		kwt_msg("COMMAND succeeded but a token or pcscd failed");
		status = 1;
	}
	kwt_dir_cleanup(&env);
	return status;
}
