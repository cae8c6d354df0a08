/* Cross-process locks of the transports (drivers/atmodem, drivers/ble): the
 * lock directory, who holds a lock, and bounded waits for flock(2).
 *
 * Lock files live in KEYWARD_LOCK_DIR, else /run/lock (Debian: mode 1777).
 * A lock taken with kw_lock_take() is a flock on DIR/NAME: the kernel drops
 * it when its holder exits, however it exits, so there are no stale locks;
 * the file is never removed (removing it would let a waiter and a newcomer
 * lock two different files). Its content is one line, "PID NOTE\n", for
 * messages and for the holder's own bookkeeping (drivers/ble records there
 * whether the token was left in a clean state). The file is created 0644:
 * other users can open it read-only, which is enough to flock it. */
#ifndef KW_LOCK_H
#define KW_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "kw_err.h"

#define KW_LOCK_DIR_DEFAULT "/run/lock"
#define KW_LOCK_NOTE_MAX 96

/* KEYWARD_LOCK_DIR when set and non-empty, else /run/lock. */
const char *kw_lock_dir(void);
/* The command name of a process (/proc/PID/comm); false if gone/unreadable. */
bool kw_lock_proc_comm(long pid, char *comm, size_t n);
/* The live process whose PID starts the lock file at path (0 when absent,
 * unreadable, garbage, or that process is gone). */
long kw_lock_file_pid(const char *path);
/* "process 1234 (pkcs11-tool)", or "another process" when pid is 0. */
void kw_lock_describe(long pid, char *out, size_t n);
/* flock(fd, LOCK_EX), retried until timeout_ms has passed (0: one try).
 * KW_ERR_SHARING when still held by someone else, KW_ERR_IO on other
 * errors. */
kw_rv kw_lock_flock(int fd, int timeout_ms);

typedef struct kw_lock kw_lock;

/* Take DIR/name (name: a file name, no '/') within timeout_ms. On success
 * the file says "PID note". KW_ERR_SHARING when another process still
 * holds it: `holder` (may be NULL) then describes it (kw_lock_describe);
 * KW_ERR_IO when no lock file can be opened (logged). */
kw_rv kw_lock_take(const char *name, const char *note, int timeout_ms, char *holder,
    size_t holder_len, kw_lock **out);
/* The note found in the file when it was taken (the previous holder's last
 * note; "" if none or unreadable). */
const char *kw_lock_prev_note(const kw_lock *l);
/* Rewrite the note (best effort: false when the file is read-only to us). */
bool kw_lock_set_note(kw_lock *l, const char *note);
/* Unlock and close; NULLs *l. */
void kw_lock_release(kw_lock **l);

#endif
