/* kw-ble-listen: a passive listener on a D-Bus bus, as any unprivileged
 * local process can be on the system bus: one match rule for
 * PropertiesChanged signals (no eavesdropping, no monitor), every signal
 * written to OUT as a line:
 *
 *   signal PATH INTERFACE PROP[,PROP...]
 *   value PATH HEX            (a GattCharacteristic1 Value: a notification)
 *
 *   kw-ble-listen ADDRESS OUT     (runs until SIGTERM/SIGINT; prints "ready"
 *                                  on stdout once the match rule is in place)
 *
 * tests/integration/test_ble_private.sh uses it to check that the token's
 * answers never reach other processes on the AcquireNotify path. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
on_changed(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	FILE *out = arg;
	const char *iface, *name;
	const void *p;
	size_t n, i;
	char props[512] = "";
	int r;

	(void)e;
	if (sd_bus_message_read(m, "s", &iface) < 0 ||
	    sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
		return 0;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if (sd_bus_message_read(m, "s", &name) < 0)
			return 0;
		if (strlen(props) + strlen(name) + 2 < sizeof(props)) {
			if (props[0] != '\0')
				strcat(props, ",");
			strcat(props, name);
		}
		if (strcmp(name, "Value") == 0 && sd_bus_message_verify_type(m, 'v', "ay") > 0) {
			if (sd_bus_message_enter_container(m, 'v', "ay") < 0 ||
			    sd_bus_message_read_array(m, 'y', &p, &n) < 0 ||
			    sd_bus_message_exit_container(m) < 0)
				return 0;
			fprintf(out, "value %s ", sd_bus_message_get_path(m));
			for (i = 0; i < n; i++)
				fprintf(out, "%02x", ((const unsigned char *)p)[i]);
			fputc('\n', out);
		} else if (sd_bus_message_skip(m, "v") < 0) {
			return 0;
		}
		if (sd_bus_message_exit_container(m) < 0)
			return 0;
	}
	fprintf(out, "signal %s %s %s\n", sd_bus_message_get_path(m), iface, props);
	fflush(out);
	return 0;
}

int
main(int argc, char **argv)
{
	sd_bus *bus = NULL;
	FILE *out;
	int r;

	if (argc != 3 || strcmp(argv[1], "--help") == 0) {
		fprintf(argc == 2 ? stdout : stderr, "usage: kw-ble-listen ADDRESS OUT\n"
		    "Writes every PropertiesChanged signal on the bus at ADDRESS to OUT\n"
		    "(one match rule, as an unprivileged passive listener).\n");
		return argc == 2 ? 0 : 2;
	}
	if ((out = fopen(argv[2], "we")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, argv[1])) < 0 ||
	    (r = sd_bus_set_bus_client(bus, 1)) < 0 || (r = sd_bus_start(bus)) < 0 ||
	    (r = sd_bus_add_match(bus, NULL, "type='signal',interface='org.freedesktop.DBus."
	    "Properties',member='PropertiesChanged'", on_changed, out)) < 0) {
		fprintf(stderr, "kw-ble-listen: %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		if ((r = sd_bus_process(bus, NULL)) < 0)
			break;
		if (r == 0 && sd_bus_wait(bus, 200000) < 0 && !stop)
			break;
	}
	sd_bus_flush_close_unref(bus);
	fclose(out);
	return 0;
}
