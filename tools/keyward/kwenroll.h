/* keyward enroll/renew/recover and the token administration verbs: shared
 * declarations (secret input, token administration, CSR, journal, the
 * enrollment steps). See kwcli.h for token selection and output. */
#ifndef KWENROLL_H
#define KWENROLL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "kw_secret.h"
#include "kwcli.h"
#include "kwkms.h"

/* ---- secret and line input (cli_input.c) ---- */

/* Where a secret comes from: a file ("-" = one line of stdin), else the
 * environment variable, else a prompt on the terminal (echo off; twice
 * when confirm). Never echoed, never logged. KW_ERR_NOT_FOUND when there is
 * no source and no terminal (a message has been printed). */
typedef struct kwcli_secret_src {
	const char *what;        /* "PIN", "new PIN", ... for prompts/messages */
	const char *file;        /* may be NULL */
	const char *env;         /* may be NULL */
	bool confirm;
} kwcli_secret_src;
kw_rv kwcli_secret_get(const kwcli_secret_src *src, kw_secret *out);
/* One line of stdin without stdio buffering (so later reads see the rest),
 * at most max-1 bytes; the newline is dropped. */
kw_rv kwcli_read_line(int fd, char *out, size_t max);
/* A non-secret value: the terminal if there is one, else stdin. */
kw_rv kwcli_prompt_line(const char *prompt, char *out, size_t max);
/* A PIN or PUK: 6-8 bytes. */
bool kwcli_pin_ok(const kw_secret *pin);

/* ---- token administration (cli_admin.c) ---- */

typedef struct kwcli_defaults {
	int pin, puk, mgmt;      /* 1 default, 0 not, -1 unknown (no metadata) */
	uint8_t mgmt_alg;        /* 0 if unknown */
} kwcli_defaults;
kw_rv kwcli_admin_defaults(kwcli_token *tok, kwcli_defaults *d);
/* VERIFY the PIN; prints the outcome (tries left) on failure. */
kw_rv kwcli_admin_verify_pin(kwcli_token *tok, const kw_secret *pin);
/* Authenticate with the management key: the default one if it still is,
 * else the PIN-protected one (the PIN must be verified in this session). */
kw_rv kwcli_admin_mgmt_auth(kwcli_token *tok);
/* First-use initialization: PIN, PUK, random management key stored
 * PIN-protected. Each change happens only if that item is still the
 * default, so a rerun finishes an interrupted one. *changed is set when
 * something was changed. */
kw_rv kwcli_admin_init(kwcli_token *tok, const kw_secret *pin, const kw_secret *puk,
    bool *changed);

/* ---- CSR made by the token (cli_csr.c) ---- */

/* A PKCS#10 request for email with the public key pub of `slot`, signed by
 * the token (SHA-256; PKCS#1 v1.5 or ECDSA). The PIN is verified right
 * before the signature in the same card transaction. */
kw_rv kwcli_csr_make(kwcli_token *tok, uint8_t slot, EVP_PKEY *pub, const char *email,
    const kw_secret *pin, char **pem);
/* Helpers on PEM/DER certificates and keys. */
kw_rv kwcli_pem_to_der(const char *pem, kw_buf *der);
char *kwcli_der_to_pem(const char *label, const uint8_t *der, size_t len);
bool kwcli_cert_matches_key(const uint8_t *der, size_t len, const EVP_PKEY *pub);
/* Does the certificate chain to the CA (PEM, one or more) for purpose
 * (X509_PURPOSE_SMIME_SIGN / _ENCRYPT; the latter without a validity-time
 * check: expired encryption certificates stay in the history)?
 * KW_ERR_SECURITY if not. */
kw_rv kwcli_cert_check_chain(const uint8_t *der, size_t len, const char *ca_pem, int purpose);
/* SHA-256 of the SubjectPublicKeyInfo, hex. */
kw_rv kwcli_pubkey_id(const EVP_PKEY *pub, char out[65]);

/* ---- progress journal (cli_journal.c) ---- */

/* Public data only, per token serial, under the state directory
 * ($KEYWARD_STATE_DIR, $XDG_STATE_HOME/keyward, ~/.local/state/keyward). */
typedef struct kwcli_journal {
	char path[1024];
	json_t *j;               /* object; never NULL once loaded */
} kwcli_journal;
kw_rv kwcli_journal_load(kwcli_journal *jr, const char *token_id);
kw_rv kwcli_journal_save(kwcli_journal *jr);
void kwcli_journal_free(kwcli_journal *jr);
const char *kwcli_journal_str(const kwcli_journal *jr, const char *key);
kw_rv kwcli_journal_set_str(kwcli_journal *jr, const char *key, const char *val);
/* Records a step as done and saves. */
kw_rv kwcli_journal_step(kwcli_journal *jr, const char *step);

/* ---- KMS answers (cli_kms.c) ---- */

/* Print the KMS's error (or the transport error) for a failed call. */
void kwcli_kms_report(const kwkms *k, const char *what, kw_rv rv);

/* ---- the enrollment (cli_enroll.c, cli_enroll_keys.c) ---- */

typedef enum kwcli_enroll_mode {
	KWCLI_ENROLL, KWCLI_RENEW, KWCLI_RECOVER,
} kwcli_enroll_mode;

typedef struct kwcli_enroll_opts {
	kwcli_enroll_mode mode;
	const char *email, *kms_url, *kms_ca, *token;
	const char *validation_value;      /* NULL: prompt */
	const char *pin_file, *puk_file, *password_file;
	bool password_stdin;
	uint8_t sign_alg, sign_pin_policy;
	bool quiet;                        /* no progress lines */
	const char *label;                 /* progress prefix (batch), may be NULL */
	const char *revoke;                /* recover: signing cert serial to revoke */
} kwcli_enroll_opts;

/* One token: returns KWCLI_OK/KWCLI_ERROR; *result gets a JSON report
 * (also on failure: {"ok":false,"error":...}). */
int kwcli_enroll_run(const kwcli_enroll_opts *o, json_t **result);
/* One line of a batch file ("email,token[,pin-file[,puk-file]]"), split
 * in place: 0 = skip (blank/comment), 1 = ok, -1 = malformed. lineno is
 * the caller's. */
#define KWCLI_BATCH_FIELDS 4
typedef struct kwcli_batch_line {
	int lineno;
	char *f[KWCLI_BATCH_FIELDS];  /* email, token, pin-file, puk-file (NULL if absent) */
	char token[300];              /* the token as a URI or serial */
} kwcli_batch_line;
int kwcli_batch_parse_line(char *line, kwcli_batch_line *bl);
/* --batch FILE: every line in turn, then a report (text or JSON). */
int kwcli_enroll_batch(const kwcli_enroll_opts *base, const char *file, bool json);

/* Internal to the enrollment files. */
typedef struct kwcli_enroll_ctx {
	const kwcli_enroll_opts *o;
	kwcli_token tok;
	char token_id[32];
	kwcli_journal jr;
	kwkms *kms;
	kw_secret pin, password;
	bool have_password;
	bool was_complete;       /* the journal said a previous run finished */
	bool md_supported;       /* the token answers GET METADATA */
	char *ca_pem;            /* the KMS CA, fetched once per run */
	json_t *res;
} kwcli_enroll_ctx;
void kwcli_progress(const kwcli_enroll_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The first contact: fetch the KMS CA (c->ca_pem) over verified TLS; on
 * failure say why (which --kms-ca file TLS needs) and that the token was
 * not changed. Called before anything is written to the token. */
kw_rv kwcli_kms_reach(kwcli_enroll_ctx *c);
/* The email validation session. A validation started by an earlier run
 * and not yet expired (journal "validation_until") is finished with the
 * value already mailed instead of starting a new one. */
kw_rv kwcli_enroll_kms_session(kwcli_enroll_ctx *c);
/* Certificates from the KMS must chain to its CA before they go on the token. */
kw_rv kwcli_enroll_check_cert(kwcli_enroll_ctx *c, const kw_buf *der, int purpose);
kw_rv kwcli_enroll_sign_slot(kwcli_enroll_ctx *c);
kw_rv kwcli_enroll_enc_slots(kwcli_enroll_ctx *c);

#endif
