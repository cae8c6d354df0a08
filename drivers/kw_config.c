/* The configuration file parser (see kw_config.h). Every byte of the file
 * is read through kw_view; lines and the file are bounded. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kw_config.h"
#include "kw_log.h"

static bool
is_space(uint8_t ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Trim blanks on both sides of a view. */
static kw_view
trim(kw_view v)
{
	while (v.len > 0 && is_space(v.ptr[0])) {
		v.ptr++;
		v.len--;
	}
	while (v.len > 0 && is_space(v.ptr[v.len - 1]))
		v.len--;
	return v;
}

static bool
view_is(kw_view v, const char *s)
{
	return v.len == strlen(s) && memcmp(v.ptr, s, v.len) == 0;
}

/* Take the next line (without '\n') off text. */
static kw_rv
next_line(kw_view *text, kw_view *line)
{
	const uint8_t *nl = memchr(text->ptr, '\n', text->len);
	size_t n = nl != NULL ? (size_t)(nl - text->ptr) : text->len;
	kw_rv rv;

	if ((rv = kw_view_get_view(text, n, line)) != KW_OK)
		return rv;
	if (nl != NULL)
		rv = kw_view_skip(text, 1);
	return rv;
}

static kw_rv
add_value(kw_strlist *l, kw_view val)
{
	char buf[KW_CONFIG_MAX_LINE + 1];
	size_t i;

	if (val.len == 0 || val.len > KW_CONFIG_MAX_LINE)
		return KW_ERR_FORMAT;
	for (i = 0; i < val.len; i++)
		if (val.ptr[i] < 0x20 || val.ptr[i] == 0x7f)
			return KW_ERR_FORMAT;
	memcpy(buf, val.ptr, val.len);
	buf[val.len] = '\0';
	return kw_strlist_add(l, buf);
}

static kw_rv
parse_line(kw_view line, kw_config *cfg)
{
	const uint8_t *eq;
	kw_view key, val;

	line = trim(line);
	if (line.len == 0 || line.ptr[0] == '#' || line.ptr[0] == ';')
		return KW_OK;
	if (line.len > KW_CONFIG_MAX_LINE || (eq = memchr(line.ptr, '=', line.len)) == NULL)
		return KW_ERR_FORMAT;
	key = trim(kw_view_make(line.ptr, (size_t)(eq - line.ptr)));
	val = trim(kw_view_make(eq + 1, line.len - (size_t)(eq - line.ptr) - 1));
	if (key.len == 0)
		return KW_ERR_FORMAT;
	if (val.len >= 2 && val.ptr[0] == '"' && val.ptr[val.len - 1] == '"')
		val = kw_view_make(val.ptr + 1, val.len - 2);
	if (view_is(key, "uicc_reader"))
		return add_value(&cfg->uicc_readers, val);
	if (view_is(key, "modem_port"))
		return add_value(&cfg->modem_ports, val);
	if (view_is(key, "ble_device"))
		return add_value(&cfg->ble_devices, val);
	kw_debug("config: ignoring key '%.*s'", (int)(key.len > 64 ? 64 : key.len),
	    (const char *)key.ptr);
	return KW_OK;
}

kw_rv
kw_config_parse(kw_view text, kw_config *cfg, size_t *line_no)
{
	kw_view line;
	size_t n = 0;
	kw_rv rv;

	if (line_no != NULL)
		*line_no = 0;
	if (text.len > KW_CONFIG_MAX_FILE)
		return KW_ERR_RANGE;
	while (!kw_view_empty(&text)) {
		n++;
		if ((rv = next_line(&text, &line)) != KW_OK)
			return rv;
		if (memchr(line.ptr, '\0', line.len) != NULL)
			rv = KW_ERR_FORMAT;
		else
			rv = parse_line(line, cfg);
		if (rv != KW_OK) {
			if (line_no != NULL)
				*line_no = n;
			return rv;
		}
	}
	return KW_OK;
}

kw_rv
kw_config_split(const char *s, kw_strlist *out)
{
	char sep = strchr(s, ';') != NULL ? ';' : ':';
	const char *p = s, *end;
	kw_view v;
	kw_rv rv;

	while (*p != '\0') {
		end = strchr(p, sep);
		if (end == NULL)
			end = p + strlen(p);
		v = trim(kw_view_make(p, (size_t)(end - p)));
		if (v.len > 0 && (rv = add_value(out, v)) != KW_OK)
			return rv;
		p = *end != '\0' ? end + 1 : end;
	}
	return KW_OK;
}

void
kw_config_free(kw_config *cfg)
{
	kw_strlist_free(&cfg->uicc_readers);
	kw_strlist_free(&cfg->modem_ports);
	kw_strlist_free(&cfg->ble_devices);
}

/* Read a whole (bounded) file; a missing file is KW_ERR_NOT_FOUND. */
static kw_rv
read_file(const char *path, kw_buf *out)
{
	uint8_t chunk[4096];
	ssize_t r;
	kw_rv rv = KW_OK;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? KW_ERR_NOT_FOUND : KW_ERR_IO;
	kw_buf_init(out, KW_CONFIG_MAX_FILE + 1);
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rv = r < 0 ? KW_ERR_IO : KW_OK;
			break;
		}
		if ((rv = kw_buf_put(out, chunk, (size_t)r)) != KW_OK)
			break;
	}
	close(fd);
	return rv;
}

static kw_rv
env_override(const char *name, kw_strlist *l)
{
	const char *v = getenv(name);

	if (v == NULL)
		return KW_OK;
	kw_strlist_free(l);
	return kw_config_split(v, l);
}

/* KEYWARD_BLE_DEVICES: addresses contain ':', so the separators are
 * ',', ';' and blanks. */
static kw_rv
env_override_ble(kw_strlist *l)
{
	const char *v = getenv("KEYWARD_BLE_DEVICES"), *p;
	size_t n;
	kw_rv rv;

	if (v == NULL)
		return KW_OK;
	kw_strlist_free(l);
	for (p = v; *p != '\0'; p += n) {
		p += strspn(p, ",; \t\n");
		n = strcspn(p, ",; \t\n");
		if (n > 0 && (rv = add_value(l, kw_view_make(p, n))) != KW_OK)
			return rv;
	}
	return KW_OK;
}

kw_rv
kw_config_load(kw_config *cfg)
{
	const char *path = getenv("KEYWARD_CONF");
	kw_buf text;
	size_t line = 0;
	kw_rv rv;

	memset(cfg, 0, sizeof(*cfg));
	kw_buf_init(&text, KW_CONFIG_MAX_FILE + 1);
	if (path == NULL || *path == '\0')
		path = KW_CONFIG_DEFAULT_PATH;
	rv = read_file(path, &text);
	if (rv == KW_OK)
		rv = kw_config_parse(kw_buf_view(&text), cfg, &line);
	else if (rv == KW_ERR_NOT_FOUND)
		rv = KW_OK;
	if (rv != KW_OK) {
		if (line > 0)
			kw_warn("config: %.200s line %zu: %s", path, line, kw_strerror(rv));
		else
			kw_warn("config: %.200s: %s", path, kw_strerror(rv));
		goto fail;
	}
	if ((rv = env_override("KEYWARD_UICC_READERS", &cfg->uicc_readers)) != KW_OK ||
	    (rv = env_override("KEYWARD_MODEM_PORTS", &cfg->modem_ports)) != KW_OK ||
	    (rv = env_override_ble(&cfg->ble_devices)) != KW_OK)
		goto fail;
	kw_buf_free(&text);
	return KW_OK;
fail:
	kw_buf_free(&text);
	kw_config_free(cfg);
	return rv;
}
