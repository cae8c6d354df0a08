/* APDU trace: one "> command" and one "< response" line per exchange,
 * formatted and redacted by kw_apdu_format() (src/kw_log.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vcard_io.h"
#include "kw_log.h"

struct vcard_trace {
	FILE *f;
};

kw_rv
vcard_trace_open(vcard_trace **out, const char *path)
{
	vcard_trace *t;
	int fd;

	*out = NULL;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return KW_ERR_IO;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		close(fd);
		return KW_ERR_NOMEM;
	}
	if ((t->f = fdopen(fd, "a")) == NULL) {
		close(fd);
		free(t);
		return KW_ERR_IO;
	}
	*out = t;
	return KW_OK;
}

void
vcard_trace_exchange(vcard_trace *t, const uint8_t *cmd, size_t cmd_len,
    const uint8_t *resp, size_t resp_len, uint8_t resp_ins)
{
	char line[256];

	if (t == NULL || cmd_len < 2)
		return;
	fprintf(t->f, "> %s\n", kw_apdu_format(cmd, cmd_len, 0, cmd[1], line, sizeof(line)));
	fprintf(t->f, "< %s\n", kw_apdu_format(resp, resp_len, 1, resp_ins, line, sizeof(line)));
	fflush(t->f);
}

void
vcard_trace_exchange_redacted(vcard_trace *t, const uint8_t *cmd, size_t cmd_len,
    const uint8_t *resp, size_t resp_len)
{
	if (t == NULL || cmd_len < 4 || resp_len < 2)
		return;
	fprintf(t->f, "> %02X%02X%02X%02X [%zu bytes redacted]\n",
	    cmd[0], cmd[1], cmd[2], cmd[3], cmd_len - 4);
	fprintf(t->f, "< [%zu bytes redacted] %02X%02X\n", resp_len - 2,
	    resp[resp_len - 2], resp[resp_len - 1]);
	fflush(t->f);
}

void
vcard_trace_close(vcard_trace **tp)
{
	if (tp == NULL || *tp == NULL)
		return;
	fclose((*tp)->f);
	free(*tp);
	*tp = NULL;
}
