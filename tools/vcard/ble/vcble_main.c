/* keyward-vcard-ble: the virtual PIV token as a BLE device behind an
 * emulated BlueZ (vcble.h), with keyward-vcard's state-file options. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/rand.h>

#include "kw_log.h"
#include "vcble.h"

static volatile sig_atomic_t stop_flag;

static const char usage_text[] =
"usage: keyward-vcard-ble --state FILE [--bus ADDRESS] [--address AA:BB:CC:DD:EE:FF]\n"
"                         [--mtu N] [--faults LIST] [--serial N] [--version X.Y.Z]\n"
"                         [--attest-ca-cert PEM --attest-ca-key PEM] [--trace FILE]\n"
"\n"
"The virtual PIV token of keyward-vcard as a bonded Bluetooth LE device offering\n"
"keyward's GATT profile (docs/ble-profile.md), the way BlueZ presents it on D-Bus:\n"
"it owns the name org.bluez on the bus and serves Adapter1 /org/bluez/hci0, Device1,\n"
"GattService1 and GattCharacteristic1 objects. For tests: use a private bus.\n"
"\n"
"  --state FILE        token state, as keyward-vcard (created if absent; holds keys\n"
"                      and PINs in clear, mode 0600: a test token only)\n"
"  --bus ADDRESS       D-Bus address (unix:path=...), 'session' (default) or 'system'\n"
"  --address ADDR      the device's Bluetooth address (default C0:FF:EE:00:00:01)\n"
"  --mtu N             ATT MTU 23..517 (default 185); control-point length N-3,\n"
"                      capped at 512\n"
"  --faults LIST       drop-notify=N, disconnect-after=N, disconnect-on-ins=HH,\n"
"                      delay=MS, keepalive=MS,\n"
"                      not-bonded, adapter-off, no-service, connect-fail,\n"
"                      ignore-cancel (see\n"
"                      tools/vcard/ble/vcble.h); also settable at run time:\n"
"                      busctl call org.bluez /org/keyward/vcardble\n"
"                        org.keyward.VcardBle1 SetFaults s LIST\n"
"  --serial N, --version X.Y.Z, --attest-ca-cert PEM, --attest-ca-key PEM,\n"
"  --trace FILE        as keyward-vcard\n"
"  --help              this text\n"
"\n"
"SIGTERM/SIGINT: save the state, release org.bluez, exit 0.\n";

typedef struct opts {
	const char *state, *bus, *address, *faults, *serial, *version;
	const char *ca_cert, *ca_key, *trace;
	unsigned mtu;
} opts;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int
parse_args(int argc, char **argv, opts *o)
{
	static const struct option lo[] = {
		{ "state", required_argument, NULL, 's' },
		{ "bus", required_argument, NULL, 'b' },
		{ "address", required_argument, NULL, 'a' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "faults", required_argument, NULL, 'f' },
		{ "serial", required_argument, NULL, 'n' },
		{ "version", required_argument, NULL, 'V' },
		{ "attest-ca-cert", required_argument, NULL, 'c' },
		{ "attest-ca-key", required_argument, NULL, 'k' },
		{ "trace", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	unsigned long v;
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 's': o->state = optarg; break;
		case 'b': o->bus = optarg; break;
		case 'a': o->address = optarg; break;
		case 'f': o->faults = optarg; break;
		case 'n': o->serial = optarg; break;
		case 'V': o->version = optarg; break;
		case 'c': o->ca_cert = optarg; break;
		case 'k': o->ca_key = optarg; break;
		case 't': o->trace = optarg; break;
		case 'm':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 23 || v > 517) {
				fprintf(stderr, "keyward-vcard-ble: --mtu wants 23..517\n");
				return -1;
			}
			o->mtu = (unsigned)v;
			break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: return -1;
		}
	}
	if (optind != argc || o->state == NULL) {
		fprintf(stderr, "keyward-vcard-ble: --state FILE is required\n");
		return -1;
	}
	if ((o->ca_cert == NULL) != (o->ca_key == NULL)) {
		fprintf(stderr, "keyward-vcard-ble: --attest-ca-cert and --attest-ca-key go together\n");
		return -1;
	}
	return 0;
}

static bool
addr_ok(const char *s)
{
	size_t i;

	if (strlen(s) != 17)
		return false;
	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : strchr("0123456789abcdefABCDEF", s[i]) == NULL ||
		    s[i] == '\0')
			return false;
	return true;
}

static int
apply_serial_version(vcard_card *c, const opts *o, bool fresh)
{
	unsigned long v;
	unsigned a, b, d;
	uint8_t r[4];
	char *end, extra;

	if (o->serial != NULL) {
		errno = 0;
		v = strtoul(o->serial, &end, 10);
		if (errno != 0 || *end != '\0' || end == o->serial || v > 0xFFFFFFFFul) {
			fprintf(stderr, "keyward-vcard-ble: bad --serial '%.32s'\n", o->serial);
			return -1;
		}
		c->serial = (uint32_t)v;
	} else if (fresh) {
		if (RAND_bytes(r, 4) != 1)
			return -1;
		v = (unsigned long)r[0] << 24 | (unsigned long)r[1] << 16 | r[2] << 8 | r[3];
		c->serial = (uint32_t)(10000000ul + v % 90000000ul);
	}
	if (o->version != NULL) {
		if (sscanf(o->version, "%u.%u.%u%c", &a, &b, &d, &extra) != 3 || a > 255 ||
		    b > 255 || d > 255) {
			fprintf(stderr, "keyward-vcard-ble: bad --version '%.32s'\n", o->version);
			return -1;
		}
		c->version[0] = (uint8_t)a;
		c->version[1] = (uint8_t)b;
		c->version[2] = (uint8_t)d;
	}
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

/* Load the state, or create a new token like keyward-vcard does. */
static int
open_token(vcard_card *c, const opts *o)
{
	kw_rv rv = vcard_state_load(c, o->state);
	bool fresh = rv == KW_ERR_NOT_FOUND;

	if (rv != KW_OK && !fresh) {
		fprintf(stderr, "keyward-vcard-ble: cannot read state %s: %s\n", o->state,
		    kw_strerror(rv));
		return -1;
	}
	if (apply_serial_version(c, o, fresh) != 0)
		return -1;
	if (fresh) {
		vc_mgmt_set_default(c);
		if (vc_attest_init(c) != KW_OK) {
			fprintf(stderr, "keyward-vcard-ble: cannot create the attestation key\n");
			return -1;
		}
	}
	c->dirty = fresh || o->serial != NULL || o->version != NULL;
	if (c->dirty && persist(c, (void *)o->state) != KW_OK) {
		fprintf(stderr, "keyward-vcard-ble: cannot write state %s\n", o->state);
		return -1;
	}
	return 0;
}

static int
load_pem(const char *path, X509 **cert, EVP_PKEY **key)
{
	FILE *f = fopen(path, "r");

	if (f != NULL) {
		if (cert != NULL)
			*cert = PEM_read_X509(f, NULL, NULL, NULL);
		else
			*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (cert != NULL ? *cert == NULL : *key == NULL) {
		fprintf(stderr, "keyward-vcard-ble: cannot read %s\n", path);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	opts o;
	vcard_card *c = NULL;
	vcard_trace *trace = NULL;
	vcble_cfg cfg;
	struct sigaction sa;
	X509 *ca_cert = NULL;
	EVP_PKEY *ca_key = NULL;
	char err[96];
	int status = 1;

	memset(&o, 0, sizeof(o));
	memset(&cfg, 0, sizeof(cfg));
	kw_log_init(-1);
	vcble_faults_default(&cfg.faults);
	if (parse_args(argc, argv, &o) != 0) {
		fputs(usage_text, stderr);
		return 1;
	}
	if (o.mtu != 0)
		cfg.faults.mtu = o.mtu;
	if (o.faults != NULL && vcble_faults_parse(o.faults, &cfg.faults, err, sizeof(err)) != KW_OK) {
		fprintf(stderr, "keyward-vcard-ble: --faults: %s\n", err);
		return 1;
	}
	cfg.address = o.address != NULL ? o.address : "C0:FF:EE:00:00:01";
	if (!addr_ok(cfg.address)) {
		fprintf(stderr, "keyward-vcard-ble: --address wants AA:BB:CC:DD:EE:FF\n");
		return 1;
	}
	if ((o.ca_cert != NULL && (load_pem(o.ca_cert, &ca_cert, NULL) != 0 ||
	    load_pem(o.ca_key, NULL, &ca_key) != 0)) || vcard_card_new(&c) != KW_OK)
		goto done;
	c->attest_ca_cert = ca_cert;
	c->attest_ca_key = ca_key;
	if (open_token(c, &o) != 0)
		goto done;
	if (o.trace != NULL && vcard_trace_open(&trace, o.trace) != KW_OK) {
		fprintf(stderr, "keyward-vcard-ble: cannot open trace %s\n", o.trace);
		goto done;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	cfg.bus = o.bus;
	cfg.trace = trace;
	cfg.persist = persist;
	cfg.persist_arg = (void *)o.state;
	cfg.stop = &stop_flag;
	if (vcble_run(c, &cfg) != KW_OK)
		goto done;
	if (persist(c, (void *)o.state) != KW_OK) {
		fprintf(stderr, "keyward-vcard-ble: cannot write state %s\n", o.state);
		goto done;
	}
	status = 0;
done:
	vcard_trace_close(&trace);
	vcard_card_free(&c);
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
	return status;
}
