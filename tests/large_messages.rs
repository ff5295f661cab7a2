//! Two peers with default settings exchange messages up to their message limit, whatever
//! their frame limit: outgoing messages longer than `max_outgoing_frame_size` go out as
//! fragments. Raising the message limit on both sides is enough for bigger messages.

use std::io::Write;
use std::net::TcpListener;
use std::thread;

use wsio::frame::{FrameHeader, OpCode};
use wsio::{Config, Dialer, Message, MessageKind, Upgrader};

/// A message of `len` bytes sent by a client and echoed by a server, both with `config`.
fn echo_over_loopback(config: Config, len: usize, streamed: bool) -> Vec<u8> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server_config = config.clone();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut conn = Upgrader::new()
            .config(server_config)
            .upgrade(stream)
            .unwrap();
        let message = conn.read_message().unwrap();
        conn.write_message(message.kind(), message.as_bytes())
            .unwrap();
    });
    let (mut conn, _) = Dialer::new()
        .config(config)
        .dial(&format!("ws://{addr}/"))
        .unwrap();
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    if streamed {
        let mut writer = conn.next_writer(MessageKind::Binary).unwrap();
        writer.write_all(&data).unwrap();
        writer.finish().unwrap();
    } else {
        conn.write_binary(&data).unwrap();
    }
    let back = conn.read_message().unwrap();
    server.join().unwrap();
    assert_eq!(back, Message::Binary(data));
    back.into_bytes()
}

#[test]
fn two_default_peers_exchange_a_20_mib_message() {
    echo_over_loopback(Config::default(), 20 << 20, false);
}

#[test]
fn a_20_mib_message_written_in_one_streamed_write_is_fragmented_too() {
    echo_over_loopback(Config::default(), 20 << 20, true);
}

#[test]
fn raising_the_message_limit_on_both_sides_is_enough_for_bigger_messages() {
    let config = Config::builder().max_message_size(100 << 20).build();
    echo_over_loopback(config, 70 << 20, false);
}

#[test]
fn no_frame_is_longer_than_the_outgoing_frame_size() {
    let config = Config::builder()
        .max_outgoing_frame_size(1000)
        .keepalive(None)
        .build();
    let (mut client, mut server) = wsio::testing::pipe();
    let mut conn = wsio::Conn::from_raw(&mut client, wsio::Role::Server, config);
    conn.write_binary(&[7; 4500]).unwrap();
    let mut writer = conn.next_writer(MessageKind::Text).unwrap();
    writer.write_all(&[b'a'; 5000]).unwrap();
    writer.finish().unwrap();
    drop(conn);
    let bytes = server.take_available();
    let mut at = 0;
    let mut frames = Vec::new();
    while at < bytes.len() {
        let (header, n) = FrameHeader::parse(&bytes[at..]).unwrap().unwrap();
        assert!(header.payload_len <= 1000, "{header:?}");
        frames.push((header.opcode, header.fin));
        at += n + header.payload_len as usize;
    }
    assert_eq!(frames[0], (OpCode::Binary, false));
    let binary_end = frames.iter().position(|f| f.1).unwrap();
    assert_eq!(binary_end, 4, "4,500 bytes in frames of 1,000");
    assert_eq!(frames[binary_end + 1], (OpCode::Text, false));
    assert_eq!(frames.last(), Some(&(OpCode::Continuation, true)));
}
