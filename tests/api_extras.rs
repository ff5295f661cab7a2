//! Smaller pieces of gorilla's and Voss's API: the read limit of a live connection,
//! unexpected-close tests, a custom error response, the upgrade test for foreign servers.

mod common;

use std::io::Write;

use wsio::frame::OpCode;
use wsio::testing::pipe;
use wsio::{
    CapacityError, CloseCode, CloseStatus, Error, HandshakeError, Initiator, Rejection, Request,
    Upgrader,
};

#[test]
fn the_read_limit_of_a_live_connection_can_change() {
    let (mut server, mut client) = common::server_and_raw_client(common::quick_config());
    client
        .write_all(&common::client_frame(OpCode::Binary, true, &[1; 2000]))
        .unwrap();
    assert_eq!(server.read_message().unwrap().len(), 2000);
    server.set_max_message_size(1000);
    client
        .write_all(&common::client_frame(OpCode::Binary, true, &[1; 2000]))
        .unwrap();
    let err = server.read_message().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Capacity(CapacityError::MessageTooLarge { limit: 1000 })
        ),
        "{err}"
    );
}

#[test]
fn unexpected_closes_are_told_from_expected_ones() {
    let closed = |code| {
        Error::Closed(CloseStatus {
            code,
            reason: String::new(),
            initiator: Initiator::Peer,
        })
    };
    let expected = [CloseCode::NORMAL, CloseCode::GOING_AWAY];
    assert!(!closed(CloseCode::NORMAL).is_unexpected_close(&expected));
    assert!(closed(CloseCode::POLICY_VIOLATION).is_unexpected_close(&expected));
    let reset = Error::Io(std::io::ErrorKind::ConnectionReset.into());
    assert!(reset.is_unexpected_close(&expected));
    assert!(!reset.is_unexpected_close(&[CloseCode::ABNORMAL]));
    assert!(Error::KeepaliveTimeout.is_unexpected_close(&expected));
    assert!(!Error::Timeout.is_unexpected_close(&expected), "not an end");
}

#[test]
fn a_custom_error_response_replaces_the_default_and_keeps_what_the_protocol_requires() {
    let upgrader = Upgrader::new().error_response(|error: &HandshakeError| {
        Rejection::new(error.status().unwrap_or(400))
            .with_header("X-Reason", format!("{error}"))
            .with_body("{\"error\":\"bad handshake\"}")
    });
    let (mut client, server) = pipe();
    let request = String::from_utf8_lossy(common::REQUEST)
        .replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8");
    client.write_all(request.as_bytes()).unwrap();
    let err = upgrader.upgrade(server).unwrap_err();
    assert!(matches!(
        err,
        Error::Handshake(HandshakeError::UnsupportedVersion)
    ));
    let response = String::from_utf8(client.take_available()).unwrap();
    assert!(response.starts_with("HTTP/1.1 426 "), "{response}");
    assert!(response.contains("X-Reason: Sec-WebSocket-Version is not 13\r\n"));
    assert!(
        response.contains("Sec-WebSocket-Version: 13\r\n"),
        "required by RFC 6455"
    );
    assert!(response.ends_with("{\"error\":\"bad handshake\"}"));
}

#[test]
fn foreign_servers_can_tell_an_upgrade_from_a_page_request() {
    let page = Request::new("GET", "/index.html").with_header("Connection", "keep-alive");
    assert!(!wsio::is_websocket_upgrade(&page));
    let upgrade = Request::new("GET", "/chat")
        .with_header("Upgrade", "WebSocket")
        .with_header("Connection", "keep-alive, Upgrade");
    assert!(wsio::is_websocket_upgrade(&upgrade));
    assert!(!wsio::is_websocket_upgrade(&Request::new("POST", "/chat")));
}
