// Types for wsio-hub.js, the browser (and Node >= 22) client of the wsio hub, wire protocol
// version 1 (wsio-hub/PROTOCOL.md).

/** The subprotocol the client always offers, and needs the hub to choose. */
export declare const SUBPROTOCOL: "wsio-hub.1";

/** Where a hub connection stands. */
export type HubStatus = "connecting" | "connected" | "disconnected";

/** Any value `JSON.stringify` encodes. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A WebSocket constructor: the global one, or a compatible one such as Node's `ws`. */
export interface WebSocketConstructor {
  new (url: string, protocols?: string | string[]): WebSocket;
}

export interface HubOptions {
  /** Reconnect after the connection drops, until `close()`. Default true. */
  reconnect?: boolean;
  /** The first wait before reconnecting, in ms; it doubles after every failed attempt. Default 250. */
  minDelay?: number;
  /** The longest wait before reconnecting, in ms. Default 10000. */
  maxDelay?: number;
  /**
   * How long `ask()`, `join()` and `leave()` wait for their reply, and the connection for
   * the hub's welcome, in ms; 0 or Infinity waits forever. Default 10000.
   */
  askTimeout?: number;
  /** Subprotocols offered after `wsio-hub.1`, which is always offered first. Default []. */
  protocols?: string | string[];
  /**
   * How many messages (emits, asks, native messages) wait while disconnected; past it the
   * oldest is dropped (a dropped ask rejects). Default 1000.
   */
  maxQueue?: number;
  /** The WebSocket constructor to use. Default: `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
}

export interface AskOptions {
  /** How long to wait for the reply, in ms; 0 or Infinity waits forever. Default: `askTimeout`. */
  timeout?: number;
}

/**
 * A handler for a named event. It gets the event's decoded `data` (`null` if the sender left
 * it out). When the event arrives as a request, its return value (or what its promise
 * resolves to) is the reply's `data`; a throw or a rejection is an `error` reply with the
 * error's message.
 */
export type EventHandler<T = any, R = any> = (data: T) => R | Promise<R>;

/** Removes the listener it was returned for. */
export type Unsubscribe = () => boolean;

/**
 * Connects to a hub at `url` (`ws://` or `wss://`) at once and returns the connection. It
 * throws only what the WebSocket constructor throws for a bad URL or subprotocol.
 */
export declare function connect(url: string | URL, options?: HubOptions): Hub;

/**
 * A hub connection. It offers the subprotocol `wsio-hub.1`, and counts as `connected` once
 * the hub's welcome arrived and every remembered room was rejoined. When the connection
 * drops it reconnects with exponential backoff (`minDelay` doubling to `maxDelay`, with
 * jitter; back to `minDelay` after a successful connect), rejoins its rooms, and then sends
 * what was queued while it was away, in order.
 */
export declare class Hub {
  constructor(url: string | URL, options?: HubOptions);

  /** `connecting`, `connected` or `disconnected` (between attempts, and after `close()`). */
  readonly status: HubStatus;
  /** This connection's id, from the hub's welcome; null before it. A new connection gets a new id. */
  readonly id: string | null;
  /** The rooms joined or being joined, in the order they were joined; rejoined after a reconnect. */
  readonly rooms: string[];
  /** The URL connected to. */
  readonly url: string;

  /**
   * Sets the handler for the event `event`, replacing any earlier one (there is one per
   * event, since a request gets one reply). A request for an event without a handler is
   * answered with the error `no handler for event NAME`.
   */
  on<T = any, R = any>(event: string, fn: EventHandler<T, R>): this;
  /** Removes the handler for `event` (only if it is `fn`, when given). */
  off(event: string, fn?: EventHandler): this;

  /**
   * Sends the event `event` with `data` (encoded with `JSON.stringify`; `undefined` is sent
   * as `null`). While not connected it is queued, and sent after the reconnect and rejoin.
   * Throws a TypeError for a name that is not a string, and what `JSON.stringify` throws.
   * After `close()` it is dropped.
   */
  emit(event: string, data?: unknown): void;

  /**
   * Sends the event `event` as a request and resolves with the reply's `data`. Rejects with
   * an Error on an `error` reply (its message is the error text), when no reply comes within
   * the timeout, when the connection drops after the request went out and before the reply,
   * and after `close()`. While not connected the request is queued (its timeout runs).
   */
  ask<R = any>(event: string, data?: unknown, options?: AskOptions): Promise<R>;

  /**
   * Joins `room` (1 to 256 bytes of UTF-8) and remembers it, to rejoin it after every
   * reconnect. Resolves once the hub says the connection is in the room (while disconnected:
   * after the next connect). Rejects if the hub refuses (the room is then forgotten), after
   * `askTimeout` (the room is still remembered; `leave()` forgets it), or after `close()`.
   */
  join(room: string): Promise<void>;

  /**
   * Leaves `room` and forgets it. Resolves when the hub answers (at once while disconnected:
   * a new connection is in no room); rejects on an `error` reply or a timeout. A `join()` of
   * the room still waiting rejects.
   */
  leave(room: string): Promise<void>;

  /**
   * Sends a native message: a string as text, an ArrayBuffer, typed array, DataView or Blob
   * as binary. A text that starts with U+001E travels as the hub frame `{"text": ...}`,
   * which the hub delivers as that native text. Queued while not connected, like `emit`.
   */
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): void;

  /**
   * Calls `fn` with every native message that arrives: a string for text (including those
   * that came as `{"text": ...}` hub frames), an ArrayBuffer for binary.
   */
  onNative(fn: (data: string | ArrayBuffer) => void): Unsubscribe;

  /** Calls `fn` with the new status whenever it changes (not with the current one). */
  onStatus(fn: (status: HubStatus) => void): Unsubscribe;

  /**
   * Calls `fn` with what went wrong without failing a call: a malformed hub frame from the
   * server (ignored), a handler or listener that threw, a refused rejoin, a dropped queued
   * message, a server that did not choose `wsio-hub.1` or sent no welcome. Without any such
   * listener these go to `console.warn`.
   */
  onError(fn: (error: Error) => void): Unsubscribe;

  /**
   * Closes the connection with code 1000 and stops reconnecting. Pending requests and joins
   * reject, queued messages are dropped, and the status becomes `disconnected` for good.
   */
  close(): void;
}
