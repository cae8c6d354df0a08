/* The fake SCard* layer for tests/unit/test_pcsc (see test_pcsc_fake.h).
 * It models only what keyward's driver relies on, with pcsc-lite's codes. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test_pcsc_fake.h"

#define FAKE_MAX_HANDLES 16
#define FAKE_PNP "\\\\?PnP?\\Notification"

const SCARD_IO_REQUEST g_rgSCardT0Pci = { SCARD_PROTOCOL_T0, sizeof(SCARD_IO_REQUEST) };
const SCARD_IO_REQUEST g_rgSCardT1Pci = { SCARD_PROTOCOL_T1, sizeof(SCARD_IO_REQUEST) };
const SCARD_IO_REQUEST g_rgSCardRawPci = { SCARD_PROTOCOL_RAW, sizeof(SCARD_IO_REQUEST) };

typedef struct fake_reader {
	bool used, card;
	char name[64];
	unsigned events;      /* insert/remove counter */
	unsigned card_gen;    /* bumps on each insert: old handles see removal */
} fake_reader;

typedef struct fake_handle {
	bool used;
	int reader;
	unsigned svc_gen, card_gen;
	bool reset_pending;
	SCARDCONTEXT ctx;
} fake_handle;

typedef struct fake_ctx {
	bool used, cancelled;
	unsigned svc_gen;
} fake_ctx;

static struct {
	pthread_mutex_t mu;
	fake_reader readers[FAKE_MAX_READERS];
	fake_handle handles[FAKE_MAX_HANDLES];
	fake_ctx ctxs[FAKE_MAX_HANDLES];
	bool service_up, locked_by_other;
	unsigned svc_gen;
	DWORD proto;
	uint8_t resp[300];
	size_t resp_len;
	LONG transmit_rc;
	char grow_reader[64];    /* appears between the two SCardListReaders calls */
	int pull_reader;         /* fake_pull_in_transmit: armed (>= 0) */
	unsigned pull_lag_ms;
	int pulled_reader;       /* the card goes at pull_at (pcscd's poll) */
	long long pull_at;
	fake_counters c;
} F = { .mu = PTHREAD_MUTEX_INITIALIZER, .pull_reader = -1, .pulled_reader = -1 };

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A card pulled during a transmit: pcscd notices at its next poll. */
static void
pull_tick(void)
{
	fake_reader *r;

	if (F.pulled_reader < 0 || now_ms() < F.pull_at)
		return;
	r = &F.readers[F.pulled_reader];
	if (r->card) {
		r->card = false;
		r->events++;
	}
	F.pulled_reader = -1;
}

static void lock(void) { pthread_mutex_lock(&F.mu); pull_tick(); }
static void unlock(void) { pthread_mutex_unlock(&F.mu); }

void
fake_init(void)
{
	lock();
	memset(F.readers, 0, sizeof(F.readers));
	memset(F.handles, 0, sizeof(F.handles));
	memset(F.ctxs, 0, sizeof(F.ctxs));
	memset(&F.c, 0, sizeof(F.c));
	F.service_up = true;
	F.locked_by_other = false;
	F.svc_gen = 1;
	F.proto = SCARD_PROTOCOL_T1;
	F.resp[0] = 0x90;
	F.resp[1] = 0x00;
	F.resp_len = 2;
	F.transmit_rc = SCARD_S_SUCCESS;
	F.grow_reader[0] = '\0';
	F.pull_reader = F.pulled_reader = -1;
	unlock();
}

void
fake_pull_in_transmit(int r, unsigned lag_ms)
{
	lock();
	F.pull_reader = r;
	F.pull_lag_ms = lag_ms;
	unlock();
}

int
fake_add_reader(const char *name, bool card)
{
	int i;

	lock();
	for (i = 0; i < FAKE_MAX_READERS && F.readers[i].used; i++)
		;
	if (i < FAKE_MAX_READERS) {
		F.readers[i].used = true;
		F.readers[i].card = card;
		F.readers[i].card_gen = 1;
		snprintf(F.readers[i].name, sizeof(F.readers[i].name), "%s", name);
	}
	unlock();
	return i;
}

void
fake_remove_reader(int r)
{
	lock();
	F.readers[r].used = false;
	unlock();
}

void
fake_set_card(int r, bool present)
{
	lock();
	if (F.readers[r].card != present) {
		F.readers[r].card = present;
		F.readers[r].events++;
		if (present)
			F.readers[r].card_gen++;
	}
	unlock();
}

void
fake_reset_by_other(int r)
{
	int i;

	lock();
	for (i = 0; i < FAKE_MAX_HANDLES; i++)
		if (F.handles[i].used && F.handles[i].reader == r)
			F.handles[i].reset_pending = true;
	unlock();
}

void
fake_grow_during_list(const char *name)
{
	lock();
	snprintf(F.grow_reader, sizeof(F.grow_reader), "%s", name);
	unlock();
}

void fake_set_locked_by_other(bool l) { lock(); F.locked_by_other = l; unlock(); }
void fake_set_service(bool up) { lock(); F.service_up = up; unlock(); }
void fake_restart_service(void) { lock(); F.svc_gen++; unlock(); }
void fake_set_proto(DWORD proto) { lock(); F.proto = proto; unlock(); }
void fake_set_transmit_rc(LONG rc) { lock(); F.transmit_rc = rc; unlock(); }
fake_counters *fake_get(void) { return &F.c; }

int
fake_open_objects(void)
{
	int i, n = 0;

	lock();
	for (i = 0; i < FAKE_MAX_HANDLES; i++)
		n += F.ctxs[i].used + F.handles[i].used;
	unlock();
	return n;
}

void
fake_set_response(const char *hex)
{
	size_t i, n = strlen(hex) / 2;
	unsigned x;

	lock();
	for (i = 0; i < n && i < sizeof(F.resp); i++) {
		sscanf(hex + 2 * i, "%2x", &x);
		F.resp[i] = (uint8_t)x;
	}
	F.resp_len = i;
	unlock();
}

static fake_ctx *
ctx_get(SCARDCONTEXT h)
{
	if (h < 1 || h > FAKE_MAX_HANDLES || !F.ctxs[h - 1].used)
		return NULL;
	return &F.ctxs[h - 1];
}

/* A context is usable: the service runs and it is from this generation. */
static LONG
ctx_check(SCARDCONTEXT h)
{
	fake_ctx *c = ctx_get(h);

	if (c == NULL)
		return SCARD_E_INVALID_HANDLE;
	if (!F.service_up || c->svc_gen != F.svc_gen)
		return SCARD_E_NO_SERVICE;
	return SCARD_S_SUCCESS;
}

static int
reader_find(const char *name)
{
	int i;

	for (i = 0; i < FAKE_MAX_READERS; i++)
		if (F.readers[i].used && strcmp(F.readers[i].name, name) == 0)
			return i;
	return -1;
}

static fake_handle *
handle_get(SCARDHANDLE h)
{
	if (h < 100 || h >= 100 + FAKE_MAX_HANDLES || !F.handles[h - 100].used)
		return NULL;
	return &F.handles[h - 100];
}

/* The common checks of a call on a card handle. */
static LONG
handle_check(SCARDHANDLE h, fake_handle **out)
{
	fake_handle *fh = handle_get(h);
	fake_reader *r;

	*out = fh;
	if (fh == NULL)
		return SCARD_E_INVALID_HANDLE;
	if (!F.service_up || fh->svc_gen != F.svc_gen)
		return SCARD_E_NO_SERVICE;
	r = &F.readers[fh->reader];
	if (!r->used)
		return SCARD_E_READER_UNAVAILABLE;
	if (!r->card || r->card_gen != fh->card_gen)
		return SCARD_W_REMOVED_CARD;
	if (fh->reset_pending)
		return SCARD_W_RESET_CARD;
	return SCARD_S_SUCCESS;
}

LONG
SCardEstablishContext(DWORD scope, LPCVOID r1, LPCVOID r2, LPSCARDCONTEXT out)
{
	LONG rc = SCARD_E_NO_MEMORY;
	int i;

	(void)scope; (void)r1; (void)r2;
	lock();
	F.c.establish++;
	if (!F.service_up) {
		rc = SCARD_E_NO_SERVICE;
		goto out;
	}
	for (i = 0; i < FAKE_MAX_HANDLES; i++) {
		if (!F.ctxs[i].used) {
			F.ctxs[i].used = true;
			F.ctxs[i].cancelled = false;
			F.ctxs[i].svc_gen = F.svc_gen;
			*out = (SCARDCONTEXT)(i + 1);
			rc = SCARD_S_SUCCESS;
			break;
		}
	}
out:
	unlock();
	return rc;
}

LONG
SCardReleaseContext(SCARDCONTEXT h)
{
	fake_ctx *c;
	LONG rc = SCARD_E_INVALID_HANDLE;

	lock();
	F.c.release++;
	if ((c = ctx_get(h)) != NULL) {
		c->used = false;
		rc = SCARD_S_SUCCESS;
	}
	unlock();
	return rc;
}

LONG
SCardListReaders(SCARDCONTEXT h, LPCSTR groups, LPSTR buf, LPDWORD len)
{
	char tmp[FAKE_MAX_READERS * 65 + 1];
	size_t n = 0, l;
	LONG rc;
	int i;

	(void)groups;
	if (buf != NULL && F.grow_reader[0] != '\0') {
		fake_add_reader(F.grow_reader, true);
		F.grow_reader[0] = '\0';
	}
	lock();
	F.c.list++;
	if ((rc = ctx_check(h)) != SCARD_S_SUCCESS)
		goto out;
	for (i = 0; i < FAKE_MAX_READERS; i++) {
		if (!F.readers[i].used)
			continue;
		l = strlen(F.readers[i].name) + 1;
		memcpy(tmp + n, F.readers[i].name, l);
		n += l;
	}
	if (n == 0) {
		rc = SCARD_E_NO_READERS_AVAILABLE;
		goto out;
	}
	tmp[n++] = '\0';
	if (buf != NULL && *len < n)
		rc = SCARD_E_INSUFFICIENT_BUFFER;
	else if (buf != NULL)
		memcpy(buf, tmp, n);
	*len = (DWORD)n;
out:
	unlock();
	return rc;
}

static DWORD
reader_state(const char *name)
{
	int r, i, n = 0;

	if (strcmp(name, FAKE_PNP) == 0) {
		for (i = 0; i < FAKE_MAX_READERS; i++)
			n += F.readers[i].used;
		return (DWORD)n << 16;
	}
	if ((r = reader_find(name)) < 0)
		return SCARD_STATE_UNKNOWN;
	return (F.readers[r].card ? SCARD_STATE_PRESENT : SCARD_STATE_EMPTY) |
	    ((DWORD)F.readers[r].events << 16);
}

/* Fill dwEventState; true if any differs from dwCurrentState. */
static bool
states_update(SCARD_READERSTATE *st, DWORD n)
{
	bool any = false;
	DWORD i, ev;

	for (i = 0; i < n; i++) {
		ev = reader_state(st[i].szReader);
		if (ev != (st[i].dwCurrentState & ~(DWORD)SCARD_STATE_CHANGED)) {
			ev |= SCARD_STATE_CHANGED;
			any = true;
		}
		st[i].dwEventState = ev;
	}
	return any;
}

LONG
SCardGetStatusChange(SCARDCONTEXT h, DWORD timeout, SCARD_READERSTATE *st, DWORD n)
{
	long long end = now_ms() + (long long)timeout;   /* INFINITE: ~49 days */
	fake_ctx *c;
	LONG rc;

	lock();
	for (;;) {
		if ((rc = ctx_check(h)) != SCARD_S_SUCCESS)
			break;
		c = ctx_get(h);
		if (c->cancelled) {
			c->cancelled = false;
			rc = SCARD_E_CANCELLED;
			break;
		}
		if (states_update(st, n))
			break;
		if (now_ms() >= end) {
			rc = SCARD_E_TIMEOUT;
			break;
		}
		unlock();
		usleep(1000);
		lock();
	}
	unlock();
	return rc;
}

LONG
SCardCancel(SCARDCONTEXT h)
{
	fake_ctx *c;
	LONG rc;

	lock();
	F.c.cancel++;
	if ((rc = ctx_check(h)) == SCARD_S_SUCCESS) {
		c = ctx_get(h);
		c->cancelled = true;
	}
	unlock();
	return rc;
}

LONG
SCardConnect(SCARDCONTEXT h, LPCSTR reader, DWORD share, DWORD protos,
    LPSCARDHANDLE card, LPDWORD proto)
{
	LONG rc;
	int r, i;

	(void)share;
	lock();
	F.c.connect++;
	if ((rc = ctx_check(h)) != SCARD_S_SUCCESS)
		goto out;
	if ((r = reader_find(reader)) < 0) {
		rc = SCARD_E_UNKNOWN_READER;
		goto out;
	}
	if (!F.readers[r].card) {
		rc = SCARD_E_NO_SMARTCARD;
		goto out;
	}
	/* pcscd makes a connect wait while another process holds a transaction. */
	while (F.locked_by_other) {
		unlock();
		usleep(1000);
		lock();
	}
	if ((rc = ctx_check(h)) != SCARD_S_SUCCESS)
		goto out;
	if ((protos & F.proto) == 0) {
		rc = SCARD_E_PROTO_MISMATCH;
		goto out;
	}
	rc = SCARD_E_NO_MEMORY;
	for (i = 0; i < FAKE_MAX_HANDLES; i++) {
		if (F.handles[i].used)
			continue;
		memset(&F.handles[i], 0, sizeof(F.handles[i]));
		F.handles[i].used = true;
		F.handles[i].reader = r;
		F.handles[i].svc_gen = F.svc_gen;
		F.handles[i].card_gen = F.readers[r].card_gen;
		F.handles[i].ctx = h;
		*card = (SCARDHANDLE)(100 + i);
		*proto = F.proto;
		rc = SCARD_S_SUCCESS;
		break;
	}
out:
	unlock();
	return rc;
}

LONG
SCardReconnect(SCARDHANDLE h, DWORD share, DWORD protos, DWORD init, LPDWORD proto)
{
	fake_handle *fh;
	LONG rc;

	(void)share; (void)protos;
	lock();
	F.c.reconnect++;
	F.c.last_reconnect_init = init;
	/* pcscd makes a reconnect wait too while another process holds the reader. */
	while ((rc = handle_check(h, &fh)) != SCARD_E_INVALID_HANDLE && F.locked_by_other) {
		unlock();
		usleep(1000);
		lock();
	}
	rc = handle_check(h, &fh);
	if (rc == SCARD_W_RESET_CARD || rc == SCARD_S_SUCCESS) {
		fh->reset_pending = false;
		*proto = F.proto;
		rc = SCARD_S_SUCCESS;
	}
	unlock();
	return rc;
}

LONG
SCardDisconnect(SCARDHANDLE h, DWORD disp)
{
	fake_handle *fh;
	LONG rc = SCARD_E_INVALID_HANDLE;

	(void)disp;
	lock();
	F.c.disconnect++;
	if ((fh = handle_get(h)) != NULL) {
		fh->used = false;
		rc = SCARD_S_SUCCESS;
	}
	unlock();
	return rc;
}

/* Count the threads the code under test starts (the bounded-wait helpers):
 * this definition interposes libc's for the test program. */
static unsigned threads_created;

int
pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "pthread_create");
	if (real == NULL)
		return EAGAIN;
	__atomic_add_fetch(&threads_created, 1, __ATOMIC_RELAXED);
	return real(th, attr, fn, arg);
}

unsigned
fake_threads_created(void)
{
	return __atomic_load_n(&threads_created, __ATOMIC_RELAXED);
}

LONG
SCardBeginTransaction(SCARDHANDLE h)
{
	fake_handle *fh;
	LONG rc;

	lock();
	F.c.begin++;
	/* pcsc-lite polls for as long as another process holds the reader. */
	while ((rc = handle_check(h, &fh)) == SCARD_S_SUCCESS && F.locked_by_other) {
		unlock();
		usleep(1000);
		lock();
	}
	unlock();
	return rc;
}

LONG
SCardEndTransaction(SCARDHANDLE h, DWORD disp)
{
	fake_handle *fh;
	LONG rc;

	(void)disp;
	lock();
	F.c.end++;
	rc = handle_check(h, &fh);
	unlock();
	return rc;
}

LONG
SCardTransmit(SCARDHANDLE h, const SCARD_IO_REQUEST *pci, LPCBYTE cmd, DWORD cmd_len,
    SCARD_IO_REQUEST *rpci, LPBYTE resp, LPDWORD resp_len)
{
	fake_handle *fh;
	LONG rc;

	(void)rpci;
	lock();
	F.c.transmit++;
	F.c.last_pci = pci;
	F.c.last_cmd_len = cmd_len < sizeof(F.c.last_cmd) ? cmd_len : sizeof(F.c.last_cmd);
	memcpy(F.c.last_cmd, cmd, F.c.last_cmd_len);
	if ((rc = handle_check(h, &fh)) != SCARD_S_SUCCESS)
		goto out;
	if (F.transmit_rc != SCARD_S_SUCCESS) {
		rc = F.transmit_rc;
		F.transmit_rc = SCARD_S_SUCCESS;
		goto out;
	}
	if (F.pull_reader == fh->reader) {
		/* the reader driver fails the exchange; the reader state still
		 * says "present" until pcscd polls it */
		F.pulled_reader = F.pull_reader;
		F.pull_reader = -1;
		F.pull_at = now_ms() + F.pull_lag_ms;
		rc = SCARD_E_NOT_TRANSACTED;
		goto out;
	}
	if (*resp_len < F.resp_len) {
		rc = SCARD_E_INSUFFICIENT_BUFFER;
		goto out;
	}
	memcpy(resp, F.resp, F.resp_len);
	*resp_len = (DWORD)F.resp_len;
out:
	unlock();
	return rc;
}

/* pcscd checks the sharing state first and the client does not retry:
 * SCARD_E_SHARING_VIOLATION at once while another process holds the reader. */
LONG
SCardGetAttrib(SCARDHANDLE h, DWORD id, LPBYTE attr, LPDWORD attr_len)
{
	fake_handle *fh;
	LONG rc;

	(void)id;
	(void)attr;
	lock();
	F.c.getattrib++;
	if ((rc = handle_check(h, &fh)) == SCARD_S_SUCCESS && F.locked_by_other)
		rc = SCARD_E_SHARING_VIOLATION;
	else if (rc == SCARD_S_SUCCESS)
		rc = SCARD_E_UNSUPPORTED_FEATURE;   /* this fake reader has no attributes */
	*attr_len = 0;
	unlock();
	return rc;
}

LONG
SCardStatus(SCARDHANDLE h, LPSTR name, LPDWORD name_len, LPDWORD state, LPDWORD proto,
    LPBYTE atr, LPDWORD atr_len)
{
	static const BYTE fake_atr[] = { 0x3b, 0xf8, 0x13, 0x00, 0x00, 0x81, 0x31, 0xfe,
		0x15, 0x59, 0x75, 0x62, 0x69, 0x6b, 0x65, 0x79, 0x34, 0xd4 };
	fake_handle *fh;
	LONG rc;

	(void)name;
	lock();
	F.c.status++;
	if ((rc = handle_check(h, &fh)) != SCARD_S_SUCCESS)
		goto out;
	if (name_len != NULL)
		*name_len = (DWORD)strlen(F.readers[fh->reader].name) + 1;
	*state = SCARD_PRESENT | SCARD_POWERED | SCARD_NEGOTIABLE;
	*proto = F.proto;
	if (*atr_len < sizeof(fake_atr)) {
		rc = SCARD_E_INSUFFICIENT_BUFFER;
		goto out;
	}
	memcpy(atr, fake_atr, sizeof(fake_atr));
	*atr_len = sizeof(fake_atr);
out:
	unlock();
	return rc;
}
