/* drivers/kw_lock.c: bounded waits, holder reporting, notes carried from
 * one holder to the next, no stale locks after a holder dies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "kw_lock.h"

static char dir[64];

static int64_t
ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kw-test-lock.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	return setenv("KEYWARD_LOCK_DIR", dir, 1);
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
test_take_and_wait(void **state)
{
	kw_lock *a = NULL, *b = (kw_lock *)1;
	char holder[96], want[64], path[128];
	int64_t t0;

	(void)state;
	assert_string_equal(kw_lock_dir(), dir);
	assert_int_equal(kw_lock_take("t1", "busy", 0, holder, sizeof(holder), &a), KW_OK);
	assert_string_equal(kw_lock_prev_note(a), "");
	snprintf(path, sizeof(path), "%s/t1", dir);
	assert_int_equal(kw_lock_file_pid(path), (long)getpid());
	/* a second open file description waits for the bound, then gives up */
	t0 = ms();
	assert_int_equal(kw_lock_take("t1", "x", 150, holder, sizeof(holder), &b), KW_ERR_SHARING);
	assert_null(b);
	assert_true(ms() - t0 >= 140);
	assert_true(ms() - t0 < 2000);
	snprintf(want, sizeof(want), "process %ld (", (long)getpid());
	assert_non_null(strstr(holder, want));
	assert_true(kw_lock_set_note(a, "tag1 clean"));
	kw_lock_release(&a);
	assert_null(a);
	kw_lock_release(&a);
	assert_int_equal(kw_lock_take("t1", "busy", 0, NULL, 0, &b), KW_OK);
	assert_string_equal(kw_lock_prev_note(b), "tag1 clean");
	kw_lock_release(&b);
}

/* A holder killed while holding: the next taker does not wait. */
static void
test_holder_dies(void **state)
{
	kw_lock *l = NULL;
	int p[2], st;
	char c;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		kw_lock *mine = NULL;

		if (kw_lock_take("t2", "busy", 0, NULL, 0, &mine) != KW_OK)
			_exit(1);
		(void)!write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(kw_lock_take("t2", "n", 0, NULL, 0, &l), KW_ERR_SHARING);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	assert_int_equal(kw_lock_take("t2", "n", 500, NULL, 0, &l), KW_OK);
	/* the dead holder's note stays for the next one to see */
	assert_string_equal(kw_lock_prev_note(l), "busy");
	kw_lock_release(&l);
	close(p[0]);
	close(p[1]);
}

/* The waiter gets the lock as soon as it is released, before the bound. */
static void
test_released_while_waiting(void **state)
{
	kw_lock *l = NULL;
	int64_t t0;
	int st;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		kw_lock *mine = NULL;

		if (kw_lock_take("t3", "busy", 0, NULL, 0, &mine) != KW_OK)
			_exit(1);
		usleep(200000);
		kw_lock_release(&mine);
		_exit(0);
	}
	usleep(50000);
	t0 = ms();
	assert_int_equal(kw_lock_take("t3", "n", 5000, NULL, 0, &l), KW_OK);
	assert_true(ms() - t0 < 2000);
	kw_lock_release(&l);
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
test_errors(void **state)
{
	kw_lock *l = (kw_lock *)1;
	char holder[8] = "junk";

	(void)state;
	assert_int_equal(kw_lock_take("a/b", "n", 0, holder, sizeof(holder), &l), KW_ERR_ARG);
	assert_null(l);
	assert_string_equal(holder, "");
	assert_int_equal(kw_lock_take("", "n", 0, NULL, 0, &l), KW_ERR_ARG);
	setenv("KEYWARD_LOCK_DIR", "/nonexistent/keyward-locks", 1);
	assert_int_equal(kw_lock_take("x", "n", 0, NULL, 0, &l), KW_ERR_IO);
	setenv("KEYWARD_LOCK_DIR", dir, 1);
	assert_int_equal(kw_lock_file_pid("/nonexistent/x"), 0);
	kw_lock_describe(0, holder, sizeof(holder));
	assert_string_equal(holder, "another");
}

/* A file left by someone whose pid no longer exists names no holder. */
static void
test_garbage_file(void **state)
{
	char path[128];
	FILE *f;
	kw_lock *l = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/t4", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("not a pid\n", f);
	fclose(f);
	assert_int_equal(kw_lock_file_pid(path), 0);
	assert_int_equal(kw_lock_take("t4", "n", 0, NULL, 0, &l), KW_OK);
	assert_string_equal(kw_lock_prev_note(l), "");
	kw_lock_release(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_and_wait),
		cmocka_unit_test(test_holder_dies),
		cmocka_unit_test(test_released_while_waiting),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_garbage_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
