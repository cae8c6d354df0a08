/* The audit chain in the store: entries written by kms_store_audit verify
 * in the database and as an exported log; a new connection continues the
 * chain; an edited entry or a removed line breaks it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "kms_store.h"

static char db[64], log_path[64];

static void
add(kms_store *st, const char *event, const char *email, json_t *detail)
{
	kms_audit_ev ev = { event, email, "127.0.0.1", detail };

	assert_int_equal(kms_store_audit(st, &ev), KW_OK);
	json_decref(detail);
}

static void
test_chain(void **state)
{
	kms_store *st = NULL;
	size_t n = 0;
	sqlite3 *h;
	char cmd[128];
	FILE *f;

	(void)state;
	snprintf(db, sizeof(db), "/tmp/kw-kms-audit-%d.sqlite", (int)getpid());
	snprintf(log_path, sizeof(log_path), "/tmp/kw-kms-audit-%d.log", (int)getpid());
	unlink(db);
	assert_int_equal(kms_store_open(db, KMS_STORE_FRONT, &st), KW_OK);
	add(st, "issue", "a@example.test", json_pack("{s:s}", "serial", "01"));
	add(st, "delivery", "a@example.test", NULL);
	add(st, "validation_failed", "b@example.test", NULL);
	assert_int_equal(kms_store_audit_verify(st, &n), KW_OK);
	assert_int_equal(n, 3);
	kms_store_free(&st);
	/* a new process continues the chain */
	assert_int_equal(kms_store_open(db, KMS_STORE_FRONT, &st), KW_OK);
	add(st, "start", NULL, NULL);
	f = fopen(log_path, "w");
	assert_non_null(f);
	assert_int_equal(kms_store_audit_export(st, f, &n), KW_OK);
	fclose(f);
	assert_int_equal(n, 4);
	assert_int_equal(kms_audit_verify_file(log_path, &n), KW_OK);
	assert_int_equal(n, 4);
	kms_store_free(&st);
	/* change one byte of the second entry */
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "UPDATE audit SET line = replace(line, '\"delivery\"',"
	    " '\"Delivery\"') WHERE seq = 2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(kms_store_open(db, KMS_STORE_FRONT, &st), KW_OK);
	assert_int_equal(kms_store_audit_verify(st, &n), KW_ERR_FORMAT);
	assert_int_equal(n, 1);
	kms_store_free(&st);
	/* an exported log with a line removed */
	snprintf(cmd, sizeof(cmd), "sed -i 3d %s", log_path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(kms_audit_verify_file(log_path, &n), KW_ERR_FORMAT);
	assert_int_equal(n, 2);
	unlink(db);
	unlink(log_path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
