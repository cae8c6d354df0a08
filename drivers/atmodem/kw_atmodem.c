/* The AT modem transport (kw_atmodem.h): +CCHO/+CGLA/+CCHC, or +CSIM with
 * keyward's own MANAGE CHANNEL. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atmodem/kw_at.h"
#include "atmodem/kw_atmodem.h"
#include "kw_config.h"
#include "kw_log.h"
#include "kw_secret.h"
#include "uicc/kw_uicc.h"

#define AT_MAX_LINES 64          /* lines per command (URCs included) */
#define AT_RESYNC_MAX_LINES 512  /* lines discarded while resynchronising */
#define AT_MARKER_KINDS 4        /* distinct resync markers in turn */
#define AT_CMD_MAX (KW_AT_MAX_APDU * 2 + 64)
#define AT_PIV_AID "A000000308000010000100"

typedef struct at_tr {
	kw_at_port *port;
	char *path;
	int timeout_ms;
	bool csim;               /* +CSIM mode (no +CCHO/+CGLA) */
	bool open;               /* a session / channel is open */
	unsigned long sid;       /* +CGLA session id (opaque) */
	int channel;             /* +CSIM mode: the logical channel */
	bool dirty;              /* a command ended without its final result
	                          * code: resynchronise before the next one */
	unsigned resyncs;        /* markers sent (selects the next one) */
	const char *marker;      /* the query of the marker: "+CMEE?" or "+CPIN?" */
	pid_t pid;               /* the process that opened it */
	struct at_tr *next;
} at_tr;

/* Open transports of this process, so that a process exiting without
 * closing them (no C_Finalize) still closes its SIM session and removes its
 * lock file (see the destructor at_at_exit). */
static pthread_mutex_t at_lock = PTHREAD_MUTEX_INITIALIZER;
static at_tr *at_open_list;

static void
at_register(at_tr *m)
{
	pthread_mutex_lock(&at_lock);
	m->pid = getpid();
	m->next = at_open_list;
	at_open_list = m;
	pthread_mutex_unlock(&at_lock);
}

static void
at_unregister(at_tr *m)
{
	at_tr **pp;

	pthread_mutex_lock(&at_lock);
	for (pp = &at_open_list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	pthread_mutex_unlock(&at_lock);
}

/* Kinds of command, for their time bound (at_bound). */
enum { AT_CTRL, AT_SIM, AT_KEYGEN };

/* The outcome of one command. */
typedef struct at_result {
	kw_at_kind final;        /* KW_AT_OK, KW_AT_ERROR or KW_AT_CME */
	int cme;
	char info[KW_AT_MAX_LINE + 1];
	bool have_info;
	char final_text[64];     /* the +CME ERROR line (for messages) */
} at_result;

static int
at_timeout(void)
{
	const char *s = getenv("KEYWARD_MODEM_TIMEOUT_MS");
	long v;

	if (s == NULL || (v = strtol(s, NULL, 10)) < 100 || v > 600000)
		return KW_ATMODEM_TIMEOUT_MS;
	return (int)v;
}

/* The bound of one command (kw_atmodem.h): the modem's own commands are
 * answered without the SIM, key generation takes the card long. */
static int
at_bound(const at_tr *m, int kind)
{
	if (kind == AT_CTRL)
		return m->timeout_ms < KW_ATMODEM_CTRL_TIMEOUT_MS ? m->timeout_ms :
		    KW_ATMODEM_CTRL_TIMEOUT_MS;
	if (kind == AT_KEYGEN)
		return m->timeout_ms > KW_ATMODEM_KEYGEN_TIMEOUT_MS ? m->timeout_ms :
		    KW_ATMODEM_KEYGEN_TIMEOUT_MS;
	return m->timeout_ms;
}

/* The resync marker number n: k = 1 + n % AT_MARKER_KINDS copies of one
 * query on one command line ("AT+CMEE?;+CMEE?", V.250 5.4.2), answered with
 * exactly k information lines and one OK. An answer with another count
 * belongs to an earlier marker whose reply was itself late. */
static unsigned
at_marker(const at_tr *m, unsigned n, char *out, size_t outsz)
{
	unsigned k = 1 + n % AT_MARKER_KINDS, i;

	snprintf(out, outsz, "AT%s", m->marker);
	for (i = 1; i < k; i++) {
		strncat(out, ";", outsz - strlen(out) - 1);
		strncat(out, m->marker, outsz - strlen(out) - 1);
	}
	return k;
}

/* Resynchronise after a command that ended without its final result code
 * (timeout, garbage, too many lines). Its reply may still be on the way:
 * a late "+CGLA: ..." and "OK" would be read as the answer to the next
 * command, and every later answer would be off by one. Send a marker and
 * discard everything up to the marker's own reply. A modem executes command
 * lines in order, so the late reply (and the replies of earlier markers)
 * comes before it; and a plain "AT" would not do: its OK looks like the OK
 * that ends a late +CGLA reply, hence a query with a counted number of
 * information lines. Bytes still arriving after the marker's OK are dropped
 * too. Bounded by the control timeout; on failure the next command tries
 * again. */
static kw_rv
at_resync(at_tr *m)
{
	char cmd[64], line[KW_AT_MAX_LINE + 1];
	kw_at_expect ex = { cmd, NULL, false };
	int64_t t0 = kw_at_now_ms(), deadline = t0 + at_bound(m, AT_CTRL);
	unsigned want, seen = 0, dropped = 0, n;
	char pfx[16];
	size_t len;
	int cme;
	kw_rv rv;

	kw_at_port_flush(m->port);
	want = at_marker(m, m->resyncs++, cmd, sizeof(cmd));
	snprintf(pfx, sizeof(pfx), "%.*s:", (int)strlen(m->marker) - 1, m->marker);
	ex.prefix = pfx;
	if ((rv = kw_at_port_write(m->port, cmd, strlen(cmd), deadline)) != KW_OK ||
	    (rv = kw_at_port_write(m->port, "\r", 1, deadline)) != KW_OK)
		goto fail;
	for (n = 0; n < AT_RESYNC_MAX_LINES; n++) {
		rv = kw_at_port_read_line(m->port, line, sizeof(line), &len, deadline);
		if (rv == KW_ERR_PROTOCOL) {   /* an overlong line: junk */
			seen = 0;
			dropped++;
			continue;
		}
		if (rv != KW_OK)
			goto fail;
		switch (kw_at_classify(kw_view_make(line, len), &ex, &cme)) {
		case KW_AT_INFO:
			seen++;
			break;
		case KW_AT_OK:
			if (seen == want) {
				kw_at_port_flush(m->port);
				m->dirty = false;
				kw_info("modem: %.200s resynchronised in %lld ms (%u lines dropped)",
				    m->path, (long long)(kw_at_now_ms() - t0), dropped);
				rv = KW_OK;
				goto done;
			}
			seen = 0;   /* the end of some other reply */
			dropped++;
			break;
		case KW_AT_ERROR:
		case KW_AT_CME:
			seen = 0;
			dropped++;
			break;
		case KW_AT_EMPTY:
			break;
		default:   /* a late +CGLA reply, echo, URC, garbage */
			dropped++;
			break;
		}
	}
	rv = KW_ERR_PROTOCOL;
fail:
	kw_warn("modem: %.200s: no answer to the resync marker (%s)", m->path, kw_strerror(rv));
done:
	kw_memzero(line, sizeof(line));
	return rv;
}

/* Send `cmd` and read lines until a final result code, within the bound
 * of its kind. */
static kw_rv
at_exec(at_tr *m, const char *cmd, int kind, const kw_at_expect *ex, at_result *res)
{
	char line[KW_AT_MAX_LINE + 1];
	int bound = at_bound(m, kind);
	int64_t deadline;
	size_t len;
	unsigned n;
	kw_at_kind k;
	kw_rv rv;

	memset(res, 0, sizeof(*res));
	if (m->dirty && (rv = at_resync(m)) != KW_OK)
		return rv;
	deadline = kw_at_now_ms() + bound;
	m->dirty = true;   /* until the final result code arrives */
	if ((rv = kw_at_port_write(m->port, cmd, strlen(cmd), deadline)) != KW_OK ||
	    (rv = kw_at_port_write(m->port, "\r", 1, deadline)) != KW_OK)
		goto fail;
	for (n = 0; n < AT_MAX_LINES; n++) {
		if ((rv = kw_at_port_read_line(m->port, line, sizeof(line), &len, deadline)) != KW_OK)
			goto fail;
		k = kw_at_classify(kw_view_make(line, len), ex, &res->cme);
		switch (k) {
		case KW_AT_OK: case KW_AT_ERROR: case KW_AT_CME:
			res->final = k;
			if (k == KW_AT_CME)
				snprintf(res->final_text, sizeof(res->final_text), "%.63s", line);
			m->dirty = false;
			rv = KW_OK;
			goto done;
		case KW_AT_INFO:
			if (res->have_info) {
				kw_debug("modem: a second information line");
				rv = KW_ERR_PROTOCOL;
				goto fail;
			}
			memcpy(res->info, line, len + 1);
			res->have_info = true;
			break;
		case KW_AT_GARBAGE:
			kw_warn("modem: unexpected line from %.200s (%zu bytes)", m->path, len);
			rv = KW_ERR_PROTOCOL;
			goto fail;
		default:   /* empty, echo, URC */
			if (k == KW_AT_URC)
				kw_debug("modem: skipping '%.64s'", line);
			break;
		}
	}
	kw_warn("modem: no final result code after %u lines", n);
	rv = KW_ERR_PROTOCOL;
fail:
	if (rv == KW_ERR_TIMEOUT)
		kw_warn("modem: no reply from %.200s within %d ms", m->path, bound);
	else if (rv == KW_ERR_SERVICE_GONE)
		kw_warn("modem: %.200s went away", m->path);
done:
	kw_memzero(line, sizeof(line));
	return rv;
}

/* A failed final result as kw_rv, logged with its meaning. */
static kw_rv
at_fail(const at_tr *m, const char *what, const at_result *res)
{
	const char *text;
	kw_rv rv;

	if (res->final == KW_AT_ERROR) {
		kw_debug("modem: %s: ERROR", what);
		return KW_ERR_NOT_SUPPORTED;
	}
	rv = kw_at_cme_rv(res->cme, &text);
	if (res->cme < 0)
		kw_warn("modem: %.200s: %s: %s", m->path, what, res->final_text);
	else
		kw_warn("modem: %.200s: %s: +CME ERROR: %d (%s)", m->path, what, res->cme, text);
	return rv;
}

static kw_rv
at_simple(at_tr *m, const char *cmd, int kind)
{
	kw_at_expect ex = { cmd, NULL, false };
	at_result res;
	kw_rv rv;

	if ((rv = at_exec(m, cmd, kind, &ex, &res)) != KW_OK)
		return rv;
	return res.final == KW_AT_OK ? KW_OK : at_fail(m, cmd, &res);
}

/* One APDU through +CGLA (cgla) or +CSIM; resp gets data || SW. */
static kw_rv
at_apdu(at_tr *m, bool cgla, const uint8_t *cmd, size_t len, uint8_t *resp, size_t *resp_len)
{
	char line[AT_CMD_MAX];
	kw_at_expect ex = { NULL, cgla ? "+CGLA:" : "+CSIM:", false };
	at_result res;
	size_t cap = *resp_len < KW_AT_MAX_RESP ? *resp_len : KW_AT_MAX_RESP;
	kw_rv rv;

	*resp_len = 0;
	if ((rv = kw_at_format_apdu(line, sizeof(line), cgla, m->sid, cmd, len)) != KW_OK)
		goto done;
	ex.cmd = line;
	/* GENERATE ASYMMETRIC KEY PAIR (INS 47): seconds to a minute on a card */
	if ((rv = at_exec(m, line, cmd[1] == 0x47 ? AT_KEYGEN : AT_SIM, &ex, &res)) != KW_OK)
		goto done;
	if (res.final != KW_AT_OK) {
		rv = res.final == KW_AT_ERROR ? KW_ERR_TRANSPORT :
		    at_fail(m, cgla ? "+CGLA" : "+CSIM", &res);
		if (res.final == KW_AT_ERROR)
			kw_warn("modem: %.200s answered ERROR to %s", m->path, cgla ? "+CGLA" : "+CSIM");
		goto done;
	}
	if (!res.have_info) {
		kw_warn("modem: %s reply without data", cgla ? "+CGLA" : "+CSIM");
		rv = KW_ERR_PROTOCOL;
		goto done;
	}
	*resp_len = cap;
	if ((rv = kw_at_parse_apdu(kw_view_make(res.info, strlen(res.info)), ex.prefix, resp,
	    resp_len)) != KW_OK) {
		kw_warn("modem: malformed %s reply", cgla ? "+CGLA" : "+CSIM");
		rv = KW_ERR_PROTOCOL;
	}
done:
	kw_memzero(line, sizeof(line));
	kw_memzero(&res, sizeof(res));
	return rv;
}

/* +CSIM mode: MANAGE CHANNEL open on the basic channel. */
static kw_rv
at_csim_open(at_tr *m)
{
	static const uint8_t open_ch[] = { 0x00, 0x70, 0x00, 0x00, 0x01 };
	uint8_t r[8];
	size_t n = sizeof(r);
	kw_rv rv;

	if ((rv = at_apdu(m, false, open_ch, sizeof(open_ch), r, &n)) != KW_OK) {
		if (rv == KW_ERR_TRANSPORT || rv == KW_ERR_NOT_SUPPORTED) {
			kw_err("modem: %.200s has neither +CCHO/+CGLA nor +CSIM: it cannot "
			    "reach an application on the SIM", m->path);
			rv = KW_ERR_NOT_SUPPORTED;
		}
		return rv;
	}
	kw_uicc_normalize_sw(r, n);
	if (n != 3 || r[1] != 0x90 || r[2] != 0x00 || r[0] < 1 || r[0] > 19) {
		kw_warn("modem: the SIM refused to open a logical channel");
		return n >= 2 && r[n - 2] == 0x68 ? KW_ERR_NOT_SUPPORTED : KW_ERR_CARD;
	}
	m->channel = r[0];
	m->open = true;
	kw_debug("modem: +CSIM mode, logical channel %d", m->channel);
	return KW_OK;
}

static kw_rv
at_ccho(at_tr *m)
{
	const char *cmd = "AT+CCHO=\"" AT_PIV_AID "\"";
	kw_at_expect ex = { cmd, "+CCHO:", true };
	at_result res;
	kw_rv rv;

	if ((rv = at_exec(m, cmd, AT_SIM, &ex, &res)) != KW_OK)
		return rv;
	if (res.final == KW_AT_CME && res.cme == 4)
		return KW_ERR_NOT_SUPPORTED;   /* no +CCHO: the +CSIM fallback */
	if (res.final != KW_AT_OK)
		return at_fail(m, "+CCHO", &res);
	if (!res.have_info ||
	    kw_at_parse_ccho(kw_view_make(res.info, strlen(res.info)), &m->sid) != KW_OK) {
		kw_warn("modem: +CCHO gave no session id");
		return KW_ERR_PROTOCOL;
	}
	m->open = true;
	kw_debug("modem: +CCHO session %lu", m->sid);
	return KW_OK;
}

/* Open the key applet's session: +CCHO, or the +CSIM fallback. */
static kw_rv
at_session_open(at_tr *m)
{
	kw_rv rv;

	if (!m->csim) {
		rv = at_ccho(m);
		if (rv != KW_ERR_NOT_SUPPORTED)
			return rv;
		kw_info("modem: no +CCHO/+CGLA on %.200s; using +CSIM", m->path);
		m->csim = true;
	}
	return at_csim_open(m);
}

static void
at_session_close(at_tr *m)
{
	uint8_t close_ch[4] = { 0x00, 0x70, 0x80, 0x00 }, r[8];
	char cmd[32];
	size_t n = sizeof(r);

	if (!m->open)
		return;
	m->open = false;
	if (m->csim) {
		close_ch[3] = (uint8_t)m->channel;
		(void)at_apdu(m, false, close_ch, sizeof(close_ch), r, &n);
		return;
	}
	snprintf(cmd, sizeof(cmd), "AT+CCHC=%lu", m->sid);
	(void)at_simple(m, cmd, AT_SIM);
}

static kw_rv
at_init(at_tr *m)
{
	kw_rv rv;

	/* The first AT may meet leftovers of an earlier user: allow two. */
	if ((rv = at_simple(m, "AT", AT_CTRL)) != KW_OK && rv != KW_ERR_TIMEOUT &&
	    rv != KW_ERR_SERVICE_GONE)
		rv = at_simple(m, "AT", AT_CTRL);
	if (rv != KW_OK) {
		kw_err("modem: %.200s does not answer AT commands (%s)", m->path, kw_strerror(rv));
		return rv;
	}
	if ((rv = at_simple(m, "ATE0", AT_CTRL)) != KW_OK)
		return rv;
	m->marker = "+CMEE?";
	if (at_simple(m, "AT+CMEE=1", AT_CTRL) != KW_OK) {
		kw_debug("modem: AT+CMEE=1 refused; errors will be plain ERROR");
		m->marker = "+CPIN?";   /* TS 27.007 8.3: every SIM modem has it */
	}
	return at_session_open(m);
}

static void
at_free(at_tr *m)
{
	kw_at_port_close(&m->port);
	free(m->path);
	free(m);
}

static kw_rv
at_open(const char *rest, void **ctx)
{
	at_tr *m;
	kw_rv rv;

	*ctx = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return KW_ERR_NOMEM;
	m->timeout_ms = at_timeout();
	m->marker = "+CMEE?";
	if ((m->path = strdup(rest)) == NULL) {
		free(m);
		return KW_ERR_NOMEM;
	}
	if ((rv = kw_at_port_open(rest, &m->port)) != KW_OK ||
	    (rv = at_init(m)) != KW_OK) {
		at_free(m);
		return rv;
	}
	at_register(m);
	*ctx = m;
	return KW_OK;
}

static void
at_close(void *ctx)
{
	at_tr *m = ctx;

	if (m == NULL)
		return;
	at_unregister(m);
	if (kw_at_port_alive(m->port) == KW_OK)
		at_session_close(m);
	at_free(m);
}

/* At exit: close this process's sessions (briefly bounded) and release the
 * ports and lock files; nothing else is freed. */
__attribute__((destructor)) static void
at_at_exit(void)
{
	pid_t self = getpid();
	at_tr *m;

	if (pthread_mutex_trylock(&at_lock) != 0)
		return;
	for (m = at_open_list; m != NULL; m = m->next) {
		if (m->pid != self)
			continue;
		m->timeout_ms = 1000;
		if (kw_at_port_alive(m->port) == KW_OK)
			at_session_close(m);
		kw_at_port_close(&m->port);
	}
	at_open_list = NULL;
	pthread_mutex_unlock(&at_lock);
}

static kw_rv
at_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
	at_tr *m = ctx;
	kw_rv rv;

	if (!m->open && (rv = at_session_open(m)) != KW_OK) {
		*resp_len = 0;
		return rv;
	}
	if (cmd_len > KW_AT_MAX_APDU) {
		*resp_len = 0;
		return KW_ERR_RANGE;
	}
	rv = at_apdu(m, !m->csim, cmd, cmd_len, resp, resp_len);
	if (rv == KW_OK)
		kw_uicc_normalize_sw(resp, *resp_len);
	if (rv == KW_ERR_CARD_REMOVED)
		m->open = false;   /* session lost: reopened before the next command */
	return rv;
}

static kw_rv
at_reset(void *ctx)
{
	at_tr *m = ctx;

	at_session_close(m);
	return at_session_open(m);
}

static int
at_channel(void *ctx)
{
	at_tr *m = ctx;

	return m->csim ? (m->channel > 0 ? m->channel : 1) : 0;
}

static kw_rv
at_present(void *ctx)
{
	return kw_at_port_alive(((at_tr *)ctx)->port);
}

static kw_rv
at_list(kw_strlist *out)
{
	kw_config cfg;
	struct stat st;
	char uri[4200];
	size_t i;
	kw_rv rv;

	if ((rv = kw_config_load(&cfg)) != KW_OK)
		return rv;
	for (i = 0; i < cfg.modem_ports.n && rv == KW_OK; i++) {
		if (stat(cfg.modem_ports.v[i], &st) != 0 || !S_ISCHR(st.st_mode))
			continue;
		if ((size_t)snprintf(uri, sizeof(uri), "at:%s", cfg.modem_ports.v[i]) >= sizeof(uri))
			continue;
		rv = kw_strlist_add(out, uri);
	}
	kw_config_free(&cfg);
	return rv;
}

const kw_transport_ops kw_atmodem_ops = {
	.scheme = "at",
	.flags = 0,
	.list = at_list,
	.open = at_open,
	.close = at_close,
	.transmit = at_transmit,
	.get_atr = NULL,
	.reset = at_reset,
	.begin = NULL,
	.end = NULL,
	.channel = at_channel,
	.present = at_present,
};
