//! The JSON helpers (feature `serde`): a value written with `write_json` comes back from
//! `read_json`; malformed JSON is an error that leaves the connection usable.

mod common;

use serde::{Deserialize, Serialize};
use wsio::{Error, Message};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Event {
    name: String,
    seq: u32,
    tags: Vec<String>,
}

#[test]
fn a_value_round_trips_as_a_text_message() {
    let (mut client, mut server) = common::conn_pair(common::quick_config());
    let event = Event {
        name: "join".into(),
        seq: 7,
        tags: vec!["a".into(), "é".into()],
    };
    client.write_json(&event).unwrap();
    assert_eq!(server.read_json::<Event>().unwrap(), event);
}

#[test]
fn malformed_json_is_an_error_and_the_connection_stays_usable() {
    let (mut client, mut server) = common::conn_pair(common::quick_config());
    client.write_text("{not json").unwrap();
    client.write_text("after").unwrap();
    assert!(matches!(server.read_json::<Event>(), Err(Error::Json(_))));
    assert_eq!(
        server.read_message().unwrap(),
        Message::Text("after".into())
    );
}
