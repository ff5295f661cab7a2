//! What a connection carries: values stored on it, the access callback's value, the request.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use support::{Served, eventually};
use wsio::Rejection;
use wsio_hub::Hub;

struct User(String);

#[test]
fn set_and_typed_get() {
    let served = Served::start(Hub::builder());
    let client = served.client();
    let conn = served.hub.connection(&client.id).unwrap();
    conn.set("count", 3u32);
    conn.set("name", String::from("alice"));
    assert_eq!(*conn.get::<u32>("count").unwrap(), 3);
    assert!(conn.get::<String>("count").is_none(), "wrong type");
    assert_eq!(conn.get::<String>("name").unwrap().as_str(), "alice");
    conn.set("count", 4u32);
    // Every handle of the connection sees the same store.
    assert_eq!(
        *served
            .hub
            .connection(&client.id)
            .unwrap()
            .get::<u32>("count")
            .unwrap(),
        4
    );
    assert!(conn.remove("count"));
    assert!(conn.get::<u32>("count").is_none());
}

#[test]
fn the_access_callback_decides_and_its_value_reaches_the_connection() {
    let seen = Arc::new(Mutex::new(None));
    let s = seen.clone();
    let served = Served::start(
        Hub::builder()
            .keep_headers(["X-Trace"])
            .access(|request, accept| {
                let Some(user) = request.query().and_then(|q| q.strip_prefix("user=")) else {
                    return Err(Rejection::new(401));
                };
                accept.set_value(User(user.to_owned()));
                Ok(())
            })
            .on_connection(move |conn| {
                *s.lock().unwrap() = Some((
                    conn.value::<User>().map(|u| u.0.clone()),
                    conn.path().to_owned(),
                    conn.request()
                        .and_then(|r| r.header("X-Trace"))
                        .map(str::to_owned),
                    conn.peer_addr().map(|a| a.ip().is_loopback()),
                ));
            }),
    );
    let refused = wsio::Dialer::new()
        .subprotocols(["wsio-hub.1"])
        .dial(&format!("ws://{}/room", served.addr));
    match refused {
        Err(wsio::Error::Handshake(wsio::HandshakeError::Status(r))) => assert_eq!(r.status(), 401),
        other => panic!("{:?}", other.map(|_| ())),
    }

    let (_conn, response) = wsio::Dialer::new()
        .subprotocols(["wsio-hub.1"])
        .header("X-Trace", "t-1")
        .dial(&format!("ws://{}/room?user=bob", served.addr))
        .unwrap();
    assert_eq!(
        response.header("Sec-WebSocket-Protocol"),
        Some("wsio-hub.1")
    );
    assert!(eventually(Duration::from_secs(5), || seen
        .lock()
        .unwrap()
        .is_some()));
    assert_eq!(
        seen.lock().unwrap().take().unwrap(),
        (
            Some("bob".to_owned()),
            "/room".to_owned(),
            Some("t-1".to_owned()),
            Some(true)
        )
    );
}

#[test]
fn the_hub_serves_its_client_script_and_the_applications_pages() {
    let served = Served::start(Hub::builder().http(|request, _| match request.path() {
        "/" => wsio::HttpResponse::ok("text/html", "<p>hi</p>"),
        _ => wsio::HttpResponse::not_found(),
    }));
    let get = |path: &str| {
        use std::io::{Read, Write};
        let mut tcp = support::tcp(served.addr);
        write!(
            tcp,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).unwrap();
        answer
    };
    let script = get("/wsio-hub.js");
    assert!(script.starts_with("HTTP/1.1 200"), "{script}");
    assert!(script.contains("text/javascript"));
    assert!(script.contains(wsio_hub::CLIENT_JS.lines().next().unwrap()));
    assert!(get("/wsio-hub.d.ts").starts_with("HTTP/1.1 200"));
    assert!(get("/").contains("<p>hi</p>"));
    assert!(get("/nothing").starts_with("HTTP/1.1 404"));
    let _ = (Value::Null, json!(1));
}
