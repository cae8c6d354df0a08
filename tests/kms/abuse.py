#!/usr/bin/env python3
"""Abusive clients for keyward-kmsd's tests (Python 3 stdlib only).

  abuse.py MODE --port P --ca FILE --count N --seconds S [--source ADDR]

MODE:
  handshake  N connections that start a TLS handshake and never finish it
  slowbody   N TLS connections that send a POST's headers, then one body
             byte a second
  keepalive  N parallel clients that each keep one connection and send
             GET /v1/health on it back to back (reconnecting when closed)
  limits     N TLS connections, each sends one GET /v1/health and keeps
             the connection; prints how many were answered 200 / 503 busy
             / refused, and the slowest 503 in seconds

Everything goes to 127.0.0.1:P from --source (default 127.0.0.1); prints
one JSON line with counts when done, after --seconds."""
import argparse
import json
import socket
import ssl
import threading
import time

lock = threading.Lock()
stats = {"ok": 0, "busy": 0, "refused": 0, "other": 0, "errors": 0, "slowest_busy": 0.0}


def bump(k, v=1):
    with lock:
        stats[k] += v


def tcp(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.source, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", args.port))
    return s


def tls(args):
    ctx = ssl.create_default_context(cafile=args.ca)
    ctx.check_hostname = False
    return ctx.wrap_socket(tcp(args))


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            break
        body += chunk
    return status, body


GET = b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def handshake(args, deadline, held):
    try:
        s = tcp(args)
        # the first bytes of a TLS record header, then nothing
        s.sendall(b"\x16\x03\x01\x02")
        held.append(s)
    except OSError:
        bump("errors")


def slowbody(args, deadline, held):
    try:
        s = tls(args)
        s.sendall(b"POST /v1/validation/start HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
        while time.time() < deadline:
            time.sleep(1)
            s.sendall(b" ")
    except OSError:
        bump("errors")


def keepalive(args, deadline, held):
    while time.time() < deadline:
        try:
            s = tls(args)
            while time.time() < deadline:
                s.sendall(GET)
                st, _ = read_response(s)
                bump("ok" if st == 200 else "busy" if st == 503 else "other")
                if st != 200:
                    break
            s.close()
        except (OSError, ValueError, IndexError):
            bump("errors")
            time.sleep(0.05)


def limits(args, deadline, held):
    t0 = time.time()
    try:
        s = tls(args)
        s.sendall(GET)
        st, body = read_response(s)
        if st == 200:
            bump("ok")
            held.append(s)
        elif st == 503 and b'"busy"' in body:
            bump("busy")
            with lock:
                stats["slowest_busy"] = max(stats["slowest_busy"], time.time() - t0)
        else:
            bump("other")
    except (OSError, ValueError, IndexError):
        bump("refused")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["handshake", "slowbody", "keepalive", "limits"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--source", default="127.0.0.1")
    ap.add_argument("--ready", help="file written when all clients started")
    args = ap.parse_args()
    fn = globals()[args.mode]
    deadline = time.time() + args.seconds
    held = []
    threads = []
    for _ in range(args.count):
        t = threading.Thread(target=fn, args=(args, deadline, held), daemon=True)
        t.start()
        threads.append(t)
        if args.mode == "limits":
            t.join()   # one after the other: the counts are then exact
    if args.ready:
        open(args.ready, "w").close()
    while time.time() < deadline:
        time.sleep(0.2)
    for s in held:
        try:
            s.close()
        except OSError:
            pass
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
