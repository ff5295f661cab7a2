//! Native messages: passed through untouched both ways, for hub clients and native ones.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{Served, eventually};
use wsio::{Message, MessageKind};
use wsio_hub::Hub;

fn echo_hub() -> wsio_hub::HubBuilder {
    Hub::builder().on_connection(|conn| {
        let me = conn.clone();
        conn.on_native(move |m| match m.kind() {
            MessageKind::Text => me.text(m.as_text().unwrap()).unwrap(),
            MessageKind::Binary => me.binary(m.as_bytes()).unwrap(),
        });
    })
}

#[test]
fn native_text_and_binary_come_back_unchanged() {
    let served = Served::start(echo_hub());
    let mut client = served.client();
    client
        .conn
        .write_text("plain; text \"with\" {json} looks")
        .unwrap();
    assert_eq!(
        client.message(),
        Message::from("plain; text \"with\" {json} looks")
    );
    let bytes: Vec<u8> = (0..=255).collect();
    client.conn.write_binary(&bytes).unwrap();
    assert_eq!(client.message(), Message::from(bytes));
    assert_eq!(served.hub.stats().native_messages, 2);
}

#[test]
fn native_text_that_starts_with_the_mark_travels_wrapped_and_arrives_as_itself() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let served = Served::start(Hub::builder().on_connection(move |conn| {
        let s = s.clone();
        let me = conn.clone();
        conn.on_native(move |m| {
            s.lock().unwrap().push(m.clone());
            me.text(m.as_text().unwrap()).unwrap();
        });
    }));
    let mut client = served.client();
    // The client wraps it, as the protocol says; the application sees the text itself.
    client.send(serde_json::json!({"text": "\u{1e}not a frame"}));
    assert!(eventually(Duration::from_secs(5), || seen
        .lock()
        .unwrap()
        .len()
        == 1));
    assert_eq!(seen.lock().unwrap()[0], Message::from("\u{1e}not a frame"));
    // And the hub wraps it on the way back.
    let frame = client.frame();
    assert_eq!(frame["text"], "\u{1e}not a frame");
}

#[test]
fn a_native_client_gets_no_welcome_and_its_text_is_native() {
    let served = Served::start(echo_hub());
    let mut conn = served.native_client();
    assert_eq!(conn.subprotocol(), None);
    conn.write_text("hello").unwrap();
    // The first thing it gets is its own echo, not a welcome.
    assert_eq!(conn.read_message().unwrap(), Message::from("hello"));
    let id = served.hub.connections()[0].id().to_owned();
    assert!(!served.hub.connection(&id).unwrap().speaks_hub());
}

#[test]
fn a_native_clients_text_is_native_even_when_it_starts_with_the_mark() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let served = Served::start(Hub::builder().on_connection(move |conn| {
        let s = s.clone();
        conn.on_native(move |m| s.lock().unwrap().push(m.clone()));
    }));
    let mut conn = served.native_client();
    conn.write_text("\u{1e}raw native text").unwrap();
    assert!(eventually(Duration::from_secs(5), || seen
        .lock()
        .unwrap()
        .len()
        == 1));
    assert_eq!(
        seen.lock().unwrap()[0],
        Message::from("\u{1e}raw native text")
    );
    assert_eq!(served.hub.stats().malformed, 0);
}
