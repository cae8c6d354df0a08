/* Reading PINs, PUKs, passwords (never echoed, never logged) and the
 * validation value. Secrets go straight into a kw_secret; every
 * intermediate buffer is wiped. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "kwenroll.h"

#define KWCLI_LINE_MAX 256

kw_rv
kwcli_read_line(int fd, char *out, size_t max)
{
	size_t n = 0;
	ssize_t r;
	char ch;

	if (max == 0)
		return KW_ERR_ARG;
	for (;;) {
		r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (ch == '\n')
			break;
		if (n + 1 >= max) {
			kw_memzero(out, max);
			return KW_ERR_RANGE;
		}
		out[n++] = ch;
	}
	if (r <= 0 && n == 0) {
		out[0] = '\0';
		return KW_ERR_IO;
	}
	if (n > 0 && out[n - 1] == '\r')
		n--;
	out[n] = '\0';
	return KW_OK;
}

/* Read a line from the terminal with echo off. */
static kw_rv
tty_secret(const char *prompt, char *out, size_t max)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	bool restored = false;
	kw_rv rv;

	if (fd < 0)
		return KW_ERR_NOT_FOUND;
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		return KW_ERR_NOT_FOUND;
	}
	quiet = old;
	quiet.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		close(fd);
		return KW_ERR_IO;
	}
	rv = kwcli_read_line(fd, out, max);
	restored = tcsetattr(fd, TCSAFLUSH, &old) == 0;
	if (write(fd, "\n", 1) < 0 || !restored)
		rv = rv == KW_OK ? KW_ERR_IO : rv;
	close(fd);
	return rv;
}

static kw_rv
file_secret(const char *path, char *out, size_t max)
{
	int fd;
	kw_rv rv;

	if (strcmp(path, "-") == 0)
		return kwcli_read_line(STDIN_FILENO, out, max);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return KW_ERR_IO;
	rv = kwcli_read_line(fd, out, max);
	close(fd);
	return rv;
}

static kw_rv
prompt_secret(const kwcli_secret_src *src, char *line, size_t max)
{
	char prompt[96], again[KWCLI_LINE_MAX];
	kw_rv rv;

	snprintf(prompt, sizeof(prompt), "Enter %s: ", src->what);
	if ((rv = tty_secret(prompt, line, max)) != KW_OK || !src->confirm)
		return rv;
	snprintf(prompt, sizeof(prompt), "Repeat %s: ", src->what);
	if ((rv = tty_secret(prompt, again, sizeof(again))) == KW_OK &&
	    (strlen(again) != strlen(line) ||
	    !kw_timingsafe_eq(again, line, strlen(line)))) {
		fprintf(stderr, "keyward: the two entries of the %s differ\n", src->what);
		rv = KW_ERR_ARG;
	}
	kw_memzero(again, sizeof(again));
	return rv;
}

kw_rv
kwcli_secret_get(const kwcli_secret_src *src, kw_secret *out)
{
	char line[KWCLI_LINE_MAX];
	const char *env = src->env != NULL ? getenv(src->env) : NULL;
	kw_rv rv;

	memset(line, 0, sizeof(line));
	if (src->file != NULL) {
		if ((rv = file_secret(src->file, line, sizeof(line))) != KW_OK)
			fprintf(stderr, "keyward: cannot read the %s from %s\n", src->what,
			    strcmp(src->file, "-") == 0 ? "stdin" : src->file);
	} else if (env != NULL && *env != '\0') {
		rv = strlen(env) < sizeof(line) ? KW_OK : KW_ERR_RANGE;
		if (rv == KW_OK)
			memcpy(line, env, strlen(env));
	} else if ((rv = prompt_secret(src, line, sizeof(line))) == KW_ERR_NOT_FOUND) {
		fprintf(stderr, "keyward: no terminal to ask for the %s: give it with "
		    "a file option%s%s\n", src->what, src->env != NULL ? " or $" : "",
		    src->env != NULL ? src->env : "");
	}
	if (rv == KW_OK && line[0] == '\0') {
		fprintf(stderr, "keyward: the %s is empty\n", src->what);
		rv = KW_ERR_ARG;
	}
	if (rv == KW_OK)
		rv = kw_secret_set(out, line, strlen(line));
	kw_memzero(line, sizeof(line));
	return rv;
}

kw_rv
kwcli_prompt_line(const char *prompt, char *out, size_t max)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	kw_rv rv;

	if (fd < 0 || !isatty(STDIN_FILENO)) {
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "%s", prompt);
		rv = kwcli_read_line(STDIN_FILENO, out, max);
		fputc('\n', stderr);   /* the answer came from a pipe: no echo */
		return rv;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		close(fd);
		return KW_ERR_IO;
	}
	rv = kwcli_read_line(fd, out, max);
	close(fd);
	return rv;
}

bool
kwcli_pin_ok(const kw_secret *pin)
{
	size_t i;

	if (pin->len < 6 || pin->len > 8)
		return false;
	for (i = 0; i < pin->len; i++)
		if (pin->ptr[i] == 0xFF)
			return false;
	return true;
}
