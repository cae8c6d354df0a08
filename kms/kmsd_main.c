/* keyward-kmsd: the keyward KMS (front role) and share-server role. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "kms.h"
#include "kms_api.h"
#include "kms_http.h"
#include "kms_service.h"
#include "kms_share_server.h"
#include "kms_tls.h"
#include "kw_log.h"
#include "kw_secret.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "Usage: keyward-kmsd --config FILE [--init [--share-token-stdin]]\n"
	    "       keyward-kmsd --config FILE --print-share-token\n"
	    "       keyward-kmsd --config FILE --export-audit OUT\n"
	    "       keyward-kmsd --verify-audit FILE\n"
	    "\n"
	    "The keyward key management service. With server.role = front it is the\n"
	    "KMS (HTTPS API, HSM, CA, directory, email validation); with\n"
	    "server.role = share it stores one share of every escrowed key.\n"
	    "\n"
	    "  -c, --config FILE        configuration file (docs/kms-config.md)\n"
	    "      --init               create the state directory, HSM token, keys,\n"
	    "                           CA and TLS identity (and the local share\n"
	    "                           servers named by shares.config.N), then exit\n"
	    "      --share-token-stdin  (share role, with --init) read the front's\n"
	    "                           share token from standard input\n"
	    "      --print-share-token  print the front's share token (to initialize\n"
	    "                           a share server on another host)\n"
	    "      --export-audit OUT   write the audit log (kept in the database) as\n"
	    "                           JSON lines to OUT (- for standard output),\n"
	    "                           checking its chain\n"
	    "      --verify-audit FILE  check the hash chain of a database (STATE/\n"
	    "                           kms.sqlite) or of an exported log, and exit\n"
	    "  -v, --verbose            more log output (repeat for debug)\n"
	    "  -h, --help               this help\n"
	    "      --version            print the version\n"
	    "\n"
	    "Runs in the foreground until SIGTERM or SIGINT. Logs go to stderr.\n");
}

static kw_rv
read_token_stdin(char *out, size_t outsz)
{
	size_t n;

	if (fgets(out, (int)outsz, stdin) == NULL)
		return KW_ERR_IO;
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	return n >= 32 ? KW_OK : KW_ERR_FORMAT;
}

static bool
is_sqlite(const char *path)
{
	char head[16] = "";
	FILE *f = fopen(path, "rb");
	bool yes;

	yes = f != NULL && fread(head, 1, 16, f) == 16 &&
	    memcmp(head, "SQLite format 3", 16) == 0;
	if (f != NULL)
		fclose(f);
	return yes;
}

static int
verify_audit(const char *path)
{
	kms_store *st = NULL;
	size_t n = 0;
	kw_rv rv;

	if (is_sqlite(path)) {
		if ((rv = kms_store_open(path, KMS_STORE_FRONT, &st)) == KW_OK)
			rv = kms_store_audit_verify(st, &n);
		kms_store_free(&st);
	} else
		rv = kms_audit_verify_file(path, &n);
	if (rv == KW_ERR_IO && n == 0) {
		fprintf(stderr, "keyward-kmsd: %s: cannot be read\n", path);
		return 1;
	}
	if (rv != KW_OK) {
		fprintf(stderr, "keyward-kmsd: %s: chain broken after entry %zu\n", path, n);
		return 1;
	}
	printf("%s: %zu entries, chain intact\n", path, n);
	return 0;
}

static int
export_audit(kms_ctx *ctx, const char *out)
{
	FILE *f = strcmp(out, "-") == 0 ? stdout : fopen(out, "w");
	char *url = kms_ctx_db_url(ctx);
	size_t n = 0;
	kw_rv rv = KW_ERR_IO;

	if (f != NULL && url != NULL &&
	    (rv = kms_store_open(url, kms_config_is_front(&ctx->cfg) ? KMS_STORE_FRONT :
	    KMS_STORE_SHARE, &ctx->store)) == KW_OK)
		rv = kms_store_audit_export(ctx->store, f, &n);
	free(url);
	if (f != NULL && f != stdout && fclose(f) != 0)
		rv = KW_ERR_IO;
	if (rv != KW_OK) {
		fprintf(stderr, "keyward-kmsd: audit export failed after %zu entries (%s)\n", n,
		    kw_strerror(rv));
		return 1;
	}
	fprintf(stderr, "keyward-kmsd: %zu audit entries exported, chain intact\n", n);
	return 0;
}

static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static kw_rv
start_front(kms_ctx *ctx)
{
	kw_rv rv;

	if ((rv = kms_reconcile(ctx)) != KW_OK || (rv = kms_pool_start(ctx)) != KW_OK ||
	    (rv = kms_mailer_start(ctx)) != KW_OK || (rv = kms_monitor_start(ctx)) != KW_OK)
		kw_err("cannot start the front's background work");
	return rv;
}

static void
stop_front(kms_ctx *ctx)
{
	kms_monitor_stop(ctx);
	kms_mailer_stop(ctx);
	kms_pool_stop(ctx);
}

static int
run(kms_ctx *ctx)
{
	kms_http *d = NULL;
	kms_audit_ev ev = { "start", NULL, NULL, NULL };
	kms_tls tls;
	sigset_t set;
	int sig = 0, ret = 1;
	bool front = kms_config_is_front(&ctx->cfg);

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	if (kms_ctx_start(ctx) != KW_OK)
		return 1;
	if (kms_tls_load(ctx, &tls) != KW_OK) {
		kw_err("cannot load the TLS identity (%.200s)", ctx->cfg.tls_cert);
		return 1;
	}
	if (front && start_front(ctx) != KW_OK)
		goto fail;
	ev.detail = json_pack("{s:s,s:I}", "role", ctx->cfg.role, "threads",
	    (json_int_t)ctx->cfg.threads);
	if (front && kms_store_audit(ctx->store, &ev) != KW_OK) {
		kw_err("the audit log cannot be written: not starting");
		goto fail;
	}
	if (kms_http_start(ctx, front ? kms_front_routes : kms_share_routes,
	    (const char *)tls.cert.data, (const char *)tls.key.data,
	    (const char *)tls.pass.data, &d) != KW_OK)
		goto fail;
	kms_tls_free(&tls);
	kw_log(KW_LOG_WARN, "keyward-kmsd (%s) listening on https://%s", ctx->cfg.role,
	    ctx->cfg.listen);
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		;
	kw_log(KW_LOG_WARN, "keyward-kmsd: signal %d, stopping", sig);
	ret = 0;
fail:
	json_decref(ev.detail);
	kms_tls_free(&tls);
	kms_http_stop(&d);
	if (front)
		stop_front(ctx);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "init", no_argument, NULL, 'I' },
		{ "share-token-stdin", no_argument, NULL, 'S' },
		{ "print-share-token", no_argument, NULL, 'P' },
		{ "verify-audit", required_argument, NULL, 'A' },
		{ "export-audit", required_argument, NULL, 'E' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *export_to = NULL;
	bool init = false, token_stdin = false, print_token = false;
	int c, verbose = 0, ret = 1;
	char token[256], *err = NULL;
	kms_ctx ctx;

	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'I': init = true; break;
		case 'S': token_stdin = true; break;
		case 'P': print_token = true; break;
		case 'A': return verify_audit(optarg);
		case 'E': export_to = optarg; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("keyward-kmsd %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (config == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	kw_log_init(verbose == 0 ? -1 : verbose == 1 ? KW_LOG_INFO : KW_LOG_DEBUG);
	if (kms_ctx_open(&ctx, config, &err) != KW_OK) {
		fprintf(stderr, "keyward-kmsd: %s\n", err != NULL ? err : "bad configuration");
		free(err);
		kms_ctx_close(&ctx);
		return 2;
	}
	if (init) {
		if (token_stdin && read_token_stdin(token, sizeof(token)) != KW_OK)
			fprintf(stderr, "keyward-kmsd: no share token on standard input\n");
		else if (kms_init(&ctx, "/proc/self/exe", token_stdin ? token : NULL) == KW_OK) {
			printf("keyward-kmsd: initialized %s (%s)\n", ctx.cfg.state_dir,
			    ctx.cfg.role);
			ret = 0;
		}
		kw_memzero(token, sizeof(token));
	} else if (export_to != NULL) {
		ret = export_audit(&ctx, export_to);
	} else if (print_token) {
		kw_buf tok;

		kw_buf_init(&tok, 256);
		if (kms_ctx_start_hsm_db(&ctx) == KW_OK &&
		    kms_hsm_data_get(ctx.hsm, KMS_LABEL_SHARE_TOKEN, &tok) == KW_OK) {
			printf("%.*s\n", (int)tok.len, tok.data);
			ret = 0;
		}
		kw_buf_free(&tok);
	} else
		ret = run(&ctx);
	if (ret != 0)
		fprintf(stderr, "keyward-kmsd: failed (see messages above)\n");
	kms_ctx_close(&ctx);
	return ret;
}
