//! What a review of the non-blocking mode found (issue 15): each test pins down one bug it
//! found, fixed since (or, where it says so, a subtle behaviour that holds), in blocking
//! mode too where the change had broken it.

#[path = "support/nonblocking.rs"]
mod nonblocking;

#[path = "support/tls.rs"]
mod tls_support;

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use wsio::testing::{Direction, Fault, PipeEnd, pipe};
use wsio::{Config, Dialer, Error, FlushPolicy, Interest, Upgrader};

// ---------------------------------------------------------------------------------------
// A global allocator that counts, per thread, the bytes allocated (not live: every
// allocation, so that repeated copies show).

struct Counting;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

fn count(size: usize) {
    let _ = ALLOCATED.try_with(|a| a.set(a.get() + size));
}

fn allocated() -> usize {
    ALLOCATED.with(Cell::get)
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counter is a thread-local `Cell` that never touches the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded as is.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: forwarded as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn quiet() -> Config {
    Config::builder().keepalive(None).build()
}

fn would_block() -> Fault {
    Fault::Error(io::ErrorKind::WouldBlock)
}

// ---------------------------------------------------------------------------------------
// 1. A whole-message read resumed after WouldBlock copies everything read so far, twice,
//    at every WouldBlock (reader.rs read_whole: `pending = Some((kind, out.clone()))`, and
//    back with `out.extend_from_slice(&data)`): quadratic in the message for a peer that
//    trickles it. On an event loop one such peer stalls every other connection.

#[test]
fn a_trickled_message_costs_linear_work_to_read_whole() {
    const LEN: usize = 1 << 20;
    const STEP: u64 = 2048;
    let (mut server, mut client) = nonblocking::pair(quiet(), quiet());
    let sent = common::pattern(LEN, 3);
    client.write_binary(&sent).unwrap();
    client.flush().unwrap();
    // The server's socket says WouldBlock every 2 KiB: each read_message call is resumed.
    let base = server.get_ref().bytes_read();
    let end = base + LEN as u64 + 14;
    let mut at = base + STEP;
    while at < end {
        server.get_mut().inject(Direction::Read, at, would_block());
        at += STEP;
    }
    let before = allocated();
    let mut calls = 0;
    let message = loop {
        calls += 1;
        match server.read_message() {
            Ok(message) => break message,
            Err(e) if e.is_would_block() => {}
            Err(e) => panic!("{e}"),
        }
    };
    let cost = allocated() - before;
    assert_eq!(message.as_bytes(), &sent[..]);
    assert!(calls > 500, "{calls} calls");
    assert!(
        cost < 16 * LEN,
        "{} MiB allocated (and copied) to read a 1 MiB message over {calls} calls",
        cost >> 20
    );
}

/// The same through `read_message_into`, with the caller's buffer kept across calls.
#[test]
fn a_trickled_message_costs_linear_work_to_read_into_a_kept_buffer() {
    const LEN: usize = 1 << 20;
    const STEP: u64 = 2048;
    let (mut server, mut client) = nonblocking::pair(quiet(), quiet());
    let sent = common::pattern(LEN, 4);
    client.write_binary(&sent).unwrap();
    client.flush().unwrap();
    let base = server.get_ref().bytes_read();
    let end = base + LEN as u64 + 14;
    let mut at = base + STEP;
    while at < end {
        server.get_mut().inject(Direction::Read, at, would_block());
        at += STEP;
    }
    let mut buf = Vec::with_capacity(LEN);
    let before = allocated();
    loop {
        match server.read_message_into(&mut buf) {
            Ok(_) => break,
            Err(e) if e.is_would_block() => {}
            Err(e) => panic!("{e}"),
        }
    }
    let cost = allocated() - before;
    assert_eq!(buf, sent);
    assert!(
        cost < 16 * LEN,
        "{} MiB allocated (and copied) to read a 1 MiB message",
        cost >> 20
    );
}

// ---------------------------------------------------------------------------------------
// 2. TLS opened by reads (`Opening::ByIo`, transport/tls.rs `open`): a flight the
//    transport would not take whole stays in the TLS stream, and the read returns
//    WouldBlock; the handshake's interest is then `Read`, though the peer waits for that
//    flight. An event loop that polls for what `interest` says waits forever.

/// Whether a pipe end is ready for `interest`: readable when the other end wrote bytes
/// not read yet, writable when the other end holds fewer than `room` unread (its
/// capacity). Level-triggered, the kindest poller there is.
fn ready(interest: Interest, ours: &PipeEnd, theirs: &PipeEnd, room: usize) -> bool {
    let readable = ours.available() > 0;
    let writable = theirs.available() < room;
    (interest.is_readable() && readable) || (interest.is_writable() && writable)
}

#[test]
fn a_tls_flight_the_socket_did_not_take_is_waited_for_as_writable() {
    tls_handshake_driven_by_interest(256);
}

/// The control: with sockets that take every flight whole, the same driver finishes (this
/// one passes).
#[test]
fn control_tls_handshake_driven_by_interest_with_roomy_sockets() {
    tls_handshake_driven_by_interest(1 << 20);
}

fn tls_handshake_driven_by_interest(room: usize) {
    let ca = tls_support::TestCa::new();
    let acceptor = ca.server(&["localhost"]).acceptor();
    let (mut server_end, mut client_end) = pipe();
    server_end.set_nonblocking(true);
    client_end.set_nonblocking(true);
    // Each direction takes 256 bytes before it would block: a TLS flight (the server's
    // certificate) does not fit at once.
    server_end.set_capacity(room);
    client_end.set_capacity(room);
    let upgrader = Upgrader::new().config(quiet());
    let server_tls = acceptor.accept_nonblocking(server_end).unwrap();
    let client_tls =
        wsio::TlsStream::connect_nonblocking(client_end, ca.client_config(), "localhost").unwrap();
    let mut server_hs = upgrader.start(server_tls);
    let mut client_hs = Dialer::new()
        .config(quiet())
        .start(client_tls, "wss://localhost/")
        .unwrap();
    let (mut server, mut client) = (None, None);
    let mut first = true;
    for _ in 0..10_000 {
        let (s_ready, c_ready) = {
            let s_end = server_hs.get_ref().map(|t| t.get_ref());
            let c_end = client_hs.get_ref().map(|t| t.get_ref());
            match (s_end, c_end) {
                (Some(s), Some(c)) => (
                    first || ready(server_hs.interest(), s, c, room),
                    first || ready(client_hs.interest(), c, s, room),
                ),
                (Some(_), None) | (None, Some(_)) => (server.is_none(), client.is_none()),
                (None, None) => (false, false),
            }
        };
        first = false;
        if !s_ready && !c_ready && (server.is_none() || client.is_none()) {
            panic!(
                "stuck: the server waits for {:?}, the client for {:?}, with nothing to \
                 read and each socket writable: the TLS flight sits in a TlsStream",
                server_hs.interest(),
                client_hs.interest()
            );
        }
        if s_ready && server.is_none() {
            match server_hs.resume(&upgrader) {
                Ok(conn) => server = Some(conn),
                Err(e) if e.is_would_block() => {}
                Err(e) => panic!("server handshake: {e}"),
            }
        }
        if c_ready && client.is_none() {
            match client_hs.resume() {
                Ok((conn, _)) => client = Some(conn),
                Err(e) if e.is_would_block() => {}
                Err(e) => panic!("client handshake: {e}"),
            }
        }
        if server.is_some() && client.is_some() {
            return;
        }
    }
    panic!("the handshakes did not finish");
}

// ---------------------------------------------------------------------------------------
// 3. Blocking mode: `Output::shutdown` (output.rs) now waits for the queue whenever the
//    writer is usable and has pending bytes, whatever the pace. A blocking connection with
//    `FlushPolicy::Batched` whose close frame times out at a frame boundary (a peer that
//    stopped reading) keeps its frames buffered, harmlessly (`Error::Timeout`), so the
//    shutdown is deferred to a flush that never comes: the documented promise "at the
//    timeout they shut the stream down, which also wakes a reader blocked on a silent
//    peer" no longer holds.

#[test]
fn blocking_close_that_times_out_still_shuts_the_stream_down() {
    let config = Config::builder()
        .keepalive(None)
        .flush_policy(FlushPolicy::Batched)
        .close_timeout(Some(Duration::from_millis(200)))
        .build();
    let (mut server, mut client) = common::server_and_raw_client(config);
    server.get_mut().set_max_read(usize::MAX);
    // The client stops reading: its socket is full after this message.
    server.write_binary(&[0; 100]).unwrap();
    server.flush().unwrap();
    client.set_capacity(64);
    let (mut reader, mut writer) = server.split().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(reader.read_message().map(drop));
    });
    writer.write_text("batched").unwrap();
    let started = Instant::now();
    let closed = writer.close(wsio::CloseCode::NORMAL, "bye");
    eprintln!("close: {closed:?} after {:?}", started.elapsed());
    let woken = rx.recv_timeout(Duration::from_secs(3));
    assert!(
        woken.is_ok(),
        "the reader half is still blocked 3 s after the close timeout: the stream was \
         never shut down"
    );
    drop(client);
}

// ---------------------------------------------------------------------------------------
// 4. Blocking mode: a stream's own write timeout (one the application set, not wsio) shows
//    up on Unix sockets as `WouldBlock`. `stream::stall` calls that a stream that would
//    block, and the writer (writer.rs `send_buffered` / `frame`) now queues the rest and
//    returns `Ok` for it whatever the pace: a blocking connection whose peer stopped
//    reading "sends" every message, each after the timeout, and its queue grows without
//    bound. Before the change it returned `WouldBlock` (or `Poisoned`).

#[test]
fn blocking_conn_with_its_own_write_timeout_does_not_queue_without_bound() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (tcp, _) = listener.accept().unwrap();
    tcp.set_write_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut conn = wsio::Conn::from_raw(tcp, wsio::Role::Server, quiet());
    let message = vec![7u8; 1 << 20];
    let mut failed = None;
    for i in 0..32 {
        if let Err(e) = conn.write_binary(&message) {
            failed = Some((i, e));
            break;
        }
    }
    let queued = conn.queued();
    drop(peer);
    assert!(
        failed.is_some(),
        "32 MiB to a peer that reads nothing, and every write returned Ok; {} MiB queued",
        queued >> 20
    );
}

// ---------------------------------------------------------------------------------------
// 5. Non-blocking close to a peer that stopped reading, with our close frame queued at a
//    frame boundary: at the close timeout the write deadline passes, the flush fails with
//    a harmless `Error::Timeout` (writer.rs `settle`: nothing of the frame went out), so
//    the writer stays usable and the close frame stays queued. `close` returns the
//    abnormal status, but `interest` stays `Write` and `next_deadline` stays in the past
//    (the write deadline): an event loop wakes at once, forever (a spin), and the stream
//    is never shut down (output.rs: the shutdown waits for a queue that cannot go).

#[test]
fn a_close_that_timed_out_behind_a_full_socket_ends_the_connection() {
    let server_config = Config::builder()
        .keepalive(None)
        .close_timeout(Some(Duration::from_millis(100)))
        .build();
    let (mut server, mut client) = nonblocking::pair(server_config, quiet());
    // The client's socket holds exactly one 16-byte frame: the next write would block at a
    // frame boundary.
    client.get_mut().set_capacity(16);
    server.write_binary(&[1; 14]).unwrap();
    assert_eq!(server.queued(), 0);
    let e = server.close(wsio::CloseCode::NORMAL, "bye").unwrap_err();
    assert!(e.is_would_block(), "{e}");
    std::thread::sleep(Duration::from_millis(150));
    let status = server.close(wsio::CloseCode::NORMAL, "bye");
    eprintln!("close after the timeout: {status:?}");
    // What an event loop sees now: the connection should be over.
    let mut spins = 0;
    while server.interest() != Interest::Nothing && spins < 1000 {
        let _ = server.close(wsio::CloseCode::NORMAL, "bye");
        let _ = server.flush();
        spins += 1;
    }
    assert_eq!(
        server.interest(),
        Interest::Nothing,
        "after {spins} turns, each woken at once: interest {:?}, next deadline {:?} ago, \
         {} bytes queued",
        server.interest(),
        server.next_deadline().map(|d| d.elapsed()),
        server.queued()
    );
}

// ---------------------------------------------------------------------------------------
// 6. Above the high-water mark the read stops before the clock is looked at (link.rs
//    `before_read` returns WouldBlock ahead of timer.rs `attempt_polled`), and
//    `interest`/`next_deadline` drop the read side's deadlines (read_side.rs
//    `next_deadline` asks the timer only when readable). A read deadline the application
//    set is then neither reported nor enforced: a peer that sends pings and never reads
//    holds the connection past every read deadline and keepalive.

#[test]
fn a_read_deadline_holds_while_the_queue_is_over_the_mark() {
    let (mut server, mut client) = nonblocking::pair(quiet(), quiet());
    client.get_mut().set_capacity(4096);
    for _ in 0..2_000 {
        client.write_ping(&[b'p'; 125]).unwrap();
    }
    client.flush().unwrap();
    assert!(server.read_message().unwrap_err().is_would_block());
    assert!(server.queued() > 64 << 10);
    let deadline = Instant::now() + Duration::from_millis(50);
    server.set_read_deadline(Some(deadline)).unwrap();
    let reported = server.next_deadline();
    std::thread::sleep(Duration::from_millis(60));
    let read = server.read_message();
    // The read buffer ends inside a ping, so the deadline finds the stream mid-frame.
    assert!(
        matches!(read, Err(Error::Timeout | Error::Poisoned(_))),
        "a read after its deadline: {read:?} (next_deadline said {reported:?})"
    );
}

// ---------------------------------------------------------------------------------------
// 7. (Passes: pins down behaviour.) Streamed and whole messages, compressed or not, in
//    both roles, written while the socket keeps filling up (the writer Blocked for most of
//    each operation, frames torn anywhere, the deflate tail carried across frames), with
//    the peer reading in between: the peer gets exactly the messages, in order.

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

fn stalls_everywhere(deflate: bool, client_writes: bool, seed: u64) {
    let mut config = Config::builder()
        .keepalive(None)
        .write_buffer_size(256)
        .max_outgoing_frame_size(1000);
    if deflate {
        config = config.deflate(wsio::DeflateConfig::new().threshold(0));
    }
    let config = config.build();
    let (server, client) = nonblocking::pair(config.clone(), config);
    let (mut writer, mut reader) = if client_writes {
        (
            Box::new(client) as Box<dyn Side>,
            Box::new(server) as Box<dyn Side>,
        )
    } else {
        (
            Box::new(server) as Box<dyn Side>,
            Box::new(client) as Box<dyn Side>,
        )
    };
    // The writer's socket takes 7 bytes at a time before it would block.
    reader.capacity(7);
    let mut x = seed | 1;
    let mut sent = Vec::new();
    for m in 0..40 {
        let len = (xorshift(&mut x) % 5000) as usize;
        // Compressible half the time.
        let payload: Vec<u8> = if m % 2 == 0 {
            (0..len).map(|i| (i / 50) as u8).collect()
        } else {
            (0..len).map(|_| xorshift(&mut x) as u8).collect()
        };
        if m % 3 == 0 {
            writer.whole(&payload);
        } else {
            let mut pieces = Vec::new();
            let mut rest = &payload[..];
            while !rest.is_empty() {
                let n = ((xorshift(&mut x) % 700) as usize + 1).min(rest.len());
                pieces.push((rest[..n].to_vec(), xorshift(&mut x) % 4 == 0));
                rest = &rest[n..];
            }
            writer.streamed(&pieces);
        }
        sent.push(payload);
        // The peer reads a little now and then: the socket keeps refilling mid-operation.
        if m % 4 == 0 {
            reader.pump(&mut *writer, 3);
        }
    }
    let mut got = Vec::new();
    for _ in 0..100_000 {
        got.extend(reader.pump(&mut *writer, 1));
        if got.len() == sent.len() {
            break;
        }
    }
    assert_eq!(got.len(), sent.len());
    for (i, (a, b)) in got.iter().zip(&sent).enumerate() {
        assert!(
            a == b,
            "message {i} differs ({} vs {} bytes)",
            a.len(),
            b.len()
        );
    }
}

trait Side {
    fn capacity(&mut self, n: usize);
    fn whole(&mut self, payload: &[u8]);
    fn streamed(&mut self, pieces: &[(Vec<u8>, bool)]);
    fn flush_some(&mut self);
    /// Reads until WouldBlock, `turns` times, letting the other side flush in between.
    fn pump(&mut self, other: &mut dyn Side, turns: usize) -> Vec<Vec<u8>>;
}

impl Side for wsio::Conn<PipeEnd> {
    /// Bounds what the other side can write to us before it would block.
    fn capacity(&mut self, n: usize) {
        self.get_mut().set_capacity(n);
    }
    fn whole(&mut self, payload: &[u8]) {
        self.write_binary(payload).unwrap();
    }
    fn streamed(&mut self, pieces: &[(Vec<u8>, bool)]) {
        let mut w = self.next_writer(wsio::MessageKind::Binary).unwrap();
        for (piece, flush) in pieces {
            w.write_all(piece).unwrap();
            if *flush {
                match w.flush() {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("{e}"),
                }
            }
        }
        w.finish().unwrap();
    }
    fn flush_some(&mut self) {
        match self.flush() {
            Ok(()) => {}
            Err(e) if e.is_would_block() => {}
            Err(e) => panic!("{e}"),
        }
    }
    fn pump(&mut self, other: &mut dyn Side, turns: usize) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        for _ in 0..turns {
            other.flush_some();
            loop {
                match self.read_message() {
                    Ok(m) => got.push(m.as_bytes().to_vec()),
                    Err(e) if e.is_would_block() => break,
                    Err(e) => panic!("{e}"),
                }
            }
        }
        got
    }
}

#[test]
fn stalled_writes_lose_nothing_plain_server() {
    for seed in 1..4 {
        stalls_everywhere(false, false, seed);
    }
}

#[test]
fn stalled_writes_lose_nothing_plain_client() {
    for seed in 1..4 {
        stalls_everywhere(false, true, seed);
    }
}

#[test]
fn stalled_writes_lose_nothing_deflate_server() {
    for seed in 1..4 {
        stalls_everywhere(true, false, seed);
    }
}

#[test]
fn stalled_writes_lose_nothing_deflate_client() {
    for seed in 1..4 {
        stalls_everywhere(true, true, seed);
    }
}

// ---------------------------------------------------------------------------------------
// 8. (Pass: pin down behaviour.) The resumable handshakes: a first frame pipelined behind
//    the request is the start of the connection's reading; a refusal is sent whole, one
//    byte at a time, then the error, then `AlreadyClosed`; a 101 and a first frame in one
//    write reach the client's connection.

const REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

#[test]
fn a_frame_pipelined_behind_the_request_is_read_by_the_server() {
    let (mut server_end, mut client_end) = pipe();
    server_end.set_nonblocking(true);
    server_end.set_max_read(5);
    let upgrader = Upgrader::new().config(quiet());
    let mut hs = upgrader.start(server_end);
    assert!(hs.resume(&upgrader).unwrap_err().is_would_block());
    let mut bytes = REQUEST.as_bytes().to_vec();
    bytes.extend(common::client_frame(
        wsio::frame::OpCode::Text,
        true,
        b"early",
    ));
    client_end.write_all(&bytes).unwrap();
    let mut conn = loop {
        match hs.resume(&upgrader) {
            Ok(conn) => break conn,
            Err(e) if e.is_would_block() => {}
            Err(e) => panic!("{e}"),
        }
    };
    let answer = client_end.take_available();
    assert!(answer.starts_with(b"HTTP/1.1 101 "));
    assert_eq!(conn.read_text(1000).unwrap(), "early");
    assert!(matches!(hs.resume(&upgrader), Err(Error::AlreadyClosed)));
    assert_eq!(hs.interest(), Interest::Nothing);
}

#[test]
fn a_refusal_behind_a_full_socket_is_sent_whole_then_fails() {
    let (mut server_end, mut client_end) = pipe();
    server_end.set_nonblocking(true);
    client_end.set_capacity(1);
    let upgrader = Upgrader::new()
        .config(quiet())
        .check_request(|_, _| Err(wsio::Rejection::new(403).with_body("go away")));
    let mut hs = upgrader.start(server_end);
    client_end.write_all(REQUEST.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let error = loop {
        match hs.resume(&upgrader) {
            Ok(_) => panic!("accepted"),
            Err(e) if e.is_would_block() => {
                assert_eq!(hs.interest(), Interest::Write);
                answer.extend(client_end.take_available());
            }
            Err(e) => break e,
        }
    };
    answer.extend(client_end.take_available());
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 403 "), "{answer}");
    assert!(answer.ends_with("go away"), "{answer}");
    assert!(!error.is_would_block(), "{error}");
    assert!(matches!(hs.resume(&upgrader), Err(Error::AlreadyClosed)));
}

#[test]
fn a_frame_in_the_same_write_as_the_101_reaches_the_client() {
    let (mut server_end, mut client_end) = pipe();
    client_end.set_nonblocking(true);
    client_end.set_max_read(3);
    let mut hs = Dialer::new()
        .config(quiet())
        .start(client_end, "ws://example.com/")
        .unwrap();
    assert!(hs.resume().unwrap_err().is_would_block());
    let key = common::request_key(&mut server_end).unwrap();
    let accept = wsio_accept(&key);
    let mut bytes = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    )
    .into_bytes();
    bytes.extend(common::server_frame(wsio::frame::OpCode::Text, true, b"hi"));
    server_end.write_all(&bytes).unwrap();
    let (mut conn, response) = loop {
        match hs.resume() {
            Ok(done) => break done,
            Err(e) if e.is_would_block() => {}
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(response.status(), 101);
    assert_eq!(conn.read_text(1000).unwrap(), "hi");
}

/// The accept key for `key`, by the upgrader itself: a blocking server handshake over a
/// pipe, read back from its answer.
fn wsio_accept(key: &str) -> String {
    let (mut c, s) = pipe();
    let request = REQUEST.replace("dGhlIHNhbXBsZSBub25jZQ==", key);
    c.write_all(request.as_bytes()).unwrap();
    let _conn = Upgrader::new().upgrade(s).unwrap();
    let answer = String::from_utf8(c.take_available()).unwrap();
    answer
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Accept: "))
        .unwrap()
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// 9. A streamed read cannot be resumed by an event loop that keeps its connections in
//    slots: the `MessageReader` borrows the `Conn`, so after `WouldBlock` the loop drops
//    it to go back to the poller, and the next `next_reader` skips the rest of the
//    message (reader.rs `next_message`: `while self.message.is_some() { discard }`),
//    silently. The non-blocking topic promises that reads through `next_reader` resume.

#[test]
fn a_streamed_read_dropped_at_would_block_resumes_with_next_reader() {
    let (mut server, mut client) = nonblocking::pair(quiet(), quiet());
    let first = common::pattern(6000, 1);
    {
        let mut w = client.next_writer(wsio::MessageKind::Binary).unwrap();
        w.write_all(&first[..3000]).unwrap();
        w.flush().unwrap();
        // The rest comes later: first, the server's turn.
        let mut got = Vec::new();
        {
            let (_, mut reader) = server.next_reader().unwrap();
            let mut buf = [0u8; 1024];
            loop {
                match io::Read::read(&mut reader, &mut buf) {
                    Ok(0) => panic!("the message ended early"),
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("{e}"),
                }
            }
        } // Back to the poller: the reader goes.
        assert_eq!(got, first[..3000]);
        w.write_all(&first[3000..]).unwrap();
        w.finish().unwrap();
    }
    client.write_binary(b"second").unwrap();
    client.flush().unwrap();
    // The next turn: the rest of the first message, then the second.
    let (_, mut reader) = server.next_reader().unwrap();
    let mut rest = Vec::new();
    io::Read::read_to_end(&mut reader, &mut rest).unwrap();
    assert_eq!(
        rest.len(),
        3000,
        "the rest of the first message was skipped; got {:?}",
        String::from_utf8_lossy(&rest[..rest.len().min(16)])
    );
}

// ---------------------------------------------------------------------------------------
// 10. (Minor.) After a handshake fails, later calls are documented to return
//     `AlreadyClosed`; after a timeout they return the timeout again, because `advance`
//     (handshake/server.rs, client.rs) checks the deadline before the phase.

#[test]
fn a_handshake_that_timed_out_is_already_closed_afterwards() {
    let (mut server_end, _client_end) = pipe();
    server_end.set_nonblocking(true);
    let upgrader = Upgrader::new().config(
        Config::builder()
            .keepalive(None)
            .handshake_timeout(Some(Duration::from_millis(20)))
            .build(),
    );
    let mut hs = upgrader.start(server_end);
    assert!(hs.resume(&upgrader).unwrap_err().is_would_block());
    std::thread::sleep(Duration::from_millis(30));
    let first = hs.resume(&upgrader).unwrap_err();
    assert!(
        matches!(first, Error::Handshake(wsio::HandshakeError::Timeout)),
        "{first}"
    );
    assert_eq!(hs.interest(), Interest::Nothing);
    let again = hs.resume(&upgrader).unwrap_err();
    assert!(matches!(again, Error::AlreadyClosed), "then: {again:?}");
}

// ---------------------------------------------------------------------------------------
// 11. Over TLS with `FlushPolicy::Batched`: a full batch goes to the TLS stream, which
//     takes the plaintext and keeps the records the socket would not take
//     (transport/tls.rs `write_within`: "the records wait for the next write or flush").
//     A message larger than the write buffer goes out at once (one vectored write); the
//     writer's buffer is then empty and no flush ran, so `stream_unflushed` is not set:
//     `interest` says `Read` and `queued` says 0 while bytes wait in the TLS session, and a
//     read does not send them either (link.rs `before_read` flushes only when the writer
//     has pending frames). A loop that flushes when `interest` asks for it waits forever.

#[test]
fn records_waiting_in_the_tls_stream_are_reported_as_queued() {
    let ca = tls_support::TestCa::new();
    let acceptor = ca.server(&["localhost"]).acceptor();
    let (mut server_end, mut client_end) = pipe();
    server_end.set_nonblocking(true);
    client_end.set_nonblocking(true);
    let config = Config::builder()
        .keepalive(None)
        .flush_policy(FlushPolicy::Batched)
        .build();
    let upgrader = Upgrader::new().config(config.clone());
    let server_tls = acceptor.accept_nonblocking(server_end).unwrap();
    let client_tls =
        wsio::TlsStream::connect_nonblocking(client_end, ca.client_config(), "localhost").unwrap();
    let server_hs = upgrader.start(server_tls);
    let client_hs = Dialer::new()
        .config(config)
        .start(client_tls, "wss://localhost/")
        .unwrap();
    let (mut server, mut client) = nonblocking::finish(&upgrader, server_hs, client_hs);
    // Let the handshake's last records settle, then the client's socket fills up.
    for _ in 0..10 {
        let _ = client.read_message();
        let _ = server.read_message();
        let _ = server.flush();
        let _ = client.flush();
    }
    let held = client.get_ref().get_ref().available();
    client.get_mut().get_mut().set_capacity(held + 100);
    // Larger than the write buffer: it goes out at once, header and payload in one
    // (vectored) write, which the TLS stream takes whole.
    server.write_binary(&[9; 10_000]).unwrap();
    let _ = server.read_message();
    assert!(
        server.interest().is_writable() || server.queued() > 0,
        "interest {:?}, queued {}, while the TLS stream holds records the socket did not \
         take (the client got {} of 10,000+ bytes)",
        server.interest(),
        server.queued(),
        client.get_ref().get_ref().available() - held
    );
}
