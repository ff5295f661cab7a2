//! The fault tests over TLS: wsio over a `TlsStream` over the test pipe, with a fault
//! (errors, end of stream, short transfers) injected into the ciphertext at offsets across
//! records. Every read delivers a prefix of the messages and then a typed error, all of them
//! for faults that lose nothing (`Interrupted`, `WouldBlock`, short transfers); every write
//! reports only what the peer then receives, in order.

#[path = "support/tls.rs"]
mod tls_support;

use std::io;
use std::thread;

use tls_support::TestCa;
use wsio::testing::{Direction, Fault, PipeEnd, pipe};
use wsio::{Config, Conn, Error, FlushPolicy, Message, Role, TlsStream};

const FAULTS: [Fault; 7] = [
    Fault::Error(io::ErrorKind::WouldBlock),
    Fault::Error(io::ErrorKind::TimedOut),
    Fault::Error(io::ErrorKind::Interrupted),
    Fault::Error(io::ErrorKind::ConnectionReset),
    Fault::Error(io::ErrorKind::BrokenPipe),
    Fault::Eof,
    Fault::Short(1),
];

/// Faults that must lose nothing when the call is repeated.
fn harmless(fault: Fault) -> bool {
    matches!(
        fault,
        Fault::Error(io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock) | Fault::Short(_)
    )
}

fn resumable(e: &Error) -> bool {
    match e {
        Error::Timeout => true,
        Error::Io(e) => e.kind() == io::ErrorKind::WouldBlock,
        _ => false,
    }
}

fn typed(err: &Error) -> bool {
    matches!(
        err,
        Error::Timeout
            | Error::Poisoned(_)
            | Error::Io(_)
            | Error::Tls(_)
            | Error::Closed(_)
            | Error::AlreadyClosed
    )
}

fn messages() -> Vec<Message> {
    vec![
        Message::Text("first".into()),
        Message::Binary(vec![]),
        Message::Binary((0..200u8).collect()),
        Message::Text("é".repeat(700)),
        // Several TLS records (16 KiB of plaintext each).
        Message::Binary((0..70_000u32).map(|i| i as u8).collect()),
        Message::Text("last".into()),
    ]
}

/// Two ends of a TLS session over the pipe, handshake done: (client, server).
fn tls_pair(ca: &TestCa, acceptor: &wsio::TlsAcceptor) -> (TlsStream<PipeEnd>, TlsStream<PipeEnd>) {
    let (client_end, server_end) = pipe();
    let config = ca.client_config();
    let client =
        thread::spawn(move || TlsStream::connect(client_end, config, "localhost").unwrap());
    let server = acceptor.accept(server_end).unwrap();
    (client.join().unwrap(), server)
}

/// Offsets past the handshake worth a fault: inside the first records, and across the large
/// message's records.
fn offsets() -> impl Iterator<Item = u64> {
    (0..90).step_by(4).chain([
        200, 1_000, 1_500, 16_000, 16_500, 17_000, 40_000, 70_000, 71_500,
    ])
}

#[test]
fn reads_under_faults_deliver_a_prefix_and_a_typed_error() {
    let ca = TestCa::new();
    let acceptor = ca.server(&["localhost"]).acceptor();
    let expected = messages();
    for fault in FAULTS {
        let mut cut_short = 0;
        for offset in offsets() {
            let (client, mut server) = tls_pair(&ca, &acceptor);
            let at = server.get_ref().bytes_read() + offset;
            server.get_mut().inject(Direction::Read, at, fault);
            server.get_mut().set_max_read(5000);
            let mut client = Conn::from_raw(client, Role::Client, Config::default());
            for m in &expected {
                client.write_message(m.kind(), m.as_bytes()).unwrap();
            }
            drop(client);
            let mut conn = Conn::from_raw(server, Role::Server, Config::default());
            let mut got = Vec::new();
            let mut retries = 0;
            let end = loop {
                match conn.read_message() {
                    Ok(m) => got.push(m),
                    Err(e) if resumable(&e) && retries < 3 => retries += 1,
                    Err(e) => break e,
                }
                if got.len() == expected.len() {
                    break Error::AlreadyClosed;
                }
            };
            assert_eq!(got[..], expected[..got.len()], "{fault:?} at +{offset}");
            if got.len() < expected.len() {
                assert!(typed(&end), "{fault:?} at +{offset}: {end:?}");
                assert!(
                    !harmless(fault),
                    "{fault:?} at +{offset} lost messages: {end}"
                );
                cut_short += 1;
            }
        }
        // The faults reach the reader: those that lose data end reads early.
        assert_eq!(
            cut_short > 0,
            !harmless(fault),
            "{fault:?}: {cut_short} cut short"
        );
    }
}

#[test]
fn writes_under_faults_send_exactly_what_they_report() {
    let ca = TestCa::new();
    let acceptor = ca.server(&["localhost"]).acceptor();
    for fault in FAULTS {
        let mut failures = 0;
        for offset in offsets() {
            for policy in [FlushPolicy::Immediate, FlushPolicy::Batched] {
                let case = format!("{fault:?} at +{offset} {policy:?}");
                let (client, mut server) = tls_pair(&ca, &acceptor);
                let at = server.get_ref().bytes_written() + offset;
                server.get_mut().inject(Direction::Write, at, fault);
                server.get_mut().set_max_write(3000);
                let config = Config::builder().flush_policy(policy).build();
                let mut conn = Conn::from_raw(server, Role::Server, config);
                let mut sent = Vec::new();
                let mut failed = false;
                'all: for m in messages() {
                    for _attempt in 0..3 {
                        match conn.write_message(m.kind(), m.as_bytes()) {
                            Ok(()) => {
                                sent.push(m);
                                continue 'all;
                            }
                            Err(e) if resumable(&e) => {}
                            Err(e) => {
                                assert!(typed(&e), "{case}: {e:?}");
                                failed = true;
                                break 'all;
                            }
                        }
                    }
                    failed = true;
                    break;
                }
                if let Err(e) = conn.flush() {
                    assert!(typed(&e), "{case}: {e:?}");
                    failed = true;
                }
                drop(conn);
                let mut client = Conn::from_raw(client, Role::Client, Config::default());
                let mut received = Vec::new();
                while let Ok(m) = client.read_message() {
                    received.push(m);
                }
                assert_eq!(received[..], messages()[..received.len()], "{case}");
                assert!(received.len() <= sent.len() + 1, "{case}");
                if policy == FlushPolicy::Immediate || !failed {
                    assert!(received.len() >= sent.len(), "{case}");
                }
                if harmless(fault) {
                    assert_eq!(received.len(), messages().len(), "{case}");
                }
                failures += usize::from(failed);
            }
        }
        // The faults reach the writer: broken streams are reported; stalls (a timeout, a
        // stream that would block) are retried and lose nothing.
        let breaks = matches!(
            fault,
            Fault::Eof | Fault::Error(io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe)
        );
        assert_eq!(failures > 0, breaks, "{fault:?}: {failures} failures");
    }
}

/// A peer that drains a little every 50 ms lets every transport write make progress; the
/// TLS write as a whole still ends at the write timeout, not when the last byte drains.
#[test]
fn a_slowly_draining_peer_cannot_stretch_a_write_past_the_write_timeout() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    use wsio::Stream;

    let ca = TestCa::new();
    let acceptor = ca.server(&["localhost"]).acceptor();
    let (mut client, mut server) = tls_pair(&ca, &acceptor);
    client.get_mut().set_capacity(256);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = std::sync::Arc::clone(&stop);
    let drain = thread::spawn(move || {
        let mut buf = [0u8; 200];
        while !stopped.load(std::sync::atomic::Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(50));
            // Raw ciphertext, straight off the pipe.
            let _ = client.get_mut().read(&mut buf);
        }
    });
    server
        .set_write_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let started = Instant::now();
    let result = server.write(&vec![7u8; 64 << 10]);
    let took = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    drain.join().unwrap();
    // Either the plaintext was taken and the records wait (the next write or flush
    // reports the stall), or the write stalled before taking any.
    match result {
        Ok(n) => assert!(n > 0),
        Err(e) => assert!(
            matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ),
            "{e}"
        ),
    }
    assert!(took < Duration::from_millis(1500), "{took:?}");
    let started = Instant::now();
    let flushed = server.flush();
    assert!(flushed.is_err(), "the records cannot all have gone");
    assert!(started.elapsed() < Duration::from_millis(1500));
}
