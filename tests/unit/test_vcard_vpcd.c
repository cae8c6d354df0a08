/* keyward-vcard vpcd front-end: a fake vpcd server on loopback talks to
 * vcard_vpcd_run() in a child process (control codes, ATR, APDUs, the
 * trace with secrets redacted, --once exit on close). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_vcard_util.h"
#include "vcard_io.h"

static void
send_frame(int fd, const char *hex)
{
	kw_buf b;
	uint8_t hdr[2];

	kw_buf_init(&b, 0);
	assert_int_equal(kw_hex_decode(hex, &b), KW_OK);
	hdr[0] = (uint8_t)(b.len >> 8);
	hdr[1] = (uint8_t)b.len;
	/* like Debian's vpcd: length and payload in two writes */
	assert_int_equal(write(fd, hdr, 2), 2);
	assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
	kw_buf_free(&b);
}

static size_t
recv_frame(int fd, uint8_t *out, size_t max)
{
	uint8_t hdr[2];
	size_t n, got = 0;
	ssize_t r;

	assert_int_equal(recv(fd, hdr, 2, MSG_WAITALL), 2);
	n = (size_t)hdr[0] << 8 | hdr[1];
	assert_true(n <= max);
	while (got < n) {
		r = recv(fd, out + got, n - got, 0);
		assert_true(r > 0);
		got += (size_t)r;
	}
	return n;
}

static int
run_card(int port, const char *trace_path)
{
	vcard_card *c = NULL;
	vcard_trace *t = NULL;
	vcard_vpcd_cfg cfg;
	char portstr[16];
	volatile sig_atomic_t stop = 0;

	if (vcard_card_new(&c) != KW_OK || vcard_trace_open(&t, trace_path) != KW_OK)
		return 2;
	snprintf(portstr, sizeof(portstr), "%d", port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.host = "127.0.0.1";
	cfg.port = portstr;
	cfg.once = true;
	cfg.trace = t;
	cfg.stop = &stop;
	(void)vcard_vpcd_run(c, &cfg);
	vcard_trace_close(&t);
	vcard_card_free(&c);
	return 0;
}

static void
test_vpcd_session(void **state)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	char trace_path[] = "/tmp/test_vcard_vpcd.XXXXXX";
	uint8_t buf[512];
	size_t n;
	int lfd, fd, tfd, status, lines = 0, redacted = 0;
	pid_t pid;
	FILE *f;
	char line[512];

	(void)state;
	assert_true((tfd = mkstemp(trace_path)) >= 0);
	close(tfd);
	assert_true((lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(lfd);
		_exit(run_card(ntohs(sa.sin_port), trace_path));
	}
	assert_true((fd = accept(lfd, NULL, NULL)) >= 0);
	send_frame(fd, "01");                     /* power on: no reply */
	send_frame(fd, "04");                     /* get ATR */
	n = recv_frame(fd, buf, sizeof(buf));
	assert_int_equal(n, 23);
	assert_memory_equal(buf, "\x3B\xFD\x13\x00", 4);
	send_frame(fd, "00A4040005A000000308");
	n = recv_frame(fd, buf, sizeof(buf));
	assert_memory_equal(buf + n - 2, "\x90\x00", 2);
	send_frame(fd, "0020008008313233343536FFFF");
	n = recv_frame(fd, buf, sizeof(buf));
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "\x90\x00", 2);
	send_frame(fd, "02");                     /* reset: PIN forgotten */
	send_frame(fd, "00A4040005A000000308");
	(void)recv_frame(fd, buf, sizeof(buf));
	send_frame(fd, "00200080");
	n = recv_frame(fd, buf, sizeof(buf));
	assert_memory_equal(buf, "\x63\xC3", 2);
	send_frame(fd, "00CB3FFF055C035FC109");   /* printed info: redacted */
	n = recv_frame(fd, buf, sizeof(buf));
	assert_memory_equal(buf, "\x69\x82", 2);
	close(fd);                                /* card removed; --once exits */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(lfd);
	assert_non_null(f = fopen(trace_path, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		lines += line[0] == '>';
		redacted += strcmp(line, "> 00CB3FFF [6 bytes redacted]\n") == 0;
		assert_null(strstr(line, "313233343536"));   /* the PIN never */
	}
	fclose(f);
	assert_int_equal(lines, 5);
	assert_int_equal(redacted, 1);
	unlink(trace_path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vpcd_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
