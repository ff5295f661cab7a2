"""The hub's chat example in a real browser: headless Chromium, driven over the DevTools
protocol, opens the chat page four times (each in a browser context of its own) and types
into it as a person would.

    python browser.py CHAT_BINARY [--chromium PATH]

alice, bob and dave join the room `red`, carol `blue`. Messages typed into a page (Enter in
#message) must appear exactly once in the pages of their room and never elsewhere, as text
(markup, U+001E, quotes and `;` arrive unchanged and create no element); a page that left
a room gets nothing more from it; after the server is killed and restarted on the same
port, every page reconnects, rejoins its rooms, and messages flow as before. Prints one line
per check passed; exits 1 with a message on the first failure. Every wait is bounded.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import websocket  # websocket-client

WAIT = 20  # seconds, for anything that should happen
SETTLE = 1.0  # seconds, before checking that something did not happen


class Failure(Exception):
    pass


def passed(text):
    print("browser: " + text, flush=True)


def wait_for(what, probe, timeout=WAIT):
    """Polls probe() until it returns something true, and returns that; fails naming `what`
    (and probe's last value) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise Failure("timed out after %d s waiting for %s (last seen: %r)" % (timeout, what, last))
        time.sleep(0.1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The chat example on 127.0.0.1:port, with more arguments if given (`--redis URL`);
    its output is kept for error messages, which call it `name`."""

    def __init__(self, binary, port, args=(), name="the chat server"):
        self.binary = binary
        self.port = port
        self.args = list(args)
        self.name = name
        self.proc = None
        self.log = []

    def start(self):
        self.log.append("--- chat --addr 127.0.0.1:%d%s" % (self.port, "".join(" " + a for a in self.args)))
        self.proc = subprocess.Popen(
            [self.binary, "--addr", "127.0.0.1:%d" % self.port] + self.args,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        ready = threading.Event()
        expected = "chat: listening on http://127.0.0.1:%d/" % self.port

        def read(proc):
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.log.append(line)
                if expected in line:
                    ready.set()

        threading.Thread(target=read, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + WAIT
        while not ready.wait(0.1):
            if self.proc.poll() is not None:
                raise Failure("%s exited with %s before listening:\n%s" % (self.name, self.proc.returncode, self.tail()))
            if time.monotonic() > deadline:
                raise Failure("%s did not print %r within %d s:\n%s" % (self.name, expected, WAIT, self.tail()))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait()

    def tail(self):
        return "\n".join(self.log[-30:])


class Chromium:
    """Headless Chromium and one DevTools connection to it, with a session per page."""

    def __init__(self, path):
        self.path = path
        self.proc = None
        self.devtools = None
        self.profile = tempfile.mkdtemp(prefix="wsio-browser-")

    def start(self):
        path = self.path
        self.proc = subprocess.Popen(
            [
                path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions",
                # Every page counts as visible: timers in background pages are not throttled.
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows",
                "--user-data-dir=" + self.profile, "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0", "about:blank",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.next_id = 0
        port_file = os.path.join(self.profile, "DevToolsActivePort")

        def active_port():
            if self.proc.poll() is not None:
                raise Failure("chromium exited with %s at start" % self.proc.returncode)
            try:
                lines = open(port_file).read().split()
            except OSError:
                return None
            return lines if len(lines) >= 2 else None

        port, path_ = wait_for("chromium's DevToolsActivePort", active_port, 30)
        # No Origin header: DevTools refuses WebSocket clients that send one it does not know.
        self.devtools = websocket.create_connection("ws://127.0.0.1:%s%s" % (port, path_),
                                                    timeout=WAIT, suppress_origin=True)

    def call(self, method, params=None, session=None, timeout=WAIT):
        """Sends a DevTools command and returns its result; events are dropped."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.devtools.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("DevTools: no answer to %s within %d s" % (method, timeout))
            self.devtools.settimeout(left)
            try:
                reply = json.loads(self.devtools.recv())
            except websocket.WebSocketTimeoutException:
                continue
            if reply.get("id") != self.next_id:
                continue
            if "error" in reply:
                raise Failure("DevTools: %s failed: %s" % (method, reply["error"]))
            return reply.get("result", {})

    def open(self, url):
        """A new page, in a browser context of its own, loading url; returns its session."""
        context = self.call("Target.createBrowserContext")["browserContextId"]
        target = self.call("Target.createTarget", {"url": "about:blank", "browserContextId": context})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Emulation.setFocusEmulationEnabled", {"enabled": True}, session)
        self.call("Page.navigate", {"url": url}, session)
        return session

    def close(self):
        if self.devtools:
            try:
                self.devtools.close()
            except Exception:
                pass
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        subprocess.run(["rm", "-rf", self.profile], check=False)


class Page:
    def __init__(self, browser, name, room, base):
        self.browser = browser
        self.name = name
        self.room = room
        url = "%s?room=%s&name=%s" % (base, urllib.request.quote(room), urllib.request.quote(name))
        self.session = browser.open(url)

    def eval(self, expression, timeout=WAIT):
        result = self.browser.call("Runtime.evaluate", {
            "expression": expression, "awaitPromise": True, "returnByValue": True,
        }, self.session, timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise Failure("%s's page: %s threw %s" % (self.name, expression[:80], text))
        return result.get("result", {}).get("value")

    def status(self):
        return self.eval("document.querySelector('#status')?.textContent ?? null")

    def notice(self):
        return self.eval("document.querySelector('#notice')?.textContent ?? null")

    def wait_status(self, want):
        try:
            return wait_for("%s's #status to be %r" % (self.name, want), lambda: self.status() == want)
        except Failure as err:
            raise Failure("%s (#status is %r, #notice %r)" % (err, self.status(), self.notice()))

    def wait_not_connected(self):
        return wait_for("%s's #status to leave 'connected'" % self.name,
                        lambda: (lambda s: s if s not in (None, "connected") else None)(self.status()))

    def messages(self):
        """The text of every element directly inside #messages."""
        return self.eval("[...(document.querySelector('#messages')?.children ?? [])].map(e => e.textContent)")

    def count(self, line):
        return self.messages().count(line)

    def type_message(self, text):
        """Types `text` into #message as a person would, presses Enter, and waits for the
        page to clear the field (it sent the message)."""
        self.eval("document.querySelector('#message').focus(), document.activeElement?.id")
        focused = self.eval("document.activeElement?.id")
        if focused != "message":
            raise Failure("%s's #message did not take the focus (%r has it)" % (self.name, focused))
        self.browser.call("Input.insertText", {"text": text}, self.session)
        typed = self.eval("document.querySelector('#message').value")
        if typed != text:
            raise Failure("%s's #message holds %r after typing %r" % (self.name, typed, text))
        for kind in ("keyDown", "keyUp"):
            key = {"type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13,
                   "nativeVirtualKeyCode": 13}
            if kind == "keyDown":
                key["text"] = "\r"
            self.browser.call("Input.dispatchKeyEvent", key, self.session)
        wait_for("%s's page to clear #message after Enter" % self.name,
                 lambda: self.eval("document.querySelector('#message').value") == "")

    def click(self, selector):
        """Clicks the element with the mouse, at its centre."""
        box = self.eval("""(() => {
            const e = document.querySelector(%s);
            if (!e) return null;
            e.scrollIntoView({block: "center"});
            const r = e.getBoundingClientRect();
            return [r.x + r.width / 2, r.y + r.height / 2];
        })()""" % json.dumps(selector))
        if not box:
            raise Failure("%s's page has no %s" % (self.name, selector))
        for kind in ("mousePressed", "mouseReleased"):
            self.browser.call("Input.dispatchMouseEvent", {
                "type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1,
            }, self.session)

    def set_field(self, selector, value):
        self.eval("""(() => { const e = document.querySelector(%s); e.value = %s;
            e.dispatchEvent(new Event("input", {bubbles: true})); })()""" % (json.dumps(selector), json.dumps(value)))

    def joined(self):
        return self.eval("[...(document.querySelector('#rooms')?.children ?? [])].map(e => e.textContent.trim())")


def check_page_assets(base):
    """The page and the client module, as the browser fetches them."""
    with urllib.request.urlopen(base, timeout=WAIT) as response:
        page = response.read().decode()
        kind = response.headers.get("Content-Type", "")
    if "text/html" not in kind or 'id="messages"' not in page:
        raise Failure("GET / answered %r, not the chat page" % kind)
    with urllib.request.urlopen(base + "wsio-hub.js", timeout=WAIT) as response:
        script = response.read().decode()
        kind = response.headers.get("Content-Type", "")
    # A module script runs only with a JavaScript MIME type.
    if "javascript" not in kind.lower() or "export function connect" not in script:
        raise Failure("GET /wsio-hub.js answered Content-Type %r; a module needs text/javascript" % kind)
    passed("GET / serves the chat page, GET /wsio-hub.js the client as %s" % kind)


def run(binary, chromium_path):
    port = free_port()
    base = "http://127.0.0.1:%d/" % port
    server = Server(binary, port)
    browser = None
    run_id = secrets.token_hex(3)
    try:
        server.start()
        passed("the chat server listens on %s" % base)
        check_page_assets(base)

        browser = Chromium(chromium_path)
        browser.start()
        people = [("alice", "red"), ("bob", "red"), ("dave", "red"), ("carol", "blue")]
        pages = {name: Page(browser, name, room, base) for name, room in people}
        for page in pages.values():
            page.wait_status("connected")
        passed("4 pages connected: alice, bob and dave in red, carol in blue")
        alice, bob, dave, carol = pages["alice"], pages["bob"], pages["dave"], pages["carol"]
        for page in pages.values():
            if page.joined() != [page.room]:
                raise Failure("%s's page shows the rooms %r, expected [%r]" % (page.name, page.joined(), page.room))

        expected = {name: {} for name in pages}  # name -> {line: count} over the whole run

        def say(sender, text, readers, others):
            """sender types text; it must reach every reader once, and no one in others."""
            line = "%s: %s" % (sender.name, text)
            sender.type_message(text)
            for reader in readers:
                wait_for("%r in %s's #messages" % (line, reader.name), lambda: reader.count(line) >= 1)
                expected[reader.name][line] = 1
            time.sleep(SETTLE)
            for page in readers + others:
                n = page.count(line)
                want = expected[page.name].get(line, 0)
                if n != want:
                    raise Failure("%r is in %s's #messages %d times, expected %d" % (line, page.name, n, want))
                expected[page.name].setdefault(line, 0)
            return line

        say(alice, "hello red %s" % run_id, [alice, bob, dave], [carol])
        passed("alice's message reached alice, bob and dave once each, not carol")
        say(carol, "hello blue %s" % run_id, [carol], [alice, bob, dave])
        passed("carol's message reached carol only")

        tricky = 'hi <b>x</b> \u001e; "double" \'single\' é€𝄞 日本 %s' % run_id
        line = say(alice, tricky, [alice, bob, dave], [carol])
        for page in pages.values():
            bold = page.eval("document.querySelectorAll('b').length")
            if bold:
                raise Failure("%s's page has %d <b> elements: a message became markup" % (page.name, bold))
        exact = bob.eval("[...document.querySelector('#messages').children].some(e => e.textContent === %s)" % json.dumps(line))
        if not exact:
            raise Failure("bob's #messages has no element whose text is exactly %r" % line)
        passed("markup, U+001E, quotes, ';' and non-ASCII arrived as text, no element created")

        bob.set_field("#room", "red")
        bob.click("#leave")
        wait_for("bob's page to stop showing red as joined", lambda: "red" not in bob.joined())
        # The leave went out on bob's connection; a request after it on the same connection
        # is answered only once the hub has handled the leave.
        bob.eval("window.hub.leave('red').then(() => true)")
        say(alice, "bob has gone %s" % run_id, [alice, dave], [bob, carol])
        passed("bob clicked Leave on red; alice's next message reached alice and dave, not bob")

        server.kill()
        passed("killed the chat server")
        for page in pages.values():
            page.wait_not_connected()
        passed("every page's #status left 'connected': %s" % ", ".join(
            "%s %s" % (p.name, p.status()) for p in pages.values()))
        server.start()
        passed("restarted the chat server on the same port")
        for page in pages.values():
            page.wait_status("connected")
        passed("every page reconnected")

        say(alice, "after the restart %s" % run_id, [alice, dave], [bob, carol])
        passed("after the restart, alice's message reached alice and dave (rejoined red), not bob or carol")
        say(carol, "blue again %s" % run_id, [carol], [alice, bob, dave])
        passed("after the restart, carol's message reached carol (rejoined blue) only")

        bob.set_field("#room", "blue")
        bob.click("#join")
        wait_for("bob's page to show blue as joined", lambda: "blue" in bob.joined())
        bob.eval("window.hub.join('blue').then(() => true)")
        say(carol, "welcome bob %s" % run_id, [carol, bob], [alice, dave])
        passed("bob clicked Join on blue; carol's message reached carol and bob")

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
    except Failure as err:
        print("browser: FAILED: %s" % err, file=sys.stderr)
        if server.log:
            print("browser: the chat server said:\n%s" % server.tail(), file=sys.stderr)
        return 1
    except Exception as err:  # a DevTools or HTTP connection broke
        print("browser: FAILED: %s: %s" % (type(err).__name__, err), file=sys.stderr)
        if server.log:
            print("browser: the chat server said:\n%s" % server.tail(), file=sys.stderr)
        return 1
    finally:
        if browser:
            browser.close()
        server.kill()
    return 0


def main():
    if len(sys.argv) < 2:
        raise SystemExit("usage: browser.py CHAT_BINARY [--chromium PATH]")
    chromium_path = sys.argv[sys.argv.index("--chromium") + 1] if "--chromium" in sys.argv else "chromium"
    sys.exit(run(sys.argv[1], chromium_path))


if __name__ == "__main__":
    main()
