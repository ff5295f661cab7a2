// wsio-hub.js: the browser (and Node >= 22) client of the wsio hub, wire protocol version 1
// (wsio-hub/PROTOCOL.md). A dependency-free ES module:
//
//     import { connect } from "/wsio-hub.js";
//     const hub = connect("wss://example.com/ws");
//     hub.on("chat", (msg) => console.log(msg));
//     await hub.join("lobby");
//     hub.emit("chat", { text: "hello" });
//     const time = await hub.ask("time");
//
// Types and documentation: wsio-hub.d.ts.

/** The subprotocol this client offers, always, and needs the hub to choose. */
export const SUBPROTOCOL = "wsio-hub.1";

const RS = "\u001e"; // starts every hub frame
const OPEN = 1; // WebSocket.OPEN
const KINDS = ["hub", "event", "reply", "join", "leave", "text"];
const MAX_ROOM_BYTES = 256;

const DEFAULTS = {
  reconnect: true,
  minDelay: 250,
  maxDelay: 10000,
  askTimeout: 10000,
  protocols: [],
  maxQueue: 1000,
  WebSocket: undefined,
};

/**
 * Opens a hub connection to `url` (ws:// or wss://) and returns its {@link Hub}. The
 * connection is made at once and remade after every drop unless `reconnect` is false.
 */
export function connect(url, options = {}) {
  return new Hub(url, options);
}

/** A hub connection that reconnects, rejoins its rooms and queues what is sent meanwhile. */
export class Hub {
  #url;
  #opts;
  #WebSocket;
  #ws = null; // the current socket, or null between attempts
  #welcomed = false; // the welcome arrived on #ws
  #ready = false; // welcomed and rooms rejoined: frames go out directly
  #status = "disconnected";
  #id = null;
  #closed = false; // close() was called, or the connection dropped for good
  #attempt = 0; // failed attempts since the last successful connect
  #retryTimer = null;
  #welcomeTimer = null;
  #lastAsk = 0;
  #pending = new Map(); // ask number -> entry (see #track)
  #queue = []; // {frame, ask} waiting for the connection
  #rooms = new Set();
  #roomWaiters = new Map(); // room -> [{resolve, reject, timer}]
  #handlers = new Map(); // event name -> fn
  #native = new Set();
  #statusListeners = new Set();
  #errorListeners = new Set();

  constructor(url, options = {}) {
    const opts = { ...DEFAULTS, ...options };
    opts.protocols = Array.isArray(opts.protocols) ? opts.protocols : [opts.protocols];
    if (!(opts.minDelay >= 0) || !(opts.maxDelay >= opts.minDelay)) {
      throw new RangeError("wsio-hub: need 0 <= minDelay <= maxDelay");
    }
    this.#WebSocket = opts.WebSocket || globalThis.WebSocket;
    if (typeof this.#WebSocket !== "function") {
      throw new TypeError("wsio-hub: no WebSocket here; pass options.WebSocket");
    }
    this.#url = String(url);
    this.#opts = opts;
    this.#open(true);
  }

  /** "connecting", "connected" or "disconnected". */
  get status() {
    return this.#status;
  }

  /** The connection's id from the hub's welcome; null until the welcome arrives. */
  get id() {
    return this.#id;
  }

  /** The rooms joined (or being joined), which are rejoined after every reconnect. */
  get rooms() {
    return [...this.#rooms];
  }

  /** The URL this hub connects to. */
  get url() {
    return this.#url;
  }

  // ---- events and requests --------------------------------------------------------------

  on(event, fn) {
    checkName(event);
    if (typeof fn !== "function") throw new TypeError("wsio-hub: on() needs a function");
    this.#handlers.set(event, fn);
    return this;
  }

  off(event, fn) {
    if (fn === undefined || this.#handlers.get(event) === fn) this.#handlers.delete(event);
    return this;
  }

  emit(event, data = null) {
    checkName(event);
    this.#sendOrQueue(encode({ event, data: orNull(data) }));
  }

  ask(event, data = null, { timeout = this.#opts.askTimeout } = {}) {
    return new Promise((resolve, reject) => {
      checkName(event);
      const n = this.#nextAsk();
      const frame = encode({ event, data: orNull(data), ask: n });
      this.#track(n, timeout, {
        reply: resolve,
        refuse: (text) => reject(new Error(text)),
        drop: reject,
        timeout: () => reject(new Error(`wsio-hub: no reply to "${event}" within ${timeout} ms`)),
      });
      this.#sendOrQueue(frame, n);
    });
  }

  // ---- rooms ----------------------------------------------------------------------------

  join(room) {
    try {
      checkRoom(room);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#closed) return Promise.reject(new Error("wsio-hub: the hub is closed"));
    this.#rooms.add(room);
    const joined = new Promise((resolve, reject) => {
      const waiter = { resolve, reject, timer: null };
      const timeout = this.#opts.askTimeout;
      if (timeout > 0 && Number.isFinite(timeout)) {
        waiter.timer = setTimeout(() => {
          this.#removeWaiter(room, waiter);
          reject(new Error(`wsio-hub: joining "${room}" took more than ${timeout} ms`));
        }, timeout);
      }
      const list = this.#roomWaiters.get(room) || [];
      list.push(waiter);
      this.#roomWaiters.set(room, list);
    });
    // Before the welcome, the rejoin that follows it joins every room in #rooms.
    if (this.#welcomed) this.#sendJoin(room);
    return joined;
  }

  leave(room) {
    try {
      checkRoom(room);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#rooms.delete(room);
    this.#settleWaiters(room, new Error(`wsio-hub: left "${room}" before it was joined`));
    // A connection that has not been welcomed yet is in no room: nothing to say.
    if (!this.#welcomed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const n = this.#nextAsk();
      this.#track(n, this.#opts.askTimeout, {
        reply: () => resolve(),
        refuse: (text) => reject(new Error(text)),
        drop: () => resolve(), // the next connection does not rejoin it
        timeout: () => reject(new Error(`wsio-hub: no reply to leaving "${room}"`)),
      });
      this.#sendNow(encode({ leave: room, ask: n }), n);
    });
  }

  // ---- native messages, listeners, close --------------------------------------------------

  send(data) {
    if (typeof data === "string") {
      // A native text that starts with U+001E would read as a hub frame: wrap it.
      this.#sendOrQueue(data.startsWith(RS) ? encode({ text: data }) : data);
    } else if (data instanceof ArrayBuffer) {
      this.#sendOrQueue(data.slice(0));
    } else if (ArrayBuffer.isView(data)) {
      this.#sendOrQueue(new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice());
    } else if (typeof Blob === "function" && data instanceof Blob) {
      this.#sendOrQueue(data);
    } else {
      throw new TypeError("wsio-hub: send() takes a string, an ArrayBuffer or a typed array");
    }
  }

  onNative(fn) {
    return listen(this.#native, fn);
  }

  onStatus(fn) {
    return listen(this.#statusListeners, fn);
  }

  onError(fn) {
    return listen(this.#errorListeners, fn);
  }

  close() {
    if (this.#closed) return;
    const ws = this.#ws;
    this.#shutdown(new Error("wsio-hub: the hub was closed"));
    if (ws) {
      try {
        ws.close(1000);
      } catch {
        // already closed
      }
    }
  }

  // ---- the connection ---------------------------------------------------------------------

  #open(first = false) {
    this.#retryTimer = null;
    this.#setStatus("connecting");
    const protocols = [SUBPROTOCOL, ...this.#opts.protocols.filter((p) => p !== SUBPROTOCOL)];
    let ws;
    try {
      ws = new this.#WebSocket(this.#url, protocols);
    } catch (err) {
      if (first) throw err; // a bad URL or protocol: tell the caller of connect()
      this.#report(err);
      this.#dropped(null);
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    this.#welcomed = false;
    this.#ready = false;
    ws.onopen = () => {
      if (ws.protocol !== SUBPROTOCOL) {
        this.#report(new Error(`wsio-hub: the server chose subprotocol "${ws.protocol}", not ${SUBPROTOCOL}`));
        this.#abandon(ws, 4000, "wsio-hub.1 expected");
        return;
      }
      this.#welcomeTimer = this.#timeout(() => {
        this.#report(new Error("wsio-hub: no welcome from the hub"));
        this.#abandon(ws, 4000, "no welcome");
      });
    };
    ws.onmessage = (event) => this.#received(ws, event.data);
    ws.onerror = () => this.#abandon(ws);
    ws.onclose = () => this.#abandon(ws);
  }

  // Gives up on `ws` (closing it with `code` if given) and handles the drop.
  #abandon(ws, code, reason) {
    if (ws !== this.#ws) return;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    if (code !== undefined) {
      try {
        ws.close(code, reason);
      } catch {
        // closing already
      }
    } else if (ws.readyState === OPEN) {
      try {
        ws.close(1000);
      } catch {
        // closing already
      }
    }
    this.#dropped(ws);
  }

  #dropped(ws) {
    clearTimeout(this.#welcomeTimer);
    this.#ws = null;
    this.#welcomed = false;
    this.#ready = false;
    this.#id = null;
    // Requests sent on this socket will never be answered; queued ones wait for the next.
    for (const [n, entry] of this.#pending) {
      if (entry.sentOn !== null && entry.sentOn === ws) {
        this.#untrack(n);
        entry.drop(new Error("wsio-hub: the connection dropped before the reply"));
      }
    }
    if (this.#closed) return;
    if (!this.#opts.reconnect) {
      this.#shutdown(new Error("wsio-hub: the connection dropped"));
      return;
    }
    this.#setStatus("disconnected");
    const { minDelay, maxDelay } = this.#opts;
    const base = Math.min(maxDelay, minDelay * 2 ** Math.min(this.#attempt, 40));
    const delay = Math.min(maxDelay, Math.max(minDelay, base * (0.75 + Math.random() * 0.5)));
    this.#attempt++;
    this.#retryTimer = setTimeout(() => this.#open(), delay);
  }

  // Stops for good: nothing pending or queued survives.
  #shutdown(err) {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#welcomeTimer);
    if (this.#ws) this.#ws.onopen = this.#ws.onmessage = this.#ws.onerror = this.#ws.onclose = null;
    this.#ws = null;
    this.#welcomed = false;
    this.#ready = false;
    this.#id = null;
    for (const [n, entry] of this.#pending) {
      this.#untrack(n);
      entry.drop(err);
    }
    this.#queue = [];
    for (const room of [...this.#roomWaiters.keys()]) this.#settleWaiters(room, err);
    this.#setStatus("disconnected");
  }

  #welcome(ws, id) {
    clearTimeout(this.#welcomeTimer);
    this.#welcomed = true;
    this.#id = id;
    this.#rejoin(ws);
  }

  async #rejoin(ws) {
    const outcomes = await Promise.all([...this.#rooms].map((room) => this.#sendJoin(room)));
    if (ws !== this.#ws) return; // dropped meanwhile
    if (outcomes.includes("timeout")) {
      this.#report(new Error("wsio-hub: the hub did not answer a join"));
      this.#abandon(ws, 4000, "join unanswered");
      return;
    }
    this.#attempt = 0;
    this.#ready = true;
    // What was queued goes first, then status listeners may send more.
    while (this.#queue.length && ws.readyState === OPEN) {
      const { frame, ask } = this.#queue.shift();
      this.#transmit(ws, frame, ask);
    }
    this.#setStatus("connected");
  }

  // Sends {join: room, ask} now; resolves with "ok", "refused", "timeout" or "dropped".
  #sendJoin(room) {
    return new Promise((done) => {
      const n = this.#nextAsk();
      this.#track(n, this.#opts.askTimeout, {
        reply: () => {
          this.#settleWaiters(room, null);
          done("ok");
        },
        refuse: (text) => {
          this.#rooms.delete(room);
          const err = new Error(`wsio-hub: joining "${room}" was refused: ${text}`);
          if (!this.#settleWaiters(room, err)) this.#report(err);
          done("refused");
        },
        drop: () => done("dropped"),
        timeout: () => done("timeout"),
      });
      this.#sendNow(encode({ join: room, ask: n }), n);
    });
  }

  // ---- sending ----------------------------------------------------------------------------

  #sendOrQueue(frame, ask) {
    const ws = this.#ws;
    if (this.#ready && ws && ws.readyState === OPEN) {
      this.#transmit(ws, frame, ask);
      return;
    }
    if (this.#closed) {
      if (ask !== undefined) this.#fail(ask, new Error("wsio-hub: the hub is closed"));
      return;
    }
    this.#queue.push({ frame, ask });
    if (this.#queue.length > this.#opts.maxQueue) {
      const dropped = this.#queue.shift();
      const err = new Error("wsio-hub: the send queue is full; its oldest message was dropped");
      if (dropped.ask !== undefined) this.#fail(dropped.ask, err);
      else this.#report(err);
    }
  }

  // Sends a frame that must go on this connection, before the rejoin is over (joins, leaves).
  #sendNow(frame, ask) {
    const ws = this.#ws;
    if (this.#welcomed && ws && ws.readyState === OPEN) this.#transmit(ws, frame, ask);
    else this.#fail(ask, new Error("wsio-hub: not connected"));
  }

  #transmit(ws, frame, ask) {
    if (ask !== undefined) {
      const entry = this.#pending.get(ask);
      if (!entry) return; // timed out while queued
      entry.sentOn = ws;
    }
    ws.send(frame);
  }

  // ---- requests ---------------------------------------------------------------------------

  #nextAsk() {
    this.#lastAsk = this.#lastAsk >= Number.MAX_SAFE_INTEGER ? 1 : this.#lastAsk + 1;
    return this.#lastAsk;
  }

  // entry: {reply(data), refuse(text), drop(err), timeout()}
  #track(n, timeout, entry) {
    entry.sentOn = null;
    entry.timer = null;
    if (timeout > 0 && Number.isFinite(timeout)) {
      entry.timer = setTimeout(() => {
        this.#untrack(n);
        this.#queue = this.#queue.filter((item) => item.ask !== n);
        entry.timeout();
      }, timeout);
    }
    this.#pending.set(n, entry);
  }

  #untrack(n) {
    const entry = this.#pending.get(n);
    if (!entry) return null;
    clearTimeout(entry.timer);
    this.#pending.delete(n);
    return entry;
  }

  // A request that will not be sent: its entry learns through drop().
  #fail(n, err) {
    const entry = this.#untrack(n);
    if (entry) entry.drop(err);
  }

  #removeWaiter(room, waiter) {
    const list = this.#roomWaiters.get(room);
    if (!list) return;
    const i = list.indexOf(waiter);
    if (i >= 0) list.splice(i, 1);
    if (!list.length) this.#roomWaiters.delete(room);
  }

  // Resolves (err null) or rejects everyone waiting to be in `room`; false if nobody was.
  #settleWaiters(room, err) {
    const list = this.#roomWaiters.get(room);
    this.#roomWaiters.delete(room);
    if (!list || !list.length) return false;
    for (const waiter of list) {
      clearTimeout(waiter.timer);
      if (err) waiter.reject(err);
      else waiter.resolve();
    }
    return true;
  }

  // ---- receiving --------------------------------------------------------------------------

  #received(ws, data) {
    if (ws !== this.#ws) return;
    if (typeof data !== "string" || !data.startsWith(RS)) {
      this.#deliverNative(data);
      return;
    }
    let frame;
    try {
      frame = JSON.parse(data.slice(1));
    } catch (err) {
      this.#malformed(data, `not JSON (${err.message})`);
      return;
    }
    if (frame === null || typeof frame !== "object" || Array.isArray(frame)) {
      this.#malformed(data, "not a JSON object");
      return;
    }
    const kinds = KINDS.filter((key) => Object.hasOwn(frame, key));
    if (kinds.length !== 1) {
      this.#malformed(data, kinds.length ? `several of ${kinds.join(", ")}` : "no known key");
      return;
    }
    switch (kinds[0]) {
      case "hub":
        if (frame.hub !== 1 || typeof frame.id !== "string") {
          this.#malformed(data, "a welcome needs hub 1 and a string id");
        } else if (this.#welcomed) {
          this.#malformed(data, "a second welcome");
        } else {
          this.#welcome(ws, frame.id);
        }
        return;
      case "event": {
        const hasAsk = Object.hasOwn(frame, "ask");
        if (typeof frame.event !== "string" || (hasAsk && !isAskNumber(frame.ask))) {
          this.#malformed(data, "an event needs a string name and an integer ask");
          return;
        }
        const payload = Object.hasOwn(frame, "data") ? frame.data : null;
        this.#dispatch(ws, frame.event, payload, hasAsk ? frame.ask : undefined);
        return;
      }
      case "reply": {
        const hasError = Object.hasOwn(frame, "error");
        if (!isAskNumber(frame.reply) || (hasError && typeof frame.error !== "string")) {
          this.#malformed(data, "a reply needs an integer reply and a string error");
          return;
        }
        const entry = this.#pending.get(frame.reply);
        // Ignored unless pending, and answered on the socket it was asked on.
        if (!entry || entry.sentOn !== ws) return;
        this.#untrack(frame.reply);
        if (hasError) entry.refuse(frame.error);
        else entry.reply(Object.hasOwn(frame, "data") ? frame.data : null);
        return;
      }
      case "text":
        if (typeof frame.text !== "string") this.#malformed(data, "text must be a string");
        else this.#deliverNative(frame.text);
        return;
      default:
        this.#malformed(data, `"${kinds[0]}" goes from client to hub only`);
    }
  }

  #dispatch(ws, event, data, ask) {
    const fn = this.#handlers.get(event);
    if (ask === undefined) {
      if (!fn) return;
      try {
        const result = fn(data);
        if (result && typeof result.then === "function") result.then(undefined, (err) => this.#report(err));
      } catch (err) {
        this.#report(err);
      }
      return;
    }
    if (!fn) {
      this.#answer(ws, { reply: ask, error: `no handler for event ${event}` });
      return;
    }
    let result;
    try {
      result = fn(data);
    } catch (err) {
      this.#answer(ws, { reply: ask, error: errorText(err) });
      return;
    }
    Promise.resolve(result).then(
      (value) => this.#answer(ws, { reply: ask, data: orNull(value) }),
      (err) => this.#answer(ws, { reply: ask, error: errorText(err) }),
    );
  }

  // A reply goes on the connection that asked, or nowhere: ask numbers are per connection.
  #answer(ws, reply) {
    if (ws !== this.#ws || ws.readyState !== OPEN) return;
    let frame;
    try {
      frame = encode(reply);
    } catch (err) {
      frame = encode({ reply: reply.reply, error: `the reply is not JSON: ${errorText(err)}` });
    }
    ws.send(frame);
  }

  #deliverNative(data) {
    for (const fn of [...this.#native]) {
      try {
        fn(data);
      } catch (err) {
        this.#report(err);
      }
    }
  }

  // ---- status and errors ------------------------------------------------------------------

  #setStatus(status) {
    if (status === this.#status) return;
    this.#status = status;
    for (const fn of [...this.#statusListeners]) {
      try {
        fn(status);
      } catch (err) {
        this.#report(err);
      }
    }
  }

  #malformed(data, why) {
    const shown = data.length > 200 ? `${data.slice(0, 200)}…` : data;
    this.#report(new Error(`wsio-hub: ignored a malformed hub frame (${why}): ${JSON.stringify(shown)}`));
  }

  #report(err) {
    const error = err instanceof Error ? err : new Error(errorText(err));
    if (!this.#errorListeners.size) {
      if (typeof console !== "undefined") console.warn(error);
      return;
    }
    for (const fn of [...this.#errorListeners]) {
      try {
        fn(error);
      } catch {
        // an error listener's own error goes nowhere
      }
    }
  }

  #timeout(fn) {
    const ms = this.#opts.askTimeout;
    return ms > 0 && Number.isFinite(ms) ? setTimeout(fn, ms) : null;
  }
}

function encode(frame) {
  return RS + JSON.stringify(frame);
}

function orNull(value) {
  return value === undefined ? null : value;
}

function errorText(err) {
  return String((err && err.message) || err);
}

function isAskNumber(n) {
  return Number.isSafeInteger(n) && n >= 0;
}

function checkName(event) {
  if (typeof event !== "string") throw new TypeError("wsio-hub: an event name is a string");
}

function checkRoom(room) {
  if (typeof room !== "string") throw new TypeError("wsio-hub: a room name is a string");
  const bytes = new TextEncoder().encode(room).length;
  if (bytes < 1 || bytes > MAX_ROOM_BYTES || (room.isWellFormed && !room.isWellFormed())) {
    throw new RangeError("wsio-hub: a room name is 1 to 256 bytes of well-formed UTF-8");
  }
}

function listen(set, fn) {
  if (typeof fn !== "function") throw new TypeError("wsio-hub: a listener is a function");
  set.add(fn);
  return () => set.delete(fn);
}
