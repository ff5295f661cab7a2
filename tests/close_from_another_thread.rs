//! A reader blocked on a silent peer is stopped from another thread: a handle's `close`
//! sends the close frame, waits at most the close timeout for the peer's answer, then shuts
//! the stream down, which wakes the reader.

mod common;

use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use wsio::{CloseCode, Config, Error, Initiator, Upgrader};

#[test]
fn a_handle_stops_a_reader_blocked_on_a_silent_peer() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = common::silent_peer(listener.local_addr().unwrap());
    let (stream, _) = listener.accept().unwrap();
    let config = Config::builder()
        .close_timeout(Some(Duration::from_millis(300)))
        .keepalive(None)
        .build();
    let conn = Upgrader::new().config(config).upgrade(stream).unwrap();
    let (mut rx, _tx) = conn.split().unwrap();
    let handle = rx.handle();

    let reader = thread::spawn(move || {
        let started = Instant::now();
        let result = rx.read_message();
        (result, started.elapsed())
    });
    thread::sleep(Duration::from_millis(200));

    let started = Instant::now();
    let status = handle
        .close(CloseCode::GOING_AWAY, "shutting down")
        .unwrap();
    let took = started.elapsed();
    assert_eq!(status.code, CloseCode::ABNORMAL, "the peer never answered");
    assert_eq!(status.initiator, Initiator::Local);
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(2),
        "{took:?}"
    );

    let (result, blocked) = reader.join().unwrap();
    assert!(
        matches!(&result, Err(Error::Closed(s)) if s.code == CloseCode::ABNORMAL),
        "{result:?}"
    );
    assert!(blocked < Duration::from_secs(3), "{blocked:?}");

    // The silent peer saw our close frame, then the end of the stream.
    let bytes = client.join().unwrap();
    let body = &bytes[bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    assert_eq!(&body[..4], &[0x88, 15, 0x03, 0xe9], "close 1001");
}

#[test]
fn a_handle_close_answered_by_the_peer_is_clean() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = thread::spawn(move || {
        let (mut conn, _) = wsio::dial(&format!("ws://{addr}/")).unwrap();
        match conn.read_message() {
            Err(Error::Closed(status)) => status,
            other => panic!("{other:?}"),
        }
    });
    let (stream, _) = listener.accept().unwrap();
    let conn = Upgrader::new().upgrade(stream).unwrap();
    let (mut rx, tx) = conn.split().unwrap();
    let handle = tx.handle();
    let reader = thread::spawn(move || rx.read_message());
    let status = handle.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(
        (status.code, status.initiator),
        (CloseCode::NORMAL, Initiator::Local)
    );
    assert!(matches!(reader.join().unwrap(), Err(Error::Closed(_))));
    assert_eq!(peer.join().unwrap().reason, "bye");
}
