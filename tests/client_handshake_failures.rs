//! The client checks the server's answer: a refusal comes back with status, headers and the
//! start of the body; a 101 that breaks RFC 6455 is an error that says how.

mod common;

use std::io::Write;
use std::thread;

use wsio::testing::pipe;
use wsio::{Dialer, Error, HandshakeError};

/// Runs a client handshake against a server that answers with `respond(key)`.
fn answered_with(dialer: Dialer, respond: impl FnOnce(&str) -> String + Send + 'static) -> Error {
    let (client, mut server) = pipe();
    let peer = thread::spawn(move || {
        let key = common::request_key(&mut server).unwrap();
        server.write_all(respond(&key).as_bytes()).unwrap();
        server
    });
    let err = dialer.handshake(client, "ws://h/").map(|_| ()).unwrap_err();
    let _ = peer.join();
    err
}

fn switching(key: &str, extra: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n{extra}\r\n",
        wsio::accept_key(key.as_bytes())
    )
}

#[test]
fn a_refusal_returns_status_headers_and_body() {
    let err = answered_with(Dialer::new(), |_| {
        let body = "no such room ".repeat(200);
        format!(
            "HTTP/1.1 404 Not Found\r\nX-Why: room\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    });
    let Error::Handshake(HandshakeError::Status(response)) = err else {
        panic!("expected Status, got {err}");
    };
    assert_eq!((response.status(), response.reason()), (404, "Not Found"));
    assert_eq!(response.header("x-why"), Some("room"));
    assert_eq!(response.body().len(), 1024, "body prefix is capped");
    assert!(response.body().starts_with(b"no such room no such room"));
}

#[test]
fn a_wrong_accept_key_is_refused() {
    let err = answered_with(Dialer::new(), |_| switching("someone else's key", ""));
    assert!(
        matches!(err, Error::Handshake(HandshakeError::InvalidAccept)),
        "{err}"
    );
}

#[test]
fn a_101_without_upgrade_headers_is_refused() {
    let err = answered_with(Dialer::new(), |key| {
        switching(key, "").replace("Upgrade: websocket\r\n", "")
    });
    assert!(
        matches!(err, Error::Handshake(HandshakeError::NotUpgrade)),
        "{err}"
    );
}

#[test]
fn an_unoffered_subprotocol_is_refused() {
    let err = answered_with(Dialer::new().subprotocols(["a"]), |key| {
        switching(key, "Sec-WebSocket-Protocol: b\r\n")
    });
    assert!(matches!(err, Error::Handshake(HandshakeError::UnofferedSubprotocol(p)) if p == "b"));
}

#[test]
fn an_unoffered_extension_is_refused() {
    let err = answered_with(Dialer::new(), |key| {
        switching(key, "Sec-WebSocket-Extensions: permessage-deflate\r\n")
    });
    assert!(
        matches!(err, Error::Handshake(HandshakeError::UnofferedExtension(e)) if e == "permessage-deflate")
    );
}

#[test]
fn garbage_is_malformed() {
    let err = answered_with(Dialer::new(), |_| "SSH-2.0-OpenSSH\r\n\r\n".to_owned());
    assert!(
        matches!(err, Error::Handshake(HandshakeError::Malformed)),
        "{err}"
    );
}
