"""A small client of Gecko's Marionette remote protocol (python3 stdlib).

Frames are ``LEN:JSON`` over TCP; the server greets with
``{"applicationType": "gecko", "marionetteProtocol": 3}``; commands are
``[0, id, name, params]`` and answers ``[1, id, error, result]``. Used by
tests/interop/thunderbird.py to drive a headless Thunderbird.
"""
import json
import socket
import time


class MarionetteError(Exception):
    pass


class Marionette:
    def __init__(self, port, host="127.0.0.1", timeout=60.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = None
        self.buf = b""
        self.next_id = 1

    def connect(self, deadline):
        """Connect, retrying until `deadline` (time.monotonic()) passes."""
        last = None
        while time.monotonic() < deadline:
            try:
                s = socket.create_connection((self.host, self.port), timeout=2)
                s.settimeout(self.timeout)
                self.sock = s
                hello = self._read()
                if hello.get("marionetteProtocol") != 3:
                    raise MarionetteError("unexpected greeting %r" % (hello,))
                return hello
            except (OSError, ValueError) as e:
                last = e
                if self.sock is not None:
                    self.sock.close()
                    self.sock = None
                time.sleep(0.2)
        raise MarionetteError("no Marionette server on port %d (%s)" % (self.port, last))

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _read(self):
        while b":" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise MarionetteError("connection closed")
            self.buf += chunk
        head, rest = self.buf.split(b":", 1)
        if not head.isdigit() or len(head) > 10:
            raise MarionetteError("bad frame header %r" % head[:20])
        n = int(head)
        while len(rest) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise MarionetteError("connection closed")
            rest += chunk
        self.buf = rest[n:]
        return json.loads(rest[:n].decode("utf-8"))

    def send(self, name, params=None):
        mid = self.next_id
        self.next_id += 1
        data = json.dumps([0, mid, name, params or {}]).encode("utf-8")
        self.sock.sendall(str(len(data)).encode() + b":" + data)
        while True:
            msg = self._read()
            if isinstance(msg, list) and len(msg) == 4 and msg[0] == 1 and msg[1] == mid:
                break
        if msg[2] is not None:
            err = msg[2]
            raise MarionetteError("%s: %s: %s" % (name, err.get("error"),
                                                  (err.get("message") or "")[:2000]))
        return msg[3]

    def session(self):
        return self.send("WebDriver:NewSession", {"capabilities": {"alwaysMatch": {}}})

    def chrome(self):
        self.send("Marionette:SetContext", {"value": "chrome"})

    def script_timeout(self, ms):
        self.send("WebDriver:SetTimeouts", {"script": int(ms)})

    def run(self, script, args=None, sandbox=None):
        """Run an async chrome script: it resolves by calling
        arguments[arguments.length - 1](value)."""
        p = {"script": script, "args": args or [], "newSandbox": False}
        if sandbox:
            p["sandbox"] = sandbox
        r = self.send("WebDriver:ExecuteAsyncScript", p)
        return r.get("value") if isinstance(r, dict) else r

    def quit(self):
        try:
            self.send("Marionette:Quit", {"flags": ["eForceQuit"]})
        except (MarionetteError, OSError):
            pass
        self.close()
