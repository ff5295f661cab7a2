//! Every request the server refuses gets the proper HTTP response, and `upgrade` reports why.

mod common;

use std::io::Write;

use wsio::testing::pipe;
use wsio::{Config, Error, HandshakeError, Rejection, Upgrader};

const GOOD: &str = "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
                    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                    Sec-WebSocket-Version: 13\r\n";

/// Sends `request` to `upgrader` and returns its error and the raw response.
fn refused(upgrader: &Upgrader, request: &str) -> (HandshakeError, String) {
    let (mut client, server) = pipe();
    client.write_all(request.as_bytes()).unwrap();
    let err = match upgrader.upgrade(server) {
        Ok(_) => panic!("upgrade should fail for {request:?}"),
        Err(Error::Handshake(e)) => e,
        Err(e) => panic!("expected a handshake error, got {e}"),
    };
    (err, String::from_utf8(client.take_available()).unwrap())
}

fn status_line(response: &str) -> &str {
    response.lines().next().unwrap_or("")
}

fn with(extra: &str) -> String {
    format!("{GOOD}{extra}\r\n")
}

fn replace(from: &str, to: &str) -> String {
    format!("{}\r\n", GOOD.replace(from, to))
}

#[test]
fn the_good_request_is_accepted() {
    let (mut client, server) = pipe();
    client.write_all(with("").as_bytes()).unwrap();
    Upgrader::new().upgrade(server).unwrap();
    let response = String::from_utf8(client.take_available()).unwrap();
    assert!(response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
}

#[test]
fn not_get_is_405_with_allow() {
    let (err, response) = refused(&Upgrader::new(), &replace("GET /chat", "POST /chat"));
    assert!(matches!(err, HandshakeError::MethodNotAllowed));
    assert_eq!(status_line(&response), "HTTP/1.1 405 Method Not Allowed");
    assert!(response.contains("Allow: GET\r\n"));
}

#[test]
fn http_1_0_is_400() {
    let (err, response) = refused(&Upgrader::new(), &replace("HTTP/1.1", "HTTP/1.0"));
    assert!(matches!(err, HandshakeError::HttpVersion));
    assert_eq!(status_line(&response), "HTTP/1.1 400 Bad Request");
}

#[test]
fn missing_upgrade_or_connection_is_426_naming_websocket_13() {
    for request in [
        replace("Upgrade: websocket\r\n", ""),
        replace("Upgrade: websocket", "Upgrade: h2c"),
        replace("Connection: Upgrade", "Connection: keep-alive"),
    ] {
        let (err, response) = refused(&Upgrader::new(), &request);
        assert!(matches!(err, HandshakeError::NotUpgrade), "{err}");
        assert_eq!(status_line(&response), "HTTP/1.1 426 Upgrade Required");
        assert!(response.contains("Upgrade: websocket\r\n"), "{response}");
        assert!(
            response.contains("Sec-WebSocket-Version: 13\r\n"),
            "{response}"
        );
    }
}

#[test]
fn a_wrong_version_is_426_with_the_supported_version() {
    for request in [
        replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"),
        replace("Sec-WebSocket-Version: 13\r\n", ""),
    ] {
        let (err, response) = refused(&Upgrader::new(), &request);
        assert!(matches!(err, HandshakeError::UnsupportedVersion));
        assert_eq!(status_line(&response), "HTTP/1.1 426 Upgrade Required");
        assert!(
            response.contains("Sec-WebSocket-Version: 13\r\n"),
            "{response}"
        );
    }
}

#[test]
fn a_missing_repeated_or_malformed_key_is_400() {
    for request in [
        replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
        replace("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ="),
        replace("dGhlIHNhbXBsZSBub25jZQ==", "not base64 at all!!!!!!!"),
        with("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"),
    ] {
        let (err, response) = refused(&Upgrader::new(), &request);
        assert!(matches!(err, HandshakeError::InvalidKey), "{err}");
        assert_eq!(status_line(&response), "HTTP/1.1 400 Bad Request");
    }
}

#[test]
fn a_missing_host_is_400() {
    let (err, _) = refused(&Upgrader::new(), &replace("Host: example.com\r\n", ""));
    assert!(matches!(err, HandshakeError::MissingHost));
}

#[test]
fn a_cross_origin_request_is_403_by_default() {
    let (err, response) = refused(&Upgrader::new(), &with("Origin: https://evil.example\r\n"));
    assert!(matches!(err, HandshakeError::OriginRejected));
    assert_eq!(status_line(&response), "HTTP/1.1 403 Forbidden");
    // Same origin passes; a custom check decides for itself.
    let (mut client, server) = pipe();
    client
        .write_all(with("Origin: http://example.com\r\n").as_bytes())
        .unwrap();
    Upgrader::new().upgrade(server).unwrap();
    let strict =
        Upgrader::new().check_origin(|r| r.header("Origin") == Some("https://app.example"));
    let (err, _) = refused(&strict, &with("Origin: http://example.com\r\n"));
    assert!(matches!(err, HandshakeError::OriginRejected));
}

#[test]
fn an_oversized_head_is_431() {
    let config = Config::builder().max_handshake_size(1024).build();
    let big = with(&format!("Cookie: {}\r\n", "c".repeat(2000)));
    let (err, response) = refused(&Upgrader::new().config(config), &big);
    assert!(matches!(err, HandshakeError::TooLarge));
    assert_eq!(
        status_line(&response),
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
}

#[test]
fn too_many_headers_is_431() {
    let config = Config::builder().max_headers(10).build();
    let many: String = (0..20).map(|i| format!("X-H{i}: v\r\n")).collect();
    let (err, response) = refused(&Upgrader::new().config(config), &with(&many));
    assert!(matches!(err, HandshakeError::TooManyHeaders));
    assert_eq!(
        status_line(&response),
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
}

#[test]
fn garbage_is_400() {
    let (err, response) = refused(&Upgrader::new(), "\x16\x03\x01 not http\r\n\r\n");
    assert!(matches!(err, HandshakeError::Malformed));
    assert_eq!(status_line(&response), "HTTP/1.1 400 Bad Request");
}

#[test]
fn the_request_callback_refuses_with_its_status_headers_and_body() {
    let upgrader = Upgrader::new().check_request(|request, _| {
        if request.path() != "/allowed" {
            return Err(Rejection::new(401)
                .with_header("WWW-Authenticate", "Bearer")
                .with_body("who are you"));
        }
        Ok(())
    });
    let (err, response) = refused(&upgrader, &with(""));
    assert!(matches!(err, HandshakeError::Rejected(401)));
    assert_eq!(err.status(), Some(401));
    assert_eq!(status_line(&response), "HTTP/1.1 401 Unauthorized");
    assert!(response.contains("WWW-Authenticate: Bearer\r\n"));
    assert!(response.ends_with("\r\n\r\nwho are you"));
}

#[test]
fn the_request_callback_can_add_response_headers() {
    let upgrader = Upgrader::new().check_request(|request, accept| {
        assert_eq!(request.query(), Some("room=1"));
        accept.header("Set-Cookie", "session=abc");
        Ok(())
    });
    let (mut client, server) = pipe();
    client
        .write_all(
            with("")
                .replace("GET /chat ", "GET /chat?room=1 ")
                .as_bytes(),
        )
        .unwrap();
    upgrader.upgrade(server).unwrap();
    let response = String::from_utf8(client.take_available()).unwrap();
    assert!(
        response.contains("Set-Cookie: session=abc\r\n"),
        "{response}"
    );
}

#[test]
fn subprotocols_are_negotiated_in_the_chosen_order() {
    let accept = |upgrader: Upgrader| {
        let (mut client, server) = pipe();
        client
            .write_all(with("Sec-WebSocket-Protocol: b, a\r\n").as_bytes())
            .unwrap();
        let conn = upgrader.upgrade(server).unwrap();
        let response = String::from_utf8(client.take_available()).unwrap();
        (conn.subprotocol().map(str::to_owned), response)
    };
    let (chosen, response) = accept(Upgrader::new().subprotocols(["a", "b"]));
    assert_eq!(chosen.as_deref(), Some("a"));
    assert!(response.contains("Sec-WebSocket-Protocol: a\r\n"));
    let (chosen, _) = accept(
        Upgrader::new()
            .subprotocols(["a", "b"])
            .subprotocol_order(wsio::SubprotocolOrder::Client),
    );
    assert_eq!(chosen.as_deref(), Some("b"));
    let (chosen, response) = accept(Upgrader::new().subprotocols(["c"]));
    assert_eq!(chosen, None);
    assert!(!response.contains("Sec-WebSocket-Protocol"));
}
