//! A hub for [wsio]'s threaded server: connections with ids, rooms, broadcast, named
//! events with JSON payloads, request/reply, per-connection values, and a browser client
//! that the hub serves itself. iris's websocket package and neffos's `Ask`, for programs
//! that use threads.
//!
//! ```no_run
//! use serde::{Deserialize, Serialize};
//! use wsio::Server;
//! use wsio_hub::Hub;
//!
//! #[derive(Serialize, Deserialize)]
//! struct Chat {
//!     room: String,
//!     text: String,
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     let hub = Hub::builder()
//!         .on_connection(|conn| {
//!             let me = conn.clone();
//!             // Relays a member's message to its room; `to` encodes it once for all.
//!             conn.on("chat", move |chat: Chat| {
//!                 if me.is_joined(&chat.room) {
//!                     let _ = me.to(&chat.room).emit("chat", &chat);
//!                 }
//!             });
//!             conn.on_disconnect(|why| eprintln!("gone: {why}"));
//!         })
//!         .build();
//!     let server = hub.serve(Server::builder().bind("127.0.0.1:8080")?)?;
//!     // Clients join rooms themselves (the browser client's `join`); stop with
//!     // `server.handle().shutdown(grace)`.
//!     server.wait();
//!     Ok(())
//! }
//! ```
//!
//! # Connections and rooms
//!
//! Each client gets a [`Connection`] with an id (random and unguessable unless you give an
//! [`id_generator`](HubBuilder::id_generator)). Every connection is alone in the room of its
//! id, so `hub.to(id)` sends to one connection; other rooms are joined and left by the
//! application ([`Connection::join`], [`Hub::join`]) or by the client (allowed by
//! [`check_join`](HubBuilder::check_join)). [`Hub::members`] lists a room,
//! [`Hub::connections`] everyone.
//!
//! # Events, native messages and requests
//!
//! Hub events are named and carry JSON ([`Connection::emit`], [`Connection::on`]); native
//! messages pass through untouched ([`Connection::text`], [`Connection::binary`],
//! [`Connection::on_native`]). Either end can ask and wait for the answer
//! ([`Connection::ask`], [`Connection::answer`]). The wire format is in [`protocol`]: a
//! client in any language can speak it.
//!
//! # Delivery
//!
//! Sending never waits for a client: a message to a room or to everyone ([`Emitter`]) is
//! encoded once ([`wsio::PreparedMessage`]; with permessage-deflate, compressed once per
//! parameter set) and pushed onto each receiver's bounded queue, which a writer thread of
//! its own drains. A client whose queue fills up reads slower than the hub sends: it is
//! dropped with close 1008 and counted ([`HubBuilder::queue_limit`], [`HubStats::too_slow`]).
//!
//! # Threads
//!
//! A connection's handlers run on its reading thread (the server's thread for it), one at a
//! time, in the order messages came; a second thread writes. [`Connection`], [`Hub`] and
//! [`Emitter`] can be used from any thread. The disconnect callback runs exactly once,
//! whatever ended the connection: the client's close, a network failure, a malformed
//! message, [`Connection::disconnect`], a full queue, a panicking handler, or the server's
//! shutdown.
//!
//! # Across processes
//!
//! With an [`Exchange`] ([`HubBuilder::exchange`]; [`RedisExchange`] with the `redis`
//! feature), hubs in several processes form one: messages to rooms and to everyone,
//! disconnects, joins and leaves by id, and [`Hub::ask`] reach connections wherever they
//! are. Each process encodes a message once and publishes it once; each other process
//! delivers it once to each of its receivers. If the exchange's engine goes away, local
//! delivery goes on and what was lost is counted ([`HubStats::exchange_dropped`],
//! [`HubStats::exchange_missed`]). Listing a room ([`Hub::members`]) and the connection
//! count stay per process.
//!
//! # The browser client
//!
//! The hub serves a dependency-free ES module at `/wsio-hub.js` ([`CLIENT_JS`]) and its
//! TypeScript declarations at `/wsio-hub.d.ts`: `connect(url)`, `on`, `emit`, `ask`,
//! `join`, `leave`, native messages, and reconnection with backoff that rejoins its rooms.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod connection;
mod core;
mod error;
pub mod exchange;
mod hub;
pub mod protocol;
mod queue;
#[cfg(feature = "redis")]
pub mod redis;
mod remote;
mod serve;
mod shared;

#[cfg(feature = "redis")]
pub use crate::redis::RedisExchange;
pub use connection::Connection;
pub use core::{Emitter, ID_MARK};
pub use error::{Disconnected, HubError, Malformed};
pub use exchange::{Exchange, ExchangeStats, Inbox};
pub use hub::{
    DEFAULT_MAX_ROOMS, DEFAULT_QUEUE_BYTES, DEFAULT_QUEUE_MESSAGES, DEFAULT_WRITE_TIMEOUT,
    DEFAULT_WRITER_STACK_SIZE, Hub, HubBuilder, HubStats,
};
pub use serve::{CLIENT_JS, CLIENT_TS};
