/* keyward-vcard-ble: keyward-vcard --ble under its earlier name (scripts
 * and tests use both). */
#include "vcard_cli.h"

int
main(int argc, char **argv)
{
	return vcard_cli_main(argc, argv, true);
}
