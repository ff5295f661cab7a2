//! Compressed messages round-trip under every parameter set, in whole and streamed form,
//! with one-byte reads; RSV1 marks only first frames; context takeover, the threshold, the
//! per-message switch and the 8-bit window behave as documented.

mod common;

use std::io::{Read, Write};

use common::{
    client_frame, conn_pair_with, frames_from, pattern, server_and_raw_client_with, text,
};
use flate2::{Compress, Compression, FlushCompress};
use wsio::frame::OpCode;
use wsio::testing::PipeEnd;
use wsio::{Config, Conn, DeflateConfig, Message, MessageKind};

fn with(deflate: DeflateConfig) -> Config {
    Config::builder()
        .deflate(deflate)
        .close_timeout(Some(std::time::Duration::from_millis(500)))
        .build()
}

/// Repetitive text that compresses well, `len` bytes.
fn json(len: usize) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < len {
        s.push_str(&format!(
            "{{\"id\":{i},\"name\":\"user{i}\",\"tags\":[\"a\",\"b\"]}},"
        ));
        i += 1;
    }
    s.truncate(len);
    s
}

fn exchange(client: &mut Conn<PipeEnd>, server: &mut Conn<PipeEnd>) {
    for len in [0, 1, 63, 64, 100, 5000, 70_000, 300_000] {
        let t = json(len);
        client.write_text(&t).unwrap();
        assert_eq!(
            server.read_message().unwrap(),
            Message::Text(t.clone()),
            "{len}"
        );
        server.write_text(&t).unwrap();
        assert_eq!(client.read_message().unwrap(), Message::Text(t), "{len}");
        let b = pattern(len, 3);
        server.write_binary(&b).unwrap();
        assert_eq!(
            client.read_message().unwrap(),
            Message::Binary(b.clone()),
            "{len}"
        );
        // Streamed, in odd-sized pieces, read back through a small buffer.
        let mut writer = client.next_writer(MessageKind::Text).unwrap();
        let u = text(len);
        for piece in u.as_bytes().chunks(777) {
            writer.write_all(piece).unwrap();
        }
        writer.finish().unwrap();
        let (kind, mut reader) = server.next_reader().unwrap();
        assert_eq!(kind, MessageKind::Text);
        let mut got = Vec::new();
        let mut buf = [0u8; 100];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, u.as_bytes(), "{len}");
    }
}

#[test]
fn round_trips_with_context_takeover() {
    let config = with(DeflateConfig::new());
    let (mut client, mut server) = conn_pair_with(config.clone(), config);
    assert!(client.compression().is_some());
    exchange(&mut client, &mut server);
}

#[test]
fn round_trips_without_context_takeover() {
    let config = with(
        DeflateConfig::new()
            .server_no_context_takeover(true)
            .client_no_context_takeover(true),
    );
    let (mut client, mut server) = conn_pair_with(config.clone(), config);
    let params = server.compression().unwrap();
    assert!(params.server_no_context_takeover && params.client_no_context_takeover);
    exchange(&mut client, &mut server);
}

#[test]
fn round_trips_with_the_smallest_windows() {
    let config = with(
        DeflateConfig::new()
            .server_max_window_bits(9)
            .client_max_window_bits(9),
    );
    let (mut client, mut server) = conn_pair_with(config.clone(), config);
    let params = client.compression().unwrap();
    assert_eq!(
        (params.server_max_window_bits, params.client_max_window_bits),
        (9, 9)
    );
    exchange(&mut client, &mut server);
}

#[test]
fn round_trips_at_every_level() {
    for level in [0, 1, 6, 9] {
        let config = with(DeflateConfig::new().level(level));
        let (mut client, mut server) = conn_pair_with(config.clone(), config);
        let t = json(20_000);
        client.write_text(&t).unwrap();
        assert_eq!(
            server.read_message().unwrap(),
            Message::Text(t),
            "level {level}"
        );
    }
}

/// A server `Conn` that accepted `offer`, and the raw client.
fn raw(deflate: DeflateConfig, offer: &str) -> (Conn<PipeEnd>, PipeEnd) {
    server_and_raw_client_with(
        with(deflate),
        &format!("Sec-WebSocket-Extensions: {offer}\r\n"),
    )
}

#[test]
fn rsv1_is_on_the_first_frame_only_and_context_is_taken_over() {
    let (mut server, mut client) = raw(DeflateConfig::new().level(6), "permessage-deflate");
    // Letters in a pseudo-random order: they compress little on their own, so the second
    // copy only shrinks by referring back into the window.
    let mut state = 1u32;
    let message: String = (0..12_000)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            char::from(b'a' + (state >> 16) as u8 % 26)
        })
        .collect();
    server.write_text(&message).unwrap();
    let first = frames_from(&mut client);
    assert!(
        first.len() > 1,
        "the message spans frames of the 4 KiB buffer"
    );
    assert!(first[0].header.rsv1);
    assert!(
        first[1..]
            .iter()
            .all(|f| !f.header.rsv1 && f.header.opcode == OpCode::Continuation)
    );
    server.write_text(&message).unwrap();
    let second = frames_from(&mut client);
    let size = |frames: &[common::Frame]| frames.iter().map(|f| f.payload.len()).sum::<usize>();
    // The same message again refers back to the first: far smaller.
    assert!(
        size(&second) * 10 < size(&first),
        "{} then {}",
        size(&first),
        size(&second)
    );
}

#[test]
fn without_context_takeover_each_message_stands_alone() {
    let (mut server, mut client) = raw(
        DeflateConfig::new(),
        "permessage-deflate; server_no_context_takeover",
    );
    let message = json(3000);
    server.write_text(&message).unwrap();
    let first = frames_from(&mut client);
    server.write_text(&message).unwrap();
    let second = frames_from(&mut client);
    assert_eq!(first, second);
}

#[test]
fn short_messages_and_switched_off_writes_go_uncompressed() {
    let (mut server, mut client) = raw(DeflateConfig::new().threshold(100), "permessage-deflate");
    server.write_text(&json(99)).unwrap();
    assert!(!frames_from(&mut client)[0].header.rsv1);
    server.write_text(&json(100)).unwrap();
    assert!(frames_from(&mut client)[0].header.rsv1);
    server.set_write_compression(false);
    server.write_text(&json(1000)).unwrap();
    let frames = frames_from(&mut client);
    assert!(!frames[0].header.rsv1);
    assert_eq!(frames[0].payload, json(1000).as_bytes());
    server.set_write_compression(true);
    server.set_compression_level(9);
    server.write_text(&json(1000)).unwrap();
    assert!(frames_from(&mut client)[0].header.rsv1);
}

#[test]
fn with_an_8_bit_window_the_server_sends_uncompressed_but_still_inflates() {
    let (mut server, mut client) = raw(
        DeflateConfig::new(),
        "permessage-deflate; server_max_window_bits=8",
    );
    server.write_text(&json(5000)).unwrap();
    let frames = frames_from(&mut client);
    assert!(frames.iter().all(|f| !f.header.rsv1));
    // The client's compressed messages are still accepted.
    let compressed = deflate_raw(json(5000).as_bytes());
    client
        .write_all(&compressed_frame(OpCode::Text, true, &compressed))
        .unwrap();
    assert_eq!(server.read_message().unwrap(), Message::Text(json(5000)));
}

/// Raw deflate with a sync flush, tail stripped, as RFC 7692 sends it.
fn deflate_raw(data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::new(6), false);
    let mut out = vec![0u8; data.len() + 1024];
    c.compress(data, &mut out, FlushCompress::Sync).unwrap();
    out.truncate(c.total_out() as usize);
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    out
}

/// A masked client frame with RSV1 set.
fn compressed_frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut frame = client_frame(opcode, fin, payload);
    frame[0] |= 0x40;
    frame
}

#[test]
fn a_compressed_message_split_across_frames_with_a_ping_between_inflates() {
    let (mut server, mut client) = raw(DeflateConfig::new(), "permessage-deflate");
    let message = json(10_000);
    let compressed = deflate_raw(message.as_bytes());
    let (a, rest) = compressed.split_at(compressed.len() / 3);
    let (b, c) = rest.split_at(rest.len() / 2);
    client
        .write_all(&compressed_frame(OpCode::Text, false, a))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Ping, true, b"p"))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Continuation, false, b))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Continuation, true, c))
        .unwrap();
    assert_eq!(server.read_message().unwrap(), Message::Text(message));
    // And an uncompressed message after it on the same connection.
    client
        .write_all(&client_frame(OpCode::Text, true, b"plain"))
        .unwrap();
    assert_eq!(
        server.read_message().unwrap(),
        Message::Text("plain".into())
    );
}

#[test]
fn an_empty_compressed_message_is_one_zero_byte() {
    let (mut server, mut client) = raw(DeflateConfig::new().threshold(0), "permessage-deflate");
    let mut writer = server.next_writer(MessageKind::Binary).unwrap();
    writer.write_all(b"").unwrap();
    writer.finish().unwrap();
    server.write_binary(b"").unwrap();
    for frame in frames_from(&mut client) {
        assert!(frame.header.rsv1);
        assert!(frame.payload.len() <= 2, "{:?}", frame.payload);
    }
    // Inflating the client's empty compressed message (a lone 0x00).
    client
        .write_all(&compressed_frame(OpCode::Binary, true, &[0]))
        .unwrap();
    assert_eq!(server.read_message().unwrap(), Message::Binary(Vec::new()));
    client
        .write_all(&compressed_frame(
            OpCode::Binary,
            true,
            &deflate_raw(b"after"),
        ))
        .unwrap();
    assert_eq!(
        server.read_message().unwrap(),
        Message::Binary(b"after".to_vec())
    );
}

/// Raw deflate ended with a final block (BFINAL), as RFC 7692 7.2.3.4 allows a sender
/// without a sync flush to do, plus `trailer` bytes.
fn deflate_final(data: &[u8], trailer: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::new(6), false);
    let mut out = vec![0u8; data.len() + 1024];
    c.compress(data, &mut out, FlushCompress::Finish).unwrap();
    out.truncate(c.total_out() as usize);
    out.extend_from_slice(trailer);
    out
}

#[test]
fn messages_ended_with_a_final_block_keep_the_connection_usable() {
    let (mut server, mut client) = raw(DeflateConfig::new(), "permessage-deflate");
    for i in 0..3 {
        let message = json(3000 + i);
        // Plain BFINAL, then BFINAL followed by the RFC's example trailer byte 0x00.
        let trailer: &[u8] = if i == 1 { &[0x00] } else { &[] };
        client
            .write_all(&compressed_frame(
                OpCode::Text,
                true,
                &deflate_final(message.as_bytes(), trailer),
            ))
            .unwrap();
        assert_eq!(
            server.read_message().unwrap(),
            Message::Text(message),
            "{i}"
        );
    }
    // A sync-flushed message from a fresh compressor follows.
    let message = json(4000);
    client
        .write_all(&compressed_frame(
            OpCode::Text,
            true,
            &deflate_raw(message.as_bytes()),
        ))
        .unwrap();
    assert_eq!(server.read_message().unwrap(), Message::Text(message));
}
