//! Node ws GHSA-96hv-2xvq-fx4p: floods of empty or one-byte fragments costing far more
//! memory than their bytes. wsio keeps no per-fragment state: a message of 300,000 one-byte
//! fragments costs its payload, and a flood to the limit ends with 1009.

mod common;
#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/server.rs"]
mod server;

use std::io::{Read, Write};

use common::client_frame;
use wsio::Config;
use wsio::frame::OpCode;

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

fn flood(fragments: usize, payload: &[u8]) -> Vec<u8> {
    let mut bytes = client_frame(OpCode::Binary, false, payload);
    for _ in 1..fragments - 1 {
        bytes.extend(client_frame(OpCode::Continuation, false, payload));
    }
    bytes.extend(client_frame(OpCode::Continuation, true, payload));
    bytes
}

#[test]
fn one_byte_fragments_cost_their_payload_only() {
    let server = server::Server::start(Config::default());
    let mut s = server::raw_client(server.addr);
    server::handshake(&mut s, "");
    let bytes = flood(300_000, b"x");
    counting_alloc::reset_peak();
    let before = counting_alloc::live();
    s.write_all(&bytes).unwrap();
    // The echo: 300,000 bytes of payload in one frame.
    let mut head = [0u8; 10];
    s.read_exact(&mut head).unwrap();
    assert_eq!(&head[..2], &[0x82, 127]);
    assert_eq!(u64::from_be_bytes(head[2..].try_into().unwrap()), 300_000);
    let grew = counting_alloc::peak().saturating_sub(before);
    assert!(
        grew < 2 << 20,
        "{grew} bytes for a 300 KB message in 300,000 fragments"
    );
    eprintln!("300,000 one-byte fragments: echoed as one frame, server heap peak +{grew} B");
}

#[test]
fn empty_fragments_then_a_flood_past_the_limit_end_with_1009() {
    let server = server::Server::start(Config::builder().max_message_size(100_000).build());
    let mut s = server::raw_client(server.addr);
    server::handshake(&mut s, "");
    // 200,000 empty fragments cost nothing but time; then one-byte ones past the limit.
    let mut bytes = flood(200_000, b"");
    bytes.truncate(bytes.len() - 6); // drop the final fragment: the message goes on
    s.write_all(&bytes).unwrap();
    let _ = s.write_all(&flood(150_000, b"y")[7..]);
    assert_eq!(server::close_code(&mut s), Some(1009));
}
