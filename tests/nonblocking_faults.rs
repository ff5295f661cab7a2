//! Over a non-blocking stream, a `WouldBlock` at any byte offset of any operation loses and
//! duplicates nothing: the same call, made again, resumes. The end under test runs a whole
//! conversation (both opening handshakes, whole and streamed writes, a ping, flushes, whole
//! and streamed reads, the automatic pong, the closing handshake from either side) over a
//! pipe that returns `WouldBlock` once, at a chosen offset of its reads or of its writes;
//! for every offset, what the peer receives and what the end under test reads are exactly
//! those of a run without the fault. Both roles, with and without permessage-deflate.

#[path = "support/nonblocking.rs"]
mod nonblocking;

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use wsio::frame::FrameHeader;
use wsio::testing::{Direction, Fault, PipeEnd, pipe};
use wsio::{
    CloseCode, Config, Conn, DeflateConfig, Dialer, Error, Initiator, Interest, Message,
    MessageKind, Role, Upgrader,
};

/// The peer's stream: records every byte the end under test sent.
struct Tap {
    end: PipeEnd,
    seen: Rc<RefCell<Vec<u8>>>,
}

impl Read for Tap {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.end.read(buf)?;
        self.seen.borrow_mut().extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl Write for Tap {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.end.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.end.flush()
    }
}

impl wsio::Stream for Tap {}

/// Who starts the closing handshake.
#[derive(Clone, Copy, Debug)]
enum Closer {
    Us,
    Peer,
}

/// One run's outcome: what the peer saw on the wire (heads without their keys, frames
/// unmasked), what the peer received, and what the end under test read.
#[derive(Debug, PartialEq)]
struct Transcript {
    wire: Vec<String>,
    peer_got: Vec<String>,
    we_got: Vec<String>,
}

/// How often a call may would-block before the test calls it stuck.
const MAX_RETRIES: usize = 10_000;

/// The peer: reads whatever is there, echoes data messages (until it closes), and records.
struct Peer {
    conn: Conn<Tap>,
    got: Arc<Mutex<Vec<String>>>,
    closer: Closer,
    echoed: usize,
}

impl Peer {
    fn pump(&mut self) {
        loop {
            match self.conn.read_message() {
                Ok(message) => {
                    self.got.lock().unwrap().push(describe(&message));
                    self.conn
                        .write_message(message.kind(), message.as_bytes())
                        .unwrap();
                    self.echoed += 1;
                    if self.echoed == 3 && matches!(self.closer, Closer::Peer) {
                        self.conn
                            .send_close(CloseCode::GOING_AWAY, "peer leaves")
                            .unwrap();
                    }
                }
                Err(e) if e.is_would_block() => break,
                Err(Error::Closed(status)) => {
                    self.got.lock().unwrap().push(format!("closed {status}"));
                    break;
                }
                Err(Error::AlreadyClosed) => break,
                Err(e) => panic!("peer: {e}"),
            }
        }
        match self.conn.flush() {
            Ok(()) | Err(Error::AlreadyClosed) => {}
            Err(e) if e.is_would_block() => {}
            Err(e) => panic!("peer flush: {e}"),
        }
    }
}

fn describe(message: &Message) -> String {
    match message {
        Message::Text(t) => format!("text {} {:x}", t.len(), checksum(t.as_bytes())),
        Message::Binary(b) => format!("binary {} {:x}", b.len(), checksum(b)),
    }
}

fn checksum(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(17u64, |h, &b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
}

/// Calls `op` until it does not would-block, pumping the peer in between.
fn retry<T>(peer: &mut Peer, mut op: impl FnMut() -> Result<T, Error>) -> Result<T, Error> {
    for _ in 0..MAX_RETRIES {
        match op() {
            Err(e) if e.is_would_block() => peer.pump(),
            other => return other,
        }
    }
    panic!("stuck: the call would block forever");
}

fn config(deflate: bool) -> Config {
    let builder = Config::builder()
        .write_buffer_size(512)
        .read_buffer_size(512);
    match deflate {
        true => builder.deflate(DeflateConfig::default()).build(),
        false => builder.build(),
    }
}

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed))
        .collect()
}

/// One conversation; `fault`: where the end under test's stream would block once.
fn run(
    role: Role,
    deflate: bool,
    closer: Closer,
    fault: Option<(Direction, u64)>,
) -> (Transcript, u64, u64) {
    run_over(role, deflate, closer, fault, None)
}

/// As [`run`]; with `squeeze`, both directions hold at most that many bytes in flight and
/// every read of the end under test brings at most 13: everything would-blocks, again and
/// again.
fn run_over(
    role: Role,
    deflate: bool,
    closer: Closer,
    fault: Option<(Direction, u64)>,
    squeeze: Option<usize>,
) -> (Transcript, u64, u64) {
    let (mut ours, theirs) = pipe();
    ours.set_nonblocking(true);
    let mut theirs = theirs;
    theirs.set_nonblocking(true);
    if let Some((direction, offset)) = fault {
        ours.inject(direction, offset, Fault::Error(io::ErrorKind::WouldBlock));
    }
    if let Some(bytes) = squeeze {
        ours.set_capacity(bytes);
        theirs.set_capacity(bytes);
        ours.set_max_read(13);
    }
    let seen = Rc::new(RefCell::new(Vec::new()));
    let tap = Tap {
        end: theirs,
        seen: Rc::clone(&seen),
    };
    let upgrader = Upgrader::new().config(config(deflate));
    let dialer = Dialer::new().config(config(deflate));

    // Both handshakes, each resumed until done.
    let (mut conn, peer_conn) = match role {
        Role::Server => {
            let us = upgrader.start(ours);
            let them = dialer.start(tap, "ws://test/chat").unwrap();
            nonblocking::finish(&upgrader, us, them)
        }
        _ => {
            let us = dialer.start(ours, "ws://test/chat").unwrap();
            let them = upgrader.start(tap);
            let (peer, mine) = nonblocking::finish(&upgrader, them, us);
            (mine, peer)
        }
    };
    assert_eq!(conn.compression().is_some(), deflate);
    let peer_got = Arc::new(Mutex::new(Vec::new()));
    let mut peer = Peer {
        conn: peer_conn,
        got: Arc::clone(&peer_got),
        closer,
        echoed: 0,
    };
    let pong_log = Arc::clone(&peer_got);
    peer.conn.set_pong_handler(move |p| {
        pong_log.lock().unwrap().push(format!("pong {p:?}"));
        Ok(())
    });
    let ping_log = Arc::clone(&peer_got);
    peer.conn.set_ping_handler(move |p, reply| {
        ping_log.lock().unwrap().push(format!("ping {p:?}"));
        reply.pong(p)
    });
    // What the peer says first: a ping (answered by our next read) and two messages.
    peer.conn.write_ping(b"peer").unwrap();
    peer.conn.write_text("one").unwrap();
    peer.conn.write_binary(&payload(1200, 3)).unwrap();
    peer.pump();

    let mut we_got = Vec::new();
    // Whole writes: queued when the stream would block, never refused.
    conn.write_message(MessageKind::Text, b"hello").unwrap();
    conn.write_message(MessageKind::Binary, &payload(1500, 1))
        .unwrap();
    // A streamed message, flushed in the middle.
    {
        let mut writer = conn.next_writer(MessageKind::Text).unwrap();
        writer.write_all(&[b'a'; 400]).unwrap();
        for _ in 0..MAX_RETRIES {
            match writer.flush() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => peer.pump(),
                other => {
                    other.unwrap();
                    break;
                }
            }
        }
        writer.write_all(&[b'b'; 400]).unwrap();
        writer.finish().unwrap();
    }
    conn.write_ping(b"p").unwrap();
    retry(&mut peer, || conn.flush()).unwrap();
    // A whole read, then one streamed through next_reader.
    let first = retry(&mut peer, || conn.read_message()).unwrap();
    we_got.push(describe(&first));
    let (kind, mut body) = (MessageKind::Binary, Vec::new());
    {
        let (got_kind, mut reader) = loop {
            match conn.next_reader() {
                Err(e) if e.is_would_block() => peer.pump(),
                other => break other.unwrap(),
            }
        };
        assert_eq!(got_kind, kind);
        let mut chunk = [0u8; 100];
        let mut tries = 0;
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    tries += 1;
                    assert!(tries < MAX_RETRIES, "stuck reading");
                    peer.pump();
                }
                Err(e) => panic!("streamed read: {e}"),
            }
        }
    }
    we_got.push(describe(&Message::Binary(body)));
    // The three echoes.
    for _ in 0..3 {
        let echo = retry(&mut peer, || conn.read_message()).unwrap();
        we_got.push(describe(&echo));
    }
    let status = match closer {
        Closer::Us => retry(&mut peer, || conn.close(CloseCode::NORMAL, "bye")).unwrap(),
        Closer::Peer => match retry(&mut peer, || conn.read_message()) {
            Err(Error::Closed(status)) => status,
            other => panic!("expected the peer's close, got {other:?}"),
        },
    };
    we_got.push(format!("closed {status}"));
    let expected_initiator = match closer {
        Closer::Us => Initiator::Local,
        Closer::Peer => Initiator::Peer,
    };
    assert_eq!(status.initiator, expected_initiator);
    // Over: nothing is queued and nothing more is wanted.
    assert_eq!(conn.interest(), Interest::Nothing);
    peer.pump();
    let written = conn.get_ref().bytes_written();
    let read = conn.get_ref().bytes_read();
    let wire = decode(&seen.borrow());
    let peer_got = peer_got.lock().unwrap().clone();
    (
        Transcript {
            wire,
            peer_got,
            we_got,
        },
        written,
        read,
    )
}

/// The bytes the end under test sent: its head (without the random key or accept line),
/// then each frame with its payload unmasked.
fn decode(bytes: &[u8]) -> Vec<String> {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head")
        + 4;
    let mut out: Vec<String> = String::from_utf8_lossy(&bytes[..end])
        .lines()
        .filter(|l| !l.starts_with("Sec-WebSocket-Key") && !l.starts_with("Sec-WebSocket-Accept"))
        .map(str::to_owned)
        .collect();
    let mut rest = &bytes[end..];
    while !rest.is_empty() {
        let (header, len) = FrameHeader::parse(rest)
            .expect("a valid frame")
            .expect("a whole frame");
        let n = header.payload_len as usize;
        let mut payload = rest[len..len + n].to_vec();
        if let Some(key) = header.masking_key {
            wsio::mask::apply_mask(&mut payload, key, 0);
        }
        out.push(format!(
            "{:?} fin={} rsv1={} {} {:x}",
            header.opcode,
            header.fin,
            header.rsv1,
            n,
            checksum(&payload)
        ));
        rest = &rest[len + n..];
    }
    out
}

/// Every offset of the end's writes, then of its reads.
fn every_offset(role: Role, deflate: bool, closer: Closer) {
    let (expected, written, read) = run(role, deflate, closer, None);
    assert!(expected.peer_got.len() >= 6, "{expected:?}");
    for (direction, total) in [(Direction::Write, written), (Direction::Read, read)] {
        for offset in 0..=total {
            let (got, _, _) = run(role, deflate, closer, Some((direction, offset)));
            assert_eq!(
                got, expected,
                "{role:?} deflate={deflate} {closer:?}: WouldBlock at {direction:?} offset {offset}"
            );
        }
    }
}

#[test]
fn server_plain_closing_first() {
    every_offset(Role::Server, false, Closer::Us);
}

#[test]
fn server_plain_peer_closes() {
    every_offset(Role::Server, false, Closer::Peer);
}

#[test]
fn server_deflate_closing_first() {
    every_offset(Role::Server, true, Closer::Us);
}

#[test]
fn server_deflate_peer_closes() {
    every_offset(Role::Server, true, Closer::Peer);
}

#[test]
fn client_plain_closing_first() {
    every_offset(Role::Client, false, Closer::Us);
}

#[test]
fn client_plain_peer_closes() {
    every_offset(Role::Client, false, Closer::Peer);
}

#[test]
fn client_deflate_closing_first() {
    every_offset(Role::Client, true, Closer::Us);
}

#[test]
fn client_deflate_peer_closes() {
    every_offset(Role::Client, true, Closer::Peer);
}

/// Sockets that hold a few bytes: every call of both ends would-blocks many times.
fn squeezed(role: Role, deflate: bool) {
    for closer in [Closer::Us, Closer::Peer] {
        let (expected, _, _) = run(role, deflate, closer, None);
        for bytes in [1, 7, 100, 600] {
            let (got, _, _) = run_over(role, deflate, closer, None, Some(bytes));
            assert_eq!(
                got, expected,
                "{role:?} deflate={deflate} {closer:?}: {bytes}-byte sockets"
            );
        }
    }
}

#[test]
fn server_over_tiny_sockets() {
    squeezed(Role::Server, false);
    squeezed(Role::Server, true);
}

#[test]
fn client_over_tiny_sockets() {
    squeezed(Role::Client, false);
    squeezed(Role::Client, true);
}
