"""Python `websockets` as an echo server, for wsio's client to talk to: every message comes
back as it arrived, up to 64 MiB, permessage-deflate offered or not, over TLS or not.

    python interop_server.py PORT --deflate|--no-deflate [--cert CERT.pem --key KEY.pem]

Serves on 127.0.0.1 until killed.
"""

import ssl
import sys

from websockets.sync.server import serve


def option(name):
    """The value of option `name` on the command line, or None."""
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


def echo(ws):
    for message in ws:
        ws.send(message)


def main():
    port = int(sys.argv[1])
    compression = "deflate" if "--deflate" in sys.argv else None
    context = None
    if option("--cert"):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(option("--cert"), option("--key"))
    with serve(echo, "127.0.0.1", port, ssl=context, compression=compression,
               max_size=64 << 20) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
