//! wsio inside a real threaded HTTP server that writes the 101 response itself: tiny_http
//! serves a page and, on the same port, WebSocket connections, which its
//! `Request::upgrade` hands to wsio through `Upgrader::accept`.

use std::io::Read;
use std::thread;

use tiny_http::{Header, Response, Server};
use wsio::{Dialer, Error, Message, Request, Upgrader};

/// The request as wsio sees it.
fn request_of(request: &tiny_http::Request) -> Request {
    request.headers().iter().fold(
        Request::new(request.method().as_str(), request.url()),
        |r, h| r.with_header(h.field.as_str().as_str(), h.value.as_str()),
    )
}

/// Serves `count` requests: a page, or an echo over WebSocket.
fn serve(server: Server, upgrader: Upgrader, count: usize) {
    for request in server.incoming_requests().take(count) {
        let wsio_request = request_of(&request);
        if !wsio::is_websocket_upgrade(&wsio_request) {
            let _ = request.respond(Response::from_string("a page, not a websocket"));
            continue;
        }
        match upgrader.accept(&wsio_request) {
            Ok(accepted) => {
                let mut response = Response::empty(101);
                for (name, value) in accepted.headers().iter() {
                    response.add_header(Header::from_bytes(name, value).unwrap());
                }
                let stream = request.upgrade("websocket", response);
                let mut conn = accepted.into_raw_conn(stream, &[]);
                thread::spawn(move || {
                    while let Ok(message) = conn.read_message() {
                        if conn
                            .write_message(message.kind(), message.as_bytes())
                            .is_err()
                        {
                            break;
                        }
                    }
                });
            }
            Err(refusal) => {
                let rejection = refusal.response();
                let mut response =
                    Response::from_string(rejection.body()).with_status_code(rejection.status());
                for (name, value) in rejection.headers().iter() {
                    response.add_header(Header::from_bytes(name, value).unwrap());
                }
                let _ = request.respond(response);
            }
        }
    }
}

#[test]
fn tiny_http_serves_a_page_and_hands_websocket_requests_to_wsio() {
    let server = Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap();
    let upgrader = Upgrader::new().subprotocols(["chat"]).config(
        wsio::Config::builder()
            .deflate(wsio::DeflateConfig::new())
            .build(),
    );
    let serving = thread::spawn(move || serve(server, upgrader, 3));

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
    assert!(text.ends_with("a page, not a websocket"));

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
    serving.join().unwrap();
}
