//! The hub on a server assembled by hand (Hub::upgrader, http_response, serve_connection),
//! handlers removed with off, a prepared message to a room.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Client, eventually};
use wsio::{HttpResponse, MessageKind, PreparedMessage, Server};
use wsio_hub::Hub;

#[test]
fn a_hub_on_a_server_of_ones_own() {
    let hub = Hub::builder()
        .check_origin(|_| true)
        .on_connection(|conn| {
            conn.answer("ping", |_: Value| Ok::<_, String>("pong"));
        })
        .build();
    let (h, http) = (hub.clone(), hub.clone());
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .unwrap()
        .upgrader(hub.upgrader())
        .http(move |request, peer| match request.path() {
            "/health" => HttpResponse::ok("text/plain", "ok"),
            _ => http.http_response(request, peer),
        })
        .start(move |conn| h.serve_connection(conn))
        .unwrap();
    let mut a = Client::connect(&format!("ws://{}/", server.local_addrs()[0]));
    assert_eq!(a.ask(json!({"event": "ping"}))["data"], "pong");
    assert!(hub.is_connected(&a.id));
    server.shutdown(Duration::from_secs(2));
    assert!(eventually(Duration::from_secs(5), || hub.is_empty()));
}

#[test]
fn off_removes_a_handler_and_prepared_messages_reach_a_room() {
    let served = support::Served::start(Hub::builder().on_connection(|conn| {
        conn.on("e", |_: Value| {});
    }));
    let mut a = served.client();
    let conn = served.hub.connection(&a.id).unwrap();
    assert!(a.ask(json!({"event": "e"})).get("error").is_none());
    conn.off("e");
    assert_eq!(
        a.ask(json!({"event": "e"}))["error"],
        "no handler for event e"
    );
    a.join("r");
    let message = PreparedMessage::new(MessageKind::Binary, vec![7; 3]).unwrap();
    assert_eq!(served.hub.to("r").prepared(&message), 1);
    assert_eq!(a.message(), wsio::Message::from(vec![7u8; 3]));
    assert_eq!(conn.queued(), 0);
}
