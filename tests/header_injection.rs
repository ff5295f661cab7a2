//! No header that would break an HTTP head is ever written, by any path: a value with CR,
//! LF or NUL (header injection), a name that is not a token. The client refuses before
//! connecting; the server answers 500 instead, and the application gets a typed error that
//! names the header.

use std::io::Write;

use wsio::testing::pipe;
use wsio::{Dialer, Error, InvalidInput, Rejection, Upgrader};

const REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
                       Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                       Sec-WebSocket-Version: 13\r\n\r\n";

/// The upgrader's error and everything it wrote.
fn upgrade(upgrader: &Upgrader) -> (Option<Error>, String) {
    let (mut client, server) = pipe();
    client.write_all(REQUEST.as_bytes()).unwrap();
    let err = upgrader.upgrade(server).err();
    (err, String::from_utf8(client.take_available()).unwrap())
}

#[test]
fn a_dialer_header_with_crlf_is_refused_before_connecting() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let err = Dialer::new()
        .header("X-Test", "1\r\nX-Injected: yes")
        .dial(&url)
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(InvalidInput::HeaderValue(name)) if name == "X-Test"),
        "{err}"
    );
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "it connected anyway");
}

#[test]
fn a_request_callback_header_with_crlf_never_reaches_the_response() {
    let upgrader = Upgrader::new().check_request(|_, accept| {
        accept.header("X-Note", "ok\r\nSet-Cookie: admin=1");
        Ok(())
    });
    let (err, response) = upgrade(&upgrader);
    assert!(response.starts_with("HTTP/1.1 500 "), "{response}");
    assert!(!response.contains("Set-Cookie"), "{response}");
    assert!(
        matches!(err, Some(Error::InvalidInput(InvalidInput::HeaderValue(ref n))) if n == "X-Note"),
        "{err:?}"
    );
}

#[test]
fn a_rejection_header_with_crlf_never_reaches_the_response() {
    let upgrader = Upgrader::new().check_request(|_, _| {
        Err(Rejection::new(401).with_header("WWW-Authenticate", "Bearer\r\nSet-Cookie: x=1"))
    });
    let (err, response) = upgrade(&upgrader);
    assert!(response.starts_with("HTTP/1.1 500 "), "{response}");
    assert!(!response.contains("Set-Cookie"), "{response}");
    assert!(
        matches!(err, Some(Error::InvalidInput(InvalidInput::HeaderValue(_)))),
        "{err:?}"
    );
}

#[test]
fn header_names_that_are_not_tokens_are_refused() {
    let upgrader = Upgrader::new().check_request(|_, accept| {
        accept.header("X Bad", "v");
        Ok(())
    });
    let (err, response) = upgrade(&upgrader);
    assert!(response.starts_with("HTTP/1.1 500 "), "{response}");
    assert!(
        matches!(err, Some(Error::InvalidInput(InvalidInput::HeaderName(ref n))) if n == "X Bad"),
        "{err:?}"
    );
}
