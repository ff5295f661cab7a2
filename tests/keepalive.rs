//! The keepalive finds a dead peer while the application is blocked reading, without a
//! thread of its own: a ping after the interval, close 1001 and `KeepaliveTimeout` after
//! the timeout. A peer that answers pings stays connected.

mod common;

use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use wsio::{CloseCode, Config, Dialer, Error, Keepalive, Message, Upgrader};

fn keepalive_config() -> Config {
    Config::builder()
        .keepalive(Some(Keepalive::new(
            Duration::from_millis(150),
            Duration::from_millis(400),
        )))
        .close_timeout(Some(Duration::from_millis(300)))
        .build()
}

#[test]
fn a_silent_peer_is_detected_within_the_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = common::silent_peer(listener.local_addr().unwrap());
    let (stream, _) = listener.accept().unwrap();
    let mut conn = Upgrader::new()
        .config(keepalive_config())
        .upgrade(stream)
        .unwrap();
    let started = Instant::now();
    let err = conn.read_message().unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Error::KeepaliveTimeout), "{err}");
    assert!(took >= Duration::from_millis(350), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    let status = conn.close_status().unwrap();
    assert_eq!(status.code, CloseCode::ABNORMAL);
    // Sticky.
    assert!(matches!(conn.read_message(), Err(Error::KeepaliveTimeout)));

    let bytes = peer.join().unwrap();
    let frames = &bytes[bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    assert_eq!(&frames[..2], &[0x89, 0], "an empty ping first");
    assert_eq!(&frames[2..6], &[0x88, 19, 0x03, 0xe9], "then close 1001");
}

#[test]
fn a_peer_that_answers_pings_stays_connected() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = thread::spawn(move || {
        // A wsio client answers pings by default; it sends one message after a second.
        let (conn, _) = Dialer::new()
            .config(Config::builder().keepalive(None).build())
            .dial(&format!("ws://{addr}/"))
            .unwrap();
        let (mut rx, mut tx) = conn.split().unwrap();
        // Its reader thread answers the server's pings.
        let reader = thread::spawn(move || while rx.read_message().is_ok() {});
        thread::sleep(Duration::from_millis(1000));
        tx.write_text("still here").unwrap();
        tx.close(CloseCode::NORMAL, "").unwrap();
        reader.join().unwrap();
    });
    let (stream, _) = listener.accept().unwrap();
    let mut conn = Upgrader::new()
        .config(keepalive_config())
        .upgrade(stream)
        .unwrap();
    assert_eq!(
        conn.read_message().unwrap(),
        Message::Text("still here".into())
    );
    assert!(matches!(conn.read_message(), Err(Error::Closed(_))));
    peer.join().unwrap();
}

#[test]
fn keepalive_works_on_a_reader_half() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let _peer = common::silent_peer(listener.local_addr().unwrap());
    let (stream, _) = listener.accept().unwrap();
    let conn = Upgrader::new()
        .config(keepalive_config())
        .upgrade(stream)
        .unwrap();
    let (mut rx, _tx) = conn.split().unwrap();
    let started = Instant::now();
    assert!(matches!(rx.read_message(), Err(Error::KeepaliveTimeout)));
    assert!(started.elapsed() < Duration::from_millis(1500));
}
