//! What a compressed connection costs while idle, per window size, with and without context
//! takeover: with takeover the compressor and decompressor stay; without it they are
//! released after every message and an idle connection costs what an uncompressed one does.

mod common;
#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use std::io::Write;

use common::{client_frame, server_and_raw_client_with};
use flate2::{Compress, Compression, FlushCompress};
use wsio::frame::OpCode;
use wsio::{Config, DeflateConfig, Message};

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

/// The heap an idle server connection holds after one compressed message each way.
fn idle_heap(bits: u8, server_takeover: bool, client_takeover: bool) -> usize {
    let mut offer =
        format!("permessage-deflate; server_max_window_bits={bits}; client_max_window_bits={bits}");
    if !server_takeover {
        offer.push_str("; server_no_context_takeover");
    }
    if !client_takeover {
        offer.push_str("; client_no_context_takeover");
    }
    let config = Config::builder().deflate(DeflateConfig::new()).build();
    let (mut server, mut client) =
        server_and_raw_client_with(config, &format!("Sec-WebSocket-Extensions: {offer}\r\n"));

    let message = "{\"event\":\"update\",\"values\":[1,2,3,4,5,6,7,8,9,10]}".repeat(20);
    let mut c = Compress::new_with_window_bits(Compression::new(6), false, bits.max(9));
    let mut compressed = vec![0u8; message.len() + 64];
    c.compress(message.as_bytes(), &mut compressed, FlushCompress::Sync)
        .unwrap();
    compressed.truncate(c.total_out() as usize - 4);
    let mut frame = client_frame(OpCode::Text, true, &compressed);
    frame[0] |= 0x40;
    client.write_all(&frame).unwrap();

    assert_eq!(
        server.read_message().unwrap(),
        Message::Text(message.clone())
    );
    server.write_text(&message).unwrap();
    assert!(
        client.take_available().len() < message.len(),
        "the reply was compressed"
    );

    let with_conn = counting_alloc::live();
    drop(server);
    with_conn - counting_alloc::live()
}

#[test]
fn idle_heap_per_window_size_and_takeover() {
    println!("| window bits | both take over | only the client takes over | neither |");
    println!("|---|---|---|---|");
    for bits in 9..=15 {
        let both = idle_heap(bits, true, true);
        let inflater_only = idle_heap(bits, false, true);
        let neither = idle_heap(bits, false, false);
        println!("| {bits} | {both} | {inflater_only} | {neither} |");
        assert!(
            neither <= 10 * 1024,
            "no takeover, {bits} bits: {neither} bytes"
        );
        assert!(
            both > inflater_only && inflater_only > neither,
            "{both} {inflater_only} {neither}"
        );
    }
}
