"""Exchanges compressed messages with a wsio echo server from Python's `websockets` and from
headless Chromium (driven over the DevTools protocol), and checks every echo.

    python interop.py ws://127.0.0.1:PORT/ [--chromium PATH]

Exits 1 on any mismatch, or if either client did not negotiate permessage-deflate.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from websockets.sync.client import connect

SIZES = [0, 1, 100, 1000, 70_000, 1_000_000]


def payload(i, size):
    text = ('{"seq":%d,"msg":"hello from interop","values":[1,2,3]}' % i) * (size // 50 + 1)
    return text[:size]


def check_python(url):
    with connect(url, max_size=16 << 20) as ws:
        extensions = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        if "permessage-deflate" not in extensions:
            raise SystemExit("python websockets: permessage-deflate not negotiated (%r)" % extensions)
        for i, size in enumerate(SIZES):
            text = payload(i, size)
            ws.send(text)
            if ws.recv() != text:
                raise SystemExit("python websockets: text echo %d (%d bytes) differs" % (i, size))
            data = text.encode()
            ws.send(data)
            if ws.recv() != data:
                raise SystemExit("python websockets: binary echo %d (%d bytes) differs" % (i, size))
    print("python websockets: %d echoes matched, extensions: %s" % (2 * len(SIZES), extensions))


PAGE_SCRIPT = """
(async () => {
  const ws = new WebSocket(%(url)s);
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
  ws.close(1000);
  return JSON.stringify({matched, extensions});
})()
"""

PAYLOAD_JS = """(i, size) => {
  const one = '{"seq":' + i + ',"msg":"hello from interop","values":[1,2,3]}';
  return one.repeat(Math.floor(size / 50) + 1).slice(0, size);
}"""


def check_chromium(url, chromium):
    profile = tempfile.mkdtemp(prefix="wsio-chromium-")
    proc = subprocess.Popen(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--user-data-dir=" + profile, "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0", "about:blank",
        ],
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
        if result.get("type") != "string":
            raise SystemExit("chromium: page script failed: %s" % json.dumps(reply)[:500])
        outcome = json.loads(result["value"])
        if "permessage-deflate" not in outcome["extensions"]:
            raise SystemExit("chromium: permessage-deflate not negotiated (%r)" % outcome["extensions"])
        if outcome["matched"] != 2 * len(SIZES):
            raise SystemExit("chromium: %d of %d echoes matched" % (outcome["matched"], 2 * len(SIZES)))
        print("chromium: %d echoes matched, extensions: %s" % (outcome["matched"], outcome["extensions"]))
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def main():
    url = sys.argv[1]
    chromium = sys.argv[sys.argv.index("--chromium") + 1] if "--chromium" in sys.argv else "chromium"
    check_python(url)
    check_chromium(url, chromium)


if __name__ == "__main__":
    main()
