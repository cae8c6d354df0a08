/* The PC/SC transport ("pcsc:<reader name>") over pcsc-lite.
 *
 * Each open transport has its own SCARDCONTEXT (so transports may be used
 * from different threads), connects SCARD_SHARE_SHARED with T=1 or T=0 and
 * holds one PC/SC transaction between begin and end (nested begin/end pairs
 * count: only the outermost pair talks to pcscd). Waits are bounded: a
 * transaction another process holds for longer than the lock timeout gives
 * KW_ERR_SHARING instead of blocking forever. One transport is used by one
 * thread at a time (callers serialize per token); different transports are
 * independent.
 *
 * Errors: pcscd absent at open -> KW_ERR_NO_SERVICE; pcscd stopped or
 * restarted under an open transport -> KW_ERR_SERVICE_GONE (sticky: reopen);
 * card removed -> KW_ERR_CARD_REMOVED (the next call reconnects if a card is
 * back; the caller must re-select and log in again); card reset by another
 * process -> the transport reconnects and reports KW_ERR_CARD_RESET once;
 * reader without card -> KW_ERR_NO_CARD; unknown reader -> KW_ERR_NO_READER.
 * A transmit that fails without saying why (SCARD_E_NOT_TRANSACTED, or an
 * answer without a status word: a card pulled during the command looks
 * like that) is followed by a presence
 * check (SCardStatus, then the reader state, waiting up to
 * KW_PCSC_SETTLE_MS for pcscd's poll to notice): gone ->
 * KW_ERR_CARD_REMOVED; still there -> KW_ERR_TRANSPORT (KW_ERR_PROTOCOL for
 * the short answer); the command may have run. */
#ifndef KW_PCSC_H
#define KW_PCSC_H

#include <stdbool.h>

#include "kw_err.h"
#include "kw_transport.h"

extern const kw_transport_ops kw_pcsc_ops;

/* The one mapping of PC/SC return codes (LONG) to kw_rv. `established` is
 * true when the code comes from a context that was working before (then a
 * missing service means it went away, not that it was never there). */
kw_rv kw_pcsc_rv(long rc, bool established);
/* A short name for a PC/SC code, e.g. "SCARD_E_NO_SMARTCARD" (logs). */
const char *kw_pcsc_code_name(long rc);

/* Default bound on waiting for another process's PC/SC transaction; the
 * environment variable KEYWARD_PCSC_LOCK_TIMEOUT_MS overrides it. */
#define KW_PCSC_LOCK_TIMEOUT_MS 15000

/* How long an ambiguous transmit error waits for pcscd to report a removal:
 * pcscd polls readers without an interrupt endpoint every 400 ms. */
#define KW_PCSC_SETTLE_MS 600

/* Every reader name (with or without a card), without the "pcsc:" prefix.
 * No reader at all is KW_OK with an empty list. */
kw_rv kw_pcsc_list_readers(kw_strlist *out);
/* The same without the readers configured as SIM (UICC) readers
 * (drivers/kw_config.h): those are reached through "uicc:pcsc:NAME". */
kw_rv kw_pcsc_list_key_readers(kw_strlist *out);

/* Hotplug monitor for C_WaitForSlotEvent and similar: readers appearing or
 * disappearing and cards inserted or removed since the monitor was created
 * or last waited on are never missed. One monitor per waiting thread. */
typedef struct kw_pcsc_monitor kw_pcsc_monitor;

kw_rv kw_pcsc_monitor_new(kw_pcsc_monitor **out);
void kw_pcsc_monitor_free(kw_pcsc_monitor **m);
/* Wait at most timeout_ms (0 = poll, capped at one hour) for a change.
 * *changed is true when a reader or card changed; KW_OK with *changed false
 * on timeout or after kw_pcsc_monitor_cancel(). */
kw_rv kw_pcsc_monitor_wait(kw_pcsc_monitor *m, int timeout_ms, bool *changed);
/* Wake a thread blocked in kw_pcsc_monitor_wait (callable from another
 * thread, e.g. C_Finalize). */
kw_rv kw_pcsc_monitor_cancel(kw_pcsc_monitor *m);

/* Stateless convenience: has any reader or card changed within timeout_ms
 * from now? (Events before the call are not seen; prefer a monitor.) */
kw_rv kw_pcsc_wait_change(int timeout_ms, bool *changed);

#endif
