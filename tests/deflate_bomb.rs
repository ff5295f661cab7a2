//! A deflate bomb: a 1 MiB frame that inflates to 1 GiB stops at the message limit with
//! close 1009, inflating in bounded steps: memory stays at the limit for a whole-message
//! read, and flat for a streamed one.

mod common;
#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use std::io::{Read, Write};

use common::{client_frame, frames_from, server_and_raw_client_with};
use flate2::{Compress, Compression, FlushCompress};
use wsio::frame::OpCode;
use wsio::{CapacityError, Config, DeflateConfig, Error};

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

/// 1 GiB of zeros, compressed (about 1 MiB), as a single compressed client frame.
fn bomb() -> Vec<u8> {
    let mut c = Compress::new(Compression::new(9), false);
    let zeros = vec![0u8; 1 << 20];
    let mut out = Vec::with_capacity(2 << 20);
    for i in 0..1024 {
        let flush = if i == 1023 {
            FlushCompress::Sync
        } else {
            FlushCompress::None
        };
        let mut input = &zeros[..];
        loop {
            let before = c.total_in();
            c.compress_vec(input, &mut out, flush).unwrap();
            input = &input[(c.total_in() - before) as usize..];
            if input.is_empty() && (flush == FlushCompress::None || out.len() < out.capacity()) {
                break;
            }
            out.reserve(1 << 20);
        }
    }
    out.truncate(out.len() - 4);
    let mut frame = client_frame(OpCode::Binary, true, &out);
    frame[0] |= 0x40;
    frame
}

fn server(limit: u64) -> (wsio::Conn<wsio::testing::PipeEnd>, wsio::testing::PipeEnd) {
    let config = Config::builder()
        .deflate(DeflateConfig::new())
        .max_message_size(limit)
        .build();
    let (mut server, client) =
        server_and_raw_client_with(config, "Sec-WebSocket-Extensions: permessage-deflate\r\n");
    // Read the bomb in big gulps, like a socket would.
    server.get_mut().set_max_read(usize::MAX);
    (server, client)
}

#[test]
fn a_bomb_stops_at_the_limit_in_bounded_memory() {
    let frame = bomb();
    println!("bomb frame: {} bytes, inflating to 1 GiB", frame.len());
    assert!(frame.len() < 2 << 20);

    // Whole-message read with a 16 MiB limit: the buffer grows to the limit, no further.
    let (mut conn, mut client) = server(16 << 20);
    client.write_all(&frame).unwrap();
    counting_alloc::reset_peak();
    let before = counting_alloc::live();
    let err = conn.read_message().unwrap_err();
    let grew = counting_alloc::peak() - before;
    assert!(
        matches!(err, Error::Capacity(CapacityError::MessageTooLarge { limit }) if limit == 16 << 20),
        "{err}"
    );
    assert_eq!(frames_from(&mut client)[0].close_code(), Some(1009));
    println!("read_message peak heap growth: {grew} bytes");
    assert!(grew < (16 << 20) + (4 << 20), "{grew}");

    // Streamed read with the default 64 MiB limit: memory stays flat.
    let (mut conn, mut client) = server(64 << 20);
    client.write_all(&frame).unwrap();
    drop(frame);
    counting_alloc::reset_peak();
    let before = counting_alloc::live();
    let (_, mut reader) = conn.next_reader().unwrap();
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0u64;
    let err = loop {
        match reader.read(&mut buf) {
            Ok(0) => panic!("the bomb ended below the limit"),
            Ok(n) => total += n as u64,
            Err(e) => break Error::from(e),
        }
    };
    let grew = counting_alloc::peak() - before;
    assert!(
        matches!(err, Error::Capacity(CapacityError::MessageTooLarge { .. })),
        "{err}"
    );
    // Everything up to the limit was delivered, in 64 KiB steps.
    assert!(
        total <= 64 << 20 && total > (64 << 20) - buf.len() as u64,
        "{total}"
    );
    assert_eq!(frames_from(&mut client)[0].close_code(), Some(1009));
    println!("streamed read peak heap growth: {grew} bytes");
    assert!(grew < 512 << 10, "{grew}");
}
