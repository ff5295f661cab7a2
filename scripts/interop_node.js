// Node's `ws` against a wsio echo server: text and binary echoes up to 16 MiB, a
// subprotocol offered, permessage-deflate on or off, over wss:// trusting a test CA.
//
//   node interop_node.js URL --deflate|--no-deflate [--ca CA.pem]
//
// Exits 1 on any mismatch.
const fs = require("fs");
const WebSocket = require("ws");

const args = process.argv.slice(2);
const [url, mode] = args;
const deflate = mode === "--deflate";
const ca = args.includes("--ca") ? fs.readFileSync(args[args.indexOf("--ca") + 1]) : undefined;
const sizes = [0, 1, 125, 126, 65535, 65536, 1000000, 16 << 20];

function payload(i, size) {
  const one = '{"seq":' + i + ',"msg":"hello from node ws","values":[1,2,3]}';
  return one.repeat(Math.floor(size / one.length) + 1).slice(0, size);
}

function fail(why) {
  console.error("node ws: " + why);
  process.exit(1);
}

const ws = new WebSocket(url, ["chat", "other"], {
  perMessageDeflate: deflate,
  maxPayload: 64 << 20,
  ca,
});
const queue = [];
let waiting = null;
ws.on("message", (data, isBinary) => {
  const item = { data, isBinary };
  if (waiting) {
    const w = waiting;
    waiting = null;
    w(item);
  } else {
    queue.push(item);
  }
});
ws.on("error", (e) => fail(String(e)));
const next = () => new Promise((ok) => (queue.length ? ok(queue.shift()) : (waiting = ok)));

ws.on("open", async () => {
  if (ws.protocol !== "chat") fail("subprotocol " + JSON.stringify(ws.protocol));
  const negotiated = ws.extensions.includes("permessage-deflate");
  if (negotiated !== deflate) fail("permessage-deflate negotiated: " + negotiated);
  let matched = 0;
  for (let i = 0; i < sizes.length; i++) {
    const text = payload(i, sizes[i]);
    ws.send(text);
    const back = await next();
    if (!back.isBinary && back.data.toString() === text) matched++;
    const bytes = Buffer.from(text);
    ws.send(bytes);
    const echo = await next();
    if (echo.isBinary && Buffer.compare(echo.data, bytes) === 0) matched++;
  }
  if (matched !== 2 * sizes.length) fail(matched + " of " + 2 * sizes.length + " echoes matched");
  ws.on("close", (code) => {
    if (code !== 1000) fail("closed with " + code);
    console.log(
      "node ws (" + (deflate ? "deflate" : "no deflate") + ", " + url.split(":")[0] + "): " + matched +
        " echoes matched up to 16 MiB, subprotocol " + ws.protocol +
        ", extensions: " + (ws.extensions || "none")
    );
    process.exit(0);
  });
  ws.close(1000);
});
