/* keyward-vcard: token state file open/create/save for the command lines
 * (vcard_token.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/rand.h>

#include "vcard_token.h"

static int
apply_serial(vcard_card *c, const vcard_token_opts *o)
{
	const char *s = o->serial;
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
	if (errno != 0 || *end != '\0' || end == s || *s == '-' || v > 0xFFFFFFFFul) {
		fprintf(stderr, "%s: bad --serial '%.32s'\n", o->prog, s);
		return -1;
	}
	c->serial = (uint32_t)v;
	return 0;
}

static int
apply_version(vcard_card *c, const vcard_token_opts *o)
{
	unsigned a, b, d;
	char extra;

	if (sscanf(o->version, "%u.%u.%u%c", &a, &b, &d, &extra) != 3 || a > 255 || b > 255 ||
	    d > 255) {
		fprintf(stderr, "%s: bad --version '%.32s' (want X.Y.Z)\n", o->prog, o->version);
		return -1;
	}
	c->version[0] = (uint8_t)a;
	c->version[1] = (uint8_t)b;
	c->version[2] = (uint8_t)d;
	return 0;
}

int
vcard_token_load_ca(const vcard_token_opts *o, X509 **cert, EVP_PKEY **key)
{
	FILE *f;

	*cert = NULL;
	*key = NULL;
	if (o->ca_cert == NULL && o->ca_key == NULL)
		return 0;
	if (o->ca_cert == NULL || o->ca_key == NULL) {
		fprintf(stderr, "%s: --attest-ca-cert and --attest-ca-key go together\n", o->prog);
		return -1;
	}
	if ((f = fopen(o->ca_cert, "r")) != NULL) {
		*cert = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (*cert == NULL) {
		fprintf(stderr, "%s: cannot read CA certificate %s\n", o->prog, o->ca_cert);
		return -1;
	}
	if ((f = fopen(o->ca_key, "r")) != NULL) {
		*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (*key == NULL) {
		fprintf(stderr, "%s: cannot read CA key %s\n", o->prog, o->ca_key);
		return -1;
	}
	return 0;
}

kw_rv
vcard_token_persist(vcard_card *c, void *arg)
{
	kw_rv rv = vcard_state_save(c, (const char *)arg);

	if (rv == KW_OK)
		c->dirty = false;
	return rv;
}

int
vcard_token_open(vcard_card *c, const vcard_token_opts *o)
{
	kw_rv rv = vcard_state_load(c, o->state);
	bool fresh = rv == KW_ERR_NOT_FOUND;

	if (rv != KW_OK && !fresh) {
		fprintf(stderr, "%s: cannot read state %s: %s\n", o->prog, o->state,
		    kw_strerror(rv));
		return -1;
	}
	if ((fresh || o->serial != NULL) && apply_serial(c, o) != 0)
		return -1;
	if (o->version != NULL && apply_version(c, o) != 0)
		return -1;
	if (fresh) {
		vc_mgmt_set_default(c);
		if (vc_attest_init(c) != KW_OK) {
			fprintf(stderr, "%s: cannot create the attestation key\n", o->prog);
			return -1;
		}
	}
	c->dirty = fresh || o->serial != NULL || o->version != NULL;
	if (c->dirty && vcard_token_persist(c, (void *)o->state) != KW_OK) {
		fprintf(stderr, "%s: cannot write state %s\n", o->prog, o->state);
		return -1;
	}
	return 0;
}
