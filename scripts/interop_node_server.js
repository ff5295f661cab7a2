// Node's `ws` as an echo server, for wsio's client to talk to: every message comes back as
// it arrived, up to 64 MiB, permessage-deflate offered or not, over https or not.
//
//   node interop_node_server.js PORT --deflate|--no-deflate [--cert CERT.pem --key KEY.pem]
//
// Serves on 127.0.0.1 until killed.
const fs = require("fs");
const http = require("http");
const https = require("https");
const { WebSocketServer } = require("ws");

const args = process.argv.slice(2);
const port = Number(args[0]);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : null);

const server = option("--cert")
  ? https.createServer({ cert: fs.readFileSync(option("--cert")), key: fs.readFileSync(option("--key")) })
  : http.createServer();
const wss = new WebSocketServer({
  server,
  perMessageDeflate: args.includes("--deflate"),
  maxPayload: 64 << 20,
});
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on("error", () => {});
});
server.listen(port, "127.0.0.1");
