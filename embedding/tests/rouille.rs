//! The rouille embedding against wsio's client: a page, an echo with a subprotocol and
//! compression agreed through rouille, and a refusal wsio chose, sent by rouille.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::thread;

use wsio::{CloseCode, Config, DeflateConfig, Dialer, Error, HandshakeError, Message, Upgrader};

#[test]
fn rouille_serves_a_page_and_hands_websocket_requests_to_wsio() {
    let deflate = || Config::builder().deflate(DeflateConfig::new()).build();
    let upgrader = Arc::new(Upgrader::new().subprotocols(["chat"]).config(deflate()));
    let server = rouille::Server::new("127.0.0.1:0", wsio_embedding::handler(upgrader)).unwrap();
    let addr = server.server_addr();
    thread::spawn(move || server.run());

    let mut page = TcpStream::connect(addr).unwrap();
    page.write_all(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    page.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("new WebSocket("), "{text}");

    let (mut conn, response) = Dialer::new()
        .subprotocols(["chat"])
        .config(deflate())
        .dial(&format!("ws://{addr}/ws"))
        .unwrap();
    assert_eq!(response.headers().get_all("Upgrade").count(), 1);
    assert_eq!(conn.subprotocol(), Some("chat"));
    assert!(conn.compression().is_some());
    let big = "echo through rouille ".repeat(5000);
    conn.write_text(&big).unwrap();
    assert_eq!(conn.read_message().unwrap(), Message::Text(big));
    conn.close(CloseCode::NORMAL, "").unwrap();

    let err = Dialer::new()
        .header("Origin", "http://elsewhere.example")
        .dial(&format!("ws://{addr}/ws"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Handshake(HandshakeError::Status(r)) if r.status() == 403),
        "{err}"
    );
}
