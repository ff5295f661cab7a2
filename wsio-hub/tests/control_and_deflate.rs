//! Ping and pong callbacks, leave callbacks at the end, and broadcast with permessage-deflate.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Served, eventually};
use wsio::{Config, DeflateConfig, Dialer, Keepalive};
use wsio_hub::Hub;

#[test]
fn ping_and_pong_callbacks_see_control_frames() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let config = Config::builder()
        .keepalive(Some(Keepalive::new(
            Duration::from_millis(50),
            Duration::from_secs(5),
        )))
        .build();
    let served = Served::start(Hub::builder().config(config).on_connection(move |conn| {
        let (p, q) = (s.clone(), s.clone());
        conn.on_ping(move |payload| p.lock().unwrap().push(format!("ping {payload:?}")));
        conn.on_pong(move |_| q.lock().unwrap().push("pong".to_owned()));
    }));
    let mut client = served.client();
    client.conn.write_ping(b"hi").unwrap();
    // Reading answers the keepalive's pings and takes our pong.
    let until = Instant::now() + Duration::from_secs(5);
    client.conn.set_read_deadline(Some(until)).unwrap();
    let has = |what: &str| seen.lock().unwrap().iter().any(|s| s == what);
    let ping = format!("ping {:?}", b"hi");
    while !(has(&ping) && has("pong")) && Instant::now() < until {
        client
            .conn
            .set_read_deadline(Some(Instant::now() + Duration::from_millis(100)))
            .unwrap();
        let _ = client.conn.read_message();
    }
    assert!(has(&ping), "{:?}", seen.lock().unwrap());
    assert!(has("pong"), "{:?}", seen.lock().unwrap());
}

#[test]
fn leaving_at_the_end_runs_the_leave_callback_for_each_room_then_disconnect() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = events.clone();
    let served = Served::start(Hub::builder().on_connection(move |conn| {
        let (l, d) = (e.clone(), e.clone());
        conn.on_leave(move |room| l.lock().unwrap().push(format!("leave {room}")));
        conn.on_disconnect(move |_| d.lock().unwrap().push("disconnect".to_owned()));
    }));
    let mut client = served.client();
    client.join("a");
    client.join("b");
    drop(client);
    assert!(eventually(Duration::from_secs(5), || events
        .lock()
        .unwrap()
        .len()
        == 3));
    let events = events.lock().unwrap();
    let mut leaves = events[..2].to_vec();
    leaves.sort();
    assert_eq!(leaves, ["leave a", "leave b"]);
    assert_eq!(events[2], "disconnect");
    assert!(served.hub.rooms().is_empty());
}

#[test]
fn a_broadcast_reaches_compressing_and_plain_clients_alike() {
    let served = Served::start(
        Hub::builder().config(Config::builder().deflate(DeflateConfig::new()).build()),
    );
    let url = served.url();
    let dial = |deflate: bool| {
        let mut config = Config::builder();
        if deflate {
            config = config.deflate(DeflateConfig::new());
        }
        let (mut conn, _) = Dialer::new()
            .config(config.build())
            .subprotocols(["wsio-hub.1"])
            .dial(&url)
            .unwrap();
        conn.set_read_deadline(Some(Instant::now() + Duration::from_secs(5)))
            .unwrap();
        support::read_frame(&mut conn).unwrap(); // the welcome
        conn
    };
    let mut clients = [dial(true), dial(true), dial(false)];
    assert!(clients[0].compression().is_some());
    assert!(clients[2].compression().is_none());
    let text = "compressible ".repeat(1000);
    assert_eq!(served.hub.everyone().emit("big", &text).unwrap(), 3);
    for conn in &mut clients {
        let frame = support::read_frame(conn).unwrap();
        assert_eq!(frame["event"], "big");
        assert_eq!(frame["data"], json!(text));
    }
}
