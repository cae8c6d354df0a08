# drivers/ble: build fragment (included from the top Makefile.am)
