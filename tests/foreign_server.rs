//! wsio inside a real threaded HTTP server that writes the 101 response itself: the
//! tiny_http example serves a page and, on the same port, WebSocket connections, which its
//! `Request::upgrade` hands to wsio through `Upgrader::accept`.

use std::io::Read;
use std::sync::Arc;
use std::thread;

use wsio::{Dialer, Error, Message, Upgrader};

#[allow(dead_code)]
#[path = "../examples/tiny_http.rs"]
mod example;

#[test]
fn tiny_http_serves_a_page_and_hands_websocket_requests_to_wsio() {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap();
    let upgrader = Upgrader::new().subprotocols(["chat"]).config(
        wsio::Config::builder()
            .deflate(wsio::DeflateConfig::new())
            .build(),
    );
    thread::spawn(move || example::serve(server, Arc::new(upgrader)));

    // A plain page.
    let mut page = std::net::TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(
        &mut page,
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut text = String::new();
    page.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("new WebSocket("), "{text}");

    // A WebSocket connection, with a subprotocol and compression agreed through tiny_http.
    let (mut conn, response) = Dialer::new()
        .subprotocols(["chat"])
        .config(
            wsio::Config::builder()
                .deflate(wsio::DeflateConfig::new())
                .build(),
        )
        .dial(&format!("ws://{addr}/ws"))
        .unwrap();
    assert_eq!(response.headers().get_all("Upgrade").count(), 1);
    assert_eq!(conn.subprotocol(), Some("chat"));
    assert!(conn.compression().is_some());
    let big = "echo through tiny_http ".repeat(5000);
    conn.write_text(&big).unwrap();
    assert_eq!(conn.read_message().unwrap(), Message::Text(big));
    conn.close(wsio::CloseCode::NORMAL, "").unwrap();

    // A refused upgrade: the response wsio chose, sent by tiny_http.
    let err = Dialer::new()
        .header("Origin", "http://elsewhere.example")
        .dial(&format!("ws://{addr}/ws"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Handshake(wsio::HandshakeError::Status(r)) if r.status() == 403),
        "{err}"
    );
}
