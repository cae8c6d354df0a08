/* keyward-vcard: command line (contract: notes/vcard-cli.md, and --help). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/rand.h>

#include "vcard_at.h"
#include "vcard_io.h"
#include "kw_log.h"

static volatile sig_atomic_t stop_flag;

static const char usage_text[] =
"usage: keyward-vcard --state FILE [--vpcd HOST:PORT] [--serial N] [--version X.Y.Z]\n"
"                     [--attest-ca-cert PEM --attest-ca-key PEM] [--trace FILE] [--once]\n"
"                     [--uicc [--uicc-channels N]] [--modem LINK [--modem-quirks LIST]\n"
"                      [--modem-faults LIST] [--modem-fault-at N]]\n"
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
"  --uicc              be a UICC (SIM): a telecom application (USIM) on the basic\n"
"                      channel, the PIV applet only on logical channels 1-19\n"
"                      (MANAGE CHANNEL); UICC ATR\n"
"  --uicc-channels N   offer logical channels 1..N only (default 19; many SIMs: 3)\n"
"  --modem LINK        be a cellular modem instead of a vpcd card: AT commands\n"
"                      (+CCHO/+CGLA/+CCHC/+CSIM/+CMEE) on a pseudo-terminal,\n"
"                      symlinked at LINK, in front of the UICC (implies --uicc)\n"
"  --modem-quirks LIST bare-ccho,no-cgla,urc,slow (comma separated)\n"
"  --modem-faults LIST garbage,error-mid,no-reply,vanish: each once, at the N-th\n"
"                      APDU command (CGLA/CSIM); also KEYWARD_VCARD_MODEM_FAULTS\n"
"  --modem-fault-at N  N for --modem-faults (default 1; KEYWARD_VCARD_MODEM_FAULT_AT)\n"
"  --help              this text\n"
"\n"
"SIGTERM/SIGINT: save the state, drop the connection (card removed), exit 0.\n";

typedef struct opts {
	const char *state;
	char *host;
	const char *port;
	const char *serial;
	const char *version;
	const char *ca_cert;
	const char *ca_key;
	const char *trace;
	bool once;
	bool uicc;
	int channels;
	const char *modem;
	unsigned quirks, faults, fault_at;
} opts;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int
parse_faults(opts *o, const char *faults, const char *at)
{
	char *end;
	unsigned long n = 1;

	if (faults != NULL && vcard_at_parse_faults(faults, &o->faults) != KW_OK) {
		fprintf(stderr, "keyward-vcard: bad --modem-faults '%.64s'\n", faults);
		return -1;
	}
	if (at != NULL) {
		n = strtoul(at, &end, 10);
		if (*at == '\0' || *end != '\0' || n == 0 || n > 1000000) {
			fprintf(stderr, "keyward-vcard: bad --modem-fault-at '%.32s'\n", at);
			return -1;
		}
	}
	o->fault_at = (unsigned)n;
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static char vpcd_default[] = "127.0.0.1:35963";
	char *colon, *vpcd = vpcd_default;
	const char *faults = getenv("KEYWARD_VCARD_MODEM_FAULTS");
	const char *fault_at = getenv("KEYWARD_VCARD_MODEM_FAULT_AT");
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 's': o->state = optarg; break;
		case 'p': vpcd = optarg; break;
		case 'n': o->serial = optarg; break;
		case 'V': o->version = optarg; break;
		case 'c': o->ca_cert = optarg; break;
		case 'k': o->ca_key = optarg; break;
		case 't': o->trace = optarg; break;
		case 'o': o->once = true; break;
		case 'u': o->uicc = true; break;
		case 'C':
			o->channels = atoi(optarg);
			if (o->channels < 1 || o->channels > 19) {
				fprintf(stderr, "keyward-vcard: --uicc-channels wants 1..19\n");
				return -1;
			}
			o->uicc = true;
			break;
		case 'm': o->modem = optarg; o->uicc = true; break;
		case 'Q':
			if (vcard_at_parse_quirks(optarg, &o->quirks) != KW_OK) {
				fprintf(stderr, "keyward-vcard: bad --modem-quirks '%.64s'\n", optarg);
				return -1;
			}
			break;
		case 'F': faults = optarg; break;
		case 'A': fault_at = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: return -1;
		}
	}
	if (optind != argc || o->state == NULL) {
		fprintf(stderr, "keyward-vcard: --state FILE is required\n");
		return -1;
	}
	if (parse_faults(o, faults, fault_at) != 0)
		return -1;
	if ((o->ca_cert == NULL) != (o->ca_key == NULL)) {
		fprintf(stderr, "keyward-vcard: --attest-ca-cert and --attest-ca-key go together\n");
		return -1;
	}
	if ((colon = strrchr(vpcd, ':')) == NULL || colon == vpcd || colon[1] == '\0') {
		fprintf(stderr, "keyward-vcard: --vpcd wants HOST:PORT\n");
		return -1;
	}
	if (vpcd[0] == '[' && colon[-1] == ']')   /* [::1]:35963 */
		o->host = strndup(vpcd + 1, (size_t)(colon - vpcd - 2));
	else
		o->host = strndup(vpcd, (size_t)(colon - vpcd));
	o->port = colon + 1;
	return o->host != NULL ? 0 : -1;
}

static int
apply_serial(vcard_card *c, const char *s)
{
	char *end;
	unsigned long v;
	uint8_t r[4];

	if (s == NULL) {
		if (RAND_bytes(r, 4) != 1)
			return -1;
		v = ((unsigned long)r[0] << 24 | (unsigned long)r[1] << 16 | r[2] << 8 | r[3]);
		c->serial = (uint32_t)(10000000ul + v % 90000000ul);
		return 0;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v > 0xFFFFFFFFul) {
		fprintf(stderr, "keyward-vcard: bad --serial '%.32s'\n", s);
		return -1;
	}
	c->serial = (uint32_t)v;
	return 0;
}

static int
apply_version(vcard_card *c, const char *s)
{
	unsigned a, b, d;
	char extra;

	if (sscanf(s, "%u.%u.%u%c", &a, &b, &d, &extra) != 3 || a > 255 || b > 255 || d > 255) {
		fprintf(stderr, "keyward-vcard: bad --version '%.32s' (want X.Y.Z)\n", s);
		return -1;
	}
	c->version[0] = (uint8_t)a;
	c->version[1] = (uint8_t)b;
	c->version[2] = (uint8_t)d;
	return 0;
}

static int
load_ca(const opts *o, X509 **cert, EVP_PKEY **key)
{
	FILE *f;

	if (o->ca_cert == NULL)
		return 0;
	if ((f = fopen(o->ca_cert, "r")) == NULL || (*cert = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "keyward-vcard: cannot read CA certificate %s\n", o->ca_cert);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	if ((f = fopen(o->ca_key, "r")) == NULL ||
	    (*key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "keyward-vcard: cannot read CA key %s\n", o->ca_key);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static kw_rv
persist(vcard_card *c, void *arg)
{
	kw_rv rv = vcard_state_save(c, (const char *)arg);

	if (rv == KW_OK)
		c->dirty = false;
	return rv;
}

/* Load the state, or create a new token. */
static int
open_token(vcard_card *c, const opts *o)
{
	kw_rv rv = vcard_state_load(c, o->state);

	if (rv == KW_ERR_NOT_FOUND) {
		if (apply_serial(c, o->serial) != 0 ||
		    (o->version != NULL && apply_version(c, o->version) != 0))
			return -1;
		vc_mgmt_set_default(c);
		if (vc_attest_init(c) != KW_OK) {
			fprintf(stderr, "keyward-vcard: cannot create the attestation key\n");
			return -1;
		}
		c->dirty = true;
	} else if (rv != KW_OK) {
		fprintf(stderr, "keyward-vcard: cannot read state %s: %s\n", o->state, kw_strerror(rv));
		return -1;
	} else {
		if ((o->serial != NULL && apply_serial(c, o->serial) != 0) ||
		    (o->version != NULL && apply_version(c, o->version) != 0))
			return -1;
		c->dirty = o->serial != NULL || o->version != NULL;
	}
	if (c->dirty && persist(c, (void *)o->state) != KW_OK) {
		fprintf(stderr, "keyward-vcard: cannot write state %s\n", o->state);
		return -1;
	}
	return 0;
}

/* Modem mode: serve AT commands on a pty until a signal or a vanish fault. */
static int
run_modem(vcard_card *c, vcard_uicc *uicc, const opts *o, vcard_trace *trace)
{
	vcard_modem_cfg mc;

	memset(&mc, 0, sizeof(mc));
	mc.link = o->modem;
	mc.quirks = o->quirks;
	mc.faults = o->faults;
	mc.fault_at = o->fault_at;
	mc.trace = trace;
	mc.persist = persist;
	mc.persist_arg = (void *)o->state;
	mc.stop = &stop_flag;
	if (vcard_modem_run(uicc, &mc) != KW_OK)
		return 1;
	if (persist(c, (void *)o->state) != KW_OK) {
		fprintf(stderr, "keyward-vcard: cannot write state %s\n", o->state);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	opts o;
	vcard_card *c = NULL;
	vcard_trace *trace = NULL;
	vcard_uicc *uicc = NULL;
	vcard_vpcd_cfg cfg;
	struct sigaction sa;
	X509 *ca_cert = NULL;
	EVP_PKEY *ca_key = NULL;
	int status = 1;

	memset(&o, 0, sizeof(o));
	kw_log_init(-1);
	if (parse_args(argc, argv, &o) != 0) {
		fputs(usage_text, stderr);
		return 1;
	}
	if (load_ca(&o, &ca_cert, &ca_key) != 0 || vcard_card_new(&c) != KW_OK)
		goto done;
	c->attest_ca_cert = ca_cert;
	c->attest_ca_key = ca_key;
	if (open_token(c, &o) != 0)
		goto done;
	if (o.trace != NULL && vcard_trace_open(&trace, o.trace) != KW_OK) {
		fprintf(stderr, "keyward-vcard: cannot open trace %s\n", o.trace);
		goto done;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (o.uicc && (vcard_uicc_new(c, &uicc) != KW_OK ||
	    (o.channels > 0 && vcard_uicc_set_channels(uicc, o.channels) != KW_OK)))
		goto done;
	if (o.modem != NULL) {
		status = run_modem(c, uicc, &o, trace);
		goto done;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.uicc = uicc;
	cfg.host = o.host;
	cfg.port = o.port;
	cfg.once = o.once;
	cfg.trace = trace;
	cfg.persist = persist;
	cfg.persist_arg = (void *)o.state;
	cfg.stop = &stop_flag;
	(void)vcard_vpcd_run(c, &cfg);
	if (persist(c, (void *)o.state) != KW_OK) {
		fprintf(stderr, "keyward-vcard: cannot write state %s\n", o.state);
		goto done;
	}
	status = 0;
done:
	vcard_trace_close(&trace);
	vcard_uicc_free(&uicc);
	vcard_card_free(&c);
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
	free(o.host);
	return status;
}
