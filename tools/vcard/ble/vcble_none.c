/* keyward-vcard built with configure --disable-ble: no BLE front-end.
 * --ble is refused with a clear message; the vpcd, UICC and modem modes
 * are unchanged. */
#include <stdio.h>
#include <string.h>

#include "vcble.h"

void
vcble_faults_default(vcble_faults *f)
{
	memset(f, 0, sizeof(*f));
}

kw_rv
vcble_faults_parse(const char *list, vcble_faults *f, char *err, size_t errsz)
{
	(void)list;
	(void)f;
	snprintf(err, errsz, "built without BLE (configure --disable-ble)");
	return KW_ERR_NOT_SUPPORTED;
}

unsigned
vcble_cpl(unsigned mtu)
{
	return mtu > 3 ? mtu - 3 : 0;
}

kw_rv
vcble_run(vcard_card *c, const vcble_cfg *cfg)
{
	(void)c;
	(void)cfg;
	fprintf(stderr, "keyward-vcard: built without BLE (configure --disable-ble)\n");
	return KW_ERR_NOT_SUPPORTED;
}
