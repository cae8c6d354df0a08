/* The transport interface: one small ops table per scheme ("pcsc", "mock",
 * "uicc", "at", "ble"), chosen by a scheme-prefixed name such as
 * "pcsc:Virtual PCD 00 00". Transports move raw APDUs; chaining, GET
 * RESPONSE, wrong-Le and logical-channel class bytes live above, in
 * kw_apdu.c. A transport reports its own kw_rv; the card's status word
 * travels in the response bytes. */
#ifndef KW_TRANSPORT_H
#define KW_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kw_err.h"

#define KW_MAX_ATR 33
#define KW_MAX_RESPONSE (65536 + 2)

enum {
	KW_TRANSPORT_EXTENDED = 1u << 0, /* extended-length APDUs pass through */
};

/* A list of device names (full URIs). */
typedef struct kw_strlist {
	char **v;
	size_t n;
} kw_strlist;

kw_rv kw_strlist_add(kw_strlist *l, const char *s);
void kw_strlist_free(kw_strlist *l);

typedef struct kw_transport_ops {
	const char *scheme;
	unsigned flags;
	/* Append the URIs of the devices this transport can open (optional). */
	kw_rv (*list)(kw_strlist *out);
	/* `rest` is the name after "scheme:". */
	kw_rv (*open)(const char *rest, void **ctx);
	void (*close)(void *ctx);
	/* Send one command APDU, receive one response APDU including SW1SW2.
	 * *resp_len is the capacity on entry, the length on return. */
	kw_rv (*transmit)(void *ctx, const uint8_t *cmd, size_t cmd_len,
	    uint8_t *resp, size_t *resp_len);
	kw_rv (*get_atr)(void *ctx, uint8_t *atr, size_t *atr_len);
	kw_rv (*reset)(void *ctx);           /* warm reset; optional */
	kw_rv (*begin)(void *ctx);           /* exclusive use; optional */
	kw_rv (*end)(void *ctx);             /* optional */
	/* Logical channel the APDUs must carry in CLA (0 = basic); optional. */
	int (*channel)(void *ctx);
	/* Is the token still there? Cheap (no APDU); optional. */
	kw_rv (*present)(void *ctx);
	/* The places a token can appear, as URIs, for callers that keep one
	 * slot per place (the PKCS#11 module): PC/SC lists every reader, with
	 * or without a card. Optional: list is used instead. */
	kw_rv (*list_slots)(kw_strlist *out);
	/* Waiting for devices (optional; all four or none): a monitor sees
	 * every change of this transport's devices after its creation; wait
	 * returns after at most timeout_ms (*changed false on timeout or
	 * after cancel, which another thread may call). */
	kw_rv (*monitor_new)(void **mon);
	kw_rv (*monitor_wait)(void *mon, int timeout_ms, bool *changed);
	kw_rv (*monitor_cancel)(void *mon);
	void (*monitor_free)(void *mon);
} kw_transport_ops;

typedef struct kw_transport kw_transport;

/* Open by URI through the registry of built-in transports (drivers/). */
kw_rv kw_transport_open(const char *uri, kw_transport **out);
/* Open with an explicit ops table (tests, wrapping transports). */
kw_rv kw_transport_open_ops(const kw_transport_ops *ops, const char *rest,
    kw_transport **out);
void kw_transport_free(kw_transport **t);
/* Every device of every registered transport, as URIs. */
kw_rv kw_transport_list_all(kw_strlist *out);
const kw_transport_ops *kw_transport_find_ops(const char *scheme);
/* The places of one transport's tokens (list_slots, else list). */
kw_rv kw_transport_list_slots(const kw_transport_ops *ops, kw_strlist *out);

/* A device monitor of one transport; KW_ERR_NOT_SUPPORTED when the
 * transport cannot wait for devices (callers poll its list instead). */
typedef struct kw_transport_monitor kw_transport_monitor;
kw_rv kw_transport_monitor_new(const kw_transport_ops *ops, kw_transport_monitor **out);
kw_rv kw_transport_monitor_wait(kw_transport_monitor *m, int timeout_ms, bool *changed);
kw_rv kw_transport_monitor_cancel(kw_transport_monitor *m);
void kw_transport_monitor_free(kw_transport_monitor **m);

const char *kw_transport_name(const kw_transport *t);   /* the URI */
const kw_transport_ops *kw_transport_get_ops(const kw_transport *t);
void *kw_transport_ctx(const kw_transport *t);

kw_rv kw_transport_transmit(kw_transport *t, const uint8_t *cmd, size_t cmd_len,
    uint8_t *resp, size_t *resp_len);
kw_rv kw_transport_get_atr(kw_transport *t, uint8_t *atr, size_t *atr_len);
kw_rv kw_transport_reset(kw_transport *t);
kw_rv kw_transport_begin(kw_transport *t);
kw_rv kw_transport_end(kw_transport *t);
kw_rv kw_transport_present(kw_transport *t);
int kw_transport_channel(const kw_transport *t);
bool kw_transport_has_flag(const kw_transport *t, unsigned flag);

/* APDUs exchanged on the wire since open (benchmarks, tests). */
uint64_t kw_transport_apdu_count(const kw_transport *t);

/* The built-in table, defined in drivers/kw_transports.c. */
extern const kw_transport_ops *const kw_builtin_transports[];

#endif
