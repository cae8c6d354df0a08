/* keyward-vcard: command line and front-end selection (vcard_cli.h). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ble/vcble.h"
#include "kw_log.h"
#include "vcard_at.h"
#include "vcard_cli.h"
#include "vcard_io.h"
#include "vcard_token.h"

static volatile sig_atomic_t stop_flag;

static const char usage_text[] =
"usage: keyward-vcard --state FILE [--vpcd HOST:PORT] [--serial N] [--version X.Y.Z]\n"
"                     [--attest-ca-cert PEM --attest-ca-key PEM] [--trace FILE] [--once]\n"
"                     [--vpcd-faults LIST] [--uicc [--uicc-channels N]]\n"
"                     [--modem LINK [--modem-quirks LIST]\n"
"                      [--modem-faults LIST] [--modem-fault-at N] [--modem-fault-ins XX]\n"
"                      [--modem-late-ms N]]\n"
"                     [--ble [--bus ADDRESS] [--address AA:BB:CC:DD:EE:FF] [--mtu N]\n"
"                      [--faults LIST]]\n"
"\n"
"A virtual PIV token (SP 800-73-4 + YubiKey PIV extensions) for tests. It connects\n"
"to pcsc-lite's vpcd reader driver and answers like a YubiKey 5.\n"
"\n"
"  --state FILE        token state; created like a new YubiKey if absent (PIN 123456,\n"
"                      PUK 12345678, 3DES management key 0102..08 x3). The file holds\n"
"                      private keys, PIN and management key in clear (mode 0600):\n"
"                      a test token only.\n"
"  --vpcd HOST:PORT    where vpcd listens (default 127.0.0.1:35963); reconnects\n"
"                      every 200 ms when the connection drops\n"
"  --serial N          serial number (default: random 8 digits at creation)\n"
"  --version X.Y.Z     firmware version (default 5.4.3 at creation); 5.7+ enables\n"
"                      RSA-3072/4096, MOVE KEY, AES-192 default management key\n"
"  --attest-ca-cert PEM, --attest-ca-key PEM\n"
"                      CA that issues the F9 attestation certificate at creation\n"
"                      (default: self-signed)\n"
"  --trace FILE        append '> command' / '< response' per APDU, secrets redacted\n"
"  --once              exit 0 when the vpcd connection closes\n"
"  --vpcd-faults LIST  once, at the N-th command with instruction XX (hex):\n"
"                      pull=XX (the card is pulled when it arrives), pull-after=XX\n"
"                      (executed, then pulled unanswered), garble=XX (executed,\n"
"                      answered with a 1-byte frame); at=N (default 1), hold-ms=N\n"
"                      (a pulled card comes back after N ms, default 3000)\n"
"  --uicc              be a UICC (SIM): a telecom application (USIM) on the basic\n"
"                      channel, the PIV applet only on logical channels 1-19\n"
"                      (MANAGE CHANNEL); UICC ATR\n"
"  --uicc-channels N   offer logical channels 1..N only (default 19; many SIMs: 3)\n"
"  --modem LINK        be a cellular modem instead of a vpcd card: AT commands\n"
"                      (+CCHO/+CGLA/+CCHC/+CSIM/+CMEE) on a pseudo-terminal,\n"
"                      symlinked at LINK, in front of the UICC (implies --uicc)\n"
"  --modem-quirks LIST bare-ccho,no-cgla,urc,slow (comma separated)\n"
"  --modem-faults LIST garbage,error-mid,no-reply,vanish,late: each once, at the N-th\n"
"                      APDU command (CGLA/CSIM); also KEYWARD_VCARD_MODEM_FAULTS\n"
"  --modem-fault-at N  N for --modem-faults (default 1; KEYWARD_VCARD_MODEM_FAULT_AT)\n"
"  --modem-fault-ins XX count only APDU commands with instruction XX (hex), e.g. 87\n"
"  --modem-late-ms N   delay of the late fault's reply (default 3000; the command\n"
"                      runs at once, its reply comes after N ms)\n"
"  --ble               be a bonded Bluetooth LE token instead of a vpcd card: own\n"
"                      org.bluez on a D-Bus bus and serve BlueZ-shaped Adapter1,\n"
"                      Device1, GattService1/Characteristic1 objects offering\n"
"                      keyward's GATT profile (docs/ble-profile.md); use a private bus\n"
"  --bus ADDRESS       D-Bus address (unix:path=...), 'session' (default) or 'system'\n"
"  --address ADDR      the device's Bluetooth address (default C0:FF:EE:00:00:01)\n"
"  --mtu N             ATT MTU 23..517 (default 185); control-point length N-3,\n"
"                      capped at 512\n"
"  --faults LIST       BLE faults: mtu=N, drop-notify=N, disconnect-after=N,\n"
"                      disconnect-on-ins=HH, delay=MS, keepalive=MS, not-bonded,\n"
"                      adapter-off, no-service, connect-fail, ignore-cancel,\n"
"                      no-acquire (a BlueZ without AcquireNotify/AcquireWrite),\n"
"                      no-wwr (no write-without-response), stray=ping|cont|acquire,\n"
"                      none\n"
"                      (tools/vcard/ble/vcble.h); also at run time: busctl call\n"
"                      org.bluez /org/keyward/vcardble org.keyward.VcardBle1\n"
"                      SetFaults s LIST\n"
"  --help              this text\n"
"\n"
"keyward-vcard-ble is keyward-vcard --ble.\n"
"SIGTERM/SIGINT: save the state, drop the connection (card removed; BLE: release\n"
"org.bluez), exit 0.\n";

typedef struct opts {
	vcard_token_opts tok;
	char *host;
	const char *port;
	const char *trace;
	bool once, vpcd_given;
	bool uicc;
	unsigned channels;
	const char *modem;
	unsigned quirks, faults, fault_at, late_ms, fault_ins;
	vcard_vpcd_faults vpcd_f;
	bool ble;
	const char *bus, *address, *ble_faults;
	unsigned mtu;
	vcble_faults ble_f;
} opts;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int
parse_uint(const char *prog, const char *what, const char *s, unsigned long lo,
    unsigned long hi, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *s == '\0' || *s == '-' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "%s: %s wants %lu..%lu\n", prog, what, lo, hi);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
parse_modem_faults(opts *o, const char *faults, const char *at)
{
	o->fault_at = 1;
	if (faults != NULL && vcard_at_parse_faults(faults, &o->faults) != KW_OK) {
		fprintf(stderr, "%s: bad --modem-faults '%.64s'\n", o->tok.prog, faults);
		return -1;
	}
	if (at != NULL && parse_uint(o->tok.prog, "--modem-fault-at", at, 1, 1000000,
	    &o->fault_at) != 0)
		return -1;
	return 0;
}

static int
parse_ble_faults(opts *o)
{
	char err[96];

	vcble_faults_default(&o->ble_f);
	if (o->mtu != 0)
		o->ble_f.mtu = o->mtu;
	if (o->ble_faults != NULL &&
	    vcble_faults_parse(o->ble_faults, &o->ble_f, err, sizeof(err)) != KW_OK) {
		fprintf(stderr, "%s: --faults: %s\n", o->tok.prog, err);
		return -1;
	}
	return 0;
}

static int
parse_vpcd(opts *o, const char *vpcd)
{
	const char *colon = strrchr(vpcd, ':');

	if (colon == NULL || colon == vpcd || colon[1] == '\0') {
		fprintf(stderr, "%s: --vpcd wants HOST:PORT\n", o->tok.prog);
		return -1;
	}
	if (vpcd[0] == '[' && colon[-1] == ']')   /* [::1]:35963 */
		o->host = strndup(vpcd + 1, (size_t)(colon - vpcd - 2));
	else
		o->host = strndup(vpcd, (size_t)(colon - vpcd));
	o->port = colon + 1;
	return o->host != NULL ? 0 : -1;
}

static bool
addr_ok(const char *s)
{
	size_t i;

	if (strlen(s) != 17)
		return false;
	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return false;
	return true;
}

/* Options that do not fit the chosen front-end. */
static int
check_modes(const opts *o)
{
	const char *p = o->tok.prog;

	if (o->ble && (o->uicc || o->vpcd_given || o->once)) {
		fprintf(stderr, "%s: --ble does not go with --vpcd, --once, --uicc or --modem\n", p);
		return -1;
	}
	if (!o->ble && (o->bus != NULL || o->address != NULL || o->mtu != 0 ||
	    o->ble_faults != NULL)) {
		fprintf(stderr, "%s: --bus, --address, --mtu and --faults need --ble\n", p);
		return -1;
	}
	if (o->address != NULL && !addr_ok(o->address)) {
		fprintf(stderr, "%s: --address wants AA:BB:CC:DD:EE:FF\n", p);
		return -1;
	}
	return 0;
}

static int
parse_opt(opts *o, int ch, const char **vpcd, const char **faults, const char **fault_at)
{
	switch (ch) {
	case 's': o->tok.state = optarg; break;
	case 'p': *vpcd = optarg; o->vpcd_given = true; break;
	case 'n': o->tok.serial = optarg; break;
	case 'V': o->tok.version = optarg; break;
	case 'c': o->tok.ca_cert = optarg; break;
	case 'k': o->tok.ca_key = optarg; break;
	case 't': o->trace = optarg; break;
	case 'o': o->once = true; break;
	case 'u': o->uicc = true; break;
	case 'C':
		o->uicc = true;
		return parse_uint(o->tok.prog, "--uicc-channels", optarg, 1, 19,
		    &o->channels);
	case 'm': o->modem = optarg; o->uicc = true; break;
	case 'Q':
		if (vcard_at_parse_quirks(optarg, &o->quirks) != KW_OK) {
			fprintf(stderr, "%s: bad --modem-quirks '%.64s'\n", o->tok.prog, optarg);
			return -1;
		}
		break;
	case 'F': *faults = optarg; break;
	case 'A': *fault_at = optarg; break;
	case 'P':
		if (vcard_vpcd_parse_faults(optarg, &o->vpcd_f) != KW_OK) {
			fprintf(stderr, "%s: bad --vpcd-faults '%.64s'\n", o->tok.prog, optarg);
			return -1;
		}
		break;
	case 'I':
		if (strlen(optarg) != 2 || !isxdigit((unsigned char)optarg[0]) ||
		    !isxdigit((unsigned char)optarg[1])) {
			fprintf(stderr, "%s: --modem-fault-ins wants two hex digits\n", o->tok.prog);
			return -1;
		}
		o->fault_ins = (unsigned)strtoul(optarg, NULL, 16) | 0x100u;
		break;
	case 'L': return parse_uint(o->tok.prog, "--modem-late-ms", optarg, 1, 600000, &o->late_ms);
	case 'B': o->ble = true; break;
	case 'b': o->bus = optarg; break;
	case 'a': o->address = optarg; break;
	case 'M': return parse_uint(o->tok.prog, "--mtu", optarg, 23, 517, &o->mtu);
	case 'f': o->ble_faults = optarg; break;
	case 'h': fputs(usage_text, stdout); exit(0);
	default: return -1;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, opts *o)
{
	static const struct option lo[] = {
		{ "state", required_argument, NULL, 's' },
		{ "vpcd", required_argument, NULL, 'p' },
		{ "serial", required_argument, NULL, 'n' },
		{ "version", required_argument, NULL, 'V' },
		{ "attest-ca-cert", required_argument, NULL, 'c' },
		{ "attest-ca-key", required_argument, NULL, 'k' },
		{ "trace", required_argument, NULL, 't' },
		{ "once", no_argument, NULL, 'o' },
		{ "uicc", no_argument, NULL, 'u' },
		{ "uicc-channels", required_argument, NULL, 'C' },
		{ "modem", required_argument, NULL, 'm' },
		{ "modem-quirks", required_argument, NULL, 'Q' },
		{ "modem-faults", required_argument, NULL, 'F' },
		{ "modem-fault-at", required_argument, NULL, 'A' },
		{ "modem-late-ms", required_argument, NULL, 'L' },
		{ "modem-fault-ins", required_argument, NULL, 'I' },
		{ "vpcd-faults", required_argument, NULL, 'P' },
		{ "ble", no_argument, NULL, 'B' },
		{ "bus", required_argument, NULL, 'b' },
		{ "address", required_argument, NULL, 'a' },
		{ "mtu", required_argument, NULL, 'M' },
		{ "faults", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *vpcd = "127.0.0.1:35963";
	const char *faults = getenv("KEYWARD_VCARD_MODEM_FAULTS");
	const char *fault_at = getenv("KEYWARD_VCARD_MODEM_FAULT_AT");
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1)
		if (parse_opt(o, ch, &vpcd, &faults, &fault_at) != 0)
			return -1;
	if (optind != argc || o->tok.state == NULL) {
		fprintf(stderr, "%s: --state FILE is required\n", o->tok.prog);
		return -1;
	}
	if (check_modes(o) != 0 || parse_modem_faults(o, faults, fault_at) != 0)
		return -1;
	return o->ble ? parse_ble_faults(o) : parse_vpcd(o, vpcd);
}

/* Modem mode: serve AT commands on a pty until a signal or a vanish fault. */
static kw_rv
run_modem(vcard_uicc *uicc, const opts *o, vcard_trace *trace)
{
	vcard_modem_cfg mc;

	memset(&mc, 0, sizeof(mc));
	mc.link = o->modem;
	mc.quirks = o->quirks;
	mc.faults = o->faults;
	mc.fault_at = o->fault_at;
	mc.late_ms = o->late_ms;
	mc.fault_ins = (o->fault_ins & 0x100u) != 0 ? (int)(o->fault_ins & 0xffu) : -1;
	mc.trace = trace;
	mc.persist = vcard_token_persist;
	mc.persist_arg = (void *)o->tok.state;
	mc.stop = &stop_flag;
	return vcard_modem_run(uicc, &mc);
}

/* BLE mode: an emulated BlueZ on a D-Bus bus until a signal. */
static kw_rv
run_ble(vcard_card *c, const opts *o, vcard_trace *trace)
{
	vcble_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.faults = o->ble_f;
	cfg.bus = o->bus;
	cfg.address = o->address != NULL ? o->address : "C0:FF:EE:00:00:01";
	cfg.trace = trace;
	cfg.persist = vcard_token_persist;
	cfg.persist_arg = (void *)o->tok.state;
	cfg.stop = &stop_flag;
	return vcble_run(c, &cfg);
}

static kw_rv
run_vpcd(vcard_card *c, vcard_uicc *uicc, const opts *o, vcard_trace *trace)
{
	vcard_vpcd_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.uicc = uicc;
	cfg.host = o->host;
	cfg.port = o->port;
	cfg.once = o->once;
	cfg.faults = o->vpcd_f;
	cfg.trace = trace;
	cfg.persist = vcard_token_persist;
	cfg.persist_arg = (void *)o->tok.state;
	cfg.stop = &stop_flag;
	(void)vcard_vpcd_run(c, &cfg);
	return KW_OK;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static kw_rv
run(vcard_card *c, const opts *o, vcard_trace *trace)
{
	vcard_uicc *uicc = NULL;
	kw_rv rv = KW_ERR_NOMEM;

	if (o->uicc && (vcard_uicc_new(c, &uicc) != KW_OK ||
	    (o->channels > 0 && vcard_uicc_set_channels(uicc, (int)o->channels) != KW_OK)))
		goto fail;
	if (o->ble)
		rv = run_ble(c, o, trace);
	else if (o->modem != NULL)
		rv = run_modem(uicc, o, trace);
	else
		rv = run_vpcd(c, uicc, o, trace);
fail:
	vcard_uicc_free(&uicc);
	return rv;
}

int
vcard_cli_main(int argc, char **argv, bool ble_alias)
{
	opts o;
	vcard_card *c = NULL;
	vcard_trace *trace = NULL;
	X509 *ca_cert = NULL;
	EVP_PKEY *ca_key = NULL;
	int status = 1;

	memset(&o, 0, sizeof(o));
	o.tok.prog = ble_alias ? "keyward-vcard-ble" : "keyward-vcard";
	o.ble = ble_alias;
	kw_log_init(-1);
	if (parse_args(argc, argv, &o) != 0) {
		fputs(usage_text, stderr);
		goto done;
	}
	if (vcard_token_load_ca(&o.tok, &ca_cert, &ca_key) != 0 || vcard_card_new(&c) != KW_OK)
		goto done;
	c->attest_ca_cert = ca_cert;
	c->attest_ca_key = ca_key;
	if (vcard_token_open(c, &o.tok) != 0)
		goto done;
	if (o.trace != NULL && vcard_trace_open(&trace, o.trace) != KW_OK) {
		fprintf(stderr, "%s: cannot open trace %s\n", o.tok.prog, o.trace);
		goto done;
	}
	catch_signals();
	if (run(c, &o, trace) != KW_OK)
		goto done;
	if (vcard_token_persist(c, (void *)o.tok.state) != KW_OK) {
		fprintf(stderr, "%s: cannot write state %s\n", o.tok.prog, o.tok.state);
		goto done;
	}
	status = 0;
done:
	vcard_trace_close(&trace);
	vcard_card_free(&c);
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
	free(o.host);
	return status;
}
