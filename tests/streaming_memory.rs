//! A message far larger than any buffer streams through `next_reader`/`next_writer` in
//! constant memory: it is never held whole.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

use wsio::{Config, Dialer, MessageKind, Upgrader};

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

const TOTAL: usize = 64 << 20;
const CHUNK: usize = 64 << 10;

#[test]
fn a_64_mib_message_streams_in_constant_memory() {
    let config = Config::builder().max_message_size(u64::MAX).build();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server_config = config.clone();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut conn = Upgrader::new()
            .config(server_config)
            .upgrade(stream)
            .unwrap();
        let (kind, mut reader) = conn.next_reader().unwrap();
        assert_eq!(kind, MessageKind::Binary);
        let mut buf = vec![0u8; CHUNK];
        let (mut total, mut sum) = (0usize, 0u64);
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            total += n;
            sum = buf[..n]
                .iter()
                .fold(sum, |s, &b| s.wrapping_mul(31).wrapping_add(u64::from(b)));
        }
        (total, sum)
    });

    let (mut conn, _) = Dialer::new()
        .config(config)
        .dial(&format!("ws://{addr}/"))
        .unwrap();
    let chunk: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
    counting_alloc::reset_peak();
    let before = counting_alloc::live();
    let mut writer = conn.next_writer(MessageKind::Binary).unwrap();
    for _ in 0..TOTAL / CHUNK {
        writer.write_all(&chunk).unwrap();
    }
    writer.finish().unwrap();
    let (total, sum) = server.join().unwrap();
    let grew = counting_alloc::peak() - before;

    let expected = (0..TOTAL / CHUNK).fold(0u64, |s, _| {
        chunk
            .iter()
            .fold(s, |s, &b| s.wrapping_mul(31).wrapping_add(u64::from(b)))
    });
    assert_eq!((total, sum), (TOTAL, expected));
    println!("peak heap growth while streaming 64 MiB: {grew} bytes");
    assert!(
        grew < 1 << 20,
        "streaming 64 MiB grew the heap by {grew} bytes"
    );
}
