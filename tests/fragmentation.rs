//! Messages split into frames of any size are reassembled, with one-byte reads; frames at
//! every length-encoding boundary survive a round trip.

mod common;

use std::io::{Read, Write};

use common::{client_frame, conn_pair, pattern, quick_config, server_and_raw_client, text};
use wsio::frame::OpCode;
use wsio::{Message, MessageKind};

#[test]
fn a_text_message_in_many_fragments_is_reassembled() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    let message = text(300);
    let bytes = message.as_bytes();
    // Fragments of 0, 1, 2, ... bytes, cutting characters in half on the way.
    let mut at = 0;
    let mut size = 0;
    let mut first = true;
    while at < bytes.len() {
        let end = (at + size).min(bytes.len());
        let opcode = if first {
            OpCode::Text
        } else {
            OpCode::Continuation
        };
        client
            .write_all(&client_frame(opcode, end == bytes.len(), &bytes[at..end]))
            .unwrap();
        first = false;
        at = end;
        size += 1;
    }
    assert_eq!(server.read_message().unwrap(), Message::Text(message));
}

#[test]
fn every_length_boundary_round_trips_in_both_directions() {
    let (mut client, mut server) = conn_pair(quick_config());
    for len in [0, 1, 125, 126, 127, 65535, 65536, 70000] {
        let data = pattern(len, len as u8);
        client.write_binary(&data).unwrap();
        assert_eq!(
            server.read_message().unwrap(),
            Message::Binary(data.clone()),
            "{len}"
        );
        server.write_binary(&data).unwrap();
        assert_eq!(
            client.read_message().unwrap(),
            Message::Binary(data),
            "{len}"
        );
        let t = text(len);
        client.write_text(&t).unwrap();
        assert_eq!(server.read_message().unwrap(), Message::Text(t), "{len}");
    }
}

#[test]
fn streamed_writes_of_any_chunk_size_round_trip() {
    let (mut client, mut server) = conn_pair(quick_config());
    let data = pattern(20_000, 7);
    for chunk in [1, 3, 100, 4095, 4096, 4097, 9000, 20_000] {
        let mut writer = client.next_writer(MessageKind::Binary).unwrap();
        for piece in data.chunks(chunk) {
            writer.write_all(piece).unwrap();
        }
        writer.finish().unwrap();

        let (kind, mut reader) = server.next_reader().unwrap();
        assert_eq!(kind, MessageKind::Binary);
        let mut got = Vec::new();
        let mut buf = vec![0u8; chunk.min(5000)];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, data, "chunk {chunk}");
    }
}

#[test]
fn an_empty_streamed_message_is_one_empty_frame() {
    let (mut client, mut server) = conn_pair(quick_config());
    client
        .next_writer(MessageKind::Text)
        .unwrap()
        .finish()
        .unwrap();
    assert_eq!(server.read_message().unwrap(), Message::Text(String::new()));
}
