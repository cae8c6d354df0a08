/* keyward-vcard's command line (contract: notes/vcard-cli.md, --help),
 * shared by keyward-vcard and its alias keyward-vcard-ble. */
#ifndef VCARD_CLI_H
#define VCARD_CLI_H

#include <stdbool.h>

/* Run the virtual token; the process's exit status. ble_alias: behave as
 * keyward-vcard-ble (BLE mode without --ble, that name in messages). */
int vcard_cli_main(int argc, char **argv, bool ble_alias);

#endif
