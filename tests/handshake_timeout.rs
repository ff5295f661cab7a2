//! A client trickling its request a byte at a time cannot hold the server past the
//! handshake timeout: it is a deadline, not a per-read timeout.

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use wsio::testing::pipe;
use wsio::{Config, Error, HandshakeError, Upgrader};

#[test]
fn a_slowloris_request_times_out_at_the_deadline() {
    let (mut client, server) = pipe();
    let trickle = thread::spawn(move || {
        for byte in b"GET / HTTP/1.1\r\nHost: h\r\nX-Slow: "
            .iter()
            .chain([b'a'; 200].iter())
        {
            if client.write_all(&[*byte]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
    });
    let config = Config::builder()
        .handshake_timeout(Some(Duration::from_millis(300)))
        .build();
    let started = Instant::now();
    let err = Upgrader::new().config(config).upgrade(server).unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(err, Error::Handshake(HandshakeError::Timeout)),
        "{err}"
    );
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    trickle.join().unwrap();
}

#[test]
fn a_silent_server_times_the_client_out() {
    let (client, _server) = pipe();
    let config = Config::builder()
        .handshake_timeout(Some(Duration::from_millis(200)))
        .build();
    let started = Instant::now();
    let err = wsio::Dialer::new()
        .config(config)
        .handshake(client, "ws://h/")
        .map(|_| ())
        .unwrap_err();
    assert!(
        matches!(err, Error::Handshake(HandshakeError::Timeout)),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}
