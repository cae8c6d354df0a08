/* keyward-kmsd: the keyward KMS (front role) and share-server role. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms.h"
#include "kms_http.h"
#include "kms_tls.h"
#include "kw_log.h"
#include "kw_secret.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "Usage: keyward-kmsd --config FILE [--init [--share-token-stdin]]\n"
	    "       keyward-kmsd --config FILE --print-share-token\n"
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
	    "      --verify-audit FILE  check the hash chain of an audit log and exit\n"
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

static int
verify_audit(const char *path)
{
	size_t n = 0;

	if (kms_audit_verify(path, &n) != KW_OK) {
		fprintf(stderr, "keyward-kmsd: %s: chain broken after entry %zu\n", path, n);
		return 1;
	}
	printf("%s: %zu entries, chain intact\n", path, n);
	return 0;
}

static int
run(kms_ctx *ctx)
{
	struct MHD_Daemon *d = NULL;
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
	if (kms_ctx_start(ctx) != KW_OK)
		return 1;
	if (kms_tls_load(ctx, &tls) != KW_OK) {
		kw_err("cannot load the TLS identity (%.200s)", ctx->cfg.tls_cert);
		return 1;
	}
	if (kms_http_start(ctx, front ? kms_front_routes : kms_share_routes,
	    (const char *)tls.cert.data, (const char *)tls.key.data,
	    (const char *)tls.pass.data, &d) != KW_OK)
		goto fail;
	kms_tls_free(&tls);
	if (front && kms_pool_start(ctx) != KW_OK)
		goto fail;
	kms_audit(ctx, "start", NULL, NULL, json_pack("{s:s}", "role", ctx->cfg.role));
	kw_log(KW_LOG_WARN, "keyward-kmsd (%s) listening on https://%s", ctx->cfg.role,
	    ctx->cfg.listen);
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		;
	kw_log(KW_LOG_WARN, "keyward-kmsd: signal %d, stopping", sig);
	ret = 0;
fail:
	kms_tls_free(&tls);
	kms_http_stop(&d);
	if (front)
		kms_pool_stop(ctx);
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
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
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
	} else if (print_token) {
		if (kms_ctx_start(&ctx) == KW_OK && ctx.share_token.len > 0) {
			printf("%.*s\n", (int)ctx.share_token.len, ctx.share_token.data);
			ret = 0;
		}
	} else
		ret = run(&ctx);
	if (ret != 0)
		fprintf(stderr, "keyward-kmsd: failed (see messages above)\n");
	kms_ctx_close(&ctx);
	return ret;
}
