/* keyward-vcard: the virtual PIV token (vcard_cli.c has the command line). */
#include "vcard_cli.h"

int
main(int argc, char **argv)
{
	return vcard_cli_main(argc, argv, false);
}
