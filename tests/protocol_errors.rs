//! Every frame-level rule of RFC 6455 a peer can break: the connection answers with the right
//! close code, returns a typed error, and repeats it on later calls.

mod common;

use std::io::Write;

use common::{
    client_frame, close_payload, frames_from, quick_config, raw_frame, server_and_raw_client,
};
use wsio::frame::OpCode;
use wsio::{Error, ProtocolError};

/// Sends `bytes` from the client and expects the server to fail with `expected` and close
/// with `code`.
fn server_rejects(bytes: &[u8], expected: ProtocolError, code: u16) {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    client.write_all(bytes).unwrap();
    let err = server.read_message().unwrap_err();
    match &err {
        Error::Protocol(e) => assert_eq!(*e, expected),
        other => panic!("expected {expected:?}, got {other:?}"),
    }
    assert_eq!(err.close_code().map(|c| c.as_u16()), Some(code));
    let frames = frames_from(&mut client);
    assert_eq!(frames.len(), 1, "{expected:?}: one close frame");
    assert_eq!(frames[0].close_code(), Some(code), "{expected:?}");
    // Sticky: the same error again, and nothing more is sent.
    assert!(matches!(server.read_message(), Err(Error::Protocol(e)) if e == expected));
    assert!(server.write_text("no").is_err());
}

fn with_first_byte(mut frame: Vec<u8>, or: u8) -> Vec<u8> {
    frame[0] |= or;
    frame
}

#[test]
fn reserved_bits() {
    for bit in [0x40, 0x20, 0x10] {
        let frame = with_first_byte(client_frame(OpCode::Text, true, b"x"), bit);
        server_rejects(&frame, ProtocolError::ReservedBits, 1002);
    }
}

#[test]
fn reserved_opcodes() {
    for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        let mut frame = client_frame(OpCode::Binary, true, b"");
        frame[0] = 0x80 | op;
        server_rejects(&frame, ProtocolError::ReservedOpcode(op), 1002);
    }
}

#[test]
fn unmasked_client_frame() {
    server_rejects(
        &raw_frame(OpCode::Text, true, b"x", false),
        ProtocolError::UnmaskedFrame,
        1002,
    );
}

#[test]
fn continuation_without_a_message() {
    server_rejects(
        &client_frame(OpCode::Continuation, true, b"x"),
        ProtocolError::UnexpectedContinuation,
        1002,
    );
}

#[test]
fn new_message_inside_a_fragmented_one() {
    let mut bytes = client_frame(OpCode::Text, false, b"a");
    bytes.extend(client_frame(OpCode::Binary, true, b"b"));
    server_rejects(&bytes, ProtocolError::ExpectedContinuation, 1002);
}

#[test]
fn fragmented_and_oversized_control_frames() {
    server_rejects(
        &client_frame(OpCode::Ping, false, b""),
        ProtocolError::FragmentedControlFrame,
        1002,
    );
    server_rejects(
        &client_frame(OpCode::Ping, true, &[0; 126]),
        ProtocolError::ControlFrameTooLong,
        1002,
    );
}

#[test]
fn bad_close_frames() {
    server_rejects(
        &client_frame(OpCode::Close, true, &[3]),
        ProtocolError::InvalidClosePayload,
        1002,
    );
    for code in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        server_rejects(
            &client_frame(OpCode::Close, true, &close_payload(code, "")),
            ProtocolError::InvalidCloseCode(code),
            1002,
        );
    }
    let mut payload = close_payload(1000, "");
    payload.extend_from_slice(&[0xce, 0xba, 0xff]);
    server_rejects(
        &client_frame(OpCode::Close, true, &payload),
        ProtocolError::InvalidCloseReason,
        1007,
    );
}

#[test]
fn invalid_utf8_text() {
    server_rejects(
        &client_frame(OpCode::Text, true, b"ok\xff"),
        ProtocolError::InvalidUtf8,
        1007,
    );
    // A message that ends inside a character.
    server_rejects(
        &client_frame(OpCode::Text, true, b"\xe2\x82"),
        ProtocolError::InvalidUtf8,
        1007,
    );
}

#[test]
fn a_client_rejects_masked_server_frames() {
    let (mut client, mut server) = common::client_and_raw_server(quick_config());
    server
        .write_all(&raw_frame(OpCode::Text, true, b"x", true))
        .unwrap();
    assert!(matches!(
        client.read_message(),
        Err(Error::Protocol(ProtocolError::MaskedFrame))
    ));
    let frames = frames_from(&mut server);
    assert_eq!(frames[0].close_code(), Some(1002));
    assert!(
        frames[0].header.masking_key.is_some(),
        "the client masks its close frame"
    );
}
