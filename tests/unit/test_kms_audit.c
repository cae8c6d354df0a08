/* kms_audit.c: the hash chain survives restarts and catches edits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "kms.h"

static char path[64];

static void
ctx_init(kms_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	pthread_mutex_init(&ctx->audit_lock, NULL);
	ctx->cfg.audit_log = path;
}

static void
test_chain(void **state)
{
	kms_ctx a, b;
	size_t n = 0;
	FILE *f;
	char *text;
	long len;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/kw-kms-audit-%d.log", (int)getpid());
	unlink(path);
	ctx_init(&a);
	kms_audit(&a, "issue", "a@example.test", "127.0.0.1", json_pack("{s:s}", "serial", "01"));
	kms_audit(&a, "delivery", "a@example.test", NULL, NULL);
	kms_audit(&a, "validation_failed", "b@example.test", "10.0.0.1", NULL);
	assert_int_equal(kms_audit_verify(path, &n), KW_OK);
	assert_int_equal(n, 3);
	/* a new process continues the chain */
	ctx_init(&b);
	kms_audit(&b, "start", NULL, NULL, NULL);
	assert_int_equal(kms_audit_verify(path, &n), KW_OK);
	assert_int_equal(n, 4);
	/* change one byte of the second entry */
	f = fopen(path, "r+");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	char *p = strstr(text, "\"delivery\"");
	assert_non_null(p);
	p[1] = 'D';
	fseek(f, 0, SEEK_SET);
	fwrite(text, 1, (size_t)len, f);
	fclose(f);
	free(text);
	assert_int_equal(kms_audit_verify(path, &n), KW_ERR_FORMAT);
	assert_int_equal(n, 1);
	pthread_mutex_destroy(&a.audit_lock);
	pthread_mutex_destroy(&b.audit_lock);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
