# drivers/uicc: build fragment (included from the top Makefile.am)
