//! A server connection keeps what a handler needs of the request that opened it: its target,
//! its Origin, the headers the server chose to keep, and a value the request callback
//! attached (Voss's `ResourceName`, `Origin`; iris's request context). Its halves see the
//! same.

use std::io::Write;

use wsio::testing::pipe;
use wsio::{Dialer, Upgrader};

#[derive(Debug, PartialEq)]
struct User(String);

const REQUEST: &str = "GET /room/7?lang=en HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
                       Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                       Sec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n\
                       Cookie: session=42\r\nX-Dropped: yes\r\n\r\n";

#[test]
fn a_server_connection_keeps_the_target_origin_chosen_headers_and_the_callbacks_value() {
    let upgrader = Upgrader::new()
        .keep_headers(["cookie"])
        .check_request(|request, accept| {
            let session = request.header("Cookie").unwrap_or_default();
            accept.set_value(User(session.to_owned()));
            Ok(())
        });
    let (mut client, server) = pipe();
    client.write_all(REQUEST.as_bytes()).unwrap();
    let conn = upgrader.upgrade(server).unwrap();
    let request = conn
        .request()
        .expect("a server connection keeps its request");
    assert_eq!(request.target(), "/room/7?lang=en");
    assert_eq!(
        (request.path(), request.query()),
        ("/room/7", Some("lang=en"))
    );
    assert_eq!(request.origin(), Some("http://example.com"));
    assert_eq!(request.header("COOKIE"), Some("session=42"));
    assert_eq!(
        request.header("X-Dropped"),
        None,
        "only the headers asked for"
    );
    assert_eq!(conn.value::<User>(), Some(&User("session=42".into())));
    assert_eq!(
        conn.value::<String>(),
        None,
        "a value of another type is none"
    );

    let (rx, tx) = conn.split().unwrap();
    assert_eq!(rx.value::<User>(), Some(&User("session=42".into())));
    assert_eq!(tx.request().map(|r| r.path()), Some("/room/7"));
}

#[test]
fn a_client_connection_has_no_request() {
    let (client_end, mut server_end) = pipe();
    let server = std::thread::spawn(move || {
        let _ = &mut server_end;
        Upgrader::new().upgrade(server_end).unwrap()
    });
    let (conn, _) = Dialer::new().handshake(client_end, "ws://h/").unwrap();
    assert!(conn.request().is_none());
    assert_eq!(conn.value::<User>(), None);
    drop(server.join().unwrap());
}
