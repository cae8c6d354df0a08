/* Configuration file parsing for keyward-kmsd. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kms_config.h"

enum kind { K_STR, K_LONG, K_BOOL };

struct key {
	const char *name;
	enum kind kind;
	size_t off;
	const char *def;
};

#define S(n, f, d) { n, K_STR, offsetof(kms_config, f), d }
#define L(n, f, d) { n, K_LONG, offsetof(kms_config, f), d }
#define B(n, f, d) { n, K_BOOL, offsetof(kms_config, f), d }
static const struct key keys[] = {
	S("server.role", role, "front"),
	S("server.listen", listen, "127.0.0.1:8443"),
	S("server.state_dir", state_dir, NULL),
	L("server.max_body", max_body, "65536"),
	L("server.threads", threads, "0"),
	L("server.max_connections", max_connections, "1000"),
	L("server.max_per_client", max_per_client, "64"),
	L("server.connection_timeout", conn_timeout, "15"),
	S("tls.cert", tls_cert, NULL),
	S("tls.key", tls_key, NULL),
	S("hsm.module", hsm_module, "/usr/lib/softhsm/libsofthsm2.so"),
	S("hsm.token_label", hsm_token, NULL),
	S("hsm.pin_file", hsm_pin_file, NULL),
	S("hsm.softhsm_conf", softhsm_conf, NULL),
	S("shares.split", split, "xor"),
	L("shares.threshold", threshold, "0"),
	L("shares.timeout", share_timeout, "5"),
	S("smtp.url", smtp_url, NULL),
	S("smtp.from", smtp_from, "keyward-kms@localhost"),
	L("smtp.timeout", smtp_timeout, "10"),
	L("validation.ttl", validation_ttl, "900"),
	L("validation.max_attempts", validation_max_attempts, "5"),
	L("validation.per_address", rate_per_address, "5"),
	L("validation.per_client", rate_per_client, "20"),
	L("validation.window", rate_window, "3600"),
	L("validation.session_ttl", session_ttl, "1800"),
	L("password.max_failures", pw_max_failures, "5"),
	L("password.lock_seconds", pw_lock_seconds, "900"),
	L("password.t_cost", pw_t_cost, "3"),
	L("password.m_cost_kib", pw_m_cost_kib, "65536"),
	L("password.parallelism", pw_parallelism, "1"),
	S("ca.name", ca_name, "keyward KMS CA"),
	S("ca.key_type", ca_key_type, "rsa2048"),
	S("ca.enc_key_type", enc_key_type, "rsa2048"),
	L("ca.validity_days", ca_validity_days, "3650"),
	L("ca.enc_validity_days", enc_validity_days, "1095"),
	L("ca.sign_validity_days", sign_validity_days, "365"),
	L("ca.rotate_before_days", rotate_before_days, "30"),
	L("ca.crl_validity_days", crl_validity_days, "7"),
	L("pool.size", pool_size, "128"),
	L("pool.threads", pool_threads, "0"),
	S("attestation.ca", attest_ca, NULL),
	B("attestation.require", attest_require, "no"),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static void
set_err(char **errmsg, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(*errmsg);
	*errmsg = strdup(buf);
}

static kw_rv
set_value(kms_config *cfg, const struct key *k, const char *val, char **errmsg)
{
	char *end, **sp;
	long v;

	if (k->kind == K_STR) {
		sp = (char **)((char *)cfg + k->off);
		free(*sp);
		return (*sp = strdup(val)) != NULL ? KW_OK : KW_ERR_NOMEM;
	}
	if (k->kind == K_BOOL) {
		if (strcmp(val, "yes") == 0 || strcmp(val, "true") == 0 ||
		    strcmp(val, "on") == 0 || strcmp(val, "1") == 0)
			v = 1;
		else if (strcmp(val, "no") == 0 || strcmp(val, "false") == 0 ||
		    strcmp(val, "off") == 0 || strcmp(val, "0") == 0)
			v = 0;
		else {
			set_err(errmsg, "%s: not a boolean (yes/no): %.64s", k->name, val);
			return KW_ERR_FORMAT;
		}
		*(long *)((char *)cfg + k->off) = v;
		return KW_OK;
	}
	errno = 0;
	v = strtol(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || v < 0) {
		set_err(errmsg, "%s: not a non-negative integer: %.64s", k->name, val);
		return KW_ERR_FORMAT;
	}
	*(long *)((char *)cfg + k->off) = v;
	return KW_OK;
}

/* "shares.url.N" / "shares.cert.N" / "shares.config.N", N in 1..8. */
static kw_rv
set_share_key(kms_config *cfg, const char *name, const char *val, char **errmsg)
{
	static const char *const kinds[] = { "shares.url.", "shares.cert.",
		"shares.config." };
	char **arrays[] = { cfg->share_url, cfg->share_cert, cfg->share_config };
	size_t i, plen;
	long n;
	char *end;

	for (i = 0; i < 3; i++) {
		plen = strlen(kinds[i]);
		if (strncmp(name, kinds[i], plen) != 0)
			continue;
		n = strtol(name + plen, &end, 10);
		if (*end != '\0' || n < 1 || n > KMS_MAX_SHARES)
			break;
		free(arrays[i][n - 1]);
		if ((arrays[i][n - 1] = strdup(val)) == NULL)
			return KW_ERR_NOMEM;
		if (n > cfg->share_count)
			cfg->share_count = n;
		return KW_OK;
	}
	set_err(errmsg, "unknown key %.100s", name);
	return KW_ERR_FORMAT;
}

static kw_rv
parse_line(kms_config *cfg, char *line, char *section, size_t secsz,
    char **errmsg)
{
	char name[160], *eq, *key, *val;
	size_t i;

	line = trim(line);
	if (*line == '\0' || *line == '#' || *line == ';')
		return KW_OK;
	if (*line == '[') {
		eq = strchr(line, ']');
		if (eq == NULL || eq[1] != '\0' || (size_t)(eq - line) >= secsz) {
			set_err(errmsg, "bad section header: %.64s", line);
			return KW_ERR_FORMAT;
		}
		*eq = '\0';
		snprintf(section, secsz, "%s", trim(line + 1));
		return KW_OK;
	}
	if ((eq = strchr(line, '=')) == NULL) {
		set_err(errmsg, "expected key = value: %.64s", line);
		return KW_ERR_FORMAT;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	snprintf(name, sizeof(name), "%s.%s", section, key);
	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return set_value(cfg, &keys[i], val, errmsg);
	return set_share_key(cfg, name, val, errmsg);
}

static kw_rv
default_path(char **field, const char *dir, const char *file)
{
	size_t n;

	if (*field != NULL)
		return KW_OK;
	n = strlen(dir) + strlen(file) + 2;
	if ((*field = malloc(n)) == NULL)
		return KW_ERR_NOMEM;
	snprintf(*field, n, "%s/%s", dir, file);
	return KW_OK;
}

static kw_rv
apply_defaults_strings(kms_config *cfg, char **errmsg)
{
	size_t i;
	kw_rv rv = KW_OK;
	int front;

	for (i = 0; i < NKEYS && rv == KW_OK; i++)
		if (keys[i].def != NULL && keys[i].kind == K_STR &&
		    *(char **)((char *)cfg + keys[i].off) == NULL)
			rv = set_value(cfg, &keys[i], keys[i].def, errmsg);
	if (rv != KW_OK)
		return rv;
	if (cfg->state_dir == NULL) {
		set_err(errmsg, "server.state_dir is required");
		return KW_ERR_ARG;
	}
	front = kms_config_is_front(cfg);
	if (cfg->threads == 0)
		cfg->threads = sysconf(_SC_NPROCESSORS_ONLN) > 0 ?
		    sysconf(_SC_NPROCESSORS_ONLN) : 1;
	if (cfg->pool_threads == 0)
		cfg->pool_threads = sysconf(_SC_NPROCESSORS_ONLN) > 0 ?
		    sysconf(_SC_NPROCESSORS_ONLN) : 1;
	if (cfg->threads > 256 || cfg->pool_threads > 64 || cfg->max_per_client < 1 ||
	    cfg->max_connections < cfg->max_per_client || cfg->max_connections > 60000 ||
	    cfg->conn_timeout < 1) {
		set_err(errmsg, "server.threads (1..256), pool.threads (1..64), "
		    "server.max_per_client (>= 1, <= server.max_connections <= 60000) or "
		    "server.connection_timeout (>= 1) out of range");
		return KW_ERR_ARG;
	}
	if (!front && strcmp(cfg->role, "share") != 0) {
		set_err(errmsg, "server.role must be front or share");
		return KW_ERR_ARG;
	}
	if ((rv = default_path(&cfg->tls_cert, cfg->state_dir, "tls.crt")) != KW_OK ||
	    (rv = default_path(&cfg->tls_key, cfg->state_dir, "tls.key")) != KW_OK ||
	    (rv = default_path(&cfg->hsm_pin_file, cfg->state_dir, "hsm.pin")) != KW_OK)
		return rv;
	if (cfg->softhsm_conf == NULL && strstr(cfg->hsm_module, "softhsm") != NULL &&
	    (rv = default_path(&cfg->softhsm_conf, cfg->state_dir, "softhsm2.conf")) != KW_OK)
		return rv;
	if (cfg->hsm_token == NULL &&
	    (cfg->hsm_token = strdup(front ? "keyward-kms" : "keyward-share")) == NULL)
		return KW_ERR_NOMEM;
	return KW_OK;
}

static kw_rv
check_front(kms_config *cfg, char **errmsg)
{
	long i;

	if (!kms_config_is_front(cfg))
		return KW_OK;
	if (strcmp(cfg->split, "xor") != 0 && strcmp(cfg->split, "shamir") != 0) {
		set_err(errmsg, "shares.split must be xor or shamir");
		return KW_ERR_ARG;
	}
	if (cfg->share_count < 2) {
		set_err(errmsg, "at least two share servers (shares.url.1, shares.url.2) are required");
		return KW_ERR_ARG;
	}
	for (i = 0; i < cfg->share_count; i++)
		if (cfg->share_url[i] == NULL || cfg->share_cert[i] == NULL) {
			set_err(errmsg, "share server %ld needs shares.url.%ld and shares.cert.%ld",
			    i + 1, i + 1, i + 1);
			return KW_ERR_ARG;
		}
	if (strcmp(cfg->split, "xor") == 0 || cfg->threshold == 0)
		cfg->threshold = cfg->share_count;
	if (cfg->threshold < 2 || cfg->threshold > cfg->share_count) {
		set_err(errmsg, "shares.threshold must be between 2 and the number of share servers");
		return KW_ERR_ARG;
	}
	if (kms_key_type_ok(cfg->ca_key_type) == 0 ||
	    kms_key_type_ok(cfg->enc_key_type) == 0) {
		set_err(errmsg, "ca.key_type and ca.enc_key_type must be rsa2048 or p256");
		return KW_ERR_ARG;
	}
	if (cfg->enc_validity_days < 1 || cfg->sign_validity_days < 1 ||
	    cfg->ca_validity_days < 1 || cfg->crl_validity_days < 1) {
		set_err(errmsg, "validity periods must be at least one day");
		return KW_ERR_ARG;
	}
	return KW_OK;
}

int
kms_key_type_ok(const char *s)
{
	return s != NULL && (strcmp(s, "rsa2048") == 0 || strcmp(s, "p256") == 0);
}

kw_rv
kms_config_load(const char *path, kms_config *cfg, char **errmsg)
{
	char line[1024], section[64] = "";
	FILE *f;
	unsigned lineno = 0;
	size_t i;
	kw_rv rv = KW_OK;

	memset(cfg, 0, sizeof(*cfg));
	*errmsg = NULL;
	for (i = 0; i < NKEYS && rv == KW_OK; i++)
		if (keys[i].kind != K_STR)
			rv = set_value(cfg, &keys[i], keys[i].def, errmsg);
	if ((f = fopen(path, "r")) == NULL) {
		set_err(errmsg, "cannot open %.200s: %s", path, strerror(errno));
		return KW_ERR_IO;
	}
	while (rv == KW_OK && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			set_err(errmsg, "line too long");
			rv = KW_ERR_FORMAT;
			break;
		}
		rv = parse_line(cfg, line, section, sizeof(section), errmsg);
	}
	fclose(f);
	if (rv == KW_OK)
		rv = apply_defaults_strings(cfg, errmsg);
	if (rv == KW_OK)
		rv = check_front(cfg, errmsg);
	if (rv != KW_OK && *errmsg != NULL && lineno > 0 && rv == KW_ERR_FORMAT) {
		char *m = *errmsg;
		*errmsg = NULL;
		set_err(errmsg, "%.200s:%u: %s", path, lineno, m);
		free(m);
	}
	return rv;
}

void
kms_config_free(kms_config *cfg)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].kind == K_STR)
			free(*(char **)((char *)cfg + keys[i].off));
	for (i = 0; i < KMS_MAX_SHARES; i++) {
		free(cfg->share_url[i]);
		free(cfg->share_cert[i]);
		free(cfg->share_config[i]);
	}
	memset(cfg, 0, sizeof(*cfg));
}

int
kms_config_is_front(const kms_config *cfg)
{
	return cfg->role != NULL && strcmp(cfg->role, "front") == 0;
}
