"""The hub's chat example across two processes sharing one Redis, in a real browser:
headless Chromium, driven over the DevTools protocol (scripts/browser.py's helpers), types
into pages served by two chat processes, A and B, both started with `--redis`.

    python browser_redis.py CHAT_BINARY [--chromium PATH] [--redis-server PATH]

A redis-server of its own runs on a free loopback port. alice (on A) and bob (on B) join the
room `red`, carol (on B) and dave (on A) `blue`. A room's messages must reach its members
on both processes exactly once each, and nobody else. While Redis is down, local delivery
goes on and every page stays connected. After redis-server is restarted on the same port,
both processes must subscribe again (seen from Redis: PUBSUB NUMSUB), and a new message
from alice must reach bob again, and one from bob alice; as what is published while the
hub's publishing connection finds out that Redis went away is dropped by design, fresh
messages are sent until one arrives (bounded), and the number lost is printed. Prints one
line per check passed; exits 1 with a message on the first failure. Every wait is bounded.
"""

import secrets
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing browser.py
from browser import WAIT, SETTLE, Chromium, Failure, Page, Server, free_port, wait_for  # noqa: E402

# The channel every process subscribes to and publishes rooms' messages on: RedisExchange's
# default prefix `wsio-hub`, then `:all` (wsio-hub/src/redis.rs).
ALL_CHANNEL = "wsio-hub:all"
RESUBSCRIBE = 15  # seconds: the exchange reconnects with backoff up to 2 s
RETRY_EVERY = 1.0  # seconds between fresh messages while waiting for one to cross again


def passed(text):
    print("browser_redis: " + text, flush=True)


def resp(port, *args, timeout=2.0):
    """One command to the Redis on 127.0.0.1:port over RESP; returns its reply (errors as
    a Failure). Raises OSError if Redis cannot be reached."""
    request = b"*%d\r\n" % len(args)
    for arg in args:
        arg = arg.encode() if isinstance(arg, str) else arg
        request += b"$%d\r\n%s\r\n" % (len(arg), arg)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        reader = sock.makefile("rb")

        def reply():
            line = reader.readline()
            if not line.endswith(b"\r\n"):
                raise OSError("Redis closed the connection mid-reply")
            kind, rest = line[:1], line[1:-2]
            if kind == b"+":
                return rest.decode()
            if kind == b"-":
                raise Failure("Redis answered %s to %r" % (rest.decode(), args))
            if kind == b":":
                return int(rest)
            if kind == b"$":
                n = int(rest)
                return None if n < 0 else reader.read(n + 2)[:-2].decode("utf-8", "replace")
            if kind == b"*":
                n = int(rest)
                return None if n < 0 else [reply() for _ in range(n)]
            raise OSError("Redis sent %r" % line)

        return reply()


class Redis:
    """redis-server on 127.0.0.1:port, without persistence; its output is kept for error
    messages."""

    def __init__(self, binary, port):
        self.binary = binary
        self.port = port
        self.proc = None
        self.log = []

    def start(self):
        self.log.append("--- redis-server --port %d" % self.port)
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )

        def read(proc):
            for raw in proc.stdout:
                self.log.append(raw.decode("utf-8", "replace").rstrip("\n"))

        threading.Thread(target=read, args=(self.proc,), daemon=True).start()

        def answers():
            if self.proc.poll() is not None:
                raise Failure("redis-server exited with %s at start:\n%s" % (self.proc.returncode, self.tail()))
            try:
                return resp(self.port, "PING") == "PONG"
            except OSError:
                return False

        wait_for("redis-server on port %d to answer PING" % self.port, answers)

    def subscribers(self, channel):
        """How many connections are subscribed to channel (None if Redis cannot be reached)."""
        try:
            reply = resp(self.port, "PUBSUB", "NUMSUB", channel)
        except OSError:
            return None
        return reply[1]

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait()

    def tail(self):
        return "\n".join(self.log[-20:])


def run(binary, chromium_path, redis_binary):
    redis = Redis(redis_binary, free_port())
    url = "redis://127.0.0.1:%d/" % redis.port
    servers = {}
    for label in ("A", "B"):
        servers[label] = Server(binary, free_port(), ["--redis", url], "chat process %s" % label)
    browser = None
    run_id = secrets.token_hex(3)
    try:
        redis.start()
        passed("redis-server %s answers PING" % url)
        for label, server in servers.items():
            server.start()
        passed("chat processes A on 127.0.0.1:%d and B on 127.0.0.1:%d listen, both with --redis %s"
               % (servers["A"].port, servers["B"].port, url))

        def both_subscribed(what):
            started = time.monotonic()
            try:
                wait_for("2 subscribers to %s on Redis %s" % (ALL_CHANNEL, what),
                         lambda: redis.subscribers(ALL_CHANNEL) == 2, RESUBSCRIBE)
            except Failure as err:
                raise Failure("%s (PUBSUB NUMSUB %s: %r)" % (err, ALL_CHANNEL, redis.subscribers(ALL_CHANNEL)))
            return time.monotonic() - started

        both_subscribed("at start")
        passed("Redis counts 2 subscribers to %s: A and B" % ALL_CHANNEL)

        browser = Chromium(chromium_path)
        browser.start()
        base = {label: "http://127.0.0.1:%d/" % server.port for label, server in servers.items()}
        people = [("alice", "red", "A"), ("bob", "red", "B"), ("carol", "blue", "B"), ("dave", "blue", "A")]
        pages = {name: Page(browser, name, room, base[label]) for name, room, label in people}
        for page in pages.values():
            page.wait_status("connected")
            if page.joined() != [page.room]:
                raise Failure("%s's page shows the rooms %r, expected [%r]" % (page.name, page.joined(), page.room))
        passed("4 pages connected: alice on A and bob on B in red, carol on B and dave on A in blue")
        alice, bob, carol, dave = pages["alice"], pages["bob"], pages["carol"], pages["dave"]
        where = {name: label for name, _, label in people}

        expected = {name: {} for name in pages}  # name -> {line: count} over the whole run

        def check_counts(lines, names):
            for name in names:
                got = pages[name].messages()
                for line in lines:
                    want = expected[name].get(line, 0)
                    if got.count(line) != want:
                        raise Failure("%r is in %s's #messages (on %s) %d times, expected %d"
                                      % (line, name, where[name], got.count(line), want))
                    expected[name].setdefault(line, 0)

        def say(sender, text, readers, others):
            """sender types text; it must reach every reader once, and no one in others."""
            line = "%s: %s" % (sender.name, text)
            sender.type_message(text)
            for reader in readers:
                wait_for("%r in %s's #messages (on %s)" % (line, reader.name, where[reader.name]),
                         lambda: reader.count(line) >= 1)
                expected[reader.name][line] = 1
            time.sleep(SETTLE)
            check_counts([line], [p.name for p in readers + others])
            return line

        def say_until(sender, stem, readers, others, timeout=WAIT):
            """sender types fresh messages (stem #1, #2, ...), RETRY_EVERY apart, until one of
            them has reached every reader, for at most `timeout` s. Each must reach the sender
            (local delivery) once, a reader at most once, no one in others. Returns the number
            of messages typed."""
            deadline = time.monotonic() + timeout
            lines = []
            while True:
                text = "%s #%d %s" % (stem, len(lines) + 1, run_id)
                line = "%s: %s" % (sender.name, text)
                sender.type_message(text)
                lines.append(line)
                wait_for("%r in %s's #messages (local delivery)" % (line, sender.name),
                         lambda: sender.count(line) >= 1)
                until = min(time.monotonic() + RETRY_EVERY, deadline)
                arrived = False
                while True:
                    seen = [r.messages() for r in readers]
                    arrived = all(any(l in got for l in lines) for got in seen)
                    if arrived or time.monotonic() >= until:
                        break
                    time.sleep(0.1)
                if arrived:
                    break
                if time.monotonic() >= deadline:
                    raise Failure("none of the %d messages %s typed on %s in %d s reached %s (PUBSUB NUMSUB %s: %r)"
                                  % (len(lines), sender.name, where[sender.name], timeout,
                                     " and ".join("%s on %s" % (r.name, where[r.name]) for r in readers),
                                     ALL_CHANNEL, redis.subscribers(ALL_CHANNEL)))
            time.sleep(SETTLE)
            for line in lines:
                expected[sender.name][line] = 1
            for reader in readers:
                got = reader.messages()
                for line in lines:
                    n = got.count(line)
                    if n > 1:
                        raise Failure("%r is in %s's #messages (on %s) %d times" % (line, reader.name, where[reader.name], n))
                    expected[reader.name][line] = n
            check_counts(lines, [p.name for p in [sender] + readers + others])
            return len(lines)

        say(alice, "hello red %s" % run_id, [alice, bob], [carol, dave])
        passed("alice's message (A) reached alice and bob (B) once each, not carol or dave")
        say(carol, "hello blue %s" % run_id, [carol, dave], [alice, bob])
        passed("carol's message (B) reached carol and dave (A) once each, not alice or bob")
        say(bob, "hi alice %s" % run_id, [bob, alice], [carol, dave])
        passed("bob's message (B) reached bob and alice (A) once each, not carol or dave")
        say(dave, "hi carol %s" % run_id, [dave, carol], [alice, bob])
        passed("dave's message (A) reached dave and carol (B) once each, not alice or bob")

        redis.kill()
        passed("killed redis-server")
        say(alice, "while redis is down %s" % run_id, [alice], [bob, carol, dave])
        passed("with Redis down, alice's message still reached alice (local delivery), nobody else")
        for page in pages.values():
            if page.status() != "connected":
                raise Failure("with Redis down, %s's #status is %r, not 'connected'" % (page.name, page.status()))
        passed("with Redis down, every page stayed connected")

        redis.start()
        passed("restarted redis-server on the same port")
        took = both_subscribed("after the Redis restart")
        passed("A and B subscribed again within %.1f s (Redis counts 2 subscribers to %s)" % (took, ALL_CHANNEL))

        n = say_until(alice, "after the redis restart", [bob], [carol, dave])
        passed("after the Redis restart, alice's message (A) reached bob (B) once (%d typed, %d lost on the way)"
               % (n, n - sum(1 for l, c in expected["bob"].items() if c and "after the redis restart" in l)))
        n = say_until(bob, "back from B", [alice], [carol, dave])
        passed("after the Redis restart, bob's message (B) reached alice (A) once (%d typed, %d lost on the way)"
               % (n, n - sum(1 for l, c in expected["alice"].items() if c and "back from B" in l)))
        say(carol, "blue after the restart %s" % run_id, [carol, dave], [alice, bob])
        passed("after the Redis restart, carol's message (B) reached carol and dave (A) once each, not alice or bob")

        time.sleep(SETTLE)
        for page in pages.values():
            got = page.messages()
            for line, n in expected[page.name].items():
                if got.count(line) != n:
                    raise Failure("at the end, %r is in %s's #messages %d times, expected %d"
                                  % (line, page.name, got.count(line), n))
            strangers = [m for m in got if m not in expected[page.name]]
            if strangers:
                raise Failure("%s's #messages has unexpected entries: %r" % (page.name, strangers))
        passed("at the end, every page holds exactly the messages it should, each once")
    except Exception as err:  # a Failure, or a DevTools or HTTP connection that broke
        text = str(err) if isinstance(err, Failure) else "%s: %s" % (type(err).__name__, err)
        print("browser_redis: FAILED: %s" % text, file=sys.stderr)
        for label, server in servers.items():
            if server.log:
                print("browser_redis: chat process %s said:\n%s" % (label, server.tail()), file=sys.stderr)
        if redis.log:
            print("browser_redis: redis-server said:\n%s" % redis.tail(), file=sys.stderr)
        return 1
    finally:
        if browser:
            browser.close()
        for server in servers.values():
            server.kill()
        redis.kill()
    return 0


def main():
    # `timeout` sends SIGTERM: exit through run's cleanup rather than leave processes behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = sys.argv[1:]
    if not args or args[0].startswith("--"):
        raise SystemExit("usage: browser_redis.py CHAT_BINARY [--chromium PATH] [--redis-server PATH]")

    def option(name, default):
        return args[args.index(name) + 1] if name in args else default

    sys.exit(run(args[0], option("--chromium", "chromium"), option("--redis-server", "redis-server")))


if __name__ == "__main__":
    main()
