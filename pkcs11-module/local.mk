# pkcs11-module: build fragment (included from the top Makefile.am)
