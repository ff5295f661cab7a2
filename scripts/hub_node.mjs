// Tests of the hub's browser client, wsio-hub/assets/wsio-hub.js, in Node.
//
//     node scripts/hub_node.mjs                      # against a scripted fake WebSocket
//     node scripts/hub_node.mjs --chat CHAT_BINARY   # and against the chat example
//
// The first part drives the client through a fake WebSocket whose every frame the test
// writes and reads: the welcome, joins and rejoins, queueing while disconnected, requests
// both ways, native messages, malformed frames, the backoff and close(). The second part
// (--chat) starts the chat example on a free loopback port and talks to it through a real
// WebSocket (Node's global one from Node 22 on, else the `ws` package found through
// NODE_PATH): rooms, requests and their errors, native messages, and a reconnect after the
// server is killed and restarted. Prints one line per check; exits 1 on the first failure.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const { connect, SUBPROTOCOL } = await import(path.join(here, "../wsio-hub/assets/wsio-hub.js"));

const RS = "\u001e";
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const passed = (text) => console.log(`hub_node: ${text}`);

async function waitFor(what, probe, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

// ---- a fake WebSocket ---------------------------------------------------------------------

class FakeSocket {
  static all = [];
  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.readyState = 0;
    this.protocol = "";
    this.binaryType = "blob";
    this.sent = [];
    this.closedWith = null;
    FakeSocket.all.push(this);
  }
  static last() {
    return FakeSocket.all[FakeSocket.all.length - 1];
  }
  send(data) {
    assert.equal(this.readyState, 1, "send() on a socket that is not open");
    this.sent.push(data);
  }
  close(code) {
    this.closedWith = code;
    if (this.readyState === 3) return;
    this.readyState = 3;
    queueMicrotask(() => this.onclose?.({ code }));
  }
  // The test's side:
  accept(protocol = SUBPROTOCOL) {
    this.readyState = 1;
    this.protocol = protocol;
    this.onopen?.({});
  }
  deliver(data) {
    this.onmessage?.({ data });
  }
  hub(frame) {
    this.deliver(RS + JSON.stringify(frame));
  }
  drop() {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code: 1006 });
  }
  // The hub frames sent so far, decoded, from index `from`.
  frames(from = 0) {
    return this.sent.slice(from).filter((s) => typeof s === "string" && s.startsWith(RS)).map((s) => JSON.parse(s.slice(1)));
  }
  // Answers every {join|leave, ask} sent so far with data null.
  answerRooms() {
    for (const f of this.frames()) {
      if (("join" in f || "leave" in f) && !(this.answered ??= new Set()).has(f.ask)) {
        this.answered.add(f.ask);
        this.hub({ reply: f.ask, data: null });
      }
    }
  }
}

const tick = () => sleep(0);

function fakeHub(options = {}) {
  const errors = [];
  const statuses = [];
  const hub = connect("ws://fake/ws", { WebSocket: FakeSocket, minDelay: 20, maxDelay: 80, askTimeout: 300, ...options });
  hub.onError((err) => errors.push(err.message));
  hub.onStatus((s) => statuses.push(s));
  return { hub, errors, statuses, ws: FakeSocket.last() };
}

async function fakeTests() {
  {
    const { hub, statuses, ws } = fakeHub({ protocols: ["chat", SUBPROTOCOL] });
    assert.deepEqual(ws.protocols, [SUBPROTOCOL, "chat"]);
    assert.equal(hub.status, "connecting");
    hub.emit("early", { n: 1 });
    const joined = hub.join("red");
    hub.send("native early");
    ws.accept();
    assert.equal(ws.binaryType, "arraybuffer");
    assert.deepEqual(ws.sent, [], "nothing goes before the welcome");
    ws.hub({ hub: 1, id: "abc" });
    assert.equal(hub.id, "abc");
    assert.deepEqual(ws.frames(), [{ join: "red", ask: ws.frames()[0].ask }]);
    assert.equal(hub.status, "connecting", "connected only after the rejoin");
    ws.answerRooms();
    await joined;
    await tick();
    assert.equal(hub.status, "connected");
    assert.deepEqual(ws.sent.slice(1), [RS + '{"event":"early","data":{"n":1}}', "native early"]);
    assert.deepEqual(statuses, ["connected"]);
    assert.deepEqual(hub.rooms, ["red"]);
    hub.close();
    assert.equal(ws.closedWith, 1000);
    passed("the welcome, then the joins, then what was queued, then 'connected'");
  }
  {
    const { hub, errors, ws } = fakeHub();
    ws.accept();
    ws.hub({ hub: 1, id: "x" });
    await tick();
    assert.equal(hub.status, "connected");
    const asked = hub.ask("time", undefined);
    const [req] = ws.frames();
    assert.deepEqual(req, { event: "time", data: null, ask: req.ask });
    ws.hub({ reply: req.ask + 1000, data: "stray" }); // not pending: ignored
    ws.hub({ reply: req.ask, data: "09:00" });
    assert.equal(await asked, "09:00");
    const refused = hub.ask("nope", 1);
    ws.hub({ reply: ws.frames().at(-1).ask, error: "no handler for event nope" });
    await assert.rejects(refused, /no handler for event nope/);
    const started = Date.now();
    await assert.rejects(hub.ask("slow", 1, { timeout: 50 }), /no reply to "slow" within 50 ms/);
    assert.ok(Date.now() - started < 2000);
    ws.hub({ reply: ws.frames().at(-1).ask, data: "late" }); // timed out: ignored
    assert.deepEqual(errors, []);
    hub.close();
    passed("ask: data, error replies, timeouts; stray and late replies ignored");
  }
  {
    const { hub, ws } = fakeHub();
    ws.accept();
    ws.hub({ hub: 1, id: "x" });
    await tick();
    hub.on("add", ({ a, b }) => a + b);
    hub.on("later", async (x) => { await sleep(5); return [x]; });
    hub.on("fails", () => { throw new Error("refused: bad"); });
    hub.on("rejects", () => Promise.reject("plain string"));
    hub.on("nothing", () => undefined);
    ws.hub({ event: "add", data: { a: 2, b: 3 }, ask: 7 });
    ws.hub({ event: "later", data: "x", ask: 8 });
    ws.hub({ event: "fails", ask: 9 });
    ws.hub({ event: "rejects", ask: 10 });
    ws.hub({ event: "unknown", data: 1, ask: 11 });
    ws.hub({ event: "nothing", ask: 0 });
    await sleep(30);
    const replies = Object.fromEntries(ws.frames().map((f) => [f.reply, f]));
    assert.deepEqual(replies[7], { reply: 7, data: 5 });
    assert.deepEqual(replies[8], { reply: 8, data: ["x"] });
    assert.deepEqual(replies[9], { reply: 9, error: "refused: bad" });
    assert.deepEqual(replies[10], { reply: 10, error: "plain string" });
    assert.deepEqual(replies[11], { reply: 11, error: "no handler for event unknown" });
    assert.deepEqual(replies[0], { reply: 0, data: null });
    let got = null;
    hub.on("note", (d) => { got = d; });
    ws.hub({ event: "note" });
    assert.equal(got, null);
    ws.hub({ event: "note", data: { text: `a ${RS}; "b"\n` } });
    assert.deepEqual(got, { text: `a ${RS}; "b"\n` });
    hub.off("note");
    ws.hub({ event: "note", data: 2 });
    assert.deepEqual(got, { text: `a ${RS}; "b"\n` });
    hub.close();
    passed("requests from the hub: values, promises, throws, rejections, no handler");
  }
  {
    const { hub, errors, ws } = fakeHub();
    ws.accept();
    ws.hub({ hub: 1, id: "x" });
    await tick();
    const native = [];
    hub.onNative((d) => native.push(d));
    ws.deliver("plain text");
    ws.hub({ text: `${RS}starts with RS` });
    ws.deliver(new Uint8Array([1, 2, 3]).buffer);
    assert.deepEqual(native.slice(0, 2), ["plain text", `${RS}starts with RS`]);
    assert.deepEqual([...new Uint8Array(native[2])], [1, 2, 3]);
    hub.send(`${RS}{"event":"fake"}`);
    hub.send("ordinary");
    const bytes = new Uint8Array([9, 8, 7, 6]);
    hub.send(bytes.subarray(1, 3));
    hub.send(new Uint16Array([0x0102]).buffer);
    assert.equal(ws.sent[0], RS + JSON.stringify({ text: `${RS}{"event":"fake"}` }));
    assert.equal(ws.sent[1], "ordinary");
    assert.deepEqual([...ws.sent[2]], [8, 7]);
    assert.equal(ws.sent[3].byteLength, 2);
    assert.throws(() => hub.send(42), TypeError);
    assert.deepEqual(errors, []);
    hub.close();
    passed("native messages both ways; a native text starting with U+001E travels as {text}");
  }
  {
    const { hub, errors, ws } = fakeHub();
    ws.accept();
    ws.hub({ hub: 1, id: "x" });
    await tick();
    const seen = [];
    hub.on("ok", (d) => seen.push(d));
    for (const bad of ["not json", "[1]", "null", "{}", '{"event":1}', '{"event":"ok","reply":1}',
      '{"event":"ok","ask":-1}', '{"event":"ok","ask":1.5}', '{"reply":"1"}', '{"reply":1,"error":5}',
      '{"join":"red"}', '{"leave":"red"}', '{"text":3}', '{"hub":1,"id":"again"}']) {
      ws.deliver(RS + bad);
    }
    ws.hub({ event: "ok", data: 1, future: "ignored" });
    assert.equal(errors.length, 14, errors.join("\n"));
    assert.ok(errors.every((e) => e.includes("malformed hub frame")));
    assert.deepEqual(seen, [1]);
    assert.equal(hub.status, "connected");
    assert.deepEqual(ws.sent, []);
    hub.close();
    passed("malformed hub frames are reported and ignored; unknown keys are ignored");
  }
  {
    FakeSocket.all = [];
    const { hub, errors, statuses, ws } = fakeHub();
    ws.accept();
    ws.hub({ hub: 1, id: "one" });
    hub.join("red");
    hub.join("blue");
    ws.answerRooms();
    await tick();
    const inFlight = hub.ask("pending", null, { timeout: 5000 });
    ws.drop();
    await assert.rejects(inFlight, /dropped before the reply/);
    assert.equal(hub.status, "disconnected");
    assert.equal(hub.id, null);
    hub.emit("while away", 1);
    const queuedAsk = hub.ask("queued", 2, { timeout: 5000 });
    const left = hub.leave("blue");
    await left; // resolves at once while disconnected
    hub.join("green");
    await waitFor("a second socket", () => FakeSocket.all.length === 2, 2000);
    const ws2 = FakeSocket.last();
    assert.equal(hub.status, "connecting");
    ws2.accept();
    ws2.hub({ hub: 1, id: "two" });
    const rejoins = ws2.frames();
    assert.deepEqual(rejoins.map((f) => f.join), ["red", "green"], "rejoins red and green, not blue");
    assert.equal(ws2.sent.length, 2, "nothing else before the rejoin is answered");
    ws2.answerRooms();
    await tick();
    assert.equal(hub.status, "connected");
    const after = ws2.frames(2);
    assert.deepEqual(after[0], { event: "while away", data: 1 });
    assert.equal(after[1].event, "queued");
    ws2.hub({ reply: after[1].ask, data: "ok" });
    assert.equal(await queuedAsk, "ok");
    assert.deepEqual(statuses, ["connected", "disconnected", "connecting", "connected"]);
    assert.deepEqual(hub.rooms, ["red", "green"]);
    assert.deepEqual(errors, []);
    hub.close();
    passed("a drop: sent asks reject, the rest queues; reconnect, rejoin, then the queue");
  }
  {
    FakeSocket.all = [];
    const { hub, errors } = fakeHub({ minDelay: 10, maxDelay: 40 });
    const times = [];
    for (let i = 0; i < 5; i++) {
      await waitFor(`attempt ${i + 2}`, () => FakeSocket.all.length === i + 1, 2000);
      times.push(Date.now());
      FakeSocket.last().drop();
    }
    await waitFor("attempt 6", () => FakeSocket.all.length === 6, 2000);
    times.push(Date.now());
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    assert.ok(gaps.every((g) => g >= 9 && g < 2000), `backoff gaps ${gaps}`);
    assert.ok(gaps[4] >= 25, `the backoff grows to maxDelay: ${gaps}`);
    // A refused subprotocol is an error, and the client tries again.
    FakeSocket.last().accept("");
    assert.match(errors.at(-1), /chose subprotocol ""/);
    assert.equal(FakeSocket.last().closedWith, 4000);
    await waitFor("attempt 7", () => FakeSocket.all.length === 7, 2000);
    // A welcome that never comes closes the socket after askTimeout.
    FakeSocket.last().accept();
    await waitFor("the welcome timeout", () => FakeSocket.last().closedWith === 4000, 2000);
    assert.match(errors.at(-1), /no welcome/);
    hub.close();
    const count = FakeSocket.all.length;
    await sleep(100);
    assert.equal(FakeSocket.all.length, count, "no reconnect after close()");
    assert.equal(hub.status, "disconnected");
    passed(`backoff between attempts ${gaps.join(", ")} ms; wrong subprotocol and missing welcome retried; none after close()`);
  }
  {
    FakeSocket.all = [];
    const { hub, errors, ws } = fakeHub({ maxQueue: 2 });
    const first = hub.ask("first", null, { timeout: 5000 });
    hub.emit("second");
    hub.emit("third");
    await assert.rejects(first, /queue is full/);
    hub.emit("fourth");
    assert.match(errors.at(-1), /queue is full/);
    ws.accept();
    ws.hub({ hub: 1, id: "q" });
    await tick();
    assert.deepEqual(ws.frames().map((f) => f.event), ["third", "fourth"]);
    const rejoin = hub.join("vip");
    ws.hub({ reply: ws.frames().at(-1).ask, error: "not invited" });
    await assert.rejects(rejoin, /joining "vip" was refused: not invited/);
    assert.deepEqual(hub.rooms, []);
    await assert.rejects(hub.join(""), RangeError);
    await assert.rejects(hub.join("x".repeat(257)), RangeError);
    const pendingJoin = hub.join("slow");
    hub.close();
    await assert.rejects(pendingJoin, /closed/);
    await assert.rejects(hub.ask("after"), /closed/);
    passed("the queue drops its oldest past maxQueue; refused and invalid joins reject; close() rejects what waits");
  }
  {
    FakeSocket.all = [];
    const { hub, ws } = fakeHub({ reconnect: false });
    ws.accept();
    ws.hub({ hub: 1, id: "once" });
    await tick();
    ws.drop();
    await sleep(60);
    assert.equal(FakeSocket.all.length, 1);
    assert.equal(hub.status, "disconnected");
    await assert.rejects(hub.ask("x"), /closed/);
    passed("reconnect: false stays disconnected after a drop");
  }
}

// ---- against the chat example -------------------------------------------------------------

function realWebSocket() {
  if (typeof globalThis.WebSocket === "function") return globalThis.WebSocket;
  return createRequire(import.meta.url)("ws"); // NODE_PATH has it (scripts/peers.sh)
}

function freePort() {
  return new Promise((ok, fail) => {
    const server = net.createServer();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

function startChat(binary, port) {
  return new Promise((ok, fail) => {
    const child = spawn(binary, ["--addr", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    const timer = setTimeout(() => { child.kill("SIGKILL"); fail(new Error(`the chat server did not start: ${out}`)); }, 20000);
    child.on("exit", (code) => { clearTimeout(timer); fail(new Error(`the chat server exited with ${code}: ${out}`)); });
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes(`chat: listening on http://127.0.0.1:${port}/`)) {
        clearTimeout(timer);
        ok(child);
      }
    });
  });
}

async function killChat(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((ok) => child.once("exit", ok));
  child.kill("SIGKILL");
  await gone;
}

async function chatTests(binary) {
  const port = await freePort();
  let server = await startChat(binary, port);
  const hubs = [];
  const open = (options = {}) => {
    const hub = connect(`ws://127.0.0.1:${port}/ws`, { WebSocket: realWebSocket(), minDelay: 100, maxDelay: 1000, ...options });
    hubs.push(hub);
    return hub;
  };
  try {
    const a = open();
    const b = open();
    const got = { a: [], b: [] };
    a.on("chat", (m) => got.a.push(m));
    b.on("chat", (m) => got.b.push(m));
    await Promise.all([a.join("red"), b.join("red")]);
    await waitFor("both connected", () => a.status === "connected" && b.status === "connected");
    assert.ok(a.id && b.id && a.id !== b.id, "each connection has its own id");
    const message = { room: "red", name: "a", text: `x ${RS}; "q" <b>` };
    a.emit("chat", message);
    await waitFor("the chat message in both", () => got.a.length === 1 && got.b.length === 1);
    assert.deepEqual(got.b[0], message);
    passed("chat server: two hubs in red; a chat event reached both, unchanged");

    await assert.rejects(a.ask("no such event", 1, { timeout: 5000 }), /no handler|unknown|not/i);
    passed("chat server: a request nobody handles gets an error reply");

    // The chat example has no native handler: it takes native messages, and ignores them.
    const statuses = [];
    a.onStatus((status) => statuses.push(status));
    a.send("native hello");
    a.send(`${RS}native starting with RS`);
    a.send(new Uint8Array([1, 2, 3]));
    a.emit("chat", { room: "red", name: "a", text: "after the native messages" });
    await waitFor("the chat after the native messages", () => got.b.some((m) => m.text === "after the native messages"));
    assert.deepEqual(statuses, [], "the connection stayed up");
    passed("chat server: native text (one starting with U+001E) and binary taken, the connection stays up");

    // Only members speak in a room.
    const c = open();
    const got_c = [];
    c.on("chat", (m) => got_c.push(m));
    await waitFor("c connected", () => c.status === "connected");
    c.emit("chat", { room: "red", name: "c", text: "not a member" });
    await c.join("blue");
    c.emit("chat", { room: "blue", name: "c", text: "member of blue" });
    await waitFor("c's own message in blue", () => got_c.length === 1);
    assert.equal(got_c[0].text, "member of blue");
    assert.ok(!got.a.concat(got.b).some((m) => m.name === "c"), "a non-member spoke in red");
    passed("chat server: a non-member's message to red is dropped; c hears itself in blue");

    await killChat(server);
    await waitFor("a to leave connected", () => a.status !== "connected");
    const queued = { room: "red", name: "a", text: "sent while the server was down" };
    a.emit("chat", queued);
    server = await startChat(binary, port);
    await waitFor("both to reconnect", () => a.status === "connected" && b.status === "connected", 20000);
    // a sends what it queued once it has rejoined red, so a hears it (b may rejoin later).
    await waitFor("the queued message after a's rejoin", () => got.a.some((m) => m.text === queued.text));
    b.emit("chat", { room: "red", name: "b", text: "b is back" });
    await waitFor("b's message in a and b", () => [got.a, got.b].every((g) => g.some((m) => m.text === "b is back")));
    passed("chat server: after a restart both reconnect and rejoin red; a's queued emit went out after its rejoin");
  } finally {
    for (const hub of hubs) hub.close();
    await killChat(server);
  }
}

try {
  await fakeTests();
  const chat = process.argv.indexOf("--chat");
  if (chat >= 0) await chatTests(process.argv[chat + 1]);
  passed("all passed");
  process.exit(0);
} catch (err) {
  console.error(`hub_node: FAILED: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
}
