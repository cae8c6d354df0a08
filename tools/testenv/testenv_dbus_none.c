/* keyward-testenv built with configure --disable-ble: no private D-Bus bus,
 * so no ble token kind (refused when asked for). */
#include "testenv.h"

#include <stdio.h>

int
kwt_dbus_needed(const struct kwt_env *env)
{
	int i, n = 0;

	for (i = 0; i < env->opt.tokens; i++)
		n += env->tok[i].kind == KWT_KIND_BLE;
	return n;
}

int
kwt_dbus_start(struct kwt_env *env)
{
	(void)env;
	fprintf(stderr, "keyward-testenv: --token-kind ble: built without BLE "
	    "(configure --disable-ble)\n");
	return -1;
}

int
kwt_dbus_has_bluez(const struct kwt_env *env)
{
	(void)env;
	return 0;
}
