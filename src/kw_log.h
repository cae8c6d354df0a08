/* One logger for libkeyward, its drivers, the module and the tools.
 * Level comes from kw_log_init() or the KEYWARD_LOG environment variable
 * (error|warn|info|debug|trace). APDU dumps go through kw_log_apdu(), which
 * redacts the data of commands that carry secrets: VERIFY (20), CHANGE
 * REFERENCE DATA (24), RESET RETRY COUNTER (2C), GENERAL AUTHENTICATE (87,
 * both directions: management-key witnesses, decrypted keys), IMPORT (FE),
 * SET MANAGEMENT KEY (FF). Never pass a PIN or key to the other calls. */
#ifndef KW_LOG_H
#define KW_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum kw_log_level {
	KW_LOG_NONE = 0,
	KW_LOG_ERROR,
	KW_LOG_WARN,
	KW_LOG_INFO,
	KW_LOG_DEBUG,
	KW_LOG_TRACE, /* APDU dumps */
} kw_log_level;

/* Idempotent; reads KEYWARD_LOG if level < 0. Output to stderr unless
 * KEYWARD_LOG_FILE names a file. */
void kw_log_init(int level);
kw_log_level kw_log_get_level(void);
void kw_log_set_level(kw_log_level level);
/* Route output to a stream (tests); NULL restores stderr. */
void kw_log_set_stream(FILE *f);

void kw_log(kw_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define kw_err(...)   kw_log(KW_LOG_ERROR, __VA_ARGS__)
#define kw_warn(...)  kw_log(KW_LOG_WARN, __VA_ARGS__)
#define kw_info(...)  kw_log(KW_LOG_INFO, __VA_ARGS__)
#define kw_debug(...) kw_log(KW_LOG_DEBUG, __VA_ARGS__)

/* Does this command APDU carry secret data (by INS)? */
int kw_apdu_is_secret(const uint8_t *apdu, size_t len);

/* Format an APDU for the log with secrets redacted. `cmd_ins` is the INS of
 * the command the bytes belong to (for responses: the command's INS).
 * Returns out. Safe for any input. */
char *kw_apdu_format(const uint8_t *p, size_t len, int is_response,
    uint8_t cmd_ins, char *out, size_t outsz);

/* Log an APDU at TRACE level, redacted. */
void kw_log_apdu(const char *dir, const uint8_t *p, size_t len,
    int is_response, uint8_t cmd_ins);

#endif
