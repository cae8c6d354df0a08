/* The mock transport ("mock:NAME"), first-class for unit tests and fuzzing.
 * Either a script of expected command -> response pairs, or a handler that
 * answers like a card. */
#ifndef KW_MOCK_H
#define KW_MOCK_H

#include "kw_buf.h"
#include "kw_transport.h"

extern const kw_transport_ops kw_mock_ops;

typedef struct kw_mock kw_mock;

/* A handler fills resp (with SW) for cmd; returns a transport error to
 * simulate removal etc. */
typedef kw_rv (*kw_mock_handler)(void *arg, kw_view cmd, kw_buf *resp);

kw_mock *kw_mock_of(kw_transport *t);
/* Script: expect exactly `cmd_hex` (NULL = any command) and answer
 * `resp_hex` (hex including the status word), or fail with `err`. */
kw_rv kw_mock_expect(kw_mock *m, const char *cmd_hex, const char *resp_hex);
kw_rv kw_mock_expect_err(kw_mock *m, const char *cmd_hex, kw_rv err);
void kw_mock_set_handler(kw_mock *m, kw_mock_handler fn, void *arg);
void kw_mock_set_atr(kw_mock *m, const uint8_t *atr, size_t len);
/* Steps of the script not yet consumed, and commands that did not match. */
size_t kw_mock_pending(const kw_mock *m);
size_t kw_mock_mismatches(const kw_mock *m);

#endif
