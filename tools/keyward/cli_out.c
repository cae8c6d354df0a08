/* Output helpers shared by the verbs: names of slots, algorithms and
 * policies, certificate summaries, JSON printing, option parsing. */
#include <getopt.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/x509.h>

#include "kwcli.h"

const char *
kwcli_slot_name(uint8_t slot)
{
	switch (slot) {
	case 0x9a: return "PIV Authentication";
	case 0x9c: return "Digital Signature";
	case 0x9d: return "Key Management";
	case 0x9e: return "Card Authentication";
	case 0xf9: return "Attestation";
	default:
		return slot >= 0x82 && slot <= 0x95 ? "Retired Key Management" : "Unknown";
	}
}

const char *
kwcli_alg_name(uint8_t alg)
{
	switch (alg) {
	case KW_PIV_ALG_3DES: return "3des";
	case KW_PIV_ALG_RSA1024: return "rsa1024";
	case KW_PIV_ALG_RSA2048: return "rsa2048";
	case KW_PIV_ALG_RSA3072: return "rsa3072";
	case KW_PIV_ALG_RSA4096: return "rsa4096";
	case KW_PIV_ALG_AES128: return "aes128";
	case KW_PIV_ALG_AES192: return "aes192";
	case KW_PIV_ALG_AES256: return "aes256";
	case KW_PIV_ALG_ECCP256: return "eccp256";
	case KW_PIV_ALG_ECCP384: return "eccp384";
	case 0xe0: return "ed25519";
	case 0xe1: return "x25519";
	default: return "unknown";
	}
}

const char *
kwcli_pin_policy_name(uint8_t p)
{
	static const char *const n[] = { "default", "never", "once", "always" };

	return p < 4 ? n[p] : "unknown";
}

const char *
kwcli_touch_policy_name(uint8_t p)
{
	static const char *const n[] = { "default", "never", "always", "cached" };

	return p < 4 ? n[p] : "unknown";
}

const char *
kwcli_origin_name(uint8_t o)
{
	switch (o) {
	case KW_PIV_ORIGIN_GENERATED: return "generated";
	case KW_PIV_ORIGIN_IMPORTED: return "imported";
	default: return "unknown";
	}
}

void
kwcli_version_str(const kwcli_token *tok, char *out, size_t outsz)
{
	if (tok->has_version)
		snprintf(out, outsz, "%u.%u.%u", tok->version[0], tok->version[1],
		    tok->version[2]);
	else
		snprintf(out, outsz, "unknown");
}

void
kwcli_slot_hex(uint8_t slot, char out[3])
{
	snprintf(out, 3, "%02x", slot);
}

static void
asn1_time_iso(const ASN1_TIME *t, char *out, size_t outsz)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		snprintf(out, outsz, "invalid");
		return;
	}
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
name_str(const X509_NAME *n, char *out, size_t outsz)
{
	BIO *b = BIO_new(BIO_s_mem());
	int len;

	out[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
		len = BIO_read(b, out, (int)outsz - 1);
		out[len > 0 ? len : 0] = '\0';
	}
	BIO_free(b);
}

static void
serial_str(const ASN1_INTEGER *s, char *out, size_t outsz)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(s, NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

	snprintf(out, outsz, "%s", hex != NULL ? hex : "");
	OPENSSL_free(hex);
	BN_free(bn);
}

void
kwcli_cert_parse(const kw_buf *der, kwcli_cert_info *ci)
{
	const unsigned char *p = der->data;
	X509 *x;

	memset(ci, 0, sizeof(*ci));
	if (der->len == 0 || der->len > 65536)
		return;
	if ((x = d2i_X509(NULL, &p, (long)der->len)) == NULL)
		return;
	name_str(X509_get_subject_name(x), ci->subject, sizeof(ci->subject));
	name_str(X509_get_issuer_name(x), ci->issuer, sizeof(ci->issuer));
	serial_str(X509_get0_serialNumber(x), ci->serial, sizeof(ci->serial));
	asn1_time_iso(X509_get0_notBefore(x), ci->not_before, sizeof(ci->not_before));
	asn1_time_iso(X509_get0_notAfter(x), ci->not_after, sizeof(ci->not_after));
	ci->expired = X509_cmp_current_time(X509_get0_notAfter(x)) < 0;
	ci->ok = true;
	X509_free(x);
}

int
kwcli_json_print(json_t *v)
{
	int rc;

	if (v == NULL) {
		fprintf(stderr, "keyward: cannot build the JSON output (out of memory or "
		    "text that is not UTF-8)\n");
		return KWCLI_ERROR;
	}
	rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(v);
	if (rc != 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
		fprintf(stderr, "keyward: cannot write output\n");
		return KWCLI_ERROR;
	}
	return KWCLI_OK;
}

void
kwcli_print_safe(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

int
kwcli_parse_opts(int argc, char **argv, bool want_token, const char *usage,
    kwcli_opts *o)
{
	static const struct option lopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "token", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, want_token ? "jt:h" : "jh", lopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 't':
			if (!want_token)
				goto bad;
			o->token = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return KWCLI_OK;
		default:
			goto bad;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "keyward %s: unexpected argument '%s'\n", argv[0], argv[optind]);
		goto bad;
	}
	return -1;
bad:
	fputs(usage, stderr);
	return KWCLI_USAGE;
}
