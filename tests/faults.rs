//! Every public operation under every fault the test pipe can inject (errors, end of stream,
//! short transfers) at every offset of interest: it either succeeds or returns a typed
//! error, never panics, and never loses or duplicates a byte of a message: what it reports
//! delivered (or sent) is exactly a prefix of the messages, in order. Reads are checked on a
//! plain connection, a compressed one, and a split connection's reader half.

mod common;

use std::io::{self, Read, Write};

use common::{client_frame, server_frame};
use wsio::frame::OpCode;
use wsio::testing::{Direction, Fault, PipeEnd, pipe};
use wsio::{
    CloseCode, Config, Conn, Dialer, Error, FlushPolicy, Message, MessageKind, Role, Upgrader,
};

const FAULTS: [Fault; 7] = [
    Fault::Error(io::ErrorKind::WouldBlock),
    Fault::Error(io::ErrorKind::TimedOut),
    Fault::Error(io::ErrorKind::Interrupted),
    Fault::Error(io::ErrorKind::ConnectionReset),
    Fault::Error(io::ErrorKind::BrokenPipe),
    Fault::Eof,
    Fault::Short(1),
];

/// Faults after which everything must still get through (retried or transparent).
fn harmless(fault: Fault) -> bool {
    matches!(
        fault,
        Fault::Error(io::ErrorKind::Interrupted) | Fault::Short(_)
    )
}

/// Faults after which every read must still get through when the call is repeated: a
/// non-blocking stream's `WouldBlock` loses nothing, even in the middle of a frame.
fn harmless_for_reads(fault: Fault) -> bool {
    harmless(fault) || fault == Fault::Error(io::ErrorKind::WouldBlock)
}

/// An error after which the call can be repeated: a timeout between frames, or a stream
/// that would block.
fn resumable(e: &Error) -> bool {
    match e {
        Error::Timeout => true,
        Error::Io(e) => e.kind() == io::ErrorKind::WouldBlock,
        _ => false,
    }
}

fn messages() -> Vec<Message> {
    vec![
        Message::Text("first".into()),
        Message::Binary(vec![]),
        Message::Binary((0..200u8).collect()),
        Message::Text("é".repeat(700)),
        Message::Binary(vec![7; 70_000]),
        Message::Text("last".into()),
    ]
}

/// The messages as a client sends them, the fourth split into fragments with a ping between.
fn client_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    for (i, m) in messages().iter().enumerate() {
        let op = if m.kind() == MessageKind::Text {
            OpCode::Text
        } else {
            OpCode::Binary
        };
        if i == 3 {
            let b = m.as_bytes();
            out.extend(client_frame(op, false, &b[..101]));
            out.extend(client_frame(OpCode::Ping, true, b"p"));
            out.extend(client_frame(OpCode::Continuation, true, &b[101..]));
        } else {
            out.extend(client_frame(op, true, m.as_bytes()));
        }
    }
    out
}

/// Offsets worth a fault: every one up to 300 (headers, small frames, a ping, fragments),
/// then around the large frame and the end.
fn offsets(total: usize) -> Vec<u64> {
    let mut o: Vec<u64> = (0..300).collect();
    for at in [
        1000,
        1500,
        1516,
        1517,
        1520,
        1530,
        10_000,
        40_000,
        total - 20,
        total - 10,
        total - 1,
        total,
    ] {
        o.push(at as u64);
    }
    o
}

fn typed(err: &Error) -> bool {
    matches!(
        err,
        Error::Timeout
            | Error::Poisoned(_)
            | Error::Io(_)
            | Error::Closed(_)
            | Error::AlreadyClosed
    )
}

#[test]
fn reads_under_faults_deliver_a_prefix_and_a_typed_error() {
    let bytes = client_bytes();
    let expected = messages();
    for fault in FAULTS {
        for offset in offsets(bytes.len()) {
            let (mut client, mut server_end) = pipe();
            server_end.set_max_read(4096);
            server_end.inject(Direction::Read, offset, fault);
            client.write_all(&bytes).unwrap();
            client.shutdown_write();
            let mut conn = Conn::from_raw(server_end, Role::Server, Config::default());
            let mut got = Vec::new();
            let mut timeouts = 0;
            let end = loop {
                match conn.read_message() {
                    Ok(m) => got.push(m),
                    Err(e) if resumable(&e) && timeouts < 3 => timeouts += 1,
                    Err(e) => break e,
                }
                if got.len() == expected.len() {
                    break Error::AlreadyClosed;
                }
            };
            assert_eq!(
                got[..],
                expected[..got.len()],
                "{fault:?} at {offset}: not a prefix"
            );
            if got.len() < expected.len() {
                assert!(typed(&end), "{fault:?} at {offset}: {end:?}");
                assert!(
                    !harmless_for_reads(fault),
                    "{fault:?} at {offset} lost messages: {end}"
                );
            }
        }
    }
}

#[test]
fn streamed_reads_under_faults_deliver_a_prefix() {
    let bytes = client_bytes();
    let expected: Vec<u8> = messages()
        .iter()
        .flat_map(|m| m.as_bytes().to_vec())
        .collect();
    for fault in FAULTS {
        for offset in offsets(bytes.len()).into_iter().step_by(7) {
            let (mut client, mut server_end) = pipe();
            server_end.inject(Direction::Read, offset, fault);
            client.write_all(&bytes).unwrap();
            client.shutdown_write();
            let mut conn = Conn::from_raw(server_end, Role::Server, Config::default());
            let mut got = Vec::new();
            let mut buf = [0u8; 333];
            'messages: for _ in 0..messages().len() {
                let mut retries = 0;
                let mut reader = loop {
                    match conn.next_reader() {
                        Ok((_, reader)) => break reader,
                        Err(e) if resumable(&e) && retries < 3 => retries += 1,
                        Err(_) => break 'messages,
                    }
                };
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                        Err(e) => match Error::from(e) {
                            // A timeout at a frame boundary, or a stream that would block:
                            // the same reader carries on.
                            e if resumable(&e) => {}
                            e => {
                                assert!(typed(&e), "{fault:?} at {offset}: {e:?}");
                                break 'messages;
                            }
                        },
                    }
                }
            }
            assert_eq!(got[..], expected[..got.len()], "{fault:?} at {offset}");
            if harmless_for_reads(fault) {
                assert_eq!(got.len(), expected.len(), "{fault:?} at {offset}");
            }
        }
    }
}

/// Decodes the messages in what a server wrote (complete frames only).
fn decode(bytes: &[u8]) -> Vec<Message> {
    let mut out = Vec::new();
    let mut parts = Vec::new();
    let mut kind = MessageKind::Binary;
    let mut at = 0;
    while let Ok(Some((header, n))) = wsio::frame::FrameHeader::parse(&bytes[at..]) {
        let len = header.payload_len as usize;
        if bytes.len() - at < n + len {
            break;
        }
        match header.opcode {
            OpCode::Text => kind = MessageKind::Text,
            OpCode::Binary => kind = MessageKind::Binary,
            _ => {}
        }
        parts.extend_from_slice(&bytes[at + n..at + n + len]);
        if header.fin && !header.opcode.is_control() {
            let data = std::mem::take(&mut parts);
            out.push(match kind {
                MessageKind::Text => Message::Text(String::from_utf8(data).unwrap()),
                MessageKind::Binary => Message::Binary(data),
            });
        }
        at += n + len;
    }
    out
}

/// Writes the messages with a write fault; returns those reported sent, those received, and
/// whether the writer ended with an error.
fn write_all_under(
    fault: Fault,
    offset: u64,
    policy: FlushPolicy,
    streamed: bool,
) -> (Vec<Message>, Vec<Message>, bool) {
    let (mut client, mut server_end) = pipe();
    server_end.set_max_write(3000);
    server_end.inject(Direction::Write, offset, fault);
    let config = Config::builder().flush_policy(policy).build();
    let mut conn = Conn::from_raw(server_end, Role::Server, config);
    let mut sent = Vec::new();
    let mut failed = false;
    'all: for m in messages() {
        for _attempt in 0..3 {
            let result = if streamed {
                conn.next_writer(m.kind()).and_then(|mut w| {
                    for piece in m.as_bytes().chunks(5000) {
                        w.write_all(piece).map_err(Error::from)?;
                    }
                    w.finish()
                })
            } else {
                conn.write_message(m.kind(), m.as_bytes())
            };
            match result {
                Ok(()) => {
                    sent.push(m);
                    continue 'all;
                }
                Err(e) if resumable(&e) => {}
                Err(e) => {
                    assert!(typed(&e), "{fault:?} at {offset}: {e:?}");
                    failed = true;
                    break 'all;
                }
            }
        }
        failed = true;
        break;
    }
    if let Err(e) = conn.flush() {
        assert!(typed(&e), "{fault:?} at {offset}: {e:?}");
        failed = true;
    }
    drop(conn);
    let received = decode(&client.take_available());
    (sent, received, failed)
}

#[test]
fn writes_under_faults_send_exactly_what_they_report() {
    let total: usize = messages().iter().map(|m| m.len() + 10).sum();
    for fault in FAULTS {
        for offset in offsets(total).into_iter().step_by(3) {
            for (policy, streamed) in [
                (FlushPolicy::Immediate, false),
                (FlushPolicy::Batched, false),
                (FlushPolicy::Immediate, true),
            ] {
                let (sent, received, failed) = write_all_under(fault, offset, policy, streamed);
                let case = format!("{fault:?} at {offset} {policy:?} streamed={streamed}");
                // Nothing arrives twice or out of order.
                assert_eq!(received[..], messages()[..received.len()], "{case}");
                // At most one message beyond those reported sent (its write failed after its
                // last byte left).
                assert!(received.len() <= sent.len() + 1, "{case}");
                match policy {
                    // Sent means on the wire.
                    FlushPolicy::Immediate => assert!(received.len() >= sent.len(), "{case}"),
                    // Sent means buffered: a later failure to flush loses them, and says so.
                    _ => assert!(received.len() >= sent.len() || failed, "{case}"),
                }
                if harmless(fault) {
                    assert_eq!(
                        received.len(),
                        messages().len(),
                        "{fault:?} at {offset} {policy:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn handshakes_under_faults_succeed_or_fail_typed() {
    let request = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    for fault in FAULTS {
        for offset in 0..=request.len() as u64 {
            let (mut client, mut server_end) = pipe();
            server_end.inject(Direction::Read, offset, fault);
            client.write_all(request).unwrap();
            client
                .write_all(&client_frame(OpCode::Text, true, b"hi"))
                .unwrap();
            match Upgrader::new().upgrade(server_end) {
                Ok(mut conn) => {
                    if harmless(fault) {
                        assert_eq!(conn.read_message().unwrap(), Message::Text("hi".into()));
                    } else {
                        let _ = conn.read_message();
                    }
                }
                Err(e) => {
                    assert!(
                        matches!(e, Error::Handshake(_) | Error::Io(_)),
                        "{fault:?} at {offset}: {e:?}"
                    );
                    assert!(!harmless(fault), "{fault:?} at {offset}: {e}");
                }
            }
        }
    }
}

#[test]
fn client_handshakes_under_faults_succeed_or_fail_typed() {
    let response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
    for fault in FAULTS {
        for offset in (0..140u64).step_by(3) {
            let (mut client_end, mut server) = pipe();
            client_end.inject(Direction::Read, offset, fault);
            let peer = std::thread::spawn(move || {
                let Ok(key) = common::request_key(&mut server) else {
                    return;
                };
                let mut bytes =
                    format!("{response}{}\r\n\r\n", wsio::accept_key(key.as_bytes())).into_bytes();
                bytes.extend(server_frame(OpCode::Text, true, b"welcome"));
                let _ = server.write_all(&bytes);
                std::thread::sleep(std::time::Duration::from_millis(50));
            });
            match Dialer::new().handshake(client_end, "ws://h/") {
                Ok((mut conn, _)) => {
                    let r = conn.read_message();
                    if harmless(fault) {
                        assert_eq!(r.unwrap(), Message::Text("welcome".into()));
                    }
                }
                Err(e) => {
                    assert!(
                        matches!(e, Error::Handshake(_) | Error::Io(_)),
                        "{fault:?} at {offset}: {e:?}"
                    );
                    assert!(!harmless(fault), "{fault:?} at {offset}: {e}");
                }
            }
            peer.join().unwrap();
        }
    }
}

#[test]
fn close_under_faults_returns_a_status_or_a_typed_error() {
    for fault in FAULTS {
        for offset in 0..8u64 {
            let (mut client, mut server_end) = pipe();
            // The peer's answer is already there; the fault hits reading it.
            client
                .write_all(&client_frame(OpCode::Close, true, &[0x03, 0xe8]))
                .unwrap();
            client.shutdown_write();
            server_end.inject(Direction::Read, offset, fault);
            let mut conn = Conn::from_raw(server_end, Role::Server, Config::default());
            match conn.close(CloseCode::NORMAL, "") {
                Ok(status) => {
                    if harmless(fault) {
                        assert_eq!(status.code, CloseCode::NORMAL, "{fault:?} at {offset}");
                    }
                }
                Err(e) => assert!(typed(&e), "{fault:?} at {offset}: {e:?}"),
            }
            let _: &PipeEnd = conn.get_ref();
        }
    }
}

/// Reads of compressed messages, through a whole connection or its reader half, under every
/// fault: a prefix of the messages, then a typed error (all of them for harmless faults).
fn compressed_reads_under_faults(split: bool) {
    let config = || {
        Config::builder()
            .deflate(wsio::DeflateConfig::new())
            .keepalive(None)
            .build()
    };
    let expected = messages();
    for fault in FAULTS {
        for k in (0..120).step_by(3).chain([500, 2000, 5000]) {
            let (mut client, mut server) = common::conn_pair_with(config(), config());
            for (i, m) in expected.iter().enumerate() {
                if i == 3 {
                    client.write_ping(b"p").unwrap();
                }
                client.write_message(m.kind(), m.as_bytes()).unwrap();
            }
            client.get_mut().shutdown_write();
            let end = server.get_ref().bytes_read();
            server.get_mut().set_max_read(4096);
            server.get_mut().inject(Direction::Read, end + k, fault);
            let mut got = Vec::new();
            let mut timeouts = 0;
            let mut read: Box<dyn FnMut() -> wsio::Result<Message>> = if split {
                let (mut rx, tx) = server.split().unwrap();
                Box::new(move || {
                    let _keep = &tx;
                    rx.read_message()
                })
            } else {
                Box::new(move || server.read_message())
            };
            let end = loop {
                match read() {
                    Ok(m) => got.push(m),
                    Err(e) if resumable(&e) && timeouts < 3 => timeouts += 1,
                    Err(e) => break e,
                }
                if got.len() == expected.len() {
                    break Error::AlreadyClosed;
                }
            };
            assert_eq!(got[..], expected[..got.len()], "{fault:?} at +{k}");
            if got.len() < expected.len() {
                assert!(typed(&end), "{fault:?} at +{k}: {end:?}");
                assert!(
                    !harmless_for_reads(fault),
                    "{fault:?} at +{k} lost messages: {end}"
                );
            }
        }
    }
}

#[test]
fn compressed_reads_under_faults_deliver_a_prefix() {
    compressed_reads_under_faults(false);
}

#[test]
fn reader_half_reads_under_faults_deliver_a_prefix() {
    compressed_reads_under_faults(true);
}
