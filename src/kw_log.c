#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kw_buf.h"
#include "kw_log.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static kw_log_level log_level = KW_LOG_WARN;
static FILE *log_stream;
static int log_ready;

static kw_log_level
level_from_name(const char *s)
{
	static const char *const names[] = { "none", "error", "warn", "info", "debug", "trace" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i]) == 0)
			return (kw_log_level)i;
	if (s[0] >= '0' && s[0] <= '5' && s[1] == '\0')
		return (kw_log_level)(s[0] - '0');
	return KW_LOG_WARN;
}

void
kw_log_init(int level)
{
	const char *env, *file;

	pthread_mutex_lock(&log_lock);
	if (level >= 0) {
		log_level = level > KW_LOG_TRACE ? KW_LOG_TRACE : (kw_log_level)level;
	} else if (!log_ready && (env = getenv("KEYWARD_LOG")) != NULL) {
		log_level = level_from_name(env);
	}
	if (!log_ready && log_stream == NULL && (file = getenv("KEYWARD_LOG_FILE")) != NULL)
		log_stream = fopen(file, "ae");
	log_ready = 1;
	pthread_mutex_unlock(&log_lock);
}

kw_log_level
kw_log_get_level(void)
{
	if (!log_ready)
		kw_log_init(-1);
	return log_level;
}

void
kw_log_set_level(kw_log_level level)
{
	kw_log_init((int)level);
}

void
kw_log_set_stream(FILE *f)
{
	pthread_mutex_lock(&log_lock);
	log_stream = f;
	pthread_mutex_unlock(&log_lock);
}

void
kw_log(kw_log_level level, const char *fmt, ...)
{
	static const char *const tags[] = { "", "error", "warn", "info", "debug", "trace" };
	va_list ap;
	FILE *out;

	if (level == KW_LOG_NONE || level > kw_log_get_level())
		return;
	pthread_mutex_lock(&log_lock);
	out = log_stream != NULL ? log_stream : stderr;
	fprintf(out, "keyward[%s]: ", tags[level]);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fflush(out);
	pthread_mutex_unlock(&log_lock);
}

static int
ins_is_secret(uint8_t ins)
{
	switch (ins) {
	case 0x20: case 0x24: case 0x2c: case 0x87: case 0xfe: case 0xff:
		return 1;
	default:
		return 0;
	}
}

int
kw_apdu_is_secret(const uint8_t *apdu, size_t len)
{
	return len >= 2 && ins_is_secret(apdu[1]);
}

char *
kw_apdu_format(const uint8_t *p, size_t len, int is_response, uint8_t cmd_ins,
    char *out, size_t outsz)
{
	size_t shown = len;
	int redact = ins_is_secret(cmd_ins);
	char *w = out;
	size_t room = outsz, n, i;

	if (outsz == 0)
		return out;
	out[0] = '\0';
	if (redact) {
		/* Keep only the header (commands) or the status word (responses). */
		shown = is_response ? 0 : (len < 4 ? len : 4);
	}
	if (shown > 64)
		shown = 64;
	for (i = 0; i < shown && room > 3; i++) {
		snprintf(w, room, "%02X", p[i]);
		w += 2;
		room -= 2;
	}
	if (redact && len > shown + (is_response ? 2 : 0)) {
		n = (size_t)snprintf(w, room, " [%zu bytes redacted]", len - shown - (is_response ? 2 : 0));
		if (n >= room)
			return out;
		w += n;
		room -= n;
	} else if (shown < len && !(is_response && redact)) {
		n = (size_t)snprintf(w, room, "... (%zu bytes)", len);
		if (n >= room)
			return out;
		w += n;
		room -= n;
	}
	if (is_response && redact && len >= 2 && room > 6)
		snprintf(w, room, " %02X%02X", p[len - 2], p[len - 1]);
	return out;
}

void
kw_log_apdu(const char *dir, const uint8_t *p, size_t len, int is_response,
    uint8_t cmd_ins)
{
	char line[256];

	if (kw_log_get_level() < KW_LOG_TRACE)
		return;
	kw_apdu_format(p, len, is_response, cmd_ins, line, sizeof(line));
	kw_log(KW_LOG_TRACE, "%s %s", dir, line);
}
