/* The BLE transport's sessions (begin..end): one process at a time.
 *
 * begin takes the token's cross-process lock (kw_lock, bounded by
 * KEYWARD_BLE_LOCK_TIMEOUT_MS), then BlueZ's private data path:
 * AcquireNotify on the status characteristic (the token's answers come on
 * a socket only we hold, never as PropertiesChanged broadcasts) and, where
 * the control point offers write-without-response, AcquireWrite. end closes
 * both sockets and unlocks, so that other programs can use the token
 * between PKCS#11 operations, as PC/SC transactions allow.
 *
 * The lock file's note says who held the token last and whether it left
 * it clean (every answer received) or not (an exchange abandoned: the
 * token may still send its late answer). The next holder then first
 * resynchronises (PING nonce, discard up to the echo), and so does anyone
 * after a holder on the broadcast fallback path, whose late signals may
 * still be queued.
 *
 * Where BlueZ lacks AcquireNotify (older than 5.46, or the token's status
 * characteristic refuses it) the transport falls back to StartNotify and
 * says so in a warning: every process on the bus can then read the
 * answers. KEYWARD_BLE_ACQUIRE=require refuses that, =off forces it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ble/kw_ble_priv.h"
#include "kw_lock.h"
#include "kw_log.h"

#define ACQUIRE_TIMEOUT_US (3 * 1000000ull)
#define RETRY_NS (20 * 1000000L)

static void
close_fds(kw_ble *b)
{
	if (b->nfd >= 0)
		close(b->nfd);
	if (b->wfd >= 0)
		close(b->wfd);
	b->nfd = b->wfd = -1;
}

static bool
deadline_passed(uint64_t deadline)
{
	struct timespec pause = { 0, RETRY_NS };

	if (kw_ble_now_us() >= deadline)
		return true;
	(void)nanosleep(&pause, NULL);
	return false;
}

static void
warn_fallback(kw_ble *b, const char *why)
{
	kw_warn("ble: %s: %s; using StartNotify instead: the token's answers (signatures, "
	    "decrypted keys) are broadcast on the D-Bus bus, where every local process can "
	    "read them. Use BlueZ 5.46 or later and a token that allows AcquireNotify "
	    "(docs/ble-profile.md), or set KEYWARD_BLE_ACQUIRE=require to refuse this.",
	    b->address, why);
}

/* The fallback: StartNotify once for the life of the transport. */
static kw_rv
start_fallback(kw_ble *b)
{
	kw_rv rv;

	if (b->notify_started)
		return KW_OK;
	if ((rv = kw_ble_watch_status(b)) != KW_OK)
		return rv;
	rv = kw_ble_bus_call0(b->bus, b->st_path, KW_BLE_IF_CHAR, "StartNotify",
	    ACQUIRE_TIMEOUT_US);
	if (rv != KW_OK) {
		kw_err("ble: %s: StartNotify failed: %s", b->address, kw_strerror(rv));
		return rv;
	}
	b->notify_started = true;
	return KW_OK;
}

/* Does the status characteristic still exist? (UnknownMethod from an old
 * BlueZ, not from an object that went away.) */
static bool
char_exists(kw_ble *b)
{
	bool v;

	return kw_ble_bus_get_bool(b->bus, b->st_path, KW_BLE_IF_CHAR, "Notifying", &v) ==
	    KW_OK;
}

static kw_rv
acquire_notify(kw_ble *b, uint64_t deadline)
{
	char why[160];
	uint16_t mtu;
	kw_rv rv;

	if (b->fallback)
		return start_fallback(b);
	if (b->acquire_mode == KW_BLE_ACQ_OFF) {
		b->fallback = true;
		warn_fallback(b, "AcquireNotify disabled by KEYWARD_BLE_ACQUIRE=off");
		return start_fallback(b);
	}
	for (;;) {
		rv = kw_ble_bus_acquire(b->bus, b->st_path, "AcquireNotify", &b->nfd, &mtu, why,
		    sizeof(why), ACQUIRE_TIMEOUT_US);
		if (rv != KW_ERR_SHARING || deadline_passed(deadline))
			break;
	}
	if (rv == KW_OK) {
		b->nmtu = mtu;
		if (mtu >= 23 && b->frag > (size_t)mtu - 3) {
			kw_err("ble: %s: control-point length %zu exceeds the link's ATT MTU %u - 3",
			    b->address, b->frag, mtu);
			return KW_ERR_PROTOCOL;
		}
		b->stats.private_notify = true;
		return KW_OK;
	}
	if (rv == KW_ERR_SHARING) {
		kw_err("ble: %s: in use by another program: BlueZ refuses AcquireNotify (%s)",
		    b->address, why);
		return rv;
	}
	if (rv == KW_ERR_NOT_SUPPORTED && char_exists(b)) {
		if (b->acquire_mode == KW_BLE_ACQ_REQUIRE) {
			kw_err("ble: %s: BlueZ offers no AcquireNotify (%s) and "
			    "KEYWARD_BLE_ACQUIRE=require: refusing the broadcast fallback",
			    b->address, why);
			return KW_ERR_NOT_SUPPORTED;
		}
		b->fallback = true;
		warn_fallback(b, "BlueZ offers no AcquireNotify");
		kw_debug("ble: %s: AcquireNotify: %s", b->address, why);
		return start_fallback(b);
	}
	kw_err("ble: %s: AcquireNotify failed: %s (%s)", b->address, kw_strerror(rv), why);
	return rv == KW_ERR_NOT_SUPPORTED ? KW_ERR_CARD_REMOVED : rv;
}

/* AcquireWrite where the control point has write-without-response; else
 * frames go as WriteValue (with response). */
static kw_rv
acquire_write(kw_ble *b, uint64_t deadline)
{
	char why[160];
	uint16_t mtu;
	kw_rv rv;

	if (b->write_mode != KW_BLE_WR_AUTO || b->no_wwr)
		return KW_OK;
	for (;;) {
		rv = kw_ble_bus_acquire(b->bus, b->cp_path, "AcquireWrite", &b->wfd, &mtu, why,
		    sizeof(why), ACQUIRE_TIMEOUT_US);
		if (rv != KW_ERR_SHARING || deadline_passed(deadline))
			break;
	}
	if (rv == KW_OK) {
		b->stats.acquired_write = true;
		return KW_OK;
	}
	if (rv == KW_ERR_NOT_SUPPORTED) {
		kw_debug("ble: %s: no AcquireWrite (%s): frames go as write requests", b->address,
		    why);
		b->no_wwr = true;
		return KW_OK;
	}
	if (rv == KW_ERR_SHARING)
		kw_err("ble: %s: in use by another program: BlueZ refuses AcquireWrite (%s)",
		    b->address, why);
	else
		kw_err("ble: %s: AcquireWrite failed: %s (%s)", b->address, kw_strerror(rv), why);
	return rv;
}

/* Resynchronise first unless we know the token has nothing pending: the
 * previous holder was this transport or left it clean, and no broadcast
 * signals of someone else's session can still be on their way to us. */
static bool
need_resync(const kw_ble *b)
{
	const char *prev = kw_lock_prev_note(b->lock);
	size_t n = strlen(b->tag);
	bool ours = strncmp(prev, b->tag, n) == 0 && prev[n] == ' ';
	bool clean = strlen(prev) > 6 && strcmp(prev + strlen(prev) - 6, " clean") == 0;

	if (b->resync)
		return true;
	if (ours)
		return !clean;
	return !clean || b->fallback;
}

static void
note(kw_ble *b, const char *state)
{
	char s[64];

	snprintf(s, sizeof(s), "%s %s", b->tag, state);
	(void)kw_lock_set_note(b->lock, s);
}

kw_rv
kw_ble_begin(void *ctx)
{
	kw_ble *b = ctx;
	char holder[96], s[64];
	uint64_t deadline;
	kw_rv rv;

	if (b->depth > 0) {
		b->depth++;
		return KW_OK;
	}
	if (b->gone != KW_OK)
		return b->gone;
	deadline = kw_ble_now_us() + (uint64_t)b->lock_ms * 1000;
	snprintf(s, sizeof(s), "%s busy", b->tag);
	rv = kw_lock_take(b->lock_name, s, b->lock_ms, holder, sizeof(holder), &b->lock);
	if (rv == KW_ERR_SHARING) {
		kw_err("ble: %s is in use by another process (%s); gave up after %d ms "
		    "(KEYWARD_BLE_LOCK_TIMEOUT_MS)", b->address, holder, b->lock_ms);
		return rv;
	}
	if (rv != KW_OK)
		return rv;
	if ((rv = acquire_notify(b, deadline)) != KW_OK ||
	    (rv = acquire_write(b, deadline)) != KW_OK)
		goto fail;
	b->depth = 1;
	if (need_resync(b)) {
		b->resync = true;
		kw_debug("ble: %s: resynchronising (previous holder: '%.64s')", b->address,
		    kw_lock_prev_note(b->lock));
		if ((rv = kw_ble_resync(b)) != KW_OK) {
			kw_err("ble: %s: cannot resynchronise with the token: %s", b->address,
			    kw_strerror(rv));
			b->depth = 0;
			goto fail;
		}
	}
	return KW_OK;
fail:
	close_fds(b);
	note(b, "dirty");
	kw_lock_release(&b->lock);
	if (rv == KW_ERR_CARD_REMOVED || rv == KW_ERR_SERVICE_GONE)
		b->gone = rv;
	return rv;
}

kw_rv
kw_ble_end(void *ctx)
{
	kw_ble *b = ctx;

	if (b->depth == 0)
		return KW_OK;
	if (--b->depth > 0)
		return KW_OK;
	close_fds(b);
	note(b, b->resync ? "dirty" : "clean");
	kw_lock_release(&b->lock);
	return KW_OK;
}

void
kw_ble_session_close(kw_ble *b)
{
	if (b->depth > 0) {
		b->depth = 1;
		(void)kw_ble_end(b);
	}
	close_fds(b);
	kw_lock_release(&b->lock);
}
