#!/usr/bin/env python3
"""Write the seed corpora of keyward's fuzz targets into fuzz/corpus/<target>/.

Seeds are small, real-looking inputs in each target's input format (see the
comment at the top of fuzz/fuzz_<target>.c). Files are named gen-*; entries
found by fuzzing (minimized with -merge=1) live beside them under their
libFuzzer hash names. Run: python3 fuzz/gen_corpus.py [OUTDIR]
"""
import os
import struct
import sys
import zlib

# A self-signed P-256 certificate (CN=keyward-seed) and its public point.
CERT = bytes.fromhex(
    "3082018230820129a00302010202144f10cceb9cc038f70d493dfa260397852ffbe3e030"
    "0a06082a8648ce3d04030230173115301306035504030c0c6b6579776172642d736565643"
    "01e170d3236313132353033333731325a170d3336313132323033333731325a3017311530"
    "1306035504030c0c6b6579776172642d736565643059301306072a8648ce3d020106082a8"
    "648ce3d030107034200049551e045665ebb072a96ca0ff9c7c72f9b00650d94fed9043cb3"
    "1cb399a64c7d3c14888fe57a3a3e208990e8561bdd7d4e256810fc434803f4c6547486f81"
    "3e5a3533051301d0603551d0e04160414030e89c1460d74d91697f7834651860f34b6c68e"
    "301f0603551d23041830168014030e89c1460d74d91697f7834651860f34b6c68e300f060"
    "3551d130101ff040530030101ff300a06082a8648ce3d040302034700304402203b84421b"
    "d1a3855aafe49a68a8f65a6995ae40a26a64db7ed9ea819596bfbc1b022029ca1aabafff3"
    "cf5b9a5fdd92714fee455032d3e2791bc5dd4973df854ececf3")
EC_POINT = bytes.fromhex(
    "049551e045665ebb072a96ca0ff9c7c72f9b00650d94fed9043cb31cb399a64c7d3c1488"
    "8fe57a3a3e208990e8561bdd7d4e256810fc434803f4c6547486f813e5")
RSA_N = bytes.fromhex(
    "C9FC85B751BC7732BDDF76D924EC49CEE0BC0368D95DFADE17764F54B455A179CDE3B39C"
    "7529AFABEE669A0E9C24D3DA411EE8B7834D9B52B3BAF7C97C9B40B6926A7520D3D7B2CA"
    "52DEEDF1F3D6EAE56178C8016A6F476D12B85B3EE123331F8AF85FC7C6671616C5DD86CE"
    "CB454654B2B11AC5B61689CCA44993835228D88D")
RSA_E = bytes.fromhex("010001")
PIV_AID = bytes.fromhex("A000000308")
OK = b"\x90\x00"


def tag_bytes(tag):
    if tag > 0xFFFF:
        return struct.pack(">I", tag)[1:]
    if tag > 0xFF:
        return struct.pack(">H", tag)
    return bytes([tag])


def tlv(tag, value):
    n = len(value)
    if n < 0x80:
        ln = bytes([n])
    elif n <= 0xFF:
        ln = b"\x81" + bytes([n])
    elif n <= 0xFFFF:
        ln = b"\x82" + struct.pack(">H", n)
    else:
        ln = b"\x83" + struct.pack(">I", n)[1:]
    return tag_bytes(tag) + ln + value


def chunk(b):
    return struct.pack(">H", len(b)) + b


def chunk8(b):
    return bytes([len(b)]) + b


def apdu(cla, ins, p1, p2, data=b"", le=None):
    out = bytes([cla, ins, p1, p2])
    if data:
        out += bytes([len(data)]) + data
    if le is not None:
        out += bytes([le & 0xFF])
    return out


FASCN = bytes.fromhex("D4E739DA739CED39CE739D836858210842108421C84210C3EB")
GUID = bytes(range(16))
CHUID = (tlv(0x30, FASCN) + tlv(0x34, GUID) + tlv(0x35, b"20301231") +
         tlv(0x3E, b"") + tlv(0xFE, b""))
CCC = (tlv(0xF0, bytes.fromhex("A000000116FF02") + bytes(range(14))) +
       bytes.fromhex("F10121F20121F300F40100F50110F600F700FA00FB00FC00FD00FE00"))
DISCOVERY_IN = (tlv(0x4F, bytes.fromhex("A000000308000010000100")) +
                tlv(0x5F2F, b"\x40\x00"))
CERT_OBJ = tlv(0x70, CERT) + tlv(0x71, b"\x00") + tlv(0xFE, b"")


def gzip_bytes(data):
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    return co.compress(data) + co.flush()


CERT_OBJ_GZ = tlv(0x70, gzip_bytes(CERT)) + tlv(0x71, b"\x01") + tlv(0xFE, b"")
KEY_HISTORY = tlv(0xC1, b"\x02") + tlv(0xC2, b"\x00") + tlv(0xFE, b"")
KEY_HISTORY_URL = (tlv(0xC1, b"\x01") + tlv(0xC2, b"\x03") +
                   tlv(0xF3, b"https://pki.example.org/kh") + tlv(0xFE, b""))
EC_PUB = tlv(0x86, EC_POINT)
RSA_PUB = tlv(0x81, RSA_N) + tlv(0x82, RSA_E)
MD_EC = (tlv(0x01, b"\x11") + tlv(0x02, b"\x02\x01") + tlv(0x03, b"\x01") +
         tlv(0x04, EC_PUB))
MD_RSA = (tlv(0x01, b"\x06") + tlv(0x02, b"\x03\x02") + tlv(0x03, b"\x02") +
          tlv(0x04, RSA_PUB))
MD_PIN = tlv(0x01, b"\xFF") + tlv(0x05, b"\x01") + tlv(0x06, b"\x03\x02")
MD_MGMT = tlv(0x01, b"\x03") + tlv(0x02, b"\x00\x01") + tlv(0x05, b"\x01")
MD_ED = tlv(0x01, b"\xE0") + tlv(0x02, b"\x02\x01") + tlv(0x03, b"\x01") + \
    tlv(0x04, tlv(0x86, bytes(range(32))))
ADMIN = tlv(0x80, tlv(0x81, b"\x02") + tlv(0x83, b"\x65\x00\x00\x01"))
ADMIN_SALT = tlv(0x80, tlv(0x81, b"\x01") + tlv(0x82, bytes(16)))
MGMT_KEY = tlv(0x88, tlv(0x89, bytes(range(1, 25))))
MGMT_KEY32 = tlv(0x88, tlv(0x89, bytes(range(32))))
SELECT_RESP = tlv(0x61, tlv(0x4F, bytes.fromhex("000010000100")) +
                  tlv(0x79, tlv(0x4F, PIV_AID)) + tlv(0xAC, tlv(0x80, b"\x11") +
                                                      tlv(0x06, b"")))


def corpus():
    c = {}
    c["tlv"] = {
        "cert-object": tlv(0x53, CERT_OBJ),
        "chuid": tlv(0x53, CHUID),
        "discovery": tlv(0x7E, DISCOVERY_IN),
        "bit-group": tlv(0x7F61, tlv(0x02, b"\x01") + tlv(0xBF21, tlv(0x80, b"\x11"))),
        "pubkey-ec": tlv(0x7F49, EC_PUB),
        "pubkey-rsa": tlv(0x7F49, RSA_PUB),
        "dyn-auth": tlv(0x7C, tlv(0x82, b"") + tlv(0x81, bytes(32))),
        "select": SELECT_RESP,
        "long-83": b"\x53\x83\x00\x00\x03\x01\x02\x03",
        "bad-indefinite": b"\x30\x80\x01\x01\x00\x00\x00",
        "bad-tag4": b"\x5F\xC1\x82\x81\x01\x00",
        "truncated": b"\x53\x82\x01\x00\x70\x10",
    }
    c["buf"] = {
        "getters": chunk8(bytes([0, 1, 2, 3, 0, 4, 4, 10, 5, 0, 2, 6])) + CHUID,
        "views": chunk8(bytes([3, 0, 200, 3, 255, 255, 7, 3, 6])) + CERT[:120],
        "hex": chunk8(b"\x06") + b"00 a4:04 00 05 A0 00 00 03 08",
        "empty": b"\x00",
    }
    c["apdu"] = {
        # flags, CLA INS P1 P2, data length, Le selector, answer limit, answers
        "select-ok": bytes([0, 0, 0xA4, 4, 0]) + b"\x00\x05" + b"\x40\x00" + b"\x04" +
        chunk(SELECT_RESP + OK),
        "get-response": bytes([0x80, 0, 0xCB, 0x3F, 0xFF]) + b"\x00\x05" + b"\x40\x00" +
        b"\x10" + chunk(CERT[:200] + b"\x61\x00") + chunk(CERT[200:] + b"\x61\x10") +
        chunk(bytes(16) + OK),
        "wrong-le": bytes([0, 0, 0xCA, 0, 0]) + b"\x00\x00" + b"\x40\x05" + b"\x04" +
        chunk(b"\x6C\x08") + chunk(bytes(8) + OK),
        "chained": bytes([0, 0, 0xDB, 0x3F, 0xFF]) + b"\x02\x58" + b"\x00\x00" + b"\x04" +
        chunk(OK) + chunk(OK) + chunk(OK),
        "chain-refused": bytes([0, 0, 0xDB, 0x3F, 0xFF]) + b"\x02\x58" + b"\x00\x00" +
        b"\x04" + chunk(b"\x6A\x80"),
        "extended": bytes([1, 0, 0xCB, 0x3F, 0xFF]) + b"\x00\x05" + b"\x80\x00" + b"\x04" +
        chunk(CERT + OK),
        "channel-5": bytes([5 << 2, 0, 0xA4, 4, 0]) + b"\x00\x05" + b"\x40\x00" + b"\x04" +
        chunk(OK),
        "secret-verify": bytes([2, 0, 0x20, 0, 0x80]) + b"\x00\x08" + b"\x00\x00" +
        b"\x04" + chunk(b"\x63\xC2"),
        "short-answer": bytes([0, 0, 0xA4, 4, 0]) + b"\x00\x05" + b"\x40\x00" + b"\x04" +
        chunk(b"\x90"),
    }
    c["piv_cert"] = {"plain": CERT_OBJ, "gzip": CERT_OBJ_GZ,
                     "no-info": tlv(0x70, CERT) + tlv(0xFE, b""),
                     "empty": b""}
    c["piv_key_history"] = {"counts": KEY_HISTORY, "url": KEY_HISTORY_URL}
    c["piv_metadata"] = {"ec": MD_EC, "rsa": MD_RSA, "pin": MD_PIN, "mgmt": MD_MGMT,
                         "ed25519": MD_ED}
    c["piv_chuid"] = {"chuid": CHUID,
                      "uuid": tlv(0x30, FASCN) + tlv(0x34, GUID) +
                      tlv(0x36, bytes(16)) + tlv(0xFE, b"")}
    c["piv_ccc"] = {"ccc": CCC}
    c["piv_discovery"] = {"discovery": DISCOVERY_IN}
    c["piv_admin"] = {"flags": ADMIN, "salt": ADMIN_SALT}
    c["piv_mgmt_key"] = {"key24": MGMT_KEY, "key32": MGMT_KEY32}
    c["piv_client"] = piv_client_seeds()
    c["vcard"] = vcard_seeds()
    c["p11"] = p11_seeds()
    c["p11_input"] = p11_input_seeds()
    c["vcard_io"] = vcard_io_seeds()
    c["kms_client"] = kms_client_seeds()
    c["cli"] = cli_seeds()
    c["modem"] = modem_seeds()
    c["kms"] = {
        "validation": b"\x00" + b'{"email": "Alice@Example.ORG"}',
        "finish": b"\x00" + b'{"email": "alice@example.org", "value": "123456"}',
        "password": b"\x00" + b'{"password": "correct horse", "old_password": null}',
        "revoke": b"\x00" + b'{"serial": "0A1B2C3D4E5F60718293A4B5C6D7E8F9", "reason": 4}',
        "delivery": b"\x00" + b'{"password": "pw", "ephemeral_key": "MIIBIjANBgkqhkiG9w0BAQEFAAOC"}',
        "share": b"\x00" + b'{"share": "AQIDBAUGBwgJCgsMDQ4PEA=="}',
        "identity": b"\x00" + b'{"email": "bob@example.org", "level": "V4", '
                              b'"name": "Bob", "organization": "Example"}',
        "csr": b"\x00" + b'{"csr": "-----BEGIN CERTIFICATE REQUEST-----\\nMIIB\\n'
                         b'-----END CERTIFICATE REQUEST-----\\n"}',
        "dup": b"\x00" + b'{"email": "a@b.c", "email": "d@e.f"}',
        "shamir": b"\x01" + chunk(b"\x01" + bytes(range(32))) +
        chunk(b"\x02" + bytes(range(32, 64))),
        "xor": b"\x03" + chunk(bytes(range(32))) + chunk(bytes(32)) + chunk(b"\xff" * 32),
    }
    c["config"] = {
        "full": b"# keyward.conf\nuicc_reader = Gemalto PC Twin Reader 00 00\n"
                b"modem_port = /dev/ttyUSB2\n\nmodem_port=/dev/serial/by-id/usb-Quectel-if02\n"
                b"other_key = ignored\n",
        "crlf": b"uicc_reader = A\r\n  # indented comment\r\nmodem_port = /dev/ttyACM0\r\n",
        "list": b"/dev/ttyUSB2;/dev/ttyUSB3;;  /dev/ttyACM0 ",
        "bad": b"uicc_reader\nmodem_port = \n",
        "ble": b"ble_device = AA:BB:CC:DD:EE:FF\nble_device=11:22:33:44:55:66\n",
    }
    c["log"] = {
        # flags, INS, output size / 2, APDU
        "verify": b"\x02\x00\xff" + apdu(0, 0x20, 0, 0x80, b"123456\xff\xff"),
        "gen-auth-resp": b"\x01\x87\xff" + tlv(0x7C, tlv(0x82, bytes(range(40)))) + OK,
        "import": b"\x02\x00\x10" + apdu(0, 0xFE, 0x11, 0x9A, tlv(0x06, bytes(range(32)))),
        "select": b"\x02\x00\xff" + apdu(0, 0xA4, 4, 0, PIV_AID, 0),
        "get-data-resp": b"\x01\xcb\x08" + tlv(0x53, CHUID) + OK,
        "set-mgmt": b"\x02\x00\x40" + apdu(0, 0xFF, 0xFF, 0xFF, b"\x03\x9b\x18" +
                                               bytes(range(24))),
    }
    c["at"] = {
        "ccho": b"AT+CCHO=\"A000000308\"\r\n\r\n+CCHO: 1\r\n\r\nOK\r\n",
        "ccho-bare": b"\r\n257\r\n\r\nOK\r\n",
        "cgla": b"\r\n+CGLA: 4,\"9000\"\r\n\r\nOK\r\n+CGLA: 8,6A829000\r\n",
        "csim": b"+CSIM: 20,\"0102030405060708" + b"9000\"\r\nOK\r\n",
        "cme": b"+CME ERROR: 10\r\n+CME ERROR: SIM failure\r\n+CMS ERROR: 500\r\n",
        "urc": b"\r\n^RSSI: 17\r\n+CREG: 1,\"00C3\",\"0001\"\r\nRING\r\nERROR\r\n",
        "format": b"\x01\x01\x00\xa4\x04\x00\x05\xa0\x00\x00\x03\x08",
    }
    return c


def piv_client_seeds():
    # Program pairs (call, argument); see fuzz_piv_client.c.
    sel = (0, 0)
    cert9a = (1, 1 | (0 << 2))           # read certificate, slot 9A
    getdata_chuid = (1, 0 | (1 << 2))    # GET DATA CHUID
    attest = (1, 2)
    sign_p256 = (1, 3 | (4 << 5))        # private op, ECCP256, 20 bytes
    gen_p256 = (2, 0 | (4 << 5))
    md_9c = (2, 1 | (1 << 2) | (4 << 5))
    ecdh = (2, 2 | (2 << 2) | (4 << 5) | 0x10)
    auth3des = (3, 0)
    verify = (3, 1)
    status = (3, 2)
    kh, chuid, disc, admin, pmk, wpmk, ver, ser = [(4, i) for i in range(8)]

    def prog(*calls):
        return chunk8(b"".join(bytes(c) for c in calls))

    cert_resp = tlv(0x53, CERT_OBJ)
    s = {}
    s["select"] = prog(sel) + chunk(SELECT_RESP + OK)
    s["read-cert"] = prog(sel, cert9a) + chunk(SELECT_RESP + OK) + \
        chunk(cert_resp[:250] + b"\x61\x00") + chunk(cert_resp[250:] + OK)
    s["get-data"] = prog(getdata_chuid, kh, chuid) + chunk(tlv(0x53, CHUID) + OK) + \
        chunk(tlv(0x53, KEY_HISTORY) + OK) + chunk(tlv(0x53, CHUID) + OK)
    s["generate"] = prog(gen_p256) + chunk(tlv(0x7F49, EC_PUB) + OK)
    s["generate-rsa"] = prog((2, 0 | (0 << 5))) + chunk(tlv(0x7F49, RSA_PUB) + OK)
    s["metadata"] = prog(md_9c, (2, 1)) + chunk(MD_EC + OK) + chunk(b"\x6A\x88")
    s["sign"] = prog(verify, sign_p256) + chunk(OK) + \
        chunk(tlv(0x7C, tlv(0x82, bytes.fromhex("3006020101020101"))) + OK)
    s["ecdh"] = prog(ecdh) + chunk(tlv(0x7C, tlv(0x82, bytes(32))) + OK)
    s["attest"] = prog(attest) + chunk(CERT + OK)
    s["mgmt-auth"] = prog(auth3des) + chunk(tlv(0x7C, tlv(0x80, bytes(8))) + OK) + \
        chunk(tlv(0x7C, tlv(0x82, bytes(8))) + OK)
    s["pin"] = prog(verify, status, verify) + chunk(b"\x63\xC2") + chunk(b"\x63\xC1") + \
        chunk(b"\x69\x83")
    s["objects"] = prog(disc, admin, pmk, ver, ser) + chunk(tlv(0x7E, DISCOVERY_IN) + OK) + \
        chunk(tlv(0x53, ADMIN) + OK) + chunk(tlv(0x53, MGMT_KEY) + OK) + \
        chunk(b"\x05\x04\x03" + OK) + chunk(b"\x01\x02\x03\x04" + OK)
    s["write-mgmt"] = prog(wpmk) + chunk(tlv(0x53, ADMIN) + OK) + chunk(OK) + chunk(OK)
    return s


def vcard_seeds():
    # Steps: op < 0xF0 even: 1-byte length + APDU; odd: 2-byte length + APDU.
    def cmd(b):
        return b"\x00" + chunk8(b) if len(b) < 256 else b"\x01" + chunk(b)

    select = cmd(apdu(0, 0xA4, 4, 0, PIV_AID))
    auth, verify, reset, getresp = b"\xF0", b"\xF1", b"\xF2", b"\xF3"
    gen = cmd(apdu(0, 0x47, 0, 0x9A, tlv(0xAC, tlv(0x80, b"\x11"))))
    gen_ed = cmd(apdu(0, 0x47, 0, 0x9C, tlv(0xAC, tlv(0x80, b"\xE0"))))
    put_cert = cmd(apdu(0x10, 0xDB, 0x3F, 0xFF, (tlv(0x5C, b"\x5F\xC1\x05") +
                                                 tlv(0x53, CERT_OBJ))[:255])) + \
        cmd(apdu(0, 0xDB, 0x3F, 0xFF, (tlv(0x5C, b"\x5F\xC1\x05") +
                                       tlv(0x53, CERT_OBJ))[255:]))
    get_cert = cmd(apdu(0, 0xCB, 0x3F, 0xFF, tlv(0x5C, b"\x5F\xC1\x05"), 0))
    sign = cmd(apdu(0, 0x87, 0x11, 0x9A, tlv(0x7C, tlv(0x82, b"") + tlv(0x81, bytes(32))), 0))
    s = {}
    s["select"] = b"\x00" + select
    s["chuid"] = b"\x00" + select + cmd(apdu(0, 0xCB, 0x3F, 0xFF,
                                               tlv(0x5C, b"\x5F\xC1\x02"), 0))
    s["discovery"] = b"\x00" + select + cmd(apdu(0, 0xCB, 0x3F, 0xFF, tlv(0x5C, b"\x7E"), 0))
    s["version-serial"] = b"\x00" + select + cmd(apdu(0, 0xFD, 0, 0, le=0)) + \
        cmd(apdu(0, 0xF8, 0, 0, le=0))
    s["pin"] = b"\x00" + select + cmd(apdu(0, 0x20, 0, 0x80)) + verify + \
        cmd(apdu(0, 0x24, 0, 0x80, b"123456\xff\xff654321\xff\xff")) + \
        cmd(apdu(0, 0x20, 0, 0x80, b"000000\xff\xff"))
    s["metadata"] = b"\x00" + select + cmd(apdu(0, 0xF7, 0, 0x80, le=0)) + \
        cmd(apdu(0, 0xF7, 0, 0x9B, le=0))
    s["generate-sign"] = b"\x00" + select + auth + gen + verify + sign + getresp
    s["generate-ed25519"] = b"\x01" + select + auth + gen_ed + verify + \
        cmd(apdu(0, 0x87, 0xE0, 0x9C, tlv(0x7C, tlv(0x82, b"") + tlv(0x81, b"message")), 0))
    s["put-get-cert"] = b"\x00" + select + auth + put_cert + get_cert + getresp
    s["mgmt-witness"] = b"\x00" + select + cmd(apdu(0, 0x87, 3, 0x9B,
                                                      tlv(0x7C, tlv(0x80, b"")), 0))
    s["reset-retries"] = b"\x00" + select + auth + verify + \
        cmd(apdu(0, 0xFA, 5, 5)) + reset + select + cmd(apdu(0, 0xFB, 0, 0))
    s["attest"] = b"\x00" + select + auth + gen + cmd(apdu(0, 0xF9, 0x9A, 0, le=0))
    return s


def p11_seeds():
    # Header byte (bit 0: answers may be replaced, bit 1: disk cache on,
    # bits 2-3: cache contents), a chunk of (op, arg[, arg2]) steps, then
    # the data stream (op data; in replace mode a byte per APDU, 0: the
    # vcard answers, else a chunk is the answer); see fuzz_p11.c.
    slots, token, opens, opens_rw = b"\x00\x01", b"\x10\x00", b"\x20\x00", b"\x20\x01"
    login, logout, ctx_login = b"\x01\x00", b"\x11\x00", b"\x01\x20"
    find_priv, find_cert, find_pub = b"\x02\x02", b"\x02\x00", b"\x02\x01"

    def find_id(cls, ident):   # cls 0 cert, 1 public, 2 private, 3 secret
        return bytes([2, cls | ((ident - 1) << 2) | 0x10])

    def p11(steps, data=b"", hdr=0):
        return bytes([hdr]) + chunk(steps) + data

    s = {}
    s["info"] = p11(slots + token + b"\x09\x00\x09\x02\x09\x04\x0a\x06\x30\x00")
    s["sign"] = p11(slots + opens + login + find_priv + b"\x04\x00\x02" +
                    b"\x04\x81\x02" + logout)
    s["sign-always"] = p11(slots + opens + login + find_id(2, 2) + b"\x04\x00\x02" +
                           b"\x14\x00\x02" + ctx_login + b"\x24\x00\x02" +
                           b"\x14\x80\x02" + ctx_login + b"\x24\x80\x02")
    s["sign-rsa-pss"] = p11(slots + opens + login + find_id(2, 3) + b"\x04\x06\x05" +
                            b"\x04\x03\x01" + b"\x04\x05\x10")
    s["attributes"] = p11(slots + opens + find_cert + b"\x03\x30\x00" +
                          b"\x03\x9A\x00" + find_pub + b"\x03\x76\x00" + b"\x03\xC4\x01")
    s["decrypt-pkcs1"] = p11(slots + opens + login + find_id(2, 3) + b"\x05\x00\x00",
                             chunk8(b"a session key"))
    s["decrypt-oaep"] = p11(slots + opens + login + find_id(2, 3) + b"\x05\x05\x00" +
                            b"\x05\x05\x45", chunk8(b"oaep") + chunk8(b"label") +
                            chunk8(b"with a label"))
    s["decrypt-raw"] = p11(slots + opens + login + find_id(2, 3) + b"\x05\x0a\x00" +
                           b"\x05\x88\x00", chunk8(b"raw") + chunk8(b"parts"))
    s["decrypt-short-buffer"] = p11(slots + opens + login + find_id(2, 3) +
                                    b"\x05\x40\x00" + b"\x05\x40\x80",
                                    chunk8(b"retry") + chunk8(b"size query"))
    s["derive-p384"] = p11(slots + opens + find_id(2, 4) + b"\x06\x01\x00" +
                           b"\x06\x03\x20" + b"\x06\x09\x00")
    s["derive-p256-der"] = p11(slots + opens + login + find_id(2, 1) + b"\x06\x02\x00" +
                               b"\x06\x00\x10")
    s["derive-input"] = p11(slots + opens + find_id(2, 4) + b"\x06\x05\x00",
                            b"\x05\x04\x03\x04\x01\x02")
    s["create-cert"] = p11(slots + opens_rw + login + b"\x07\x00\x00" + find_cert +
                           b"\x03\x03\x00")
    s["create-ec-key"] = p11(slots + opens_rw + login + b"\x07\x03\x00" + find_priv)
    s["create-rsa-key"] = p11(slots + opens_rw + login + b"\x07\x09\xe0" + find_priv)
    s["keygen"] = p11(slots + opens_rw + b"\x01\x40" + login + b"\x08\x01" +
                      find_pub + b"\x03\x73\x00" + b"\x08\x06")
    s["set-pin"] = p11(slots + opens_rw + b"\x21\x08" + b"\x01\x08" +
                       b"\x21\x00" + b"\x01\x00" + b"\x31\x00")
    s["cache-own"] = p11(slots + opens + find_cert + b"\x03\x03\x00" + find_pub, hdr=0x06)
    s["cache-changed"] = p11(slots + opens + find_cert + b"\x03\x03\x00", b"\x00\x40\x01" +
                             b"\x80\x10\x00", hdr=0x0a)
    s["cache-input"] = p11(slots + opens + find_cert, chunk(b"KWC1\x00\x02\x90\x00" +
                                                         CERT), hdr=0x0e)
    s["replaced"] = p11(slots + opens + find_cert + b"\x03\x30\x00",
                        b"\x00\x00\x01" + chunk(b"\x6A\x82") + b"\x01" +
                        chunk(tlv(0x53, CERT_OBJ) + OK), hdr=1)
    return s


def p11_input_seeds():
    # Selector (low 2 bits: unpad, cache file, key template; bit 2: start
    # from a valid value), then that parser's bytes; see fuzz_p11_input.c.
    s = {}
    s["unpad-pkcs1"] = b"\x04\x01\x00\x01" + chunk8(b"") + chunk8(b"secret")
    s["unpad-oaep"] = b"\x04\x02\x05\x03" + chunk8(b"label") + chunk8(b"message")
    s["unpad-raw"] = b"\x00\x00\x00\x00" + chunk8(b"") + bytes(range(64))
    s["unpad-changed"] = b"\x04\x01\x00\x01" + chunk8(b"") + chunk8(b"m") + b"\x00\x01\x01"
    s["cache-ok"] = b"\x05\x00\x00"
    s["cache-probe"] = b"\x05\x01" + chunk8(b"\x6a\x82") + b"\x00"
    s["cache-raw"] = b"\x01" + chunk(b"KWC1\x00\x02\x90\x00" + CERT) + chunk8(b"\x90\x00") + b"\x00"
    s["key-ec"] = b"\x06\x00"
    s["key-rsa"] = b"\x06\x01"
    s["key-bytes"] = b"\x02\x03\x01" + chunk8(struct.pack("<Q", 3)) + b"\x03" + \
        chunk8(bytes.fromhex("06082a8648ce3d030107")) + b"\x04" + chunk8(bytes(range(1, 33)))
    return s


def vcard_io_seeds():
    # Selector (0 state file, bit 2: digest appended; 1 UICC front end;
    # 2 AT front end), then its bytes; see fuzz_vcard_io.c.
    def st(tag, v):
        return tlv(tag, v)
    pin = bytes([3, 3]) + b"123456\xff\xff"
    obj = st(0xA2, st(0x80, b"\x00\x5f\xc1\x02") + st(0x81, CHUID))
    state = b"KWVCARD1" + st(0x81, b"\x00\x00\x30\x39") + st(0x82, b"\x05\x04\x03") + \
        st(0x83, pin) + st(0x84, bytes([3, 3]) + b"12345678") + \
        st(0x85, b"\x03\x01" + bytes(range(1, 25))) + obj
    ec_der = bytes.fromhex(
        "30770201010420c97caf2a1dce84d770e83545a294c1d1d462880b6fd128f8e466171b83"
        "334fb6a00a06082a8648ce3d030107a14403420004f7ce96b423b8db4b0d5f6f73bea261"
        "6224df83016eccf2f0065a8d990e84ab471ec681baa0a8dac585c608b301d90b71661b0c"
        "84150a5a5d35ef8d6acd6c7445")
    key = st(0xA1, st(0x80, b"\x9a") + st(0x81, b"\x11") + st(0x82, b"\x02") +
             st(0x83, b"\x01") + st(0x84, b"\x01") + st(0x85, ec_der))
    select_ch = bytes.fromhex("01a4040005a000000308")
    s = {}
    s["state"] = b"\x04" + state
    s["state-key"] = b"\x04" + state + key
    s["state-no-digest"] = b"\x00" + state
    s["uicc-channel"] = b"\x01\x00" + chunk8(bytes.fromhex("0070000001")) + \
        chunk8(select_ch) + chunk8(bytes.fromhex("01cb3fff055c035fc10200")) + \
        chunk8(bytes.fromhex("0070800100"))
    s["uicc-telecom"] = b"\x01\x83" + chunk8(bytes.fromhex("00a40004023f00")) + \
        chunk8(bytes.fromhex("80f2000000")) + chunk8(b"") + \
        chunk8(bytes.fromhex("00a4000402 2fe2".replace(" ", ""))) + chunk8(bytes.fromhex("00b0000000"))
    s["uicc-ch7"] = b"\x01\x00" + chunk8(bytes.fromhex("0070000007")) + \
        chunk8(bytes.fromhex("43a4040005a000000308"))
    at = b"ATE0\rAT+CMEE=1\rAT+CCHO=\"A000000308\"\rAT+CGLA=1,10,\"00F8000000\"\r" \
        b"AT+CSIM=10,\"0070000000\"\rAT+CCHC=1\rATI\rAT+CPIN?\r"
    s["at"] = b"\x02\x00\x00\x00" + at
    s["at-quirks"] = b"\x02\x07\x00\x00" + at
    s["at-faults"] = b"\x02\x00\x03\x01" + at
    s["at-generate"] = b"\x02\x00\x00\x00" + b"AT+CCHO=\"A000000308\"\r" \
        b"AT+CGLA=1,24,\"00479A0005AC03800107\"\r"
    return s


def kms_client_seeds():
    # Mode byte (bit 0: a key delivery, bit 1: a valid one made by the
    # harness); calls: chunk8 of step bytes, then per call a 2-byte HTTP
    # status and a chunk body; see fuzz_kms_client.c.
    def ans(status, body):
        return struct.pack(">H", status) + chunk(body)
    pem = b"-----BEGIN CERTIFICATE-----\\nMA==\\n-----END CERTIFICATE-----\\n"
    s = {}
    s["validation"] = b"\x00" + chunk8(b"\x00\x01\x02") + ans(200, b"{}") + \
        ans(200, b'{"session": "0123456789abcdef"}') + ans(204, b"")
    s["sign"] = b"\x00" + chunk8(b"\x03\x04") + \
        ans(200, b'{"cert": "' + pem + b'", "serial": "0A1B"}') + \
        ans(200, b'{"cert": "' + pem + b'", "serial": "0A1C", "attested": true}')
    s["errors"] = b"\x00" + chunk8(b"\x01\x03\x05\x06") + \
        ans(401, b'{"error": "wrong_value", "message": "no"}') + ans(500, b"<html>") + \
        b"\xff\xff" + ans(404, b'{"error": 7}')
    s["directory-ca"] = b"\x00" + chunk8(b"\x06\x07") + \
        ans(200, b'{"cert": "' + pem + b'"}') + ans(200, pem.replace(b"\\n", b"\n"))
    s["delivery-valid"] = b"\x03\x00\x00"
    s["delivery-padded"] = b"\x03\x05\x00"
    s["delivery-changed"] = b"\x03\x00\x01\x10\x01\x00"
    s["delivery-strings"] = b"\x01" + chunk(b"AAAA") + chunk(b"AAAAAAAAAAAAAAAAAAAAAAAA") + b"\x00"
    return s


def pem_of(der, label="CERTIFICATE"):
    import base64
    b = base64.b64encode(der).decode()
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (
        label, "\n".join(b[i:i + 64] for i in range(0, len(b), 64)), label)


CERT_PEM = pem_of(CERT)


def cli_seeds():
    # Selector (0 journal, 1 batch file, 2 secret file), then the file.
    pem = CERT_PEM.replace("\n", "\\n").encode()
    s = {}
    s["journal"] = b"\x00" + b'{"email": "alice@example.org", "kms": "https://kms.example:8443",' \
        b' "steps": {"validated": true}, "pending": "enroll", "sign_key": "ab12",' \
        b' "sign_cert": "' + pem + b'", "enc_certs": ["' + pem + b'", 3], "complete": true}'
    s["journal-empty"] = b"\x00"
    s["journal-array"] = b"\x00[1, 2]"
    s["journal-dup"] = b'\x00{"email": "a@b.c", "email": "d@e.f"}'
    s["batch"] = b"\x01# comment\n\nalice@example.org,12345678\n" \
        b" bob@example.org , Yubico YubiKey OTP+FIDO+CCID 00 00 , /tmp/pin, /tmp/puk\r\n" \
        b"carol@example.org,pcsc:Reader 01 00,,\nbroken line\nx@y,1,2,3,4\n"
    s["secret"] = b"\x02123456\n"
    s["secret-crlf"] = b"\x02correct horse battery\r\nsecond line"
    s["secret-empty"] = b"\x02\n"
    return s


def modem_seeds():
    # Mode byte (bit 0: AT modem on a pty, else UICC), chunk8 of steps
    # (0 SELECT, 1 GET DATA, 2 APDU, 3 reset, 4 present), then the answer
    # stream: UICC: kind byte + chunk8 per command; AT: a chunk per command
    # line; see fuzz_modem.c.
    def ua(b):
        return b"\x00" + chunk8(b)
    select_resp = SELECT_RESP + OK
    s = {}
    s["uicc"] = b"\x00" + chunk8(b"\x00\x01\x02\x03\x00") + ua(b"\x01\x90\x00") + \
        ua(select_resp) + ua(b"\x6a\x82") + ua(b"\x61\x10") + ua(bytes(16) + OK) + \
        ua(b"\x90\x00") + ua(b"\x02\x90\x00") + ua(select_resp)
    s["uicc-removed"] = b"\x00" + chunk8(b"\x00\x00\x01") + ua(b"\x01\x90\x00") + \
        b"\x01" + ua(b"\x03\x91\x10") + ua(select_resp) + b"\x02"
    s["uicc-no-channel"] = b"\x00" + chunk8(b"\x00") + ua(b"\x6a\x81")
    ok = b"\r\nOK\r\n"

    def line(b):
        return chunk(b)
    at_open = line(ok) + line(ok) + line(ok) + line(b"\r\n+CCHO: 1\r\n" + ok)
    s["at"] = b"\x01" + chunk8(b"\x00\x01\x04") + at_open + \
        line(b'\r\n+CGLA: 4,"9000"\r\n' + ok) + \
        line(b'\r\n+CGLA: 8,"6A829000"\r\n' + ok) + line(ok)
    s["at-urc-echo"] = b"\x01" + chunk8(b"\x00") + line(ok) + line(b"ATE0\r\r\nOK\r\n") + \
        line(b"\r\nRING\r\n\r\nOK\r\n") + line(b"\r\n+CMTI: \"SM\",1\r\n12\r\n" + ok) + \
        line(b'\r\n+CGLA: 4,90\r\n+CGLA: 4,"9000"\r\n' + ok)
    s["at-csim"] = b"\x01" + chunk8(b"\x00\x02") + line(ok) + line(ok) + line(ok) + \
        line(b"\r\n+CME ERROR: 4\r\n") + line(b'\r\n+CSIM: 6,"019000"\r\n' + ok) + \
        line(b'\r\n+CSIM: 4,"9000"\r\n' + ok) + line(b"\r\nERROR\r\n")
    s["at-garbage"] = b"\x01" + chunk8(b"\x00") + line(ok) + line(ok) + line(ok) + \
        line(b"\r\n+CCHO: 1\r\n" + ok) + line(b"\x00\xff garbage\r\n")
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "corpus")
    for target, seeds in corpus().items():
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, "gen-" + name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
