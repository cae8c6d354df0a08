#!/usr/bin/env python3
"""Load client for kms/bench-kms.sh (Python 3 stdlib only).

  bench_client.py OP --url https://127.0.0.1:PORT --ca FILE --clients N
                  --seconds S [--max-requests M] [--session TOKEN]
                  [--sessions FILE] [--body FILE] [--email ADDR]

N client processes, each with one keep-alive HTTPS connection, send OP's
request back to back for S seconds (or M requests in all). OP: sign
(POST /v1/certs/sign, --body), deliver (POST /v1/keys/delivery, --body,
one session), first (POST /v1/keys/delivery with a fresh session from
--sessions per request), directory (GET /v1/directory?email=). Prints
one JSON line: requests, errors, req/s, p50/p99 latency in ms."""
import argparse
import http.client
import json
import multiprocessing as mp
import ssl
import time
import urllib.parse


def worker(args, idx, sessions, out):
    u = urllib.parse.urlparse(args.url)
    ctx = ssl.create_default_context(cafile=args.ca)
    ctx.check_hostname = False
    body = open(args.body, "rb").read() if args.body else None
    lat, errors = [], 0
    conn = None
    deadline = time.time() + args.seconds
    mine = sessions[idx::args.clients] if sessions else []
    n = 0
    while time.time() < deadline:
        if args.op == "first":
            if n >= len(mine):
                break
            token = mine[n]
        else:
            token = args.session
        if args.max_requests and n >= args.max_requests // args.clients:
            break
        n += 1
        hdr = {"Content-Type": "application/json"}
        if token:
            hdr["Authorization"] = "Bearer " + token
        if args.op == "directory":
            method, path, data = "GET", "/v1/directory?email=" + args.email, None
            hdr = {}
        elif args.op == "sign":
            method, path, data = "POST", "/v1/certs/sign", body
        else:
            method, path, data = "POST", "/v1/keys/delivery", body
        t0 = time.perf_counter()
        try:
            if conn is None:
                conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)
            conn.request(method, path, body=data, headers=hdr)
            r = conn.getresponse()
            r.read()
            ok = r.status < 300
        except (OSError, http.client.HTTPException):
            ok = False
            conn = None
        if ok:
            lat.append((time.perf_counter() - t0) * 1000.0)
        else:
            errors += 1
    out.put((lat, errors, time.time() - (deadline - args.seconds)))


def make_sessions(args):
    """--count sessions for PREFIXn@bench.test through validation + the mail sink."""
    import glob, os, re
    u = urllib.parse.urlparse(args.url)
    ctx = ssl.create_default_context(cafile=args.ca)
    ctx.check_hostname = False
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)

    def post(path, obj):
        conn.request("POST", path, body=json.dumps(obj),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    for i in range(args.count):
        addr = "%s%d@bench.test" % (args.prefix, i)
        st, _ = post("/v1/validation/start", {"email": addr})
        assert st == 202, st
        value = None
        for _ in range(300):
            for f in glob.glob(os.path.join(args.maildir, "*.eml")):
                t = open(f, "rb").read().decode("ascii", "replace")
                if "<%s>" % addr in t:
                    value = re.search(r"Validation value: ([0-9A-Z]+)", t).group(1)
                    os.unlink(f)
            if value:
                break
            time.sleep(0.02)
        st, j = post("/v1/validation/finish", {"email": addr, "value": value})
        assert st == 200, (st, j)
        print(j["session"], flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("op", choices=["sign", "deliver", "first", "directory", "sessions"])
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--prefix", default="u")
    ap.add_argument("--maildir")
    ap.add_argument("--url", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--max-requests", type=int, default=0)
    ap.add_argument("--session")
    ap.add_argument("--sessions")
    ap.add_argument("--body")
    ap.add_argument("--email", default="nobody@bench.test")
    args = ap.parse_args()
    if args.op == "sessions":
        return make_sessions(args)
    sessions = open(args.sessions).read().split() if args.sessions else []
    out = mp.Queue()
    t0 = time.time()
    procs = [mp.Process(target=worker, args=(args, i, sessions, out)) for i in range(args.clients)]
    for p in procs:
        p.start()
    res = [out.get() for _ in procs]
    for p in procs:
        p.join()
    wall = max(r[2] for r in res)
    lat = sorted(x for r in res for x in r[0])
    errors = sum(r[1] for r in res)
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else 0.0
    print(json.dumps({"op": args.op, "clients": args.clients, "requests": len(lat),
                      "errors": errors, "rps": len(lat) / wall if wall > 0 else 0,
                      "p50_ms": pct(0.50), "p99_ms": pct(0.99)}))


if __name__ == "__main__":
    main()
