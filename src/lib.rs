//! wsio: WebSocket (RFC 6455) for threads and blocking I/O, over any `Read + Write` stream.
//!
//! gorilla/websocket's API in Rust idiom: a [`Conn`] per connection with streaming
//! [`next_reader`](Conn::next_reader)/[`next_writer`](Conn::next_writer), whole-message
//! [`read_message`](Conn::read_message)/[`write_message`](Conn::write_message), replaceable
//! control-frame handlers, a graceful [`close`](Conn::close), limits in one [`Config`], a
//! server [`Upgrader`] and a client [`Dialer`].
//!
//! # Overview
//!
//! A [`Server`] accepts connections and upgrades and serves each on a thread of its own (the
//! handshake too: a silent client holds up nobody else), logging what goes wrong:
//!
#![doc = concat!("```no_run\n", include_str!("../examples/server.rs"), "```")]
//!
//! A client dials and talks:
//!
//! ```no_run
//! use wsio::{CloseCode, Dialer, Message};
//!
//! let (mut conn, _response) = Dialer::new().dial("ws://127.0.0.1:9001/")?;
//! conn.write_text("hello")?;
//! assert_eq!(conn.read_message()?, Message::Text("hello".into()));
//! conn.close(CloseCode::NORMAL, "bye")?;
//! # Ok::<(), wsio::Error>(())
//! ```
//!
//! # Messages
//!
//! A message is text (UTF-8) or binary. [`Conn::read_message`] returns a whole [`Message`];
//! [`Conn::read_message_into`] reuses the caller's buffer. [`Conn::next_reader`] returns a
//! [`MessageReader`] that implements `Read` and delivers payload as it arrives, so a message of
//! any size streams through a fixed buffer; [`Conn::next_writer`] returns a [`MessageWriter`]
//! that implements `Write` and must be [`finish`](MessageWriter::finish)ed. Voss-style
//! conveniences: [`Conn::read_text`] with a length limit, [`Conn::read_binary`] into a slice
//! (both report a too-long or wrong-kind message and stay usable), [`Conn::write_text`],
//! [`Conn::write_binary`]. With the `serde` feature, `Conn::write_json` and
//! `Conn::read_json`.
//!
//! Incoming text is checked as it arrives: an invalid byte fails the connection (close 1007)
//! at once, even in the middle of a frame; a character split across frames is fine.
//!
//! # Control frames
//!
//! Reads handle control frames as they come, also between the frames of a message. A ping
//! is answered with a pong carrying its payload; replace that with
//! [`Conn::set_ping_handler`]. Pongs go to [`Conn::set_pong_handler`] (default: ignored).
//! Send your own with [`Conn::write_ping`] and [`Conn::write_pong`].
//!
//! # Closing
//!
//! When the peer sends a close frame, the read that meets it answers it (by default with the
//! same code and reason; see [`Conn::set_close_handler`]) and returns [`Error::Closed`] with
//! the peer's [`CloseStatus`]. [`Conn::close`] starts the handshake from this side: it sends a
//! close frame, waits up to [`Config::close_timeout`] for the peer's, discarding data, shuts
//! the stream down and returns the status. [`Conn::send_close`] only sends the close frame
//! (gorilla's `WriteControl(CloseMessage, ..)`); the reads that follow return the peer's
//! answer as [`Error::Closed`]. [`Conn::close_status`] tells afterwards how the connection
//! ended and who closed first. Close codes are [`CloseCode`]s; 1005, 1006 and
//! 1015 are never sent, and reasons are at most 123 bytes.
//!
//! # Errors and limits
//!
//! Every operation returns [`Error`], which says what happened. A peer that breaks the
//! protocol gets a close frame with the right code (1002 protocol error, 1007 bad UTF-8,
//! 1009 too big) and the application gets [`Error::Protocol`] or [`Error::Capacity`]; such
//! errors are sticky: the connection is failed and every later call repeats them. Limits live
//! in [`Config`], with defaults safe for a server on the internet: frames up to 16 MiB,
//! messages up to 64 MiB (checked against the declared length before anything is allocated),
//! a 16 KiB, 64-header handshake within 10 seconds.
//!
//! # Buffers
//!
//! A connection holds a 4 KiB read buffer and a 4 KiB write buffer, each allocated on first
//! use; an idle connection costs a few KiB of heap, where tungstenite reserves 128 KiB.
//! Large payloads bypass the buffers: reads land directly in the caller's memory, a server
//! writes header and payload with one vectored write. By default every message is written
//! out before `write_message` returns ([`FlushPolicy::Immediate`]); with
//! [`FlushPolicy::Batched`] frames collect until the buffer fills, [`Conn::flush`] is
//! called, or the connection is about to block reading, which turns an echo loop's many small
//! writes into one.
//!
//! # Compression
//!
//! permessage-deflate (RFC 7692) is complete in both roles: context takeover in either
//! direction or neither, window bits 8 to 15, several offers per header. It is off until
//! [`ConfigBuilder::deflate`] turns it on with a [`DeflateConfig`], whose docs give the
//! memory cost per connection and the handling of 8-bit windows. Compressed messages are
//! inflated as they are read, in steps bounded by the caller's buffer, and the message
//! limit counts inflated bytes, so a deflate bomb stops at the limit with close 1009.
//! Messages shorter than [`DeflateConfig::threshold`] go uncompressed;
//! [`Conn::set_write_compression`] and [`Conn::set_compression_level`] change the
//! following messages; [`Conn::compression`] tells what was agreed.
//!
//! # Origin and subprotocols
//!
//! [`Upgrader`] refuses cross-origin browser requests by default (gorilla's same-origin
//! rule); replace the rule with [`Upgrader::check_origin`] or
//! [`Upgrader::allow_any_origin`]. Subprotocols are negotiated from
//! [`Upgrader::subprotocols`], in the server's order of preference unless
//! [`Upgrader::subprotocol_order`] says the client's. [`Upgrader::check_request`] sees every
//! request and may refuse it with any status or add response headers.
//!
//! # Streams
//!
//! `Conn` needs only `Read + Write`. The handshakes take a [`Stream`], which adds timeouts,
//! shutdown and addresses so that a silent peer cannot hold a thread past a configured
//! time; it is implemented for `TcpStream`, `UnixStream` and, with the `testing` feature,
//! `testing::PipeEnd` (an in-memory pipe that injects faults, for your own tests), and a
//! one-line `impl wsio::Stream for MyStream {}` admits any other stream (without timeouts).
//!
//! A stream that returns `WouldBlock` (a non-blocking socket, or one with a timeout of its
//! own that wsio did not set, as Unix sockets report it) loses nothing: a read returns
//! [`Error::Io`] with that kind and resumes where it stopped when called again, in the
//! middle of a frame too; a write returns it if nothing of its frames went out, and
//! [`Error::Poisoned`] if part of a frame did. A connection made for an event loop (see
//! "Non-blocking" below) queues instead, and never poisons.
//!
//! # Servers
//!
//! [`Server`] is the server most programs want: [`Server::builder`] binds TCP addresses
//! and Unix sockets (with TLS given a `TlsAcceptor`), takes an [`Upgrader`] (the
//! configuration, and in [`Upgrader::check_request`] the one place a request is decided:
//! it sees the request and the client's address ([`Accept::peer_addr`]), accepts with a
//! subprotocol, headers and a value the handler reads with [`Conn::value`], or refuses with
//! any status), and [`start`](ServerBuilder::start)s a handler on a thread of its own for
//! every connection. Requests that are not upgrades go to an optional plain-HTTP callback
//! ([`ServerBuilder::http`], for the page and the script of a browser client) or get 426.
//! Past [`ServerBuilder::max_connections`] a client is answered 503 with `Retry-After`, never
//! queued. [`ServerHandle::shutdown`] stops it gracefully: close 1001 to every connection
//! (through [`Stream::is_going_away`]: a handler's next read or message fails with
//! [`Error::GoingAway`], a blocked read is woken), a wait for the handlers, then the rest
//! cut. [`Server::stats`] counts live, accepted and refused connections and failed
//! handshakes.
//!
//! # Embedding in an HTTP server
//!
//! A server that already speaks HTTP hands WebSocket requests to wsio in one of two ways:
//!
//! - It gives wsio the stream: [`Upgrader::upgrade_with_request`] takes the request it read,
//!   and the bytes it read past the request's head (`leftover`: the client may have sent its
//!   first frames already), answers, and returns the connection.
//! - It writes the response itself (tiny_http's `Request::upgrade`): [`Upgrader::accept`]
//!   decides the request without the stream and returns the 101's headers
//!   ([`Accepted::headers`]) or the [`Refusal`] to send; after sending them, the server's
//!   upgraded stream becomes a connection with [`Accepted::into_conn`] (or
//!   [`Accepted::into_raw_conn`] for a stream that is only `Read + Write`, which then has
//!   no deadlines or keepalive). `examples/tiny_http.rs` serves a page and WebSocket on one
//!   port this way, and `embedding/` does the same inside rouille through its `Upgrade`
//!   trait; [`is_websocket_upgrade`] tells the two kinds of request apart.
//!
//! # TLS and proxies
//!
//! With the `rustls` feature, [`Dialer::dial`] speaks `wss://` and a server accepts TLS with
//! a `TlsAcceptor` and `Upgrader::upgrade_tls`, which bounds the TLS handshake and the
//! upgrade together by the handshake timeout. `rustls-tls-webpki-roots` (Mozilla's roots,
//! bundled) or `rustls-tls-native-roots` (the platform's) give `dial` roots to verify
//! against; `Dialer::tls_config` takes your own `rustls::ClientConfig` (a private CA,
//! client certificates), and `wsio::tls::client_config` builds one with extra roots. Every
//! config wsio builds names the `ring` crypto provider, so none has to be installed
//! process-wide. A TLS failure is [`Error::Tls`] with a [`TlsError`] that says what went
//! wrong: an unknown issuer, a name mismatch (and the name expected), an expired
//! certificate, the peer's alert. The connection's stream, `TlsStream`, splits like a TCP
//! stream: its halves share the TLS session, locked only while bytes move in or out of it,
//! so neither half ever waits for the other's blocking I/O.
//!
//! A [`Dialer`] goes through a proxy: HTTP `CONNECT` (`http://` and `https://` proxies,
//! Basic auth from the URL's user info) or SOCKS5 (`socks5://` resolves the server's name
//! locally, `socks5h://` lets the proxy do it; username and password auth), named with
//! [`Dialer::proxy`] or else read from the environment (`https_proxy` for `wss://`,
//! `http_proxy` for `ws://`, `all_proxy`, and `no_proxy` with names, `.suffix`es, IP
//! addresses, CIDR ranges and `*`). Loopback servers are never reached through a proxy
//! from the environment; [`Dialer::no_proxy`] ignores it altogether. A refusal is
//! [`Error::Proxy`] with the proxy's status; a [`Proxy`]'s credentials never show.
//!
//! # Concurrency
//!
//! A `Conn` is `Send` when its stream is: move it to the thread that serves it. All its
//! methods take `&mut self`, so one thread uses it at a time, checked by the compiler.
//!
//! For full duplex, [`Conn::split`] divides a connection over a stream that can be split
//! ([`Split`]: `TcpStream`, `UnixStream`, `TlsStream` over either, or your own type) into a [`ReadHalf`] and a
//! [`WriteHalf`], each `Send`, to be used from two threads at once. The rules:
//!
//! - One reader, one writer, enforced by ownership: each half's methods take `&mut self`
//!   (gorilla's rule, which Go checks only at run time).
//! - Control frames are answered by the reader without waiting for the writer. A pong goes
//!   into a one-slot mailbox (a newer ping's pong replaces an unsent older one, so a ping
//!   flood costs no memory) and is sent by whichever side next holds the write side, which is
//!   locked only while frames are written, never during a read. Replies go between frames,
//!   never inside one: a message being streamed is cut into a fragment first.
//! - [`Handle`]s, from [`ReadHalf::handle`] or [`WriteHalf::handle`], are cloneable and
//!   `Send + Sync`: any thread can send pings, pongs and a close through them.
//! - Closing never outlasts [`Config::close_timeout`]: [`WriteHalf::close`] and
//!   [`Handle::close`] send a close frame and wait for the reader half to see the peer's
//!   answer; at the timeout they shut the stream down, which also wakes a reader blocked on
//!   a silent peer. [`ReadHalf::close`] does the whole handshake from the reading side.
//!   The close frame's own write is bounded by the close timeout too. One wait is not: if
//!   the writer half is blocked writing a message to a peer that stopped reading, a close
//!   (and the reader's replies) wait for that write; give the writer a write deadline
//!   ([`WriteHalf::set_write_deadline`]) when peers may stall.
//! - The halves join again with [`ReadHalf::reunite`].
//! - Each half has every method of [`Conn`] that makes sense for it, with the same
//!   signature: the reader half reads (whole, streamed, text, binary, JSON), sets its read
//!   deadline and handlers and closes from the reading side; the writer half writes,
//!   flushes, sets its write deadline, sends a close without waiting
//!   ([`WriteHalf::send_close`]) or waits for the reader to see the answer
//!   ([`WriteHalf::close`]). Both tell the subprotocol, the compression, the close status,
//!   the role and the addresses.
//!
//! # Coming from gorilla/websocket
//!
//! Most of gorilla's API has a twin here; a few habits do not carry over:
//!
//! - A streamed echo (gorilla's `NextReader` into `NextWriter` on one `Conn`) needs
//!   [`Conn::split`]: the reader borrows the connection. And a streamed echo of a large
//!   message blocks with a peer that writes it whole before reading; see
//!   [`Conn::next_reader`].
//! - gorilla's pattern of a pong handler that pushes back the read deadline, with a ticker
//!   goroutine sending pings, is [`Keepalive`], on by default, with no thread.
//! - `WriteControl(CloseMessage, ..)` is [`Conn::send_close`]; gorilla's close sequence
//!   (send a close frame, read until the peer's, close the socket) is one call,
//!   [`Conn::close`], bounded by [`Config::close_timeout`]; `IsUnexpectedCloseError` is
//!   [`Error::is_unexpected_close`].
//! - `Upgrader.CheckOrigin` is [`Upgrader::check_origin`]; the `responseHeader` argument of
//!   `Upgrade`, and choosing the subprotocol, are the [`Accept`] of
//!   [`Upgrader::check_request`]; `Upgrader.Error` is [`Upgrader::error_response`];
//!   `IsWebSocketUpgrade` is [`is_websocket_upgrade`].
//! - Concurrent writers are a compile error, not a run-time panic: one thread writes through
//!   the [`WriteHalf`], any thread sends control frames and closes through a [`Handle`].
//!
//! # Non-blocking
//!
//! A thread per connection is the model wsio is built for. For thousands of mostly idle
//! connections on a few threads, drive wsio from an event loop (mio, polling) over
//! non-blocking streams: a `TcpStream` after `set_nonblocking(true)`, mio's `TcpStream`
//! and `UnixStream` (with the `mio` feature), or TLS over one
//! (`TlsAcceptor::accept_nonblocking`, `TlsStream::connect_nonblocking`, with a TLS
//! feature). The server's handshake starts with [`Upgrader::start`], the client's with
//! [`Dialer::start`]; each is resumed until it gives the connection, which is then in
//! non-blocking mode. The rules:
//!
//! - **A call that would block returns `WouldBlock`, and nothing is lost.** It is an
//!   [`Error::Io`] of kind `WouldBlock` ([`Error::is_would_block`]; through a
//!   [`MessageReader`] or [`MessageWriter`], an `io::Error` of that kind). Make the same
//!   call again when the stream is ready, and it resumes where it stopped: in the middle of
//!   a handshake, a frame, a message or the closing handshake. Nothing is consumed by a
//!   call that would block: there is no half-done handshake to take back out of an error.
//!   A [`MessageReader`] dropped at `WouldBlock` is continued by the next
//!   [`Conn::next_reader`] (any other read skips the rest of its message).
//! - **Writes never block and are never refused.** [`Conn::write_message`],
//!   [`Conn::write_prepared`], pings, and a [`MessageWriter`]'s writes and
//!   [`finish`](MessageWriter::finish) queue what the stream does not take, whole frames
//!   and the middle of one alike; [`Conn::flush`] sends the queue and returns `WouldBlock`
//!   until it is out. Pongs and the answer to a close go out with the next flush or read.
//!   [`Conn::queued`] tells how much waits (a broadcast checks it to drop peers too slow
//!   to keep up).
//! - **Poll for [`Conn::interest`], until [`Conn::next_deadline`].** After each turn, the
//!   connection says what it waits for: reading, writing what is queued, both, or nothing
//!   (it is over: drop it). [`Conn::next_deadline`] is when to call it even if its stream
//!   stays quiet: the keepalive's ping and pong timeout, a read deadline, the close
//!   timeout, the write deadline of queued bytes ([`ServerHandshake::deadline`] and
//!   [`ClientHandshake::deadline`] for the handshake timeout). wsio never sets a
//!   non-blocking stream's timeouts: each call checks the clock, so a call at the deadline
//!   sends the ping, ends a silent peer ([`Error::KeepaliveTimeout`]), ends a close the
//!   peer did not answer, or fails a read ([`Error::Timeout`]).
//! - **A turn reads until `WouldBlock`.** Edge-triggered pollers (mio) report a socket
//!   once per change: read until a read would block, then flush. Above 64 KiB queued, the
//!   connection stops reading (its interest is then writing only): a peer that sends
//!   without reading our answers is not read either, and the queue stays bounded. A loop
//!   that keeps this rule can turn on [`ConfigBuilder::skip_drained_reads`], which answers
//!   the read after a short read of a socket without a system call.
//! - **The end is reported once it is sent.** [`Error::Closed`] comes when the closing
//!   handshake is over and our close frame is out (until then the read returns
//!   `WouldBlock`), so a loop that drops the connection at `Closed` drops nothing unsent.
//!   [`Conn::close`] is resumed like any call; its close timeout counts from the first
//!   call.
//!
//! One connection, as a client that echoes (the server with many connections, on two
//! threads, is `examples/echo_poll.rs`):
//!
//! ```no_run
//! use std::net::TcpStream;
//! use std::os::fd::AsRawFd;
//! use std::time::Instant;
//!
//! use mio::unix::SourceFd;
//! use mio::{Events, Poll, Token};
//! use wsio::{Dialer, Error, Interest};
//!
//! let stream = TcpStream::connect("127.0.0.1:9001")?;
//! stream.set_nonblocking(true)?;
//! let mut poll = Poll::new()?;
//! let fd = stream.as_raw_fd();
//! let both = mio::Interest::READABLE | mio::Interest::WRITABLE;
//! poll.registry().register(&mut SourceFd(&fd), Token(0), both)?;
//! let mut events = Events::with_capacity(8);
//! let mut wait = |deadline: Option<Instant>| {
//!     let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
//!     poll.poll(&mut events, timeout)
//! };
//!
//! let mut handshake = Dialer::new().start(stream, "ws://127.0.0.1:9001/")?;
//! let mut conn = loop {
//!     match handshake.resume() {
//!         Ok((conn, _response)) => break conn,
//!         Err(e) if e.is_would_block() => wait(handshake.deadline())?,
//!         Err(e) => return Err(e.into()),
//!     }
//! };
//! conn.write_text("hello")?; // queued if the socket is full
//! loop {
//!     loop {
//!         match conn.read_message() {
//!             Ok(message) => conn.write_message(message.kind(), message.as_bytes())?,
//!             Err(e) if e.is_would_block() => break,
//!             Err(Error::Closed(status)) => {
//!                 println!("closed: {status}");
//!                 break;
//!             }
//!             Err(e) => return Err(e.into()),
//!         }
//!     }
//!     match conn.flush() {
//!         Err(e) if !e.is_would_block() && !matches!(e, Error::AlreadyClosed) => {
//!             return Err(e.into());
//!         }
//!         _ => {}
//!     }
//!     if conn.interest() == Interest::Nothing {
//!         break;
//!     }
//!     wait(conn.next_deadline())?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Not supported in non-blocking mode: [`Conn::split`] (one thread drives a connection;
//! there is nothing to split), and streams from [`Conn::from_raw`] or
//! [`Accepted::into_conn`] (they are blocking connections: a non-blocking stream's
//! `WouldBlock` comes back as the "Streams" topic says, and the keepalive and deadlines
//! need the stream's timeouts). [`Server`] and the hub are thread-per-connection. A TLS session
//! that must answer the peer while nothing is written (a TLS 1.3 key update) answers with
//! the next write or flush. DNS and the TCP connect are the application's: `start` takes a
//! connected stream.
//!
//! # Deadlines and keepalive
//!
//! [`Conn::set_read_deadline`] and [`Conn::set_write_deadline`] (and the halves' versions)
//! bound blocking calls, as gorilla's `SetReadDeadline`/`SetWriteDeadline` do, for streams
//! that can time out. A deadline passing at a frame boundary is [`Error::Timeout`]: nothing
//! is lost (a whole-message read called again continues the message it had started); in the
//! middle of a frame it is [`Error::Poisoned`], for good. The [`Keepalive`] (on by default:
//! a ping after 54 seconds of silence, dead after 60) detects a vanished peer while the
//! application is blocked reading, without a thread of its own, and ends the connection with
//! close 1001 and [`Error::KeepaliveTimeout`]. A peer that never reads blocks the writer
//! (TCP backpressure), or fails it at the write deadline; nothing inside wsio queues without
//! a bound.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

// The house, from the ground up: a module imports only modules of its own group or of the
// groups above it, and no two modules import each other (scripts/layers.py checks).
// Ground: the protocol's vocabulary and pieces that need nothing else of the crate.
pub mod mask;
mod proto;
mod stream;
mod utf8;
// HTTP heads, and the errors everything reports.
mod error;
mod http;
// The sans-IO codec, its settings and compression.
mod config;
mod deflate;
pub mod frame;
mod prepared;
// The two state machines: frames in, messages out; messages in, frames out.
mod reader;
mod writer;
// The sides: time on the read side, the deadline writer, the output, the closing handshake,
// the handlers, and the read and write sides every face delegates to.
mod close;
mod deadline;
mod handlers;
mod info;
mod link;
mod message;
mod output;
mod read_side;
mod shared;
mod timer;
mod write_side;
// The faces, their shared methods written once, and the handshakes at the edge.
mod conn;
mod face;
mod handshake;
mod split;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod transport;
// A threaded server over the handshake and the transports.
mod server;

pub use config::{Config, ConfigBuilder, FlushPolicy, Keepalive, MIN_BUFFER_SIZE};
pub use conn::Conn;
pub use deflate::{DeflateConfig, DeflateParams};
pub use error::{
    CapacityError, Error, HandshakeError, InvalidInput, Poison, ProtocolError, ProxyError, Result,
    TlsError, UrlError,
};
pub use handlers::Replier;
pub use handshake::{
    Accept, Accepted, ClientHandshake, Dialer, Refusal, Rejection, ServerHandshake,
    SubprotocolOrder, Upgrader, accept_key, dial, is_websocket_upgrade,
};
pub use http::{Headers, Request, Response};
pub use info::RequestInfo;
pub use message::{Message, MessageReader, MessageWriter};
pub use prepared::PreparedMessage;
pub use proto::{CloseCode, CloseFrame, CloseStatus, Initiator, MAX_REASON_LEN, MessageKind, Role};
/// The rustls crate wsio's TLS is built on, for the configs
/// ([`Dialer::tls_config`], [`TlsAcceptor::new`]) you may build.
#[cfg(feature = "rustls")]
pub use rustls;
pub use server::{
    Cutter, DEFAULT_MAX_CONNECTIONS, DEFAULT_STACK_SIZE, HttpResponse, Server, ServerBuilder,
    ServerHandle, ServerStats, ServerStream,
};
pub use split::{Handle, ReadHalf, ReuniteError, ReuniteReason, Split, WriteHalf};
pub use stream::{Interest, Stream};
pub use transport::MaybeTlsStream;
pub use transport::proxy::Proxy;
/// TLS (with the `rustls` feature): the stream, the server's acceptor, client configs.
#[cfg(feature = "rustls")]
pub use transport::tls;
#[cfg(feature = "rustls")]
pub use transport::tls::{TlsAcceptor, TlsStream};

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
