"""Resident memory per connection of echo servers, measured from outside by an independent
client (this script), in one run:

- idle: N connections (default 1,000), each after one 128-byte echo, then idle;
- busy: 200 connections, each with one 128-byte message in flight all the time, for a few
  seconds (the server's peak resident memory while they run).

    python memory.py [--idle N] [--seconds S] NAME=ws|tcp:PORT:COMMAND... ...

Each server is started with its COMMAND (its address is 127.0.0.1:PORT), measured, and
killed. `ws` servers get a WebSocket handshake and masked frames; `tcp` ones raw bytes.
Prints a table: resident memory at start, and its growth per connection in each phase.
"""

import base64
import os
import selectors
import shlex
import socket
import subprocess
import sys
import time

MESSAGE = b"x" * 128


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("no VmRSS for %d" % pid)


def frame(payload):
    """A masked client text frame (mask zero: the payload goes as is)."""
    n = len(payload)
    length = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
    return b"\x81" + length + b"\0\0\0\0" + payload


def reply_len(payload):
    """The length of the server's unmasked frame echoing `payload`."""
    return (2 if len(payload) < 126 else 4) + len(payload)


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise SystemExit("the server closed a connection")
        data += chunk
    return data


def open_connection(port, kind):
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if kind == "ws":
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall((
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
            % (port, key)).encode())
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            byte = sock.recv(1)
            if not byte:
                raise SystemExit("the server closed during the handshake")
            head += byte
        if not head.startswith(b"HTTP/1.1 101"):
            raise SystemExit("handshake refused: %r" % head[:80])
    return sock


def echo_once(sock, kind):
    if kind == "ws":
        sock.sendall(frame(MESSAGE))
        reply = read_exact(sock, reply_len(MESSAGE))
        assert reply.endswith(MESSAGE), reply[:20]
    else:
        sock.sendall(MESSAGE)
        assert read_exact(sock, len(MESSAGE)) == MESSAGE


def wait_for_port(port):
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("nothing listens on %d" % port)


def settle(pid):
    """The resident memory once it stops moving."""
    last = rss_kib(pid)
    for _ in range(20):
        time.sleep(0.1)
        now = rss_kib(pid)
        if now == last:
            return now
        last = now
    return last


def idle(pid, port, kind, n):
    before = settle(pid)
    socks = []
    for _ in range(n):
        sock = open_connection(port, kind)
        echo_once(sock, kind)
        socks.append(sock)
    after = settle(pid)
    for sock in socks:
        sock.close()
    return before, (after - before) * 1024 / n


def busy(pid, port, kind, n, seconds):
    before = settle(pid)
    sel = selectors.DefaultSelector()
    need = reply_len(MESSAGE) if kind == "ws" else len(MESSAGE)
    out = frame(MESSAGE) if kind == "ws" else MESSAGE
    socks = []
    for _ in range(n):
        sock = open_connection(port, kind)
        sock.setblocking(False)
        sock.sendall(out)
        sel.register(sock, selectors.EVENT_READ, [0])
        socks.append(sock)
    peak = before
    echoes = 0
    until = time.time() + seconds
    next_sample = 0
    while time.time() < until:
        for key, _ in sel.select(timeout=0.1):
            got = key.data
            try:
                data = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            if not data:
                raise SystemExit("the server closed a connection under load")
            got[0] += len(data)
            while got[0] >= need:
                got[0] -= need
                echoes += 1
                key.fileobj.sendall(out)
        if time.time() > next_sample:
            peak = max(peak, rss_kib(pid))
            next_sample = time.time() + 0.2
    peak = max(peak, rss_kib(pid))
    for sock in socks:
        sel.unregister(sock)
        sock.close()
    return (peak - before) * 1024 / n, echoes / seconds


def main():
    args = sys.argv[1:]
    n_idle, seconds = 1000, 5.0
    servers = []
    while args:
        arg = args.pop(0)
        if arg == "--idle":
            n_idle = int(args.pop(0))
        elif arg == "--seconds":
            seconds = float(args.pop(0))
        else:
            name, spec = arg.split("=", 1)
            kind, port, command = spec.split(":", 2)
            servers.append((name, kind, int(port), command))
    rows = []
    for name, kind, port, command in servers:
        # The idle phase and the busy phase each get a fresh process.
        results = []
        for phase in ("idle", "busy"):
            proc = subprocess.Popen(shlex.split(command), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            try:
                wait_for_port(port)
                if phase == "idle":
                    results.append(idle(proc.pid, port, kind, n_idle))
                else:
                    results.append(busy(proc.pid, port, kind, 200, seconds))
            finally:
                proc.kill()
                proc.wait()
        (start, per_idle), (per_busy, rate) = results
        rows.append((name, start, per_idle, per_busy, rate))
        print("%-16s start %7d KiB   idle %8.0f B/conn (%d conns)   busy %8.0f B/conn (200 conns, %.0f echoes/s)"
              % (name, start, per_idle, n_idle, per_busy, rate), flush=True)


if __name__ == "__main__":
    main()
