"""The echo example's limits and shutdown as a real client sees them: with
--max-connections 2 a third client is refused with 503 and Retry-After while the two others
keep echoing; on SIGTERM every client receives close 1001 and the process exits 0.

    python interop_shutdown.py ECHO_BINARY PORT
"""

import signal
import warnings
import subprocess
import sys
import time

from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect


def fail(why):
    raise SystemExit("echo shutdown: " + why)


def main():
    warnings.simplefilter("ignore", DeprecationWarning)
    binary, port = sys.argv[1], int(sys.argv[2])
    url = "ws://127.0.0.1:%d/" % port
    proc = subprocess.Popen([binary, "--addr", "127.0.0.1:%d" % port, "--max-connections", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 10
        clients = []
        while len(clients) < 2:
            try:
                clients.append(connect(url, open_timeout=2))
            except OSError:
                if time.time() > deadline:
                    fail("the echo example did not start")
                time.sleep(0.1)
        try:
            connect(url, open_timeout=5)
            fail("a third client got in past --max-connections 2")
        except InvalidStatus as e:
            response = e.response
            if response.status_code != 503 or response.headers.get("Retry-After") != "1":
                fail("refused with %d %r" % (response.status_code, dict(response.headers)))
        for i, ws in enumerate(clients):
            ws.send("still %d" % i)
            if ws.recv(timeout=5) != "still %d" % i:
                fail("a live client stopped echoing")
        print("echo --max-connections 2: the third client got 503 with Retry-After; the others echo")
        proc.send_signal(signal.SIGTERM)
        for ws in clients:
            try:
                ws.recv(timeout=10)
                fail("a message after SIGTERM")
            except Exception:
                pass
            if ws.close_code != 1001:
                fail("close code %r after SIGTERM, expected 1001" % ws.close_code)
        code = proc.wait(timeout=10)
        if code != 0:
            fail("exit status %d after SIGTERM" % code)
        print("echo on SIGTERM: every client got close 1001, exit status 0")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
