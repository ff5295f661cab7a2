"""Exchanges messages with a wsio echo server from independent clients and checks every
echo: Python's `websockets`, `websocket-client` (single-threaded: it writes a 16 MiB message
whole before it reads), websocat, and headless Chromium (driven over the DevTools
protocol). Each offers a subprotocol, which the echo server must agree to.

    python interop.py URL --deflate|--no-deflate [--chromium PATH] [--websocat PATH]
                          [--ca CA.pem --spki HASH]

With --deflate the server offers permessage-deflate and the clients that can must agree on
it (websockets, Chromium); with --no-deflate none may. For a wss:// URL, every client
trusts the test CA in --ca (Chromium trusts the server's key by its SPKI hash, --spki,
since it reads no CA file). Exits 1 on any mismatch.
"""

import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket
from websockets.sync.client import connect

SIZES = [0, 1, 100, 1000, 70_000, 1_000_000]


def payload(i, size):
    text = ('{"seq":%d,"msg":"hello from interop","values":[1,2,3]}' % i) * (size // 50 + 1)
    return text[:size]


def tls_context(url):
    """The TLS context trusting the test CA, for a wss:// URL."""
    if not url.startswith("wss://"):
        return None
    return ssl.create_default_context(cafile=option("--ca", None))


def check_python(url, deflate):
    compression = "deflate" if deflate else None
    with connect(url, max_size=16 << 20, subprotocols=["chat"], compression=compression,
                 ssl=tls_context(url)) as ws:
        extensions = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        if ("permessage-deflate" in extensions) != deflate:
            raise SystemExit("python websockets: permessage-deflate %r, expected %s" % (extensions, deflate))
        if ws.subprotocol != "chat":
            raise SystemExit("python websockets: subprotocol %r" % ws.subprotocol)
        for i, size in enumerate(SIZES):
            text = payload(i, size)
            ws.send(text)
            if ws.recv() != text:
                raise SystemExit("python websockets: text echo %d (%d bytes) differs" % (i, size))
            data = text.encode()
            ws.send(data)
            if ws.recv() != data:
                raise SystemExit("python websockets: binary echo %d (%d bytes) differs" % (i, size))
    print("python websockets: %d echoes matched, subprotocol chat, extensions: %s"
          % (2 * len(SIZES), extensions or "none"))


def check_websocket_client(url):
    """websocket-client writes a message whole, then reads: a streamed echo of a 16 MiB
    message would block both ends."""
    sslopt = {"ca_certs": option("--ca", None)} if url.startswith("wss://") else None
    ws = websocket.create_connection(url, subprotocols=["chat"], timeout=60, sslopt=sslopt)
    try:
        if ws.getsubprotocol() != "chat":
            raise SystemExit("websocket-client: subprotocol %r" % ws.getsubprotocol())
        for i, size in enumerate(SIZES + [16 << 20]):
            text = payload(i, size)
            ws.send(text)
            if ws.recv() != text:
                raise SystemExit("websocket-client: text echo %d (%d bytes) differs" % (i, size))
            data = text.encode()
            ws.send_binary(data)
            if ws.recv() != data:
                raise SystemExit("websocket-client: binary echo %d (%d bytes) differs" % (i, size))
        ws.close()
    finally:
        ws.shutdown()
    print("websocket-client: %d echoes matched up to 16 MiB, subprotocol chat" % (2 * (len(SIZES) + 1)))


def check_websocat(url, websocat):
    # websocat reads its roots through OpenSSL, which takes a CA file from SSL_CERT_FILE.
    env = dict(os.environ)
    if url.startswith("wss://"):
        env["SSL_CERT_FILE"] = option("--ca", "")
    lines = ["hello", "wsio and websocat", "é€𝄞", "x" * 70_000]
    text = "".join(line + "\n" for line in lines)
    out = subprocess.run(
        [websocat, "--text", "--buffer-size", "200000", "--protocol", "chat", url],
        input=text.encode(), capture_output=True, timeout=60, env=env,
    )
    got = out.stdout.decode().splitlines()
    if got != lines:
        raise SystemExit("websocat: text echoes differ (exit %d, %r)" % (out.returncode, out.stderr[:300]))
    data = bytes(range(256)) * 300
    out = subprocess.run(
        [websocat, "--binary", "--buffer-size", "200000", url],
        input=data, capture_output=True, timeout=60, env=env,
    )
    if out.stdout != data:
        raise SystemExit("websocat: binary echo differs (%d of %d bytes)" % (len(out.stdout), len(data)))
    print("websocat: %d text lines and %d binary bytes echoed" % (len(lines), len(data)))


PAGE_SCRIPT = """
(async () => {
  const ws = new WebSocket(%(url)s, ["chat"]);
  ws.binaryType = "arraybuffer";
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail("connect failed"); });
  const next = () => new Promise((ok, fail) => {
    ws.onmessage = (e) => ok(e.data);
    ws.onclose = () => fail("closed early");
  });
  const sizes = %(sizes)s;
  let matched = 0;
  for (let i = 0; i < sizes.length; i++) {
    const text = (%(payload)s)(i, sizes[i]);
    ws.send(text);
    if ((await next()) === text) matched++;
    const bytes = new TextEncoder().encode(text);
    ws.send(bytes);
    const back = new Uint8Array(await next());
    if (back.length === bytes.length && back.every((b, j) => b === bytes[j])) matched++;
  }
  const extensions = ws.extensions;
  const protocol = ws.protocol;
  ws.close(1000);
  return JSON.stringify({matched, extensions, protocol});
})()
"""

PAYLOAD_JS = """(i, size) => {
  const one = '{"seq":' + i + ',"msg":"hello from interop","values":[1,2,3]}';
  return one.repeat(Math.floor(size / 50) + 1).slice(0, size);
}"""


def check_chromium(url, chromium, deflate):
    profile = tempfile.mkdtemp(prefix="wsio-chromium-")
    proc = subprocess.Popen(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--user-data-dir=" + profile, "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0", "about:blank",
        ] + (["--ignore-certificate-errors-spki-list=" + option("--spki", "")]
             if url.startswith("wss://") else []),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if time.time() > deadline or proc.poll() is not None:
                raise SystemExit("chromium: DevTools did not start")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        pages = []
        while not pages:
            targets = json.load(urllib.request.urlopen("http://127.0.0.1:%s/json/list" % port))
            pages = [t for t in targets if t.get("type") == "page"]
            if time.time() > deadline:
                raise SystemExit("chromium: no page target")
            time.sleep(0.1)
        script = PAGE_SCRIPT % {"url": json.dumps(url), "sizes": json.dumps(SIZES), "payload": PAYLOAD_JS}
        with connect(pages[0]["webSocketDebuggerUrl"], max_size=64 << 20) as devtools:
            devtools.send(json.dumps({
                "id": 1,
                "method": "Runtime.evaluate",
                "params": {"expression": script, "awaitPromise": True, "returnByValue": True},
            }))
            while True:
                reply = json.loads(devtools.recv(timeout=60))
                if reply.get("id") == 1:
                    break
        result = reply.get("result", {}).get("result", {})
        if "exceptionDetails" in reply.get("result", {}) or result.get("type") != "string":
            raise SystemExit("chromium: page script failed: %s" % json.dumps(reply)[:500])
        outcome = json.loads(result["value"])
        if ("permessage-deflate" in outcome["extensions"]) != deflate:
            raise SystemExit("chromium: permessage-deflate %r, expected %s" % (outcome["extensions"], deflate))
        if outcome["protocol"] != "chat":
            raise SystemExit("chromium: subprotocol %r" % outcome["protocol"])
        if outcome["matched"] != 2 * len(SIZES):
            raise SystemExit("chromium: %d of %d echoes matched" % (outcome["matched"], 2 * len(SIZES)))
        print("chromium: %d echoes matched, subprotocol chat, extensions: %s"
              % (outcome["matched"], outcome["extensions"] or "none"))
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def option(name, default):
    """The value of option `name` on the command line, or `default`."""
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def main():
    url = sys.argv[1]
    deflate = "--deflate" in sys.argv
    check_python(url, deflate)
    check_websocket_client(url)
    check_websocat(url, option("--websocat", "websocat"))
    check_chromium(url, option("--chromium", "chromium"), deflate)


if __name__ == "__main__":
    main()
