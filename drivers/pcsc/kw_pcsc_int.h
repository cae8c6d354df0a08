/* Internals shared by the files of drivers/pcsc (not for other components). */
#ifndef KW_PCSC_INT_H
#define KW_PCSC_INT_H

#include <PCSC/winscard.h>

#include "kw_pcsc.h"

/* The reader multi-string of a context ("a\0b\0\0"); *msz is NULL (and
 * KW_OK) when there is no reader. Free with free(). */
kw_rv kw_pcsc_reader_names(SCARDCONTEXT ctx, char **msz);

/* pcscd makes SCardConnect, SCardBeginTransaction and SCardReconnect wait
 * for as long as another process holds a transaction on the reader. These
 * run such calls with a bound (kw_pcsc_wait.c). */

/* SCardConnect (shared, T=0|T=1) in a thread. On timeout *timed_out is set
 * and the thread keeps `ctx`: it disconnects and releases it when pcscd
 * answers. The caller must not use ctx again. */
LONG kw_pcsc_connect_bounded(SCARDCONTEXT ctx, const char *reader, int timeout_ms,
    SCARDHANDLE *card, DWORD *proto, bool *timed_out);

/* fn(card, arg) with a watchdog that disconnects `card` after timeout_ms
 * (which makes the pending call return); *timed_out then tells the caller
 * the handle is gone. */
typedef LONG (*kw_pcsc_card_fn)(SCARDHANDLE card, void *arg);
LONG kw_pcsc_call_bounded(SCARDHANDLE card, int timeout_ms, kw_pcsc_card_fn fn,
    void *arg, bool *timed_out);

/* ops->list: "pcsc:<reader>" for every reader that holds a card. */
kw_rv kw_pcsc_list_cards(kw_strlist *out);
/* The ops table's list_slots (every key reader, "pcsc:NAME") and monitor
 * ops (kw_pcsc_monitor behind the transport interface). */
kw_rv kw_pcsc_list_slots(kw_strlist *out);
kw_rv kw_pcsc_op_monitor_new(void **mon);
kw_rv kw_pcsc_op_monitor_wait(void *mon, int timeout_ms, bool *changed);
kw_rv kw_pcsc_op_monitor_cancel(void *mon);
void kw_pcsc_op_monitor_free(void *mon);

#endif
