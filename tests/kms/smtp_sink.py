#!/usr/bin/env python3
"""A minimal SMTP sink for keyward's KMS tests (Python 3 stdlib only).

Listens on 127.0.0.1 (port 0 = pick a free one, written to --port-file),
accepts every message and stores it as DIR/<n>.eml with the envelope
recipients in an X-Rcpt-To header. Exits by itself after --lifetime s."""
import argparse
import os
import socket
import threading
import time

counter_lock = threading.Lock()
counter = [0]


def store(maildir, rcpts, data):
    with counter_lock:
        counter[0] += 1
        n = counter[0]
    tmp = os.path.join(maildir, ".%d.tmp" % n)
    with open(tmp, "wb") as f:
        f.write(b"X-Rcpt-To: " + b", ".join(rcpts) + b"\r\n" + data)
    os.rename(tmp, os.path.join(maildir, "%d.eml" % n))


def session(conn, maildir):
    f = conn.makefile("rb")
    out = conn.makefile("wb")

    def reply(s):
        out.write(s.encode() + b"\r\n")
        out.flush()

    reply("220 sink ESMTP")
    rcpts = []
    while True:
        line = f.readline(4096)
        if not line:
            return
        cmd = line.strip().upper()
        if cmd.startswith(b"EHLO"):
            out.write(b"250-sink\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n")
            out.flush()
        elif cmd.startswith(b"HELO"):
            reply("250 sink")
        elif cmd.startswith(b"MAIL FROM"):
            rcpts = []
            reply("250 OK")
        elif cmd.startswith(b"RCPT TO"):
            rcpts.append(line.strip()[8:].strip())
            reply("250 OK")
        elif cmd == b"DATA":
            reply("354 go ahead")
            data = []
            while True:
                dl = f.readline(65536)
                if not dl or dl in (b".\r\n", b".\n"):
                    break
                if dl.startswith(b".."):
                    dl = dl[1:]
                data.append(dl)
            store(maildir, rcpts, b"".join(data))
            reply("250 stored")
        elif cmd == b"QUIT":
            reply("221 bye")
            return
        elif cmd in (b"RSET", b"NOOP"):
            reply("250 OK")
        else:
            reply("502 not implemented")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--lifetime", type=float, default=600)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.5)
    with open(a.port_file + ".tmp", "w") as pf:
        pf.write(str(srv.getsockname()[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    end = time.time() + a.lifetime
    while time.time() < end:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        conn.settimeout(30)
        t = threading.Thread(target=lambda c=conn: (session(c, a.dir), c.close()))
        t.daemon = True
        t.start()


if __name__ == "__main__":
    main()
