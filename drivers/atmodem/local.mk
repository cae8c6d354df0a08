# drivers/atmodem: build fragment (included from the top Makefile.am)
