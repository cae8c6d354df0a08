/* Reporting the KMS's answers (libkwkms keeps the last error code and
 * message): untrusted text, printed through kwcli_print_safe. */
#include <stdio.h>

#include "kwenroll.h"

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
