/* keyward-testenv: a private pcscd + vpcd + N virtual tokens around a
 * command. Internal interface shared by the files of tools/testenv/.
 *
 *   testenv_main.c   options, the run/shell flow, exit status
 *   testenv_ns.c     mount + network namespace, /run/pcscd tmpfs, lo up
 *   testenv_proc.c   spawning, signal-driven waiting, reaping, stopping
 *   testenv_pcscd.c  reader.conf for vpcd, pcscd start, socket wait
 *   testenv_token.c  locating keyward-vcard, starting one token, readiness
 *   testenv_dbus.c   the private D-Bus bus of BLE tokens
 *   testenv_ca.c     the test attestation CA (--attest-ca)
 *   testenv_dir.c    the state directory: create, remove, paths
 *
 * Exit status of the tool: COMMAND's status, 128+N if COMMAND died of
 * signal N, KWT_EXIT_TIMEOUT if --timeout expired, KWT_EXIT_SETUP if this
 * machine cannot host the environment, KWT_EXIT_FAILED if pcscd or a token
 * failed (see kwt_setup). */
#ifndef KWT_TESTENV_H
#define KWT_TESTENV_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define KWT_MAX_TOKENS 16        /* pcsc-lite's reader limit */
#define KWT_VPCD_PORT_BASE 35963 /* vpcd's default port (0x8C7B) */
#define KWT_READER_PREFIX "Yubico YubiKey keyward vcard" /* ykcs11 wants
    "Yubico", yubico-piv-tool by default "YubiKey" */
#define KWT_PCSCD_SOCKET "/run/pcscd/pcscd.comm"
#define KWT_PCSCD_RUNDIR "/run/pcscd"
#define KWT_VPCD_DRIVER "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
#define KWT_SERIAL_BASE 10000001UL

#define KWT_EXIT_FAILED 1   /* pcscd or a token failed */
#define KWT_EXIT_USAGE 2
#define KWT_EXIT_TIMEOUT 124
#define KWT_EXIT_SETUP 125  /* the machine lacks namespaces, pcscd, ... */

#define KWT_READY_TIMEOUT_MS 10000 /* every token visible to PC/SC */
#define KWT_STOP_GRACE_MS 3000     /* SIGTERM -> SIGKILL */

/* What a token is to its clients (--token-kind). */
enum kwt_kind {
	KWT_KIND_PCSC = 0, /* a PIV card in a vpcd reader (default) */
	KWT_KIND_UICC,     /* a SIM in a vpcd reader: PIV on logical channels */
	KWT_KIND_MODEM,    /* a cellular modem: AT commands on a pty, no reader */
	KWT_KIND_BLE,      /* a BLE device behind an emulated BlueZ on a private
	                    * D-Bus bus (one per run: it owns org.bluez) */
};

#define KWT_BLE_ADDR_FMT "C0:FF:EE:00:00:%02X" /* token i: i + 1 */

struct kwt_opts {
	int tokens;
	const char *kinds;     /* --token-kind LIST, NULL: all pcsc */
	const char *firmware;  /* --firmware X.Y.Z for new tokens */
	const char *modem_quirks; /* --modem-quirks LIST for modem tokens */
	const char *ble_faults;   /* --ble-faults LIST for the BLE token */
	const char *state_dir; /* NULL: a temporary directory */
	int attest_ca;
	int keep;
	int no_namespace;
	unsigned timeout_s;    /* 0: no limit */
	int verbose;
	int shell;             /* `shell`: interactive, print a banner */
	char **cmd;            /* NULL-terminated argv of COMMAND */
};

/* One child process we started and must reap. */
struct kwt_proc {
	pid_t pid;    /* 0: not running (never started or reaped) */
	int status;   /* waitpid status once reaped */
	int reaped;
	int stopping; /* we sent it SIGTERM ourselves */
};

struct kwt_token {
	struct kwt_proc proc;
	int index;
	int port;
	unsigned long serial;
	int fresh;                 /* no state file existed: we chose the serial */
	enum kwt_kind kind;
	char reader[128];          /* PC/SC reader name (vpcd kinds) */
	char modem[PATH_MAX];      /* pty link (KWT_KIND_MODEM) */
	char ble_addr[18];         /* device address (KWT_KIND_BLE) */
	char state[PATH_MAX];
	char trace[PATH_MAX];
	char log[PATH_MAX];        /* the vcard's stdout + stderr */
};

struct kwt_env {
	struct kwt_opts opt;
	char dir[PATH_MAX];
	int dir_is_temp;
	char vcard[PATH_MAX];      /* keyward-vcard executable */
	char conf[PATH_MAX];       /* reader.conf for pcscd */
	char ca_cert[PATH_MAX];    /* set when --attest-ca */
	char ca_key[PATH_MAX];
	struct kwt_proc pcscd;
	struct kwt_proc dbus;      /* dbus-daemon, when there is a BLE token */
	char bus_sock[PATH_MAX];   /* its socket */
	char bus_addr[PATH_MAX + 16]; /* unix:path=<bus_sock> */
	struct kwt_token tok[KWT_MAX_TOKENS];
	struct kwt_proc cmd;
	int got_signal;            /* last SIGINT/SIGTERM/SIGHUP received */
};

/* testenv_ns.c */
int kwt_ns_enter(const struct kwt_opts *opt);
int kwt_ns_check_host_pcscd(void);

/* testenv_proc.c */
int kwt_proc_init_signals(void);
/* Flags for kwt_proc_spawn. Every child gets its own process group so
 * a terminal's ^C reaches only COMMAND (see kwt_proc_take_terminal). */
#define KWT_SPAWN_DAEMON 1  /* stdin /dev/null, output to log, killed if
                             * we die */
#define KWT_SPAWN_SEARCH 2  /* search PATH for argv[0] */
int kwt_proc_spawn(struct kwt_proc *p, char *const argv[], const char *log,
    int flags);
/* Wait up to ms milliseconds (-1: forever) for a signal; reaps children
 * into env. Returns the signal number, 0 on timeout. */
int kwt_proc_wait_event(struct kwt_env *env, int ms);
void kwt_proc_stop_all(struct kwt_env *env);
long long kwt_now_ms(void);
void kwt_proc_describe(const struct kwt_proc *p, char *out, size_t outsz);
int kwt_proc_abnormal(const struct kwt_proc *p);
void kwt_proc_restore_signals(void);
void kwt_proc_take_terminal(pid_t pgrp);
void kwt_proc_give_back_terminal(void);

/* testenv_pcscd.c */
int kwt_pcscd_write_conf(struct kwt_env *env);
int kwt_pcscd_start(struct kwt_env *env);

/* testenv_token.c */
int kwt_kinds_parse(struct kwt_env *env);
const char *kwt_kind_name(enum kwt_kind kind);
int kwt_vcard_find(struct kwt_env *env, const char *argv0);
int kwt_token_start(struct kwt_env *env, int i);
int kwt_tokens_wait_ready(struct kwt_env *env);

/* testenv_dbus.c */
int kwt_dbus_needed(const struct kwt_env *env);
int kwt_dbus_start(struct kwt_env *env);
/* 1 when org.bluez has an owner on the private bus. */
int kwt_dbus_has_bluez(const struct kwt_env *env);

/* testenv_ca.c */
int kwt_ca_create(struct kwt_env *env);

/* testenv_dir.c */
int kwt_dir_setup(struct kwt_env *env);
void kwt_dir_cleanup(struct kwt_env *env);
int kwt_path(char *out, size_t outsz, const char *dir, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void kwt_log_tail(const char *path, const char *what);

/* testenv_main.c */
void kwt_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kwt_vmsg(const struct kwt_env *env, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
