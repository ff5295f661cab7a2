"""Python's `websockets` (asyncio) as a broadcast server, for wsio-hub's broadcast benchmark
(wsio-hub/benches/broadcast.rs): every message a client sends goes to every connected
client, the sender included, as the same kind and bytes, with `websockets.broadcast`.

    python bench_broadcast_server.py --port N [--deflate]

Serves on 127.0.0.1:N and prints a "listening" line once it accepts connections;
permessage-deflate only with --deflate (`compression=None` otherwise). SIGTERM or SIGINT
stops it.
"""

import argparse
import asyncio
import signal

from websockets.asyncio.server import broadcast, serve
from websockets.exceptions import ConnectionClosed

# Every connection whose handshake is done, the sender of each message included.
CONNECTIONS = set()


async def handler(websocket):
    CONNECTIONS.add(websocket)
    try:
        async for message in websocket:
            broadcast(CONNECTIONS, message)
    except ConnectionClosed:
        pass
    finally:
        CONNECTIONS.discard(websocket)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--deflate", action="store_true")
    args = parser.parse_args()

    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    compression = "deflate" if args.deflate else None
    async with serve(handler, "127.0.0.1", args.port, compression=compression):
        print(
            "bench_broadcast_server: listening on ws://127.0.0.1:%d/ (websockets, deflate %s)"
            % (args.port, args.deflate),
            flush=True,
        )
        await stop


if __name__ == "__main__":
    asyncio.run(main())
