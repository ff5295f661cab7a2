//! The server over TLS: `wss://` with compression, the request callback and shutdown, on
//! threads with half the default stack (128 KiB): the TLS handshake, inflating and
//! deflating fit, in a debug build too (which needs about 96 KiB; an optimized one, under
//! 64 KiB).

#[path = "support/tls.rs"]
mod tls_support;

use std::time::Duration;

use tls_support::TestCa;
use wsio::{CloseCode, Config, DeflateConfig, Error, Message, Server, Upgrader};

#[test]
fn wss_with_compression_on_half_the_default_stack() {
    let ca = TestCa::new();
    let deflate = || Config::builder().deflate(DeflateConfig::new()).build();
    let server = Server::builder()
        .upgrader(
            Upgrader::new()
                .config(deflate())
                .check_request(|_, accept| {
                    accept.header("X-Tls", "yes");
                    Ok(())
                }),
        )
        .tls(ca.server(&["localhost"]).acceptor())
        .stack_size(128 << 10)
        .bind("127.0.0.1:0")
        .unwrap()
        .start(|mut conn| {
            assert!(conn.get_ref().is_tls());
            while let Ok(message) = conn.read_message() {
                if conn
                    .write_message(message.kind(), message.as_bytes())
                    .is_err()
                {
                    break;
                }
            }
        })
        .unwrap();
    let port = server.local_addrs()[0].port();
    let (mut conn, response) = ca
        .dialer()
        .config(deflate())
        .dial(&format!("wss://localhost:{port}/"))
        .unwrap();
    assert_eq!(response.header("X-Tls"), Some("yes"));
    assert!(conn.compression().is_some());
    let text: String = (0..1_000_000)
        .map(|i| (b'a' + (i % 7) as u8) as char)
        .collect();
    conn.write_text(&text).unwrap();
    assert_eq!(conn.read_message().unwrap(), Message::Text(text));
    // Shutdown reaches a TLS connection too: close 1001 through TLS.
    assert!(server.shutdown(Duration::from_secs(5)));
    match conn.read_message() {
        Err(Error::Closed(status)) => assert_eq!(status.code, CloseCode::GOING_AWAY),
        other => panic!("{other:?}"),
    }
    server.wait();
}

/// Over TLS a refused client is closed without an answer (a 503 would need a TLS handshake
/// for it): it sees the connection end, typed, at once; the live one keeps working.
#[test]
fn past_the_cap_a_tls_client_is_closed_unanswered() {
    let ca = TestCa::new();
    let server = Server::builder()
        .tls(ca.server(&["localhost"]).acceptor())
        .max_connections(1)
        .bind("127.0.0.1:0")
        .unwrap()
        .start(|mut conn| {
            while let Ok(message) = conn.read_message() {
                if conn
                    .write_message(message.kind(), message.as_bytes())
                    .is_err()
                {
                    break;
                }
            }
        })
        .unwrap();
    let url = format!("wss://localhost:{}/", server.local_addrs()[0].port());
    let (mut live, _) = ca.dialer().dial(&url).unwrap();
    let started = std::time::Instant::now();
    let err = ca.dialer().dial(&url).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(
            err,
            Error::Handshake(wsio::HandshakeError::Eof) | Error::Io(_) | Error::Tls(_)
        ),
        "{err}"
    );
    assert_eq!(server.stats().refused, 1);
    live.write_text("still here").unwrap();
    assert_eq!(
        live.read_message().unwrap(),
        Message::Text("still here".into())
    );
    drop(live);
    server.shutdown(Duration::from_secs(5));
}
