//! Invalid UTF-8 fails the connection with 1007 as soon as the bad byte arrives, even in the
//! middle of a frame whose rest never comes; a character split across frames is fine.

mod common;

use std::io::{Read, Write};

use common::{client_frame, frames_from, quick_config, server_and_raw_client};
use wsio::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use wsio::{Error, Message, ProtocolError};

#[test]
fn an_invalid_byte_mid_frame_fails_before_the_frame_is_complete() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    // A 20-byte text frame of which only the first 15 bytes are ever sent: valid text, then
    // 0xF4 0x90 (which can never start a valid character).
    let mut header = FrameHeader::new(OpCode::Text, true, 20);
    header.masking_key = Some([0; 4]);
    let mut head = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut head);
    client.write_all(&head[..n]).unwrap();
    client
        .write_all(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80")
        .unwrap();

    let (_, mut reader) = server.next_reader().unwrap();
    let mut buf = [0u8; 64];
    let mut got = 0;
    let err = loop {
        match reader.read(&mut buf) {
            Ok(n) => got += n,
            Err(e) => break Error::from(e),
        }
    };
    assert!(
        matches!(err, Error::Protocol(ProtocolError::InvalidUtf8)),
        "{err}"
    );
    // 0xF4 may start a valid character; 0x90 after it cannot: nothing from 0x90 on arrives.
    assert!(
        got <= 12,
        "no byte from the bad one on was delivered ({got})"
    );
    assert_eq!(frames_from(&mut client)[0].close_code(), Some(1007));
}

#[test]
fn a_character_split_across_frames_is_fine() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    let clef = "𝄞".as_bytes();
    client
        .write_all(&client_frame(OpCode::Text, false, &clef[..1]))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Continuation, false, &clef[1..3]))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Continuation, true, &clef[3..]))
        .unwrap();
    assert_eq!(server.read_message().unwrap(), Message::Text("𝄞".into()));
}

#[test]
fn an_impossible_prefix_at_a_frame_end_fails_without_waiting_for_the_next_frame() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    // 0xED 0xA0 starts a surrogate: invalid already, though the frame ends there.
    client
        .write_all(&client_frame(OpCode::Text, false, b"ok\xed\xa0"))
        .unwrap();
    let err = server.read_message().unwrap_err();
    assert!(
        matches!(err, Error::Protocol(ProtocolError::InvalidUtf8)),
        "{err}"
    );
}
