//! RUSTSEC-2020-0043: an unbounded output queue for a peer that never reads. wsio queues
//! nothing: the echo server's write blocks once the socket buffers fill, its memory stays
//! flat however much the peer sends, and a write deadline frees the thread.

mod common;
#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/server.rs"]
mod server;

use std::io::Write;
use std::time::{Duration, Instant};

use common::client_frame;
use wsio::Config;
use wsio::frame::OpCode;

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

#[test]
fn a_peer_that_never_reads_costs_flat_memory_and_the_write_deadline_frees_the_thread() {
    let server = server::Server::start_with(
        Config::builder().keepalive(None).build(),
        Some(Duration::from_millis(500)),
    );
    let mut s = server::raw_client(server.addr);
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    server::handshake(&mut s, "");
    counting_alloc::reset_peak();
    let before = counting_alloc::live();
    // 64 KiB messages until our own writes stop being taken (the server is blocked writing
    // echoes we never read), at most 256 MiB.
    let frame = client_frame(OpCode::Binary, true, &vec![7u8; 64 << 10]);
    let started = Instant::now();
    let mut sent = 0usize;
    while sent < 4096 && s.write_all(&frame).is_ok() {
        sent += 1;
    }
    // The server stopped reading once its echo blocked; its thread ends at the deadline.
    assert!(
        server.wait_live(0, Duration::from_secs(10)),
        "server thread still blocked"
    );
    let took = started.elapsed();
    let grew = counting_alloc::peak().saturating_sub(before);
    let ends = server.ends.lock().unwrap().clone();
    assert_eq!(ends.len(), 1);
    assert!(ends[0].starts_with("write: "), "{ends:?}");
    assert!(
        sent < 4096,
        "the server kept reading {sent} messages it could not echo"
    );
    // Memory: the server holds at most one message and its buffers, not the backlog. (The
    // allocator counts the whole process, our client included.)
    assert!(grew < 1 << 20, "{grew} bytes grew after {sent} messages");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    eprintln!("{sent} messages taken, server grew {grew} bytes, thread freed after {took:?}");
}
