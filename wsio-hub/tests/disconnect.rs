//! The disconnect callback runs exactly once, whatever ended the connection, and says what.

mod support;

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use support::{Client, Served, eventually};
use wsio::{CloseCode, Config, Keepalive};
use wsio_hub::{Disconnected, Hub, HubBuilder};

type Log = Arc<Mutex<HashMap<String, Vec<String>>>>;

/// A hub that logs every disconnect by id, with the reason's kind, and every error; whose
/// "boom" event panics.
fn logging(builder: HubBuilder) -> (HubBuilder, Log) {
    logging_errors(builder, Arc::default())
}

fn logging_errors(builder: HubBuilder, errors: Arc<Mutex<Vec<String>>>) -> (HubBuilder, Log) {
    let log: Log = Arc::default();
    let l = log.clone();
    let builder = builder.on_connection(move |conn| {
        let e = errors.clone();
        conn.on_error(move |err| e.lock().unwrap().push(err.to_string()));
        let l = l.clone();
        let id = conn.id().to_owned();
        conn.on_disconnect(move |why| {
            let kind = match why {
                Disconnected::ByClient(status) => format!("client {}", status.code.as_u16()),
                Disconnected::ByServer => "server".to_owned(),
                Disconnected::TooSlow => "slow".to_owned(),
                Disconnected::ShuttingDown => "shutdown".to_owned(),
                Disconnected::Failed(e) => format!("failed: {e}"),
                other => format!("{other}"),
            };
            l.lock().unwrap().entry(id).or_default().push(kind);
        });
        conn.on("boom", |_: Value| panic!("a handler panicked"));
        conn.on("int", |_: u32| {});
    });
    (builder, log)
}

/// Waits for the connection's one disconnect, checks no second one follows, and returns it.
fn once(served: &Served, log: &Log, id: &str) -> String {
    assert!(
        eventually(Duration::from_secs(10), || log
            .lock()
            .unwrap()
            .contains_key(id)),
        "no disconnect for {id}"
    );
    std::thread::sleep(Duration::from_millis(100));
    let calls = log.lock().unwrap()[id].clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(!served.hub.is_connected(id));
    let stats = served.hub.stats();
    assert!(stats.disconnected <= stats.connected);
    calls[0].clone()
}

#[test]
fn the_client_closes() {
    let (builder, log) = logging(Hub::builder());
    let served = Served::start(builder);
    let mut a = served.client();
    a.conn.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(once(&served, &log, &a.id), "client 1000");
}

#[test]
fn the_client_vanishes_without_a_close() {
    let (builder, log) = logging(Hub::builder());
    let served = Served::start(builder);
    let a = served.client();
    let id = a.id.clone();
    drop(a);
    assert!(once(&served, &log, &id).starts_with("failed"));
}

#[test]
fn the_server_disconnects_by_id_and_by_handle() {
    let (builder, log) = logging(Hub::builder());
    let served = Served::start(builder);
    let mut a = served.client();
    let mut b = served.client();
    // What was queued before the disconnect still arrives, then close 1000.
    served.hub.to(&a.id).emit("last", &1).unwrap();
    assert!(served.hub.disconnect(&a.id));
    assert_eq!(a.event(), ("last".to_owned(), json!(1)));
    assert_eq!(a.close_code(), 1000);
    assert_eq!(once(&served, &log, &a.id), "server");
    served.hub.connection(&b.id).unwrap().disconnect();
    assert_eq!(b.close_code(), 1000);
    assert_eq!(once(&served, &log, &b.id), "server");
    assert!(!served.hub.disconnect(&a.id));
}

#[test]
fn the_server_shuts_down() {
    let (builder, log) = logging(Hub::builder());
    let served = Served::start(builder);
    let mut a = served.client();
    let id = a.id.clone();
    let handle = served.server.handle();
    let closer = std::thread::spawn(move || handle.shutdown(Duration::from_secs(5)));
    assert_eq!(a.close_code(), 1001);
    assert!(closer.join().unwrap());
    assert_eq!(once(&served, &log, &id), "shutdown");
}

#[test]
fn a_malformed_frame_closes_with_1007() {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let (builder, log) = logging_errors(Hub::builder(), errors.clone());
    let served = Served::start(builder);
    for bad in [
        "\u{1e}not json",
        "\u{1e}{}",
        "\u{1e}{\"join\":\"\"}",
        "\u{1e}{\"hub\":1,\"id\":\"x\"}",
    ] {
        let mut a = served.client();
        a.conn.write_text(bad).unwrap();
        assert_eq!(a.close_code(), 1007, "{bad:?}");
        assert!(
            once(&served, &log, &a.id).starts_with("failed: malformed"),
            "{bad:?}"
        );
    }
    assert_eq!(served.hub.stats().malformed, 4);
    assert_eq!(errors.lock().unwrap().len(), 4);
}

#[test]
fn a_payload_that_does_not_fit_its_handler_closes_with_1007() {
    let (builder, log) = logging(Hub::builder());
    let served = Served::start(builder);
    let mut a = served.client();
    a.emit("int", json!("not a number"));
    assert_eq!(a.close_code(), 1007);
    let why = once(&served, &log, &a.id);
    assert!(why.contains("\"int\""), "{why}");
}

#[test]
fn a_panicking_handler_closes_with_1011_and_the_hub_lives_on() {
    let (builder, log) = logging(Hub::builder());
    let served = Served::start(builder);
    let mut a = served.client();
    a.emit("boom", Value::Null);
    assert_eq!(a.close_code(), 1011);
    assert!(once(&served, &log, &a.id).contains("panicked"));
    // Others are unaffected.
    let mut b = served.client();
    assert_eq!(b.ask(json!({"join": "r"}))["data"], Value::Null);
}

#[test]
fn a_silent_client_is_dropped_by_the_keepalive() {
    let config = Config::builder()
        .keepalive(Some(Keepalive::new(
            Duration::from_millis(100),
            Duration::from_millis(300),
        )))
        .build();
    let (builder, log) = logging(Hub::builder().config(config));
    let served = Served::start(builder);
    // A client that completes the handshake and then never reads nor answers pings.
    let mut tcp = support::tcp(served.addr);
    write!(
        tcp,
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    assert!(eventually(Duration::from_secs(5), || served.hub.len() == 1));
    let id = served.hub.connections()[0].id().to_owned();
    let why = once(&served, &log, &id);
    assert!(why.starts_with("failed"), "{why}");
    drop(tcp);
}

#[test]
fn many_ways_at_once_still_fire_once() {
    // The client closes while the server disconnects it and a broadcast is under way.
    let (builder, log) = logging(Hub::builder());
    let served = Served::start(builder);
    for _ in 0..20 {
        let mut a: Client = served.client();
        let id = a.id.clone();
        let hub = served.hub.clone();
        let racer = std::thread::spawn(move || {
            hub.everyone().emit("x", &1).unwrap();
            hub.disconnect(&id);
        });
        let _ = a.conn.close(CloseCode::NORMAL, "");
        racer.join().unwrap();
        once(&served, &log, &a.id);
    }
    let stats = served.hub.stats();
    assert_eq!(stats.connected, 20);
    assert!(eventually(Duration::from_secs(5), || served
        .hub
        .stats()
        .disconnected
        == 20));
}

#[test]
fn handlers_registered_after_the_end_are_dropped_not_kept() {
    let (builder, log) = logging(Hub::builder());
    let served = Served::start(builder);
    let a = served.client();
    let conn = served.hub.connection(&a.id).unwrap();
    let id = a.id.clone();
    drop(a);
    once(&served, &log, &id);
    let marker = Arc::new(());
    let m = marker.clone();
    conn.on_disconnect(move |_| drop(m));
    let m = marker.clone();
    let c = conn.clone();
    conn.on("late", move |_: Value| {
        let _ = (&m, &c);
    });
    // Neither closure is kept: no cycle keeps the connection alive.
    assert_eq!(Arc::strong_count(&marker), 1);
}
