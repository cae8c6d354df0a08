/* The keyward CLI: shared declarations for main.c, the verbs (cmd_*.c) and
 * their helpers (token selection, probing, output). */
#ifndef KWCLI_H
#define KWCLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "kw_buf.h"
#include "kw_piv.h"
#include "kw_transport.h"

/* Exit codes of every verb. */
enum { KWCLI_OK = 0, KWCLI_ERROR = 1, KWCLI_USAGE = 2 };

/* A verb: argv[0] is the verb's name. */
typedef struct kwcli_verb {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
} kwcli_verb;

int kwcli_cmd_list(int argc, char **argv);
int kwcli_cmd_status(int argc, char **argv);
int kwcli_cmd_enroll(int argc, char **argv);
int kwcli_cmd_renew(int argc, char **argv);
int kwcli_cmd_recover(int argc, char **argv);
int kwcli_cmd_pin(int argc, char **argv);
int kwcli_cmd_reset(int argc, char **argv);

/* ---- token selection (cli_token.c) ---- */

/* One PIV token opened through a transport, PIV application selected. */
typedef struct kwcli_token {
	kw_transport *t;
	kw_piv *piv;
	char *uri;               /* the transport URI, e.g. "pcsc:Reader 00 00" */
	bool has_serial, has_version;
	uint32_t serial;
	uint8_t version[3];
} kwcli_token;

/* Open the token at a transport URI and read its serial and version. */
kw_rv kwcli_token_open_uri(const char *uri, kwcli_token *tok);
void kwcli_token_close(kwcli_token *tok);

/* Choose one token: `sel` is NULL (exactly one token must be present), a
 * serial number (decimal) or a transport URI ("pcsc:<reader>"). On failure
 * a message has been printed to stderr. */
kw_rv kwcli_token_select(const char *sel, kwcli_token *tok);

/* Every transport URI that may hold a token. On NO_SERVICE-like conditions
 * a hint is printed to stderr when `hint` is set. */
kw_rv kwcli_token_uris(kw_strlist *out, bool hint);

/* The scheme and the rest of a URI ("pcsc", "Reader 00 00"). */
void kwcli_uri_split(const char *uri, char *scheme, size_t scheme_len, const char **rest);

/* ---- probing a token (cli_probe.c) ---- */

#define KWCLI_NSLOTS 25   /* 9A 9C 9D 9E 82..95 F9 */

typedef enum kwcli_src {
	KWCLI_SRC_NONE = 0,      /* could not be determined */
	KWCLI_SRC_METADATA,      /* GET METADATA (F7) answered */
	KWCLI_SRC_CERT,          /* inferred from a certificate */
} kwcli_src;

typedef struct kwcli_slot {
	uint8_t slot;
	bool has_key;
	kwcli_src key_src;
	bool has_md;
	kw_piv_metadata md;
	bool has_cert;
	kw_buf cert;             /* DER */
} kwcli_slot;

typedef struct kwcli_pin_info {
	bool known;              /* retries known */
	int left, total;         /* -1 if not reported */
	int is_default;          /* 1 yes, 0 no, -1 unknown */
} kwcli_pin_info;

typedef struct kwcli_mgmt_info {
	uint8_t alg;             /* 0 if unknown */
	int is_default;          /* 1 yes, 0 no, -1 unknown */
	uint8_t touch_policy;
} kwcli_mgmt_info;

typedef struct kwcli_probe {
	bool metadata;           /* the card answers GET METADATA */
	kwcli_slot slots[KWCLI_NSLOTS];
	kwcli_pin_info pin, puk;
	kwcli_mgmt_info mgmt;
	bool has_history;
	kw_piv_key_history history;
	uint8_t atr[KW_MAX_ATR];
	size_t atr_len;
} kwcli_probe;

enum { KWCLI_PROBE_SLOTS = 1, KWCLI_PROBE_CERTS = 2, KWCLI_PROBE_AUTH = 4,
	KWCLI_PROBE_HISTORY = 8, KWCLI_PROBE_ALL = 15 };

/* Read what `what` asks for, in one PC/SC transaction. */
kw_rv kwcli_probe_token(kwcli_token *tok, unsigned what, kwcli_probe *pr);
void kwcli_probe_free(kwcli_probe *pr);
uint8_t kwcli_slot_at(size_t i);

/* ---- output (cli_out.c) ---- */

const char *kwcli_slot_name(uint8_t slot);       /* "Digital Signature" */
const char *kwcli_alg_name(uint8_t alg);         /* "rsa2048", "eccp256" */
const char *kwcli_pin_policy_name(uint8_t p);
const char *kwcli_touch_policy_name(uint8_t p);
const char *kwcli_origin_name(uint8_t o);
void kwcli_version_str(const kwcli_token *tok, char *out, size_t outsz);
void kwcli_slot_hex(uint8_t slot, char out[3]);

/* A certificate's summary; NULL fields if it does not parse. */
typedef struct kwcli_cert_info {
	bool ok;
	char subject[256], issuer[256];
	char serial[80];
	char not_before[32], not_after[32];   /* ISO 8601 UTC */
	bool expired;
} kwcli_cert_info;
void kwcli_cert_parse(const kw_buf *der, kwcli_cert_info *ci);

/* Print a JSON value to stdout (indented) and free it. */
int kwcli_json_print(json_t *v);
/* Untrusted text for a terminal: control characters become '?'. */
void kwcli_print_safe(FILE *f, const char *s);

/* Parse a verb's options: --json, --help, and optionally --token X.
 * Returns -1 to continue, or an exit code (help printed / usage error). */
typedef struct kwcli_opts {
	bool json;
	const char *token;
} kwcli_opts;
int kwcli_parse_opts(int argc, char **argv, bool want_token, const char *usage,
    kwcli_opts *o);

#endif
