//! Rooms: joining and leaving from either end, who receives what, listing members.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use support::{Served, eventually};
use wsio_hub::{Hub, HubError};

const QUIET: Duration = Duration::from_millis(150);

fn relay_hub() -> wsio_hub::HubBuilder {
    // "say" goes to the room named in the payload; "all" to everyone else.
    Hub::builder().on_connection(|conn| {
        let me = conn.clone();
        conn.on("say", move |(room, text): (String, String)| {
            me.to(&room).emit("said", &text).unwrap();
        });
        let me = conn.clone();
        conn.on("all", move |text: String| {
            me.broadcast().emit("said", &text).unwrap();
        });
    })
}

#[test]
fn a_room_message_reaches_its_members_only_sender_included() {
    let served = Served::start(relay_hub());
    let (mut a, mut b, mut c) = (served.client(), served.client(), served.client());
    a.join("red");
    b.join("red");
    c.join("blue");
    a.emit("say", json!(["red", "hi red"]));
    assert_eq!(a.event(), ("said".to_owned(), json!("hi red")));
    assert_eq!(b.event(), ("said".to_owned(), json!("hi red")));
    c.nothing_for(QUIET);
    assert_eq!(served.hub.members("red"), sorted(&[&a.id, &b.id]));
    assert_eq!(served.hub.rooms(), ["blue", "red"]);
}

#[test]
fn leaving_stops_a_rooms_messages() {
    let served = Served::start(relay_hub());
    let (mut a, mut b) = (served.client(), served.client());
    a.join("red");
    b.join("red");
    b.leave("red");
    a.emit("say", json!(["red", "after"]));
    assert_eq!(a.event().1, json!("after"));
    b.nothing_for(QUIET);
    assert_eq!(served.hub.members("red"), [a.id.clone()]);
}

#[test]
fn broadcast_skips_the_sender_and_everyone_does_not() {
    let served = Served::start(relay_hub());
    let (mut a, mut b, mut c) = (served.client(), served.client(), served.client());
    a.emit("all", json!("to the others"));
    assert_eq!(b.event().1, json!("to the others"));
    assert_eq!(c.event().1, json!("to the others"));
    a.nothing_for(QUIET);
    assert_eq!(served.hub.everyone().emit("news", &1).unwrap(), 3);
    for client in [&mut a, &mut b, &mut c] {
        assert_eq!(client.event(), ("news".to_owned(), json!(1)));
    }
    let except = served.hub.everyone().except(a.id.clone());
    assert_eq!(except.emit("news", &2).unwrap(), 2);
    a.nothing_for(QUIET);
}

#[test]
fn a_connections_id_is_the_room_of_that_connection_alone() {
    let served = Served::start(relay_hub());
    let (mut a, mut b) = (served.client(), served.client());
    assert_eq!(served.hub.to(&b.id).emit("dm", &"psst").unwrap(), 1);
    assert_eq!(b.event(), ("dm".to_owned(), json!("psst")));
    a.nothing_for(QUIET);
    assert_eq!(served.hub.members(&b.id), [b.id.clone()]);
    // Nobody joins another connection's room, to listen in.
    let refused = a.ask(json!({"join": b.id}));
    assert!(
        refused["error"].as_str().unwrap().contains("room name"),
        "{refused}"
    );
    let conn = served.hub.connection(&a.id).unwrap();
    assert!(matches!(conn.join(&b.id), Err(HubError::RoomName(_))));
    assert!(conn.is_joined(&a.id));
}

#[test]
fn the_server_joins_and_leaves_by_id() {
    let left = Arc::new(Mutex::new(Vec::new()));
    let l = left.clone();
    let served = Served::start(Hub::builder().on_connection(move |conn| {
        let l = l.clone();
        conn.on_leave(move |room| l.lock().unwrap().push(room.to_owned()));
    }));
    let mut a = served.client();
    let hub = &served.hub;
    assert!(hub.join(&a.id, "x").unwrap());
    assert!(hub.join(&a.id, "y").unwrap());
    assert!(!hub.join("nobody", "x").unwrap());
    assert_eq!(hub.connection(&a.id).unwrap().rooms(), ["x", "y"]);
    assert_eq!(hub.to("x").emit("in", &"x").unwrap(), 1);
    assert_eq!(a.event().1, json!("x"));
    assert!(hub.leave(&a.id, "x"));
    assert!(!hub.leave(&a.id, "x"));
    assert_eq!(hub.leave_all(&a.id), ["y"]);
    assert_eq!(hub.to("y").emit("in", &"y").unwrap(), 0);
    assert!(hub.rooms().is_empty());
    assert_eq!(*left.lock().unwrap(), ["x", "y"]);
}

#[test]
fn join_requests_go_through_the_check() {
    let served = Served::start(Hub::builder().check_join(|_, room| {
        if room.starts_with("staff") {
            Err("staff only".to_owned())
        } else {
            Ok(())
        }
    }));
    let mut a = served.client();
    assert_eq!(a.ask(json!({"join": "staff-room"}))["error"], "staff only");
    assert_eq!(a.ask(json!({"join": "lobby"}))["data"], Value::Null);
    assert_eq!(served.hub.connection(&a.id).unwrap().rooms(), ["lobby"]);
}

#[test]
fn listing_connections_and_looking_them_up() {
    let served = Served::start(Hub::builder());
    let (a, b) = (served.client(), served.client());
    let hub = &served.hub;
    assert_eq!(hub.len(), 2);
    assert!(hub.is_connected(&a.id) && hub.is_connected(&b.id));
    let mut ids: Vec<String> = hub
        .connections()
        .iter()
        .map(|c| c.id().to_owned())
        .collect();
    ids.sort();
    assert_eq!(ids, sorted(&[&a.id, &b.id]));
    drop(a);
    assert!(eventually(Duration::from_secs(5), || hub.len() == 1));
    assert!(hub.connection(&b.id).is_some());
}

#[test]
fn default_ids_are_random_and_long() {
    let served = Served::start(Hub::builder());
    let ids: Vec<String> = (0..20).map(|_| served.client().id).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len());
    // `@` and 16 random bytes, base64url without padding.
    assert!(ids.iter().all(|id| id.len() == 23 && id.starts_with('@')));
}

#[test]
fn a_custom_id_generator_and_a_taken_id() {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let e = errors.clone();
    let served = Served::start(
        Hub::builder()
            .id_generator(|request| request.query().unwrap_or("none").to_owned())
            .on_error(move |err, _| e.lock().unwrap().push(err.to_string())),
    );
    let a = support::Client::connect(&format!("ws://{}/?alice", served.addr));
    // Marked as an id, so that no room name can be it.
    assert_eq!(a.id, "@alice");
    // A second "alice" is refused with 1011.
    let (mut dup, _) = wsio::Dialer::new()
        .subprotocols(["wsio-hub.1"])
        .dial(&format!("ws://{}/?alice", served.addr))
        .unwrap();
    dup.set_read_deadline(Some(std::time::Instant::now() + Duration::from_secs(5)))
        .unwrap();
    match dup.read_message() {
        Err(wsio::Error::Closed(status)) => assert_eq!(status.code.as_u16(), 1011),
        other => panic!("{other:?}"),
    }
    assert!(errors.lock().unwrap()[0].contains("@alice"));
    assert_eq!(served.hub.len(), 1);
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| (*s).clone()).collect();
    ids.sort();
    ids
}

#[test]
fn a_client_may_not_join_names_marked_as_ids_nor_too_many_rooms() {
    let served = Served::start(Hub::builder().max_rooms(3));
    let mut a = served.client();
    let refused = a.ask(json!({"join": "@someone"}));
    assert!(
        refused["error"].as_str().unwrap().contains("room name"),
        "{refused}"
    );
    for room in ["r1", "r2", "r3"] {
        a.join(room);
    }
    // Joining one it is in is fine; a fourth is refused.
    a.join("r2");
    let refused = a.ask(json!({"join": "r4"}));
    assert_eq!(refused["error"], "at most 3 rooms");
    // The application is not held to it.
    assert!(served.hub.join(&a.id, "r4").unwrap());
    assert_eq!(
        served.hub.connection(&a.id).unwrap().rooms(),
        ["r1", "r2", "r3", "r4"]
    );
}
