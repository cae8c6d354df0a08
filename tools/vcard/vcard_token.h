/* keyward-vcard: opening a token from its state file (or creating a new
 * one) and saving it, shared by every front-end's command line. */
#ifndef VCARD_TOKEN_H
#define VCARD_TOKEN_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "vcard.h"

typedef struct vcard_token_opts {
	const char *state;    /* state file (required) */
	const char *serial;   /* decimal; NULL: random at creation, kept otherwise */
	const char *version;  /* X.Y.Z; NULL: 5.4.3 at creation, kept otherwise */
	const char *ca_cert;  /* attestation CA (PEM), with ca_key, or both NULL */
	const char *ca_key;
	const char *prog;     /* program name for messages */
} vcard_token_opts;

/* The attestation CA: *cert and *key stay NULL when o names none; the
 * caller frees them after the card. -1 with a message on stderr. */
int vcard_token_load_ca(const vcard_token_opts *o, X509 **cert, EVP_PKEY **key);

/* Load o->state into c, or create a new token (serial, version, default
 * management key, attestation key) when the file does not exist; --serial
 * and --version override an existing state. Saves when anything changed.
 * -1 with a message on stderr. */
int vcard_token_open(vcard_card *c, const vcard_token_opts *o);

/* vcard_persist_fn: save c to the state file named by arg, clear dirty. */
kw_rv vcard_token_persist(vcard_card *c, void *arg);

#endif
