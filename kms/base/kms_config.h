/* keyward-kmsd's one configuration file (docs/kms-config.md): INI
 * sections, `key = value`, `#` comments. Unknown keys are errors. */
#ifndef KMS_CONFIG_H
#define KMS_CONFIG_H

#include <stddef.h>

#include "kw_err.h"

#define KMS_MAX_SHARES 8

typedef struct kms_config {
	/* [server] */
	char *role;           /* "front" (default) or "share" */
	char *listen;         /* host:port, default 127.0.0.1:8443 */
	char *state_dir;      /* required */
	long max_body;        /* bytes; default 65536 */
	long threads;         /* HTTP worker threads; default: cores */
	long max_connections; /* in total (503 beyond); default 1000 */
	long max_per_client;  /* per client address (503 beyond); default 64 */
	long conn_timeout;    /* idle seconds before a connection is closed; 15 */
	/* [tls] */
	char *tls_cert;       /* default STATE/tls.crt */
	char *tls_key;        /* default STATE/tls.key (encrypted PKCS#8) */
	/* [hsm] */
	char *hsm_module;     /* default /usr/lib/softhsm/libsofthsm2.so */
	char *hsm_token;      /* default keyward-kms / keyward-share */
	char *hsm_pin_file;   /* default STATE/hsm.pin */
	char *softhsm_conf;   /* default STATE/softhsm2.conf for SoftHSM */
	/* [shares] (front) */
	char *split;          /* "xor" (default, 2-of-2) or "shamir" */
	long threshold;       /* shamir m; xor: = count */
	long share_count;
	char *share_url[KMS_MAX_SHARES];
	char *share_cert[KMS_MAX_SHARES];   /* the share server's TLS cert (pinned) */
	char *share_config[KMS_MAX_SHARES]; /* local share config, for --init */
	long share_timeout;   /* seconds, default 5 */
	/* [smtp] */
	char *smtp_url;       /* smtp://host:port */
	char *smtp_from;
	long smtp_timeout;
	/* [validation] */
	long validation_ttl;          /* seconds, default 900 */
	long validation_max_attempts; /* per value, default 5 */
	long rate_per_address;        /* starts per window, default 5 */
	long rate_per_client;         /* starts per window, default 20 */
	long rate_window;             /* seconds, default 3600 */
	long session_ttl;             /* seconds, default 1800 */
	/* [password] */
	long pw_max_failures;   /* default 5 */
	long pw_lock_seconds;   /* default 900 */
	long pw_t_cost, pw_m_cost_kib, pw_parallelism;
	/* [ca] */
	char *ca_name;          /* CA subject CN, default "keyward KMS CA" */
	char *ca_key_type;      /* rsa2048 | p256 */
	char *enc_key_type;     /* rsa2048 | p256 */
	long ca_validity_days;  /* default 3650 */
	long enc_validity_days; /* default 1095 */
	long sign_validity_days;/* default 365 */
	long rotate_before_days;/* default 30 */
	long crl_validity_days; /* default 7 */
	/* [pool] */
	long pool_size;         /* default 128; 0 disables */
	long pool_threads;      /* refill threads; default: cores */
	/* [attestation] */
	char *attest_ca;        /* trusted attestation roots: PEM file or directory */
	long attest_require;    /* yes (1): signing CSRs need a verified attestation */
} kms_config;

/* Load and validate; fills defaults. On error *errmsg gets a static or
 * allocated message (free with free()). */
kw_rv kms_config_load(const char *path, kms_config *cfg, char **errmsg);
void kms_config_free(kms_config *cfg);
int kms_config_is_front(const kms_config *cfg);
/* Is s "rsa2048" or "p256"? */
int kms_key_type_ok(const char *s);

#endif
