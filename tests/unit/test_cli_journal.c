/* tools/keyward/cli_journal.c: the enrollment journal (state directory
 * from the environment, atomic save, mode 0600, steps, a corrupt file
 * replaced by an empty journal) and cli_input.c's line and secret reading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kwenroll.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kw-journal-test.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	setenv("KEYWARD_STATE_DIR", dir, 1);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_roundtrip(void **state)
{
	kwcli_journal jr;
	struct stat st;

	(void)state;
	assert_int_equal(kwcli_journal_load(&jr, "1234"), KW_OK);
	assert_null(kwcli_journal_str(&jr, "email"));
	assert_int_equal(kwcli_journal_set_str(&jr, "email", "a@b.test"), KW_OK);
	assert_int_equal(kwcli_journal_step(&jr, "init"), KW_OK);
	assert_int_equal(stat(jr.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	kwcli_journal_free(&jr);

	assert_int_equal(kwcli_journal_load(&jr, "1234"), KW_OK);
	assert_string_equal(kwcli_journal_str(&jr, "email"), "a@b.test");
	assert_true(json_is_true(json_object_get(json_object_get(jr.j, "steps"), "init")));
	assert_int_equal(kwcli_journal_set_str(&jr, "email", NULL), KW_OK);
	assert_null(kwcli_journal_str(&jr, "email"));
	kwcli_journal_free(&jr);

	/* Another token has its own journal. */
	assert_int_equal(kwcli_journal_load(&jr, "5678"), KW_OK);
	assert_null(kwcli_journal_str(&jr, "email"));
	kwcli_journal_free(&jr);
}

static void
test_corrupt(void **state)
{
	kwcli_journal jr;
	FILE *f;

	(void)state;
	assert_int_equal(kwcli_journal_load(&jr, "99"), KW_OK);
	f = fopen(jr.path, "w");
	assert_non_null(f);
	fputs("[1, 2", f);
	fclose(f);
	kwcli_journal_free(&jr);
	assert_int_equal(kwcli_journal_load(&jr, "99"), KW_OK);
	assert_true(json_is_object(jr.j));
	assert_int_equal(json_object_size(jr.j), 0);
	kwcli_journal_free(&jr);
}

static int
pipe_with(const char *text)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], text, strlen(text)), (ssize_t)strlen(text));
	close(fds[1]);
	return fds[0];
}

static void
test_read_line(void **state)
{
	char line[16];
	int fd;

	(void)state;
	fd = pipe_with("first\r\nsecond\nlast");
	assert_int_equal(kwcli_read_line(fd, line, sizeof(line)), KW_OK);
	assert_string_equal(line, "first");
	assert_int_equal(kwcli_read_line(fd, line, sizeof(line)), KW_OK);
	assert_string_equal(line, "second");
	assert_int_equal(kwcli_read_line(fd, line, sizeof(line)), KW_OK);
	assert_string_equal(line, "last");
	assert_int_equal(kwcli_read_line(fd, line, sizeof(line)), KW_ERR_IO);
	close(fd);
	fd = pipe_with("0123456789abcdefXYZ\n");
	assert_int_equal(kwcli_read_line(fd, line, sizeof(line)), KW_ERR_RANGE);
	assert_int_equal(line[0], 0);   /* wiped */
	close(fd);
}

static void
test_secret_sources(void **state)
{
	char path[128];
	kwcli_secret_src src = { "PIN", NULL, "KW_TEST_PIN", false };
	kw_secret s = { 0 };
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/pin", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("24681012\nignored\n", f);
	fclose(f);
	src.file = path;
	setenv("KW_TEST_PIN", "999999", 1);
	assert_int_equal(kwcli_secret_get(&src, &s), KW_OK);    /* the file wins */
	assert_int_equal(s.len, 8);
	assert_memory_equal(s.ptr, "24681012", 8);
	assert_true(kwcli_pin_ok(&s));
	kw_secret_free(&s);
	src.file = NULL;
	assert_int_equal(kwcli_secret_get(&src, &s), KW_OK);    /* then the environment */
	assert_memory_equal(s.ptr, "999999", 6);
	kw_secret_free(&s);
	setenv("KW_TEST_PIN", "12345", 1);
	assert_int_equal(kwcli_secret_get(&src, &s), KW_OK);
	assert_false(kwcli_pin_ok(&s));                          /* too short */
	kw_secret_free(&s);
	src.file = "/nonexistent/pin";
	assert_int_not_equal(kwcli_secret_get(&src, &s), KW_OK);
	assert_null(s.ptr);
	unsetenv("KW_TEST_PIN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_read_line),
		cmocka_unit_test(test_secret_sources),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
