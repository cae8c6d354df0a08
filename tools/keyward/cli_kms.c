/* Reporting the KMS's answers (libkwkms keeps the last error code and
 * message): untrusted text, printed through kwcli_print_safe. And the
 * first contact of an enrollment with the KMS, before the token changes. */
#include <stdio.h>
#include <string.h>

#include "kwenroll.h"

/* Which certificate --kms-ca wants, for TLS failures. */
static void
tls_hint(const kwkms *k, const char *ca_file)
{
	const char *e = kwkms_error(k);

	if (strcmp(e, "tls_untrusted") == 0) {
		if (ca_file != NULL) {
			fprintf(stderr, "keyward: the KMS's TLS certificate does not verify against ");
			kwcli_print_safe(stderr, ca_file);
			fprintf(stderr, "\n");
		} else
			fprintf(stderr, "keyward: the KMS's TLS certificate is not trusted by this "
			    "system\n");
		fprintf(stderr, "keyward: pass --kms-ca FILE with the KMS's TLS certificate: "
		    "tls.crt in the KMS's state directory (server.state_dir, e.g. "
		    "/var/lib/keyward-kms/front/tls.crt), or the CA that issued tls.cert; the "
		    "S/MIME CA certificate (ca.crt, GET /v1/ca) is another one and does not "
		    "work here\n");
	} else if (strcmp(e, "bad_ca_file") == 0) {
		fprintf(stderr, "keyward: cannot read the --kms-ca file ");
		kwcli_print_safe(stderr, ca_file != NULL ? ca_file : "(none)");
		fprintf(stderr, " (a PEM certificate: the KMS's tls.crt)\n");
	}
}

void
kwcli_kms_report(const kwkms *k, const char *what, kw_rv rv)
{
	const char *e = kwkms_error(k), *m = kwkms_message(k);

	fprintf(stderr, "keyward: %s: ", what);
	if (e != NULL && *e != '\0') {
		kwcli_print_safe(stderr, m != NULL && *m != '\0' ? m : e);
		fprintf(stderr, " (");
		kwcli_print_safe(stderr, e);
		fprintf(stderr, ")\n");
	} else
		fprintf(stderr, "%s\n", kw_strerror(rv));
}

kw_rv
kwcli_kms_reach(kwcli_enroll_ctx *c)
{
	kw_rv rv;

	if (c->ca_pem != NULL)
		return KW_OK;
	kwcli_progress(c, "contacting the KMS %s", c->o->kms_url);
	if ((rv = kwkms_ca(c->kms, &c->ca_pem)) != KW_OK) {
		kwcli_kms_report(c->kms, "cannot reach the KMS", rv);
		tls_hint(c->kms, c->o->kms_ca);
		fprintf(stderr, "keyward: nothing was changed on the token\n");
	}
	return rv;
}
