//! Bytes that cannot begin an HTTP request (random bytes, a TLS ClientHello sent to a plain
//! ws:// port, another protocol) are answered 400 as soon as they arrive, and the thread is
//! free: they do not hold it until the handshake timeout.

#[path = "support/server.rs"]
mod server;

use std::io::{Read, Write};
use std::time::Duration;

use wsio::Config;

/// A server whose handshake timeout (ten minutes) no test would wait for: an answer within
/// the client's 30-second read timeout shows the server did not wait for it either.
fn patient_server() -> server::Server {
    server::Server::start(
        Config::builder()
            .handshake_timeout(Some(Duration::from_secs(600)))
            .build(),
    )
}

fn answer_to(server: &server::Server, bytes: &[u8]) -> String {
    let mut s = server::raw_client(server.addr);
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(bytes).unwrap();
    let mut response = Vec::new();
    let _ = s.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

#[test]
fn random_bytes_are_answered_400_at_once() {
    let server = patient_server();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect();
    let response = answer_to(&server, &noise);
    assert!(response.starts_with("HTTP/1.1 400 "), "{response:?}");
    assert!(server.wait_live(0, Duration::from_secs(30)));
}

#[test]
fn a_tls_client_hello_on_a_plain_port_is_answered_400_at_once() {
    let server = patient_server();
    // The first bytes of a TLS 1.2/1.3 ClientHello record.
    let hello = [
        0x16, 0x03, 0x01, 0x00, 0xf1, 0x01, 0x00, 0x00, 0xed, 0x03, 0x03, 0x5a, 0x6b,
    ];
    let response = answer_to(&server, &hello);
    assert!(response.starts_with("HTTP/1.1 400 "), "{response:?}");
    assert!(server.wait_live(0, Duration::from_secs(30)));
}

#[test]
fn a_request_line_of_another_protocol_is_answered_400_at_once() {
    let server = patient_server();
    let response = answer_to(&server, b"SSH-2.0-OpenSSH_9.6\r\n");
    assert!(response.starts_with("HTTP/1.1 400 "), "{response:?}");
}
