//! What holds over TCP holds over TLS: read and write deadlines, the keepalive, the close
//! timeout, streaming, and a split connection whose reader is never held up by a writer
//! blocked on a peer that does not read. wsio in both roles over loopback.

#[path = "support/tls.rs"]
mod tls_support;

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use tls_support::pair;
use wsio::{CloseCode, Config, DeflateConfig, Error, Keepalive, Message, MessageKind, Poison};

fn soon(ms: u64) -> Option<Instant> {
    Some(Instant::now() + Duration::from_millis(ms))
}

#[test]
fn a_read_deadline_between_frames_is_a_harmless_timeout() {
    let (mut server, mut client) = pair(Config::default(), Config::default());
    server.set_read_deadline(soon(100)).unwrap();
    let started = Instant::now();
    let err = server.read_message().unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(90));
    server.set_read_deadline(None).unwrap();
    client.write_text("later").unwrap();
    assert_eq!(
        server.read_message().unwrap(),
        Message::Text("later".into())
    );
}

#[test]
fn a_peer_that_never_reads_fails_the_writer_at_the_deadline() {
    let (mut server, client) = pair(Config::default(), Config::default());
    let holder = thread::spawn(move || {
        thread::sleep(Duration::from_millis(2500));
        drop(client);
    });
    server.set_write_deadline(soon(300)).unwrap();
    let big = vec![1u8; 1 << 20];
    let started = Instant::now();
    let err = loop {
        if let Err(e) = server.write_binary(&big) {
            break e;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "never timed out"
        );
    };
    assert!(
        matches!(
            err,
            Error::Timeout | Error::Poisoned(Poison::WriteTimeoutMidFrame)
        ),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_millis(2000));
    holder.join().unwrap();
}

#[test]
fn the_keepalive_finds_a_silent_peer() {
    let config = Config::builder()
        .keepalive(Some(Keepalive::new(
            Duration::from_millis(150),
            Duration::from_millis(400),
        )))
        .close_timeout(Some(Duration::from_millis(300)))
        .build();
    let (mut server, client) = pair(config, Config::default());
    // The client never reads, so it never answers a ping.
    let holder = thread::spawn(move || {
        thread::sleep(Duration::from_millis(2500));
        drop(client);
    });
    let started = Instant::now();
    let err = server.read_message().unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Error::KeepaliveTimeout), "{err}");
    assert!(took >= Duration::from_millis(350), "{took:?}");
    assert!(took < Duration::from_millis(2000), "{took:?}");
    holder.join().unwrap();
}

#[test]
fn a_peer_that_answers_pings_stays_connected() {
    let config = Config::builder()
        .keepalive(Some(Keepalive::new(
            Duration::from_millis(100),
            Duration::from_millis(300),
        )))
        .build();
    let (mut server, mut client) = pair(config, Config::default());
    let peer = thread::spawn(move || {
        // Reading answers the pings; the message ends it.
        client.read_message().unwrap()
    });
    server.set_read_deadline(soon(1000)).unwrap();
    assert!(matches!(server.read_message(), Err(Error::Timeout)));
    server.write_text("still here").unwrap();
    assert_eq!(peer.join().unwrap(), Message::Text("still here".into()));
}

#[test]
fn a_silent_peer_does_not_hold_close_past_the_timeout() {
    let config = Config::builder()
        .close_timeout(Some(Duration::from_millis(300)))
        .build();
    let (mut server, client) = pair(config, Config::default());
    let holder = thread::spawn(move || {
        thread::sleep(Duration::from_millis(2500));
        drop(client);
    });
    let started = Instant::now();
    let status = server.close(CloseCode::NORMAL, "bye").unwrap();
    let took = started.elapsed();
    assert_eq!(status.code, CloseCode::ABNORMAL);
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_millis(2000), "{took:?}");
    holder.join().unwrap();
}

#[test]
fn a_clean_close_in_both_directions() {
    let (mut server, mut client) = pair(Config::default(), Config::default());
    let peer = thread::spawn(move || match client.read_message() {
        Err(Error::Closed(status)) => status,
        other => panic!("{other:?}"),
    });
    let status = server.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(status.code, CloseCode::NORMAL);
    assert_eq!(peer.join().unwrap().reason, "bye");
}

#[test]
fn streamed_compressed_messages_in_pieces() {
    let deflate = || Config::builder().deflate(DeflateConfig::new()).build();
    let (mut server, mut client) = pair(deflate(), deflate());
    let data: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
    let sent = data.clone();
    let writer = thread::spawn(move || {
        let mut w = client.next_writer(MessageKind::Binary).unwrap();
        for piece in sent.chunks(100_003) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap();
        client
    });
    let (kind, mut reader) = server.next_reader().unwrap();
    assert_eq!(kind, MessageKind::Binary);
    let mut got = Vec::new();
    let mut buf = vec![0u8; 7_777];
    loop {
        let n = reader.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got == data, "{} bytes differ", got.len());
    writer.join().unwrap();
}

/// The server's writer half is stuck streaming a 32 MiB message the client is not reading;
/// the server's reader half still reads the client's messages and answers its ping, and the
/// pong reaches the client between fragments of the big message, not after it.
#[test]
fn the_reader_half_is_never_held_up_by_a_blocked_writer() {
    let (server, mut client) = pair(Config::default(), Config::default());
    let (mut rx, mut tx) = server.split().unwrap();
    let writer_done = Arc::new(AtomicBool::new(false));
    let done = Arc::clone(&writer_done);
    let writer = thread::spawn(move || {
        let piece = vec![9u8; 256 << 10];
        let mut w = tx.next_writer(MessageKind::Binary).unwrap();
        for _ in 0..128 {
            w.write_all(&piece).unwrap();
        }
        w.finish().unwrap();
        done.store(true, Ordering::SeqCst);
        tx
    });
    // Let the writer fill the socket buffers and block.
    thread::sleep(Duration::from_millis(300));
    assert!(
        !writer_done.load(Ordering::SeqCst),
        "the writer did not block"
    );
    client.write_text("while you write").unwrap();
    assert_eq!(
        rx.read_message().unwrap(),
        Message::Text("while you write".into())
    );
    assert!(!writer_done.load(Ordering::SeqCst));
    client.write_ping(b"are you there").unwrap();
    let pongs = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&pongs);
    client.set_pong_handler(move |payload| {
        assert_eq!(payload, b"are you there");
        seen.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    // The reader half sees the ping (and queues the pong) on its next read.
    let reader = thread::spawn(move || {
        let r = rx.read_message();
        (rx, r)
    });
    thread::sleep(Duration::from_millis(200));
    // Now the client reads: the pong arrives inside the big message.
    let (_, mut big) = client.next_reader().unwrap();
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0;
    let mut pong_at = None;
    loop {
        let n = big.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n;
        if pong_at.is_none() && pongs.load(Ordering::SeqCst) == 1 {
            pong_at = Some(total);
        }
    }
    assert_eq!(total, 32 << 20);
    let pong_at = pong_at.expect("no pong before the big message ended");
    assert!(pong_at < 32 << 20, "pong after {pong_at} bytes");
    let tx = writer.join().unwrap();
    client.close(CloseCode::NORMAL, "").unwrap();
    let (rx, r) = reader.join().unwrap();
    assert!(matches!(r, Err(Error::Closed(_))), "{r:?}");
    assert!(rx.reunite(tx).is_ok());
}
