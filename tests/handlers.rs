//! Ping, pong and close handlers replace the defaults.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{client_frame, frames_from, quick_config, server_and_raw_client};
use wsio::frame::OpCode;
use wsio::{Error, Message};

#[test]
fn a_ping_handler_replaces_the_automatic_pong() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    server.set_ping_handler(move |payload, replier| {
        log.lock().unwrap().push(payload.to_vec());
        if payload == b"answer me" {
            replier.pong(b"custom")?;
        }
        Ok(())
    });
    client
        .write_all(&client_frame(OpCode::Ping, true, b"ignore me"))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Ping, true, b"answer me"))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Text, true, b"m"))
        .unwrap();
    assert_eq!(server.read_message().unwrap(), Message::Text("m".into()));
    assert_eq!(
        *seen.lock().unwrap(),
        [b"ignore me".to_vec(), b"answer me".to_vec()]
    );
    let frames = frames_from(&mut client);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].payload, b"custom");
}

#[test]
fn a_pong_handler_sees_pongs_and_its_error_is_returned() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    server.set_pong_handler(|payload| {
        if payload == b"bad" {
            return Err(Error::Io(std::io::Error::other("pong handler says no")));
        }
        Ok(())
    });
    server.write_ping(b"hello").unwrap();
    assert_eq!(frames_from(&mut client)[0].header.opcode, OpCode::Ping);
    client
        .write_all(&client_frame(OpCode::Pong, true, b"bad"))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Text, true, b"after"))
        .unwrap();
    let err = server.read_message().unwrap_err();
    assert!(err.to_string().contains("pong handler says no"), "{err}");
    // A handler's error does not poison the connection.
    assert_eq!(
        server.read_message().unwrap(),
        Message::Text("after".into())
    );
}

#[test]
fn control_payloads_over_125_bytes_are_refused() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    assert!(matches!(
        server.write_ping(&[0; 126]),
        Err(Error::InvalidInput(
            wsio::InvalidInput::ControlPayloadTooLong(126)
        ))
    ));
    server.write_pong(&[0; 125]).unwrap();
    assert_eq!(frames_from(&mut client)[0].payload.len(), 125);
}
