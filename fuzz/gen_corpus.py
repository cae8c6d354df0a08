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
    # Header byte (bit 0: answers may be replaced), (op, arg[, arg2]) steps,
    # 0xFF, then per APDU 0 (vcard answers) or 1 + chunk; see fuzz_p11.c.
    slots, token, opens, opens_rw = b"\x00\x01", b"\x08\x00", b"\x10\x00", b"\x10\x01"
    login, logout = b"\x01\x00", b"\x09\x00"
    find_priv, find_cert, find_pub = b"\x02\x02", b"\x02\x00", b"\x02\x01"
    s = {}
    s["info"] = b"\x00" + slots + token + b"\x06\x00\x06\x02\x06\x04\x20\x00"
    s["sign"] = b"\x00" + slots + opens + login + find_priv + b"\x04\x00\x02" + \
        b"\x04\x81\x02" + logout
    s["sign-always"] = b"\x00" + slots + opens + login + find_priv + b"\x04\x10\x02" + \
        b"\x01\x20" + b"\x04\x10\x02"
    s["attributes"] = b"\x00" + slots + opens + find_cert + b"\x03\x30\x00" + \
        b"\x03\x9A\x00" + find_pub + b"\x03\x76\x00" + b"\x03\xC4\x01"
    s["keygen"] = b"\x00" + slots + opens_rw + b"\x01\x40" + login + b"\x05\x01" + \
        find_pub + b"\x03\x73\x00"
    s["set-pin"] = b"\x00" + slots + opens_rw + b"\x11\x08" + b"\x01\x08" + \
        b"\x11\x00" + b"\x01\x00" + b"\x18\x00"
    s["replaced"] = b"\x01" + slots + opens + find_cert + b"\x03\x30\x00" + b"\xff" + \
        b"\x00\x00" + b"\x01" + chunk(b"\x6A\x82") + b"\x01" + \
        chunk(tlv(0x53, CERT_OBJ) + OK)
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
