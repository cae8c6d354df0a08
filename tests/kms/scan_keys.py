#!/usr/bin/env python3
"""Scan every file under the given directories for private keys in clear:
PEM private keys (unencrypted), DER PKCS#8 (RSA, EC), DER RSAPrivateKey,
DER SEC1 ECPrivateKey (P-256), and known key bytes (hex probes, one per
line as the 5th field of `kwkms-tool fetch --probe` output).
Usage: scan_keys.py PROBES DIR...   Exit 1 when anything is found."""
import os
import re
import sys

PATTERNS = {
    "PEM private key": re.compile(rb"-----BEGIN (RSA |EC |)PRIVATE KEY-----"),
    "DER PKCS#8 private key": re.compile(
        rb"\x30\x82..\x02\x01\x00\x30[\x0d\x13]\x06[\x07\x09]\x2a\x86\x48"
        rb"(\x86\xf7\x0d\x01\x01\x01|\xce\x3d\x02\x01)", re.S),
    "DER PKCS#8 P-256 key": re.compile(
        rb"\x30\x81.\x02\x01\x00\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01", re.S),
    "DER RSAPrivateKey": re.compile(rb"\x30\x82..\x02\x01\x00\x02\x82\x01[\x00\x01]\x00", re.S),
    "DER SEC1 EC private key": re.compile(rb"\x30\x77\x02\x01\x01\x04\x20", re.S),
}


def main():
    probes = []
    for line in open(sys.argv[1]):
        f = line.split()
        if len(f) > 4:
            probes.append(bytes.fromhex(f[4]))
    bad, n = [], 0
    for top in sys.argv[2:]:
        for d, _, files in os.walk(top):
            for name in files:
                p = os.path.join(d, name)
                data = open(p, "rb").read()
                n += 1
                for what, rx in PATTERNS.items():
                    if rx.search(data):
                        bad.append("%s: %s" % (p, what))
                for pr in probes:
                    if pr in data:
                        bad.append("%s: delivered key bytes" % p)
    for b in bad:
        print("found", b)
    print("scanned %d files, %d probes" % (n, len(probes)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
