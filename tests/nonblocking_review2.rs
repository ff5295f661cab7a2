//! What a second review of the non-blocking mode found: each test shows one problem, fixed
//! since (or, where it says so, pins a subtle behaviour that holds).

#[path = "support/nonblocking.rs"]
mod nonblocking;

#[path = "support/tls.rs"]
mod tls_support;

use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Poll, Token};
use wsio::{Config, Conn, Dialer, Interest, Message, Stream, Upgrader};

/// A TCP socket that does not say `short_read_drains` (the control: every read asks).
struct Asking(TcpStream);

impl From<TcpStream> for Asking {
    fn from(s: TcpStream) -> Asking {
        Asking(s)
    }
}

impl std::io::Read for Asking {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl std::io::Write for Asking {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl AsRawFd for Asking {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.0.as_raw_fd()
    }
}

impl Stream for Asking {}

fn quiet() -> Config {
    Config::builder().keepalive(None).build()
}

/// A non-blocking server and client over loopback TCP (std sockets, which say
/// `short_read_drains`).
fn tcp_pair<S: Stream + From<TcpStream>>(server: Config, client: Config) -> (Conn<S>, Conn<S>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client_stream = TcpStream::connect(addr).unwrap();
    let (server_stream, _) = listener.accept().unwrap();
    client_stream.set_nonblocking(true).unwrap();
    server_stream.set_nonblocking(true).unwrap();
    let upgrader = Upgrader::new().config(server);
    let server_hs = upgrader.start(S::from(server_stream));
    let client_hs = Dialer::new()
        .config(client)
        .start(S::from(client_stream), &format!("ws://{addr}/"))
        .unwrap();
    nonblocking::finish(&upgrader, server_hs, client_hs)
}

/// One turn of the crate docs' loop: read until `WouldBlock`, then flush.
fn turn<S: Stream>(conn: &mut Conn<S>, got: &mut Vec<Message>) {
    loop {
        match conn.read_message() {
            Ok(message) => got.push(message),
            Err(e) if e.is_would_block() => break,
            Err(e) => panic!("read: {e}"),
        }
    }
    match conn.flush() {
        Err(e) if !e.is_would_block() => panic!("flush: {e}"),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// 1. `short_read_drains` (timer.rs attempt_polled): the `drained` flag set by a short read
//    survives a read that `before_read` refused (more than 64 KiB queued: read_side.rs
//    Port::read returns before `attempt`). The read skipped later, once the queue is out,
//    comes after the poller has already reported the bytes that arrived meanwhile: the
//    `WouldBlock` it returns is ended by no poller event, and the message sits in the
//    socket for good. The crate docs' loop (both interests registered once,
//    edge-triggered) hangs.

#[test]
fn a_message_that_arrives_while_reading_waits_for_the_queue_is_not_lost_to_the_skip() {
    arrives_while_reading_waits_for_the_queue::<TcpStream>();
}

/// The control: the same conversation over a socket that does not say
/// `short_read_drains` passes.
#[test]
fn control_the_same_without_short_read_drains() {
    arrives_while_reading_waits_for_the_queue::<Asking>();
}

fn arrives_while_reading_waits_for_the_queue<S: Stream + From<TcpStream> + AsRawFd>() {
    // The server skips the read after a short one, as an edge-triggered loop may ask.
    let skipping = Config::builder()
        .keepalive(None)
        .skip_drained_reads(true)
        .build();
    let (mut server, mut client) = tcp_pair::<S>(skipping, quiet());
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let fd = server.get_ref().as_raw_fd();
    let both = mio::Interest::READABLE | mio::Interest::WRITABLE;
    poll.registry()
        .register(&mut SourceFd(&fd), Token(0), both)
        .unwrap();

    // A: a small message, read by a short read of the server's socket.
    client.write_text("A").unwrap();
    client.flush().unwrap();
    let start = Instant::now();
    let a = loop {
        match server.read_message() {
            Ok(m) => break m,
            Err(e) if e.is_would_block() => assert!(start.elapsed() < Duration::from_secs(5)),
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(a, Message::Text("A".into()));

    // The server answers more than the client takes (it is not reading yet): over 64 KiB
    // queued, reading stops.
    let big = vec![7u8; 256 << 10];
    while server.queued() <= 64 << 10 {
        server.write_binary(&big).unwrap();
    }
    assert!(server.read_message().unwrap_err().is_would_block());
    assert_eq!(server.interest(), Interest::Write);

    // B arrives while the server does not read; then the client reads everything.
    client.write_text("B").unwrap();
    client.flush().unwrap();

    // The client reads what the server's socket holds (the server is not called meanwhile).
    let mut echoes = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(200) {
        turn(&mut client, &mut echoes);
        std::thread::sleep(Duration::from_millis(5));
    }

    // The docs' loop: the server takes a turn at each event of its socket.
    let mut got = Vec::new();
    let start = Instant::now();
    while got.is_empty() && start.elapsed() < Duration::from_secs(3) {
        turn(&mut client, &mut echoes);
        poll.poll(&mut events, Some(Duration::from_millis(20)))
            .unwrap();
        if !events.is_empty() {
            turn(&mut server, &mut got);
        }
    }
    let queued = server.queued();
    let stuck = server.read_message();
    assert_eq!(
        got,
        vec![Message::Text("B".into())],
        "B never came out of an event turn (queued {queued}); a read outside the loop finds \
         it: {stuck:?}"
    );
}

// ---------------------------------------------------------------------------------------
// A whole message trickled over many calls was zeroed again at every call (quadratic CPU):
// counted, not timed, by reader.rs's `a_whole_message_trickled_over_many_calls_is_zeroed_once`.

// ---------------------------------------------------------------------------------------
// 3. 53d0b10 made a write deadline that passes with bytes queued fail the writer
//    (writer.rs settle: `queue_missed = NonBlocking && complete_end() > 0`), so that a
//    close behind a full socket no longer spins (nonblocking_review.rs test 5). Over TLS
//    the bytes that wait are often not in the writer's buffer but in the TLS stream (the
//    records of plaintext it took: `stream_unflushed`, `Stream::unsent`), which
//    `queue_missed` does not count: the flush at the deadline is a harmless
//    `Error::Timeout`, `must_send` stays true (unsent > 0), `interest` stays `Write`, and
//    `next_deadline` stays the passed deadline. An event loop is woken at once, forever
//    (a spin), and the stream is never shut down (output.rs waits for the queue).
//
//    (The first test passes, pinning what holds: a close frame queued behind records the
//    TLS stream holds waits in the writer's buffer, because the TLS stream refuses new
//    plaintext until its records are out, so `queue_missed` sees it. The second fails.)

#[test]
fn a_close_that_timed_out_behind_a_full_tls_socket_ends_the_connection() {
    let ca = tls_support::TestCa::new();
    let acceptor = ca.server(&["localhost"]).acceptor();
    let (mut server_end, mut client_end) = wsio::testing::pipe();
    server_end.set_nonblocking(true);
    client_end.set_nonblocking(true);
    let server_config = Config::builder()
        .keepalive(None)
        .close_timeout(Some(Duration::from_millis(100)))
        .build();
    let upgrader = Upgrader::new().config(server_config);
    let server_tls = acceptor.accept_nonblocking(server_end).unwrap();
    let client_tls =
        wsio::TlsStream::connect_nonblocking(client_end, ca.client_config(), "localhost").unwrap();
    let server_hs = upgrader.start(server_tls);
    let client_hs = Dialer::new()
        .config(quiet())
        .start(client_tls, "wss://localhost/")
        .unwrap();
    let (mut server, mut client) = nonblocking::finish(&upgrader, server_hs, client_hs);
    for _ in 0..10 {
        let _ = client.read_message();
        let _ = server.read_message();
        let _ = server.flush();
        let _ = client.flush();
    }
    // The client's socket takes 100 bytes more, then never drains (the client stops
    // reading).
    let held = client.get_ref().get_ref().available();
    client.get_mut().get_mut().set_capacity(held + 100);
    server.write_binary(&[9; 10_000]).unwrap();
    let e = server.close(wsio::CloseCode::NORMAL, "bye").unwrap_err();
    assert!(e.is_would_block(), "{e}");
    std::thread::sleep(Duration::from_millis(150));
    let status = server.close(wsio::CloseCode::NORMAL, "bye");
    eprintln!("close after the timeout: {status:?}");
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

/// The same with a write deadline the application set, and no close: the deadline passes
/// with the message's records held by the TLS stream.
#[test]
fn a_write_deadline_that_passes_with_tls_records_held_ends_the_writer() {
    let ca = tls_support::TestCa::new();
    let acceptor = ca.server(&["localhost"]).acceptor();
    let (mut server_end, mut client_end) = wsio::testing::pipe();
    server_end.set_nonblocking(true);
    client_end.set_nonblocking(true);
    let upgrader = Upgrader::new().config(quiet());
    let server_tls = acceptor.accept_nonblocking(server_end).unwrap();
    let client_tls =
        wsio::TlsStream::connect_nonblocking(client_end, ca.client_config(), "localhost").unwrap();
    let server_hs = upgrader.start(server_tls);
    let client_hs = Dialer::new()
        .config(quiet())
        .start(client_tls, "wss://localhost/")
        .unwrap();
    let (mut server, mut client) = nonblocking::finish(&upgrader, server_hs, client_hs);
    for _ in 0..10 {
        let _ = client.read_message();
        let _ = server.read_message();
        let _ = server.flush();
        let _ = client.flush();
    }
    let held = client.get_ref().get_ref().available();
    client.get_mut().get_mut().set_capacity(held + 100);
    server
        .set_write_deadline(Some(Instant::now() + Duration::from_millis(50)))
        .unwrap();
    server.write_binary(&[9; 10_000]).unwrap();
    assert!(server.flush().unwrap_err().is_would_block());
    std::thread::sleep(Duration::from_millis(80));
    // The loop's timer fires at the deadline: it reads and flushes, again and again.
    let mut flushed = Ok(());
    for _ in 0..100 {
        let _ = server.read_message();
        flushed = server.flush();
    }
    let due = server.next_deadline().is_some_and(|d| d <= Instant::now());
    assert!(
        !(server.interest().is_writable() && due),
        "100 turns at the passed deadline, the last flush: {flushed:?}; then interest {:?}, next deadline {:?} \
         ago, {} queued: woken at once, forever",
        server.interest(),
        server.next_deadline().map(|d| d.elapsed()),
        server.queued()
    );
}
