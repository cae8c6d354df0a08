# tools/vcard/ble: BLE GATT front-end of the virtual token (included from the top Makefile.am)
