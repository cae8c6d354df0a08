/* ADAPTER: KMS calls that libkwkms (kms/client/kwkms.h) does not offer yet.
 * Requested in /work/notes/kms-requests.md (R1): signing a CSR together with
 * the token's attestation chain. Until kwkms_sign_csr_attested() lands this
 * sends the same request through the library's own HTTPS/JSON call, so the
 * TLS pinning and error handling stay the library's. Remove it when the
 * library function exists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kwenroll.h"
#include "kwkms_int.h"

static kw_rv
dup_str(json_t *j, const char *name, char **out)
{
	const char *s = json_string_value(json_object_get(j, name));

	*out = NULL;
	if (s == NULL)
		return KW_ERR_PROTOCOL;
	return (*out = strdup(s)) != NULL ? KW_OK : KW_ERR_NOMEM;
}

kw_rv
kwcli_kms_sign_csr(kwkms *k, const char *csr_pem, const char *att_leaf_pem,
    const char *att_f9_pem, char **cert_pem, char **serial, bool *attested)
{
	json_t *req, *resp = NULL;
	kw_rv rv;

	*cert_pem = NULL;
	*serial = NULL;
	*attested = false;
	if (att_leaf_pem != NULL && att_f9_pem != NULL)
		req = json_pack("{s:s,s:[s,s]}", "csr", csr_pem, "attestation",
		    att_leaf_pem, att_f9_pem);
	else
		req = json_pack("{s:s}", "csr", csr_pem);
	if (req == NULL)
		return KW_ERR_NOMEM;
	rv = kwkms_call(k, "POST", "/v1/certs/sign", req, &resp, NULL);
	json_decref(req);
	if (rv == KW_OK && (rv = dup_str(resp, "cert", cert_pem)) == KW_OK &&
	    (rv = dup_str(resp, "serial", serial)) != KW_OK) {
		free(*cert_pem);
		*cert_pem = NULL;
	}
	if (rv == KW_OK)
		*attested = json_is_true(json_object_get(resp, "attested"));
	json_decref(resp);
	return rv;
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
