//! gorilla CVE-2020-27813 and RUSTSEC-2022-0035: a 64-bit declared length that overflows a
//! limit check, or is allocated up front. wsio compares declared lengths as u64 against the
//! limits before reading a payload byte, and grows buffers only as bytes arrive.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/server.rs"]
mod server;

use std::io::Write;
use std::thread;
use std::time::Duration;

use wsio::Config;

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

fn header(len: u64) -> Vec<u8> {
    let mut h = wsio::frame::FrameHeader::new(wsio::frame::OpCode::Binary, true, len);
    h.masking_key = Some([1, 2, 3, 4]);
    let mut out = [0u8; 14];
    let n = h.encode(&mut out);
    out[..n].to_vec()
}

#[test]
fn the_largest_length_is_refused_with_1009() {
    let server = server::Server::start(Config::default());
    let mut s = server::raw_client(server.addr);
    server::handshake(&mut s, "");
    s.write_all(&header((1 << 63) - 1)).unwrap();
    assert_eq!(server::close_code(&mut s), Some(1009));
}

#[test]
fn a_declared_length_within_limits_is_not_allocated_up_front() {
    let server = server::Server::start(Config::builder().max_message_size(64 << 20).build());
    let mut s = server::raw_client(server.addr);
    server::handshake(&mut s, "");
    thread::sleep(Duration::from_millis(100));
    let before = counting_alloc::live();
    // 16 MiB declared, 10 bytes sent: the server must wait without reserving 16 MiB.
    s.write_all(&header(16 << 20)).unwrap();
    s.write_all(&[0; 10]).unwrap();
    thread::sleep(Duration::from_millis(300));
    let grew = counting_alloc::live().saturating_sub(before);
    assert!(grew < 256 << 10, "{grew} bytes for a 16 MiB declaration");
    eprintln!("16 MiB declared, 10 bytes sent: server heap +{grew} B");
}
