// Node's `ws` as a broadcast server, for wsio-hub's broadcast benchmark
// (wsio-hub/benches/broadcast.rs): every message a client sends goes to every connected
// client, the sender included, as the same kind and bytes, with `client.send` in a loop over
// `wss.clients`, as ws's own README broadcasts.
//
//   NODE_PATH=.../node_modules node bench_broadcast_node.js --port N [--deflate]
//
// Serves on 127.0.0.1:N and prints a "listening" line once it accepts connections;
// permessage-deflate only with --deflate. SIGTERM or SIGINT stops it.
const { WebSocketServer, WebSocket } = require("ws");

const usage = "usage: node bench_broadcast_node.js --port N [--deflate]";
let port = null;
let deflate = false;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--port" && i + 1 < args.length) {
    port = Number(args[++i]);
  } else if (args[i] === "--deflate") {
    deflate = true;
  } else {
    console.error(usage);
    process.exit(2);
  }
}
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(usage);
  process.exit(2);
}

const wss = new WebSocketServer({ host: "127.0.0.1", port, perMessageDeflate: deflate });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    }
  });
  ws.on("error", () => {});
});
wss.on("listening", () => {
  console.log(`bench_broadcast_node: listening on ws://127.0.0.1:${port}/ (ws, deflate ${deflate})`);
});
wss.on("error", (e) => {
  console.error(`bench_broadcast_node: ${e.message}`);
  process.exit(1);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => process.exit(0));
}
