//! CVE-2023-43669 (tungstenite): a long header trickled one byte at a time made the server
//! re-parse the whole head on every read, quadratic in its size. wsio scans each byte once:
//! a 15 KiB head sent byte by byte to a real server is answered. The work is counted, not
//! timed, by the head reader's own test (`http::tests::a_head_trickled_byte_by_byte_costs_
//! linear_work`), so that a quadratic parser fails on any machine; the time printed here is
//! for the record only.

#[path = "support/server.rs"]
mod server;

use std::io::Write;
use std::time::Instant;

use wsio::Config;

#[test]
fn a_long_head_trickled_byte_by_byte_costs_linear_time() {
    let server = server::Server::start(Config::default());
    let mut s = server::raw_client(server.addr);
    let mut request = server::REQUEST.to_vec();
    request.extend_from_slice(format!("X-Long: {}\r\n\r\n", "a".repeat(15_000)).as_bytes());
    let started = Instant::now();
    for byte in &request {
        s.write_all(std::slice::from_ref(byte)).unwrap();
    }
    let head = server::read_head(&mut s);
    let took = started.elapsed();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    eprintln!(
        "{} byte head, one byte per write: answered in {took:?}",
        request.len()
    );
}
