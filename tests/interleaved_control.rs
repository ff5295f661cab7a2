//! Control frames between the frames of a fragmented message are handled and the message
//! arrives intact.

mod common;

use std::io::{Read, Write};

use common::{client_frame, frames_from, quick_config, server_and_raw_client};
use wsio::Message;
use wsio::frame::OpCode;

#[test]
fn a_ping_inside_a_fragmented_message_is_answered_and_the_message_is_whole() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    client
        .write_all(&client_frame(OpCode::Text, false, b"Hel"))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Ping, true, b"p1"))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Pong, true, b"unsolicited"))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Continuation, false, b"lo, "))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Ping, true, b""))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Continuation, true, b"world"))
        .unwrap();

    assert_eq!(
        server.read_message().unwrap(),
        Message::Text("Hello, world".into())
    );
    let frames = frames_from(&mut client);
    let pongs: Vec<_> = frames
        .iter()
        .map(|f| (f.header.opcode, f.payload.clone()))
        .collect();
    assert_eq!(
        pongs,
        [(OpCode::Pong, b"p1".to_vec()), (OpCode::Pong, Vec::new())]
    );
    assert!(frames.iter().all(|f| f.header.masking_key.is_none()));
}

#[test]
fn a_ping_is_answered_while_a_streamed_read_is_in_progress() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    client
        .write_all(&client_frame(OpCode::Binary, false, b"abc"))
        .unwrap();
    let (_, mut reader) = server.next_reader().unwrap();
    let mut buf = [0u8; 3];
    reader.read_exact(&mut buf).unwrap();
    client
        .write_all(&client_frame(OpCode::Ping, true, b"mid"))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Continuation, true, b"def"))
        .unwrap();
    reader.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"def");
    assert_eq!(reader.read(&mut buf).unwrap(), 0);
    let frames = frames_from(&mut client);
    assert_eq!(frames.len(), 1);
    assert_eq!(
        (frames[0].header.opcode, &frames[0].payload[..]),
        (OpCode::Pong, &b"mid"[..])
    );
}
