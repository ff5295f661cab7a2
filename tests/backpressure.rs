//! Nothing queues without a bound: a peer that never reads blocks our writer, and its ping
//! flood meanwhile costs one pong slot (pongs are coalesced), not one queued pong per ping.

mod common;
#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::client_frame;
use wsio::frame::OpCode;
use wsio::{Config, Error, Upgrader};

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

#[test]
fn a_ping_flood_from_a_peer_that_never_reads_costs_no_memory() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The peer hangs up once the test has read its marker (however long a loaded machine
    // takes to get there), or after a minute.
    let (read_it, hang_up) = mpsc::channel::<()>();
    // The flood is built before anything is measured: the allocator counts the whole
    // process, the peer's thread too.
    let mut flood = Vec::new();
    for i in 0..200_000u32 {
        flood.extend(client_frame(OpCode::Ping, true, &i.to_be_bytes()));
    }
    flood.extend(client_frame(OpCode::Text, true, b"done"));
    let peer = thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(common::REQUEST).unwrap();
        // Never reads. Sends 200,000 pings (about 2.8 MB), then a marker message.
        s.write_all(&flood).unwrap();
        let _ = hang_up.recv_timeout(Duration::from_secs(60));
        drop(s);
    });

    let (stream, _) = listener.accept().unwrap();
    let config = Config::builder().keepalive(None).build();
    let conn = Upgrader::new().config(config).upgrade(stream).unwrap();
    let (mut rx, mut tx) = conn.split().unwrap();
    // The writer blocks: the peer reads nothing, so its receive window fills.
    let writer = thread::spawn(move || {
        let big = vec![0u8; 1 << 20];
        loop {
            if tx.write_binary(&big).is_err() {
                return;
            }
        }
    });
    thread::sleep(Duration::from_millis(300));

    counting_alloc::reset_peak();
    let before = counting_alloc::live();
    let message = rx.read_message().unwrap();
    let grew = counting_alloc::peak().saturating_sub(before);
    read_it.send(()).unwrap();
    assert_eq!(
        message.as_text(),
        Some("done"),
        "all 200,000 pings were read past"
    );
    println!("heap growth while reading a 200,000-ping flood: {grew} bytes");
    // What the documented behaviour allows: the read buffer doubles, up to 64 KiB, while a
    // flood fills it (ConfigBuilder::read_buffer_size), and while it doubles the old buffer
    // (32 KiB at most) is freed only after the new one is made. A queued pong per ping
    // would cost megabytes.
    let allowed = (64 << 10) + (32 << 10) + (8 << 10);
    assert!(grew <= allowed, "{grew} bytes, allowed {allowed}");

    peer.join().unwrap();
    assert!(matches!(
        rx.read_message(),
        Err(Error::Io(_) | Error::Closed(_))
    ));
    writer.join().unwrap();
}
