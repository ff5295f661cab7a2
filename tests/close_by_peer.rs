//! The peer starts the closing handshake: wsio answers with the same code and reason (or what
//! the close handler chooses), reports the status, and refuses further use.

mod common;

use std::io::Write;

use common::{client_frame, close_payload, frames_from, quick_config, server_and_raw_client};
use wsio::frame::OpCode;
use wsio::{CloseCode, Error, Initiator};

#[test]
fn the_peers_code_and_reason_are_echoed_and_reported() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    client
        .write_all(&client_frame(
            OpCode::Close,
            true,
            &close_payload(4001, "bye now"),
        ))
        .unwrap();
    let Err(Error::Closed(status)) = server.read_message() else {
        panic!("expected Closed");
    };
    assert_eq!(status.code, CloseCode::from_u16(4001));
    assert_eq!(status.reason, "bye now");
    assert_eq!(status.initiator, Initiator::Peer);
    assert_eq!(server.close_status(), Some(status.clone()));

    let frames = frames_from(&mut client);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].close_code(), Some(4001));
    assert_eq!(&frames[0].payload[2..], b"bye now");

    assert!(matches!(server.read_message(), Err(Error::AlreadyClosed)));
    assert!(matches!(
        server.write_text("late"),
        Err(Error::AlreadyClosed)
    ));
    // close() afterwards is harmless and returns the recorded status.
    assert_eq!(server.close(CloseCode::NORMAL, "").unwrap(), status);
}

#[test]
fn an_empty_close_is_answered_empty_and_reported_as_no_status() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    client
        .write_all(&client_frame(OpCode::Close, true, b""))
        .unwrap();
    let Err(Error::Closed(status)) = server.read_message() else {
        panic!("expected Closed");
    };
    assert_eq!(status.code, CloseCode::NO_STATUS);
    let frames = frames_from(&mut client);
    assert_eq!(frames[0].header.opcode, OpCode::Close);
    assert!(frames[0].payload.is_empty());
}

#[test]
fn the_close_handler_chooses_the_reply() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    server.set_close_handler(|frame, replier| {
        assert_eq!(frame.map(|f| f.code), Some(CloseCode::GOING_AWAY));
        replier.close(CloseCode::from_u16(4999), "my answer")
    });
    client
        .write_all(&client_frame(OpCode::Close, true, &close_payload(1001, "")))
        .unwrap();
    assert!(matches!(server.read_message(), Err(Error::Closed(_))));
    let frames = frames_from(&mut client);
    assert_eq!(frames.len(), 1, "exactly one close frame");
    assert_eq!(frames[0].close_code(), Some(4999));
    assert_eq!(&frames[0].payload[2..], b"my answer");
}

#[test]
fn the_server_shuts_the_stream_down_after_answering() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    client
        .write_all(&client_frame(OpCode::Close, true, &close_payload(1000, "")))
        .unwrap();
    let _ = server.read_message();
    let _ = client.take_available();
    // The server's end is shut down: writing to it fails.
    assert!(client.write_all(b"more").is_err());
}
