/* keyward enroll | renew | recover: options, one token or a batch file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kwenroll.h"

static const char enroll_usage[] =
    "Usage: keyward enroll --email ADDR --kms URL [--kms-ca FILE]\n"
    "                      [--token SERIAL|URI|pkcs11:serial=N] [OPTIONS]\n"
    "       keyward enroll --batch FILE --kms URL [--kms-ca FILE] [OPTIONS]\n"
    "\n"
    "Provision a token from the KMS (dual-certificate model): initialize it if it\n"
    "is new (your PIN and PUK, a random management key kept PIN-protected on the\n"
    "token), validate the address (the KMS mails a value: type or paste it),\n"
    "generate the signing key in slot 9C on the token (attested where the token\n"
    "can), have the token sign the certificate request, import the escrowed\n"
    "encryption keys (current into 9D, older ones into 82-95, newest first) and\n"
    "write every certificate and the Key History object. Rerun after any\n"
    "interruption: the run resumes and ends in the same state. Progress goes to\n"
    "stderr.\n"
    "\n"
    "  --email ADDR            the address to enroll\n"
    "  --kms URL               the KMS (https://...; or $KEYWARD_KMS_URL)\n"
    "  --kms-ca FILE           trust only this CA/certificate for the KMS's TLS\n"
    "                          (or $KEYWARD_KMS_CA)\n"
    "  --token SEL             serial number, transport URI (\"pcsc:<reader>\") or\n"
    "                          pkcs11:serial=N (needed when several are present)\n"
    "  --validation-value V    the value from the mail (default: prompt; \"-\"\n"
    "                          reads one line of stdin)\n"
    "  --password-stdin        read the key-protection password (if you set one\n"
    "                          at the KMS) from the first line of stdin\n"
    "  --password-file FILE    ... or from FILE\n"
    "  --pin-file FILE         the PIN (on a new token: the PIN to set); else\n"
    "                          $KEYWARD_PIN, else a prompt\n"
    "  --puk-file FILE         the PUK to set on a new token; else $KEYWARD_PUK,\n"
    "                          else a prompt\n"
    "  --sign-alg ALG          rsa2048 (default), eccp256 or eccp384\n"
    "  --sign-pin-policy P     always (default: PIN for every signature) or once\n"
    "  --batch FILE            many tokens: lines \"email,token[,pin-file[,puk-file]]\"\n"
    "                          (token: serial, reader name or URI; # comments);\n"
    "                          one validation prompt per token, a report at the end\n"
    "  --quiet                 no progress lines\n"
    "  --json                  the result as JSON on stdout\n"
    "  --help                  this text\n"
    "\n"
    "--json: {\"ok\", \"email\", \"token\", \"serial\", \"initialized\", \"signing\":\n"
    "{\"slot\", \"serial\", \"not_after\", \"cert\", \"already_done\"}, \"attestation\":\n"
    "[9C PEM, F9 PEM], \"encryption\": {\"keys\", \"already_done\", \"slots\": [{\"slot\",\n"
    "\"key_id\", \"seq\", \"current\", \"serial\", \"cert\"}]}, on failure \"error\" and\n"
    "\"kms_error\"}; --batch: {\"results\": [...], \"enrolled\", \"failed\"}.\n"
    "\n"
    "PINs are never echoed, logged or retried.\n"
    "Exit status: 0 ok, 1 error (any token of a batch), 2 usage error.\n";

static const char renew_usage[] =
    "Usage: keyward renew --email ADDR --kms URL [--kms-ca FILE] [--token SEL]\n"
    "                     [enroll's options]\n"
    "\n"
    "Renew an enrolled token: a new signing key in 9C and its certificate (before\n"
    "the old one expires; the replaced certificate is revoked as superseded), and\n"
    "the encryption keys brought up to date (after a rotation at the KMS the new\n"
    "key goes to 9D and the history moves down the retired slots). Needs the\n"
    "email validation again. Resumable like enroll.\n"
    "See `keyward enroll --help` for the options.\n";

static const char recover_usage[] =
    "Usage: keyward recover --email ADDR --kms URL [--kms-ca FILE] [--token SEL]\n"
    "                       [--revoke CERT-SERIAL] [enroll's options]\n"
    "\n"
    "Set up a replacement token for a lost or broken one: the same encryption keys\n"
    "(current and history) and a new signing key with its own certificate.\n"
    "  --revoke CERT-SERIAL    also revoke the lost token's signing certificate\n"
    "                          (hex serial, as `keyward status` shows it)\n"
    "See `keyward enroll --help` for the other options.\n";

enum { O_EMAIL = 256, O_KMS, O_KMS_CA, O_TOKEN, O_VALUE, O_PW_STDIN, O_PW_FILE,
	O_PIN_FILE, O_PUK_FILE, O_ALG, O_POLICY, O_BATCH, O_QUIET, O_JSON, O_HELP,
	O_REVOKE };

static const struct option lopts[] = {
	{ "email", required_argument, NULL, O_EMAIL },
	{ "kms", required_argument, NULL, O_KMS },
	{ "kms-ca", required_argument, NULL, O_KMS_CA },
	{ "token", required_argument, NULL, O_TOKEN },
	{ "validation-value", required_argument, NULL, O_VALUE },
	{ "password-stdin", no_argument, NULL, O_PW_STDIN },
	{ "password-file", required_argument, NULL, O_PW_FILE },
	{ "pin-file", required_argument, NULL, O_PIN_FILE },
	{ "puk-file", required_argument, NULL, O_PUK_FILE },
	{ "sign-alg", required_argument, NULL, O_ALG },
	{ "sign-pin-policy", required_argument, NULL, O_POLICY },
	{ "batch", required_argument, NULL, O_BATCH },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "json", no_argument, NULL, O_JSON },
	{ "help", no_argument, NULL, O_HELP },
	{ "revoke", required_argument, NULL, O_REVOKE },
	{ NULL, 0, NULL, 0 },
};

typedef struct enroll_args {
	kwcli_enroll_opts o;
	const char *batch, *revoke, *usage;
	bool json;
} enroll_args;

static int
usage_error(const char *verb, const char *msg)
{
	fprintf(stderr, "keyward %s: %s (see --help)\n", verb, msg);
	return KWCLI_USAGE;
}

static int
parse_value(enroll_args *a, int c, const char *v)
{
	switch (c) {
	case O_ALG:
		a->o.sign_alg = strcmp(v, "rsa2048") == 0 ? KW_PIV_ALG_RSA2048 :
		    strcmp(v, "eccp256") == 0 ? KW_PIV_ALG_ECCP256 :
		    strcmp(v, "eccp384") == 0 ? KW_PIV_ALG_ECCP384 : 0;
		return a->o.sign_alg != 0 ? -1 : usage_error("enroll", "unknown --sign-alg");
	case O_POLICY:
		a->o.sign_pin_policy = strcmp(v, "always") == 0 ? KW_PIV_PIN_POLICY_ALWAYS :
		    strcmp(v, "once") == 0 ? KW_PIV_PIN_POLICY_ONCE : 0;
		return a->o.sign_pin_policy != 0 ? -1 :
		    usage_error("enroll", "--sign-pin-policy is always or once");
	}
	return -1;
}

static int
parse_args(int argc, char **argv, enroll_args *a)
{
	int c, r;

	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case O_EMAIL: a->o.email = optarg; break;
		case O_KMS: a->o.kms_url = optarg; break;
		case O_KMS_CA: a->o.kms_ca = optarg; break;
		case O_TOKEN: a->o.token = optarg; break;
		case O_VALUE: a->o.validation_value = optarg; break;
		case O_PW_STDIN: a->o.password_stdin = true; break;
		case O_PW_FILE: a->o.password_file = optarg; break;
		case O_PIN_FILE: a->o.pin_file = optarg; break;
		case O_PUK_FILE: a->o.puk_file = optarg; break;
		case O_BATCH: a->batch = optarg; break;
		case O_QUIET: a->o.quiet = true; break;
		case O_JSON: a->json = true; break;
		case O_REVOKE: a->revoke = optarg; break;
		case O_HELP:
			fputs(a->usage, stdout);
			return KWCLI_OK;
		case O_ALG: case O_POLICY:
			if ((r = parse_value(a, c, optarg)) >= 0)
				return r;
			break;
		default:
			fputs(a->usage, stderr);
			return KWCLI_USAGE;
		}
	}
	return -1;
}

static int
check_args(const char *verb, enroll_args *a, int argc)
{
	if (optind < argc)
		return usage_error(verb, "unexpected argument");
	if (a->o.kms_url == NULL)
		a->o.kms_url = getenv("KEYWARD_KMS_URL");
	if (a->o.kms_ca == NULL)
		a->o.kms_ca = getenv("KEYWARD_KMS_CA");
	if (a->o.kms_url == NULL || strncmp(a->o.kms_url, "https://", 8) != 0)
		return usage_error(verb, "--kms https://... is required");
	if (a->batch != NULL && (a->o.email != NULL || a->o.token != NULL))
		return usage_error(verb, "--batch takes the addresses and tokens from the file");
	if (a->batch == NULL && (a->o.email == NULL || strchr(a->o.email, '@') == NULL))
		return usage_error(verb, "--email ADDR is required");
	if (a->batch != NULL && (a->o.pin_file != NULL || a->o.puk_file != NULL))
		return usage_error(verb, "in --batch, PIN and PUK files are per line");
	if (a->o.password_stdin && a->o.password_file != NULL)
		return usage_error(verb, "--password-stdin or --password-file, not both");
	if (a->o.validation_value != NULL && strcmp(a->o.validation_value, "-") == 0)
		a->o.validation_value = NULL;   /* prompt: stdin when not a terminal */
	return -1;
}

static int
finish(const enroll_args *a, json_t *res, int rc)
{
	if (a->json)
		kwcli_json_print(res);
	else {
		if (rc == KWCLI_OK)
			printf("enrolled %s on token %s\n", a->o.email,
			    json_string_value(json_object_get(res, "token")));
		json_decref(res);
	}
	return rc;
}

static int
run_verb(int argc, char **argv, kwcli_enroll_mode mode, const char *usage)
{
	enroll_args a;
	json_t *res = NULL;
	int rc;

	memset(&a, 0, sizeof(a));
	a.usage = usage;
	a.o.mode = mode;
	a.o.sign_alg = KW_PIV_ALG_RSA2048;
	a.o.sign_pin_policy = KW_PIV_PIN_POLICY_ALWAYS;
	if ((rc = parse_args(argc, argv, &a)) >= 0 ||
	    (rc = check_args(argv[0], &a, argc)) >= 0)
		return rc;
	if (a.revoke != NULL && mode != KWCLI_RECOVER)
		return usage_error(argv[0], "--revoke is for recover");
	if (a.batch != NULL)
		return kwcli_enroll_batch(&a.o, a.batch, a.json);
	a.o.revoke = a.revoke;
	rc = kwcli_enroll_run(&a.o, &res);
	if (res == NULL)
		return KWCLI_ERROR;
	return finish(&a, res, rc);
}

int
kwcli_cmd_enroll(int argc, char **argv)
{
	return run_verb(argc, argv, KWCLI_ENROLL, enroll_usage);
}

int
kwcli_cmd_renew(int argc, char **argv)
{
	return run_verb(argc, argv, KWCLI_RENEW, renew_usage);
}

int
kwcli_cmd_recover(int argc, char **argv)
{
	return run_verb(argc, argv, KWCLI_RECOVER, recover_usage);
}
