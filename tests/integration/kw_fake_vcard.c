/* A stand-in for keyward-vcard that tests keyward-testenv on its own: it
 * accepts the vcard command line (notes: vcard-cli), connects to vpcd,
 * answers the ATR and every APDU with 6D00, writes one trace line per
 * APDU, records its arguments in STATE.args and exits 0 on SIGTERM.
 * KW_FAKE_VCARD_FAIL=1 makes it fail at start-up (error path tests). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static const uint8_t atr[] = { 0x3b, 0x80, 0x80, 0x01, 0x01 };

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int
read_full(int fd, uint8_t *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = recv(fd, p, n, 0);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
send_frame(int fd, const uint8_t *p, size_t n)
{
	uint8_t hdr[2] = { (uint8_t)(n >> 8), (uint8_t)n };

	if (send(fd, hdr, 2, MSG_NOSIGNAL) != 2 ||
	    send(fd, p, n, MSG_NOSIGNAL) != (ssize_t)n)
		return -1;
	return 0;
}

static int
connect_vpcd(const char *hostport)
{
	struct sockaddr_in sa;
	char host[64];
	const char *colon = strrchr(hostport, ':');
	int fd, one = 1;

	if (colon == NULL || (size_t)(colon - hostport) >= sizeof(host))
		return -1;
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
serve(int fd, FILE *trace)
{
	uint8_t hdr[2], buf[65536];
	static const uint8_t sw[] = { 0x6d, 0x00 };
	size_t len, i;

	while (!stop && read_full(fd, hdr, 2) == 0) {
		len = (size_t)hdr[0] << 8 | hdr[1];
		if (len == 0 || read_full(fd, buf, len) != 0)
			return;
		if (len == 1) {
			if (buf[0] == 0x04 && send_frame(fd, atr, sizeof(atr)))
				return;
			continue;
		}
		if (trace != NULL) {
			fputs("> ", trace);
			for (i = 0; i < len; i++)
				fprintf(trace, "%02X", buf[i]);
			fputs("\n< 6D00\n", trace);
			fflush(trace);
		}
		if (send_frame(fd, sw, sizeof(sw)) != 0)
			return;
	}
}

static void
record_args(const char *state, int argc, char **argv)
{
	char path[4096];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s.args", state);
	f = fopen(path, "w");
	if (f == NULL)
		return;
	for (i = 1; i < argc; i++)
		fprintf(f, "%s\n", argv[i]);
	fclose(f);
	f = fopen(state, "a"); /* the state exists after the first run */
	if (f != NULL)
		fclose(f);
}

int
main(int argc, char **argv)
{
	const char *state = NULL, *vpcd = "127.0.0.1:35963", *tr = NULL;
	FILE *trace = NULL;
	struct sigaction sa;
	int i, fd;

	for (i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--state") == 0)
			state = argv[++i];
		else if (strcmp(argv[i], "--vpcd") == 0)
			vpcd = argv[++i];
		else if (strcmp(argv[i], "--trace") == 0)
			tr = argv[++i];
	}
	if (getenv("KW_FAKE_VCARD_FAIL") != NULL || state == NULL) {
		fprintf(stderr, "fake vcard: failing on purpose\n");
		return 3;
	}
	record_args(state, argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term; /* no SA_RESTART: recv() must return */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (tr != NULL)
		trace = fopen(tr, "a");
	while (!stop) {
		fd = connect_vpcd(vpcd);
		if (fd < 0) {
			usleep(200000);
			continue;
		}
		serve(fd, trace);
		close(fd);
	}
	if (trace != NULL)
		fclose(trace);
	return 0;
}
