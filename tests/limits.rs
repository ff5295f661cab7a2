//! Frame and message limits: checked against declared lengths before any payload is read or
//! buffered, answered with close 1009, reported as sticky capacity errors.

mod common;

use std::io::Write;

use common::{client_frame, frames_from, quick_config, server_and_raw_client};
use wsio::frame::OpCode;
use wsio::{CapacityError, Config, Error, Message, ProtocolError};

fn limited(frame: u64, message: u64) -> Config {
    Config::builder()
        .max_frame_size(frame)
        .max_message_size(message)
        .close_timeout(Some(std::time::Duration::from_millis(200)))
        .build()
}

/// Only the header of a frame declaring `len` bytes, as a client sends it.
fn header_only(opcode: OpCode, fin: bool, len: u64) -> Vec<u8> {
    let mut header = wsio::frame::FrameHeader::new(opcode, fin, len);
    header.masking_key = Some(common::KEY);
    let mut out = [0u8; wsio::frame::MAX_HEADER_LEN];
    let n = header.encode(&mut out);
    out[..n].to_vec()
}

#[test]
fn a_frame_over_the_limit_fails_on_its_header_alone() {
    let (mut server, mut client) = server_and_raw_client(limited(1000, 1 << 20));
    // Only the header: the payload never comes, so the error must come from the header.
    client
        .write_all(&header_only(OpCode::Binary, true, 1001))
        .unwrap();
    let err = server.read_message().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Capacity(CapacityError::FrameTooLarge {
                len: 1001,
                limit: 1000
            })
        ),
        "{err}"
    );
    assert_eq!(frames_from(&mut client)[0].close_code(), Some(1009));
    // Sticky.
    assert!(matches!(server.read_message(), Err(Error::Capacity(_))));
}

#[test]
fn a_message_over_the_limit_across_fragments_fails_when_declared() {
    let (mut server, mut client) = server_and_raw_client(limited(1000, 1500));
    client
        .write_all(&client_frame(OpCode::Text, false, &[b'a'; 1000]))
        .unwrap();
    client
        .write_all(&header_only(OpCode::Continuation, true, 501))
        .unwrap();
    let err = server.read_message().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Capacity(CapacityError::MessageTooLarge { limit: 1500 })
        ),
        "{err}"
    );
    assert_eq!(frames_from(&mut client)[0].close_code(), Some(1009));
}

#[test]
fn a_message_exactly_at_the_limits_is_fine() {
    let (mut server, mut client) = server_and_raw_client(limited(1000, 1500));
    client
        .write_all(&client_frame(OpCode::Binary, false, &[1; 1000]))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Continuation, true, &[2; 500]))
        .unwrap();
    assert_eq!(server.read_message().unwrap().len(), 1500);
}

#[test]
fn the_largest_declared_length_allocates_nothing_and_fails_fast() {
    let (mut server, mut client) = server_and_raw_client(Config::default());
    client
        .write_all(&header_only(OpCode::Binary, true, (1 << 63) - 1))
        .unwrap();
    let err = server.read_message().unwrap_err();
    assert!(
        matches!(err, Error::Capacity(CapacityError::FrameTooLarge { .. })),
        "{err}"
    );
    assert_eq!(frames_from(&mut client)[0].close_code(), Some(1009));
}

#[test]
fn a_length_with_the_top_bit_set_is_a_protocol_error() {
    let (mut server, mut client) = server_and_raw_client(Config::default());
    let mut bytes = vec![0x82, 0x80 | 127];
    bytes.extend_from_slice(&u64::MAX.to_be_bytes());
    bytes.extend_from_slice(&common::KEY);
    client.write_all(&bytes).unwrap();
    let err = server.read_message().unwrap_err();
    assert!(
        matches!(err, Error::Protocol(ProtocolError::InvalidPayloadLength)),
        "{err}"
    );
    assert_eq!(frames_from(&mut client)[0].close_code(), Some(1002));
}

#[test]
fn read_text_over_its_limit_discards_the_message_and_stays_usable() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    client
        .write_all(&client_frame(OpCode::Text, true, b"0123456789"))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Text, true, b"short"))
        .unwrap();
    assert!(matches!(
        server.read_text(9),
        Err(Error::MessageTooLong { limit: 9 })
    ));
    assert_eq!(server.read_text(9).unwrap(), "short");
    client
        .write_all(&client_frame(OpCode::Text, true, b"exactly10!"))
        .unwrap();
    assert_eq!(server.read_text(10).unwrap(), "exactly10!");
}

#[test]
fn read_binary_into_a_small_buffer_discards_the_message_and_stays_usable() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    client
        .write_all(&client_frame(OpCode::Binary, false, &[7; 6]))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Continuation, true, &[7; 6]))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Binary, true, &[9; 4]))
        .unwrap();
    let mut buf = [0u8; 8];
    assert!(matches!(
        server.read_binary(&mut buf),
        Err(Error::MessageTooLong { limit: 8 })
    ));
    assert_eq!(server.read_binary(&mut buf).unwrap(), 4);
    assert_eq!(&buf[..4], &[9; 4]);
}

#[test]
fn reading_the_wrong_kind_discards_the_message_and_stays_usable() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    client
        .write_all(&client_frame(OpCode::Binary, true, &[1, 2]))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Text, true, b"hi"))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Binary, true, &[3]))
        .unwrap();
    assert!(matches!(
        server.read_text(100),
        Err(Error::UnexpectedKind(wsio::MessageKind::Binary))
    ));
    let mut buf = [0u8; 8];
    assert!(matches!(
        server.read_binary(&mut buf),
        Err(Error::UnexpectedKind(wsio::MessageKind::Text))
    ));
    assert_eq!(server.read_message().unwrap(), Message::Binary(vec![3]));
}
