/* kms_config.c: defaults, share lists, error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "kms_config.h"

static char path[64];

static kw_rv
load(const char *text, kms_config *cfg, char **err)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/kw-kms-cfg-%d.conf", (int)getpid());
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return kms_config_load(path, cfg, err);
}

static void
test_front_defaults(void **state)
{
	kms_config c;
	char *err = NULL;

	(void)state;
	assert_int_equal(load("[server]\nstate_dir = /s\n[shares]\nurl.1 = https://a\n"
	    "cert.1 = /a.crt\nurl.2 = https://b\ncert.2 = /b.crt\n", &c, &err), KW_OK);
	assert_string_equal(c.role, "front");
	assert_string_equal(c.tls_key, "/s/tls.key");
	assert_string_equal(c.softhsm_conf, "/s/softhsm2.conf");
	assert_string_equal(c.hsm_token, "keyward-kms");
	assert_int_equal(c.share_count, 2);
	assert_int_equal(c.threshold, 2);
	assert_int_equal(c.enc_validity_days, 1095);
	assert_int_equal(c.sign_validity_days, 365);
	assert_int_equal(c.max_body, 65536);
	kms_config_free(&c);
	unlink(path);
}

static void
test_errors(void **state)
{
	kms_config c;
	char *err = NULL;

	(void)state;
	assert_int_equal(load("[server]\nstate_dir = /s\nrole = share\nlisten = x\nfoo = 1\n",
	    &c, &err), KW_ERR_FORMAT);
	assert_non_null(strstr(err, "unknown key server.foo"));
	free(err);
	kms_config_free(&c);
	assert_int_equal(load("[server]\nstate_dir = /s\n", &c, &err), KW_ERR_ARG);
	assert_non_null(strstr(err, "share servers"));
	free(err);
	kms_config_free(&c);
	assert_int_equal(load("[validation]\nttl = -5\n", &c, &err), KW_ERR_FORMAT);
	free(err);
	kms_config_free(&c);
	assert_int_equal(load("[server]\nstate_dir = /s\n[shares]\nsplit = shamir\n"
	    "threshold = 3\nurl.1 = u\ncert.1 = c\nurl.2 = u\ncert.2 = c\n", &c, &err),
	    KW_ERR_ARG);
	free(err);
	kms_config_free(&c);
	unlink(path);
}

static void
test_share_role(void **state)
{
	kms_config c;
	char *err = NULL;

	(void)state;
	assert_int_equal(load("# share\n[server]\nrole = share\nstate_dir = /x\n", &c, &err),
	    KW_OK);
	assert_false(kms_config_is_front(&c));
	assert_string_equal(c.hsm_token, "keyward-share");
	kms_config_free(&c);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_front_defaults),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_share_role),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
