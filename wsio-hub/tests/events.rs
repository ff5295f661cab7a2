//! Named events with JSON payloads, both ways, and request/reply in both directions.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use support::{Served, eventually};
use wsio_hub::{Hub, HubError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Point {
    x: i64,
    y: i64,
}

#[test]
fn a_typed_handler_gets_the_payload() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let served = Served::start(Hub::builder().on_connection(move |conn| {
        let s = s.clone();
        conn.on("point", move |p: Point| s.lock().unwrap().push(p));
    }));
    let mut client = served.client();
    client.emit("point", json!({"x": 1, "y": -2}));
    client.emit("point", json!({"x": 3, "y": 4}));
    assert!(eventually(Duration::from_secs(5), || seen
        .lock()
        .unwrap()
        .len()
        == 2));
    assert_eq!(
        *seen.lock().unwrap(),
        [Point { x: 1, y: -2 }, Point { x: 3, y: 4 }]
    );
    assert_eq!(served.hub.stats().events, 2);
}

#[test]
fn emit_reaches_the_client_as_an_event_frame() {
    let served = Served::start(Hub::builder().on_connection(|conn| {
        conn.emit("hello", &Point { x: 5, y: 6 }).unwrap();
    }));
    let mut client = served.client();
    assert_eq!(
        client.event(),
        ("hello".to_owned(), json!({"x": 5, "y": 6}))
    );
}

#[test]
fn a_client_request_gets_the_handlers_answer() {
    let served = Served::start(Hub::builder().on_connection(|conn| {
        conn.answer("add", |(a, b): (i64, i64)| Ok::<_, String>(a + b));
        conn.answer("div", |(a, b): (i64, i64)| {
            a.checked_div(b).ok_or("division by zero")
        });
        conn.on("noted", |_: Value| {});
    }));
    let mut client = served.client();
    assert_eq!(
        client.ask(json!({"event": "add", "data": [2, 3]}))["data"],
        5
    );
    let refused = client.ask(json!({"event": "div", "data": [1, 0]}));
    assert_eq!(refused["error"], "division by zero");
    assert!(refused.get("data").is_none());
    // A plain `on` handler acknowledges a request with null.
    let noted = client.ask(json!({"event": "noted", "data": 1}));
    assert_eq!(noted["data"], Value::Null);
    assert!(noted.get("error").is_none());
}

#[test]
fn an_event_nobody_handles_is_counted_not_fatal() {
    let served = Served::start(Hub::builder());
    let mut client = served.client();
    client.emit("nobody", json!(1));
    let reply = client.ask(json!({"event": "nobody", "data": 2}));
    assert_eq!(reply["error"], "no handler for event nobody");
    // Still connected: a request still gets its answer.
    assert_eq!(client.ask(json!({"join": "r"}))["data"], Value::Null);
    assert_eq!(served.hub.stats().unhandled_events, 2);
    assert_eq!(served.hub.stats().malformed, 0);
}

#[test]
fn the_hub_asks_the_client_and_gets_its_reply() {
    let served = Served::start(Hub::builder());
    let mut client = served.client();
    let conn = served.hub.connection(&client.id).unwrap();
    let asker = std::thread::spawn(move || {
        conn.ask::<_, String>("name?", &json!({"please": true}), Duration::from_secs(5))
    });
    let frame = client.frame();
    assert_eq!(frame["event"], "name?");
    assert_eq!(frame["data"], json!({"please": true}));
    let n = frame["ask"].as_u64().expect("a request number");
    client.send(json!({"reply": n, "data": "alice"}));
    assert_eq!(asker.join().unwrap().unwrap(), "alice");
}

#[test]
fn the_hub_hears_a_refusal_and_a_wrong_type() {
    let served = Served::start(Hub::builder());
    let mut client = served.client();
    let conn = served.hub.connection(&client.id).unwrap();
    let c = conn.clone();
    let asker = std::thread::spawn(move || c.ask::<_, u32>("n?", &(), Duration::from_secs(5)));
    let n = client.frame()["ask"].as_u64().unwrap();
    client.send(json!({"reply": n, "error": "no"}));
    assert!(matches!(asker.join().unwrap(), Err(HubError::Refused(why)) if why == "no"));

    let asker = std::thread::spawn(move || conn.ask::<_, u32>("n?", &(), Duration::from_secs(5)));
    let n = client.frame()["ask"].as_u64().unwrap();
    client.send(json!({"reply": n, "data": "not a number"}));
    assert!(matches!(asker.join().unwrap(), Err(HubError::BadData { event, .. }) if event == "n?"));
}

#[test]
fn an_unanswered_request_times_out_and_a_late_reply_is_ignored() {
    let served = Served::start(Hub::builder());
    let mut client = served.client();
    let conn = served.hub.connection(&client.id).unwrap();
    let started = std::time::Instant::now();
    let result = conn.ask::<_, Value>("slow", &(), Duration::from_millis(200));
    assert!(matches!(result, Err(HubError::Timeout)), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(served.hub.stats().asks_timed_out, 1);
    let n = client.frame()["ask"].as_u64().unwrap();
    client.send(json!({"reply": n, "data": 1}));
    // Still connected and served.
    assert_eq!(client.ask(json!({"join": "r"}))["data"], Value::Null);
}

#[test]
fn a_request_ends_with_its_connection() {
    let served = Served::start(Hub::builder());
    let client = served.client();
    let conn = served.hub.connection(&client.id).unwrap();
    let asker = std::thread::spawn(move || conn.ask::<_, Value>("q", &(), Duration::from_secs(30)));
    std::thread::sleep(Duration::from_millis(100));
    drop(client);
    assert!(matches!(asker.join().unwrap(), Err(HubError::Disconnected)));
}

#[test]
fn asking_from_the_connections_own_handler_is_refused_not_a_deadlock() {
    let outcome = Arc::new(Mutex::new(None));
    let o = outcome.clone();
    let served = Served::start(Hub::builder().on_connection(move |conn| {
        let me = conn.clone();
        let o = o.clone();
        conn.on("go", move |_: Value| {
            let r = me.ask::<_, Value>("q", &(), Duration::from_secs(30));
            *o.lock().unwrap() = Some(r);
        });
    }));
    let mut client = served.client();
    client.emit("go", Value::Null);
    assert!(eventually(Duration::from_secs(5), || outcome
        .lock()
        .unwrap()
        .is_some()));
    assert!(matches!(
        outcome.lock().unwrap().take().unwrap(),
        Err(HubError::AskOnOwnThread)
    ));
}

#[test]
fn payloads_with_the_protocols_own_characters_arrive_unchanged() {
    let served = Served::start(Hub::builder().on_connection(|conn| {
        let me = conn.clone();
        conn.on("echo", move |v: Value| me.emit("echo", &v).unwrap());
    }));
    let mut client = served.client();
    let tricky = json!({"s": "a;b\u{1e}c\"d\\e\n\u{0}é𝄞", "n": [1.5, null, true]});
    client.emit("echo", tricky.clone());
    assert_eq!(client.event(), ("echo".to_owned(), tricky));
}
