//! Python websockets CVE-2018-1000518: a deflate bomb inflating past the limit. A real
//! server answers a 1 MiB frame that inflates to 1 GiB with close 1009, its heap bounded by
//! the message limit.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/server.rs"]
mod server;

use std::io::Write;

use flate2::{Compress, Compression, FlushCompress};
use wsio::{Config, DeflateConfig};

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

#[test]
fn a_bomb_is_stopped_at_the_limit_with_1009() {
    let config = Config::builder()
        .deflate(DeflateConfig::new())
        .max_message_size(8 << 20)
        .build();
    let server = server::Server::start(config);
    let mut s = server::raw_client(server.addr);
    server::handshake(&mut s, "Sec-WebSocket-Extensions: permessage-deflate\r\n");

    let mut c = Compress::new(Compression::new(9), false);
    let zeros = vec![0u8; 1 << 20];
    let mut compressed = Vec::with_capacity(2 << 20);
    for _ in 0..1024 {
        let mut input = &zeros[..];
        while !input.is_empty() {
            let before = c.total_in();
            c.compress_vec(input, &mut compressed, FlushCompress::None)
                .unwrap();
            input = &input[(c.total_in() - before) as usize..];
            if compressed.len() == compressed.capacity() {
                compressed.reserve(1 << 20);
            }
        }
    }
    c.compress_vec(&[], &mut compressed, FlushCompress::Sync)
        .unwrap();
    let mut h =
        wsio::frame::FrameHeader::new(wsio::frame::OpCode::Binary, true, compressed.len() as u64);
    h.rsv1 = true;
    h.masking_key = Some([0; 4]);
    let mut head = [0u8; 14];
    let n = h.encode(&mut head);

    counting_alloc::reset_peak();
    let before = counting_alloc::live();
    s.write_all(&head[..n]).unwrap();
    let _ = s.write_all(&compressed);
    assert_eq!(server::close_code(&mut s), Some(1009));
    let grew = counting_alloc::peak().saturating_sub(before);
    assert!(grew < (8 << 20) + (4 << 20), "{grew} bytes");
    eprintln!(
        "bomb: {} compressed bytes, 1 GiB inflated: close 1009, server heap peak +{grew} B",
        compressed.len()
    );
}
