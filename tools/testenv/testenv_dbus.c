/* The private D-Bus bus of a run with a BLE token: a dbus-daemon of this
 * run (inside its namespace), on a socket in the state directory, where
 * the BLE token (keyward-vcard --ble) owns org.bluez as bluetoothd would on
 * the system bus. COMMAND finds it in KEYWARD_BLE_BUS. */
#include "testenv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#define KWT_DBUS_READY_MS 5000

int
kwt_dbus_needed(const struct kwt_env *env)
{
	int i, n = 0;

	for (i = 0; i < env->opt.tokens; i++)
		n += env->tok[i].kind == KWT_KIND_BLE;
	return n;
}

/* dbus-daemon in PATH (or $KEYWARD_DBUS_DAEMON). */
static int
kwt_dbus_find(char *out, size_t outsz)
{
	const char *over = getenv("KEYWARD_DBUS_DAEMON");
	const char *path = getenv("PATH"), *p, *end;

	if (over != NULL && *over != '\0') {
		snprintf(out, outsz, "%s", over);
		return access(out, X_OK);
	}
	for (p = path; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		if (end > p && snprintf(out, outsz, "%.*s/dbus-daemon", (int)(end - p), p) <
		    (int)outsz && access(out, X_OK) == 0)
			return 0;
	}
	return -1;
}

/* A bus connection to the private bus; NULL when it does not answer. */
static sd_bus *
kwt_dbus_connect(const struct kwt_env *env)
{
	sd_bus *bus = NULL;

	if (access(env->bus_sock, F_OK) != 0 || sd_bus_new(&bus) < 0)
		return NULL;
	if (sd_bus_set_address(bus, env->bus_addr) < 0 || sd_bus_set_bus_client(bus, 1) < 0 ||
	    sd_bus_start(bus) < 0)
		bus = sd_bus_unref(bus);
	return bus;
}

int
kwt_dbus_has_bluez(const struct kwt_env *env)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus *bus = kwt_dbus_connect(env);
	int has = 0;

	if (bus == NULL)
		return 0;
	if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
	    "org.freedesktop.DBus", "NameHasOwner", &err, &reply, "s", "org.bluez") < 0 ||
	    sd_bus_message_read(reply, "b", &has) < 0)
		has = 0;
	sd_bus_message_unref(reply);
	sd_bus_error_free(&err);
	sd_bus_flush_close_unref(bus);
	return has;
}

/* Start dbus-daemon and wait until it answers. 0, or -1 (message given;
 * env->dbus.pid == 0 when dbus-daemon is missing: a setup problem). */
int
kwt_dbus_start(struct kwt_env *env)
{
	char exe[PATH_MAX], log[PATH_MAX], addr_opt[PATH_MAX + 32];
	char *argv[6];
	long long deadline;
	sd_bus *bus;

	if (kwt_dbus_find(exe, sizeof(exe)) != 0) {
		kwt_msg("dbus-daemon not found (a BLE token needs a private bus): "
		    "apt-get install dbus-daemon, or set KEYWARD_DBUS_DAEMON");
		return -1;
	}
	if (kwt_path(env->bus_sock, sizeof(env->bus_sock), env->dir, "dbus.sock") != 0 ||
	    kwt_path(log, sizeof(log), env->dir, "dbus.log") != 0)
		return -1;
	if (strlen(env->bus_sock) >= 100) {
		kwt_msg("the state directory's path is too long for a socket: %s", env->dir);
		return -1;
	}
	unlink(env->bus_sock); /* left by a killed run */
	snprintf(env->bus_addr, sizeof(env->bus_addr), "unix:path=%s", env->bus_sock);
	snprintf(addr_opt, sizeof(addr_opt), "--address=%s", env->bus_addr);
	argv[0] = exe;
	argv[1] = "--session";
	argv[2] = "--nofork";
	argv[3] = "--nopidfile";
	argv[4] = addr_opt;
	argv[5] = NULL;
	kwt_vmsg(env, "dbus-daemon: %s", env->bus_addr);
	if (kwt_proc_spawn(&env->dbus, argv, log, KWT_SPAWN_DAEMON) != 0)
		return -1;
	deadline = kwt_now_ms() + KWT_DBUS_READY_MS;
	while (kwt_now_ms() < deadline && !env->dbus.reaped && !env->got_signal) {
		if ((bus = kwt_dbus_connect(env)) != NULL) {
			sd_bus_flush_close_unref(bus);
			return 0;
		}
		kwt_proc_wait_event(env, 50);
	}
	kwt_msg("dbus-daemon did not come up within %d ms", KWT_DBUS_READY_MS);
	kwt_log_tail(log, "dbus-daemon");
	return -1;
}
