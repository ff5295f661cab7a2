//! The subprotocol is chosen in one place, per request, and both ends agree on it: the
//! request callback may pick one of the client's, may not set the header itself, and a
//! client refuses a response that names more than one or one it did not offer.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::thread;

use wsio::testing::pipe;
use wsio::{Dialer, Error, HandshakeError, InvalidInput, Upgrader};

/// A server on loopback with `upgrader` for one connection; the client's and the server's
/// view of the subprotocol.
fn agree(upgrader: Upgrader, offer: &[&str]) -> (Option<String>, Option<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let conn = upgrader.upgrade(stream).unwrap();
        conn.subprotocol().map(str::to_owned)
    });
    let (conn, response) = Dialer::new()
        .subprotocols(offer.iter().copied())
        .dial(&format!("ws://{addr}/"))
        .unwrap();
    assert_eq!(
        response.headers().get_all("Sec-WebSocket-Protocol").count(),
        usize::from(conn.subprotocol().is_some())
    );
    (
        conn.subprotocol().map(str::to_owned),
        server.join().unwrap(),
    )
}

#[test]
fn the_callback_picks_from_the_offer_and_both_ends_agree() {
    let upgrader = Upgrader::new()
        .subprotocols(["a"])
        .check_request(|request, accept| {
            assert_eq!(
                accept.subprotocol(),
                Some("a"),
                "the upgrader's own choice first"
            );
            let last = request.subprotocols().last().unwrap().to_owned();
            accept.set_subprotocol(&last);
            Ok(())
        });
    let (client, server) = agree(upgrader, &["a", "b"]);
    assert_eq!(client.as_deref(), Some("b"));
    assert_eq!(client, server);
}

#[test]
fn the_upgraders_list_alone_picks_when_there_is_no_callback() {
    let (client, server) = agree(Upgrader::new().subprotocols(["x", "b"]), &["a", "b"]);
    assert_eq!(
        (client.as_deref(), server.as_deref()),
        (Some("b"), Some("b"))
    );
}

#[test]
fn the_callback_may_not_set_the_handshake_headers_itself() {
    for name in [
        "Sec-WebSocket-Protocol",
        "Upgrade",
        "connection",
        "Sec-WebSocket-Accept",
    ] {
        let upgrader = Upgrader::new().check_request(move |_, accept| {
            accept.header(name, "b");
            Ok(())
        });
        let (mut client, server) = pipe();
        client.write_all(common::REQUEST).unwrap();
        let err = upgrader.upgrade(server).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput(InvalidInput::HandshakeHeader(n)) if n == name),
            "{err}"
        );
        let response = String::from_utf8(client.take_available()).unwrap();
        assert!(response.starts_with("HTTP/1.1 500 "), "{response}");
    }
}

#[test]
fn the_callback_may_not_pick_a_protocol_the_client_did_not_offer() {
    let upgrader = Upgrader::new().check_request(|_, accept| {
        accept.set_subprotocol("never-offered");
        Ok(())
    });
    let (mut client, server) = pipe();
    client.write_all(common::REQUEST).unwrap();
    let err = upgrader.upgrade(server).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput(InvalidInput::UnofferedSubprotocol(_))
        ),
        "{err}"
    );
}

/// A client offering `a, b` against a server that answers with `protocol_lines`.
fn client_against(protocol_lines: &str) -> Error {
    let protocol_lines = protocol_lines.to_owned();
    let (client_end, mut server) = pipe();
    let peer = thread::spawn(move || {
        let key = common::request_key(&mut server).unwrap();
        write!(
            server,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n{protocol_lines}\r\n",
            wsio::accept_key(key.as_bytes())
        )
        .unwrap();
        server
    });
    let err = Dialer::new()
        .subprotocols(["a", "b"])
        .handshake(client_end, "ws://h/")
        .unwrap_err();
    drop(peer.join());
    err
}

#[test]
fn a_client_refuses_two_subprotocols_in_one_response() {
    let err = client_against("Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\n");
    assert!(
        matches!(
            err,
            Error::Handshake(HandshakeError::SeveralSubprotocols(_))
        ),
        "{err}"
    );
    let err = client_against("Sec-WebSocket-Protocol: a, b\r\n");
    assert!(
        matches!(
            err,
            Error::Handshake(HandshakeError::SeveralSubprotocols(_))
        ),
        "{err}"
    );
}

#[test]
fn a_client_refuses_a_subprotocol_it_did_not_offer() {
    let err = client_against("Sec-WebSocket-Protocol: c\r\n");
    assert!(
        matches!(
            err,
            Error::Handshake(HandshakeError::UnofferedSubprotocol(_))
        ),
        "{err}"
    );
}
