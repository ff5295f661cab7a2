//! Bytes the peer sent right after its handshake, in the same packet, are the first frames.

mod common;

use std::io::Write;
use std::thread;

use common::client_frame;
use wsio::frame::OpCode;
use wsio::testing::pipe;
use wsio::{Dialer, Message, Request, Upgrader};

#[test]
fn frames_pipelined_after_the_request_are_read() {
    let (mut client, server) = pipe();
    let mut bytes = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                      Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .to_vec();
    bytes.extend(client_frame(OpCode::Text, true, b"first"));
    bytes.extend(client_frame(OpCode::Binary, true, &[2; 5000]));
    client.write_all(&bytes).unwrap();
    let mut conn = Upgrader::new().upgrade(server).unwrap();
    assert_eq!(conn.read_message().unwrap(), Message::Text("first".into()));
    assert_eq!(conn.read_message().unwrap(), Message::Binary(vec![2; 5000]));
}

#[test]
fn leftover_from_another_parser_is_read_first() {
    let (mut client, server) = pipe();
    let request = Request::new("GET", "/")
        .with_header("Host", "h")
        .with_header("Upgrade", "websocket")
        .with_header("Connection", "Upgrade")
        .with_header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .with_header("Sec-WebSocket-Version", "13");
    let leftover = client_frame(OpCode::Text, false, b"hel");
    client
        .write_all(&client_frame(OpCode::Continuation, true, b"lo"))
        .unwrap();
    let mut conn = Upgrader::new()
        .upgrade_with_request(server, &request, &leftover)
        .unwrap();
    assert_eq!(conn.read_message().unwrap(), Message::Text("hello".into()));
}

#[test]
fn frames_pipelined_after_the_response_are_read_by_the_client() {
    let (client_end, mut server) = pipe();
    let answer = thread::spawn(move || {
        let key = common::request_key(&mut server).unwrap();
        let mut bytes = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            wsio::accept_key(key.as_bytes())
        )
        .into_bytes();
        bytes.extend(common::server_frame(OpCode::Text, true, b"welcome"));
        server.write_all(&bytes).unwrap();
        server
    });
    let (mut conn, _) = Dialer::new().handshake(client_end, "ws://h/").unwrap();
    let _server = answer.join().unwrap();
    assert_eq!(
        conn.read_message().unwrap(),
        Message::Text("welcome".into())
    );
}
