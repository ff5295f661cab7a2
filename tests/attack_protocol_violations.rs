//! Every reserved opcode and bit, every invalid close code and the other frame-level
//! violations, against a real server: each gets the right close code on the wire.

mod common;
#[path = "support/server.rs"]
mod server;

use std::io::Write;

use wsio::Config;
use wsio::frame::OpCode;

/// A masked frame whose first byte (FIN, RSV bits, opcode) is exactly `first_byte`.
fn frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = common::client_frame(OpCode::Binary, true, payload);
    f[0] = first_byte;
    f
}

fn answered_with(bytes: &[u8]) -> Option<u16> {
    let server = server::Server::start(Config::default());
    let mut s = server::raw_client(server.addr);
    server::handshake(&mut s, "");
    let _ = s.write_all(bytes);
    server::close_code(&mut s)
}

#[test]
fn every_violation_gets_its_close_code() {
    let mut cases: Vec<(String, Vec<u8>, u16)> = Vec::new();
    for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        cases.push((format!("opcode {op:#x}"), frame(0x80 | op, b""), 1002));
    }
    for rsv in [0x40u8, 0x20, 0x10, 0x70] {
        cases.push((format!("rsv {rsv:#x}"), frame(0x82 | rsv, b"x"), 1002));
    }
    for code in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        cases.push((
            format!("close {code}"),
            frame(0x88, &code.to_be_bytes()),
            1002,
        ));
    }
    cases.push(("close one byte".into(), frame(0x88, &[3]), 1002));
    cases.push((
        "close bad reason".into(),
        frame(0x88, &[0x03, 0xe8, 0xff]),
        1007,
    ));
    cases.push(("text bad utf-8".into(), frame(0x81, b"\xc0\xaf"), 1007));
    cases.push(("fragmented ping".into(), frame(0x09, b""), 1002));
    cases.push(("ping of 126 bytes".into(), frame(0x89, &[0; 126]), 1002));
    cases.push(("close of 126 bytes".into(), frame(0x88, &[0x03; 126]), 1002));
    cases.push(("continuation first".into(), frame(0x80, b"x"), 1002));
    let mut unmasked = frame(0x82, b"x");
    unmasked[1] &= 0x7f;
    unmasked.truncate(2);
    unmasked.push(b'x');
    cases.push(("unmasked".into(), unmasked, 1002));
    for (name, bytes, code) in cases {
        assert_eq!(answered_with(&bytes), Some(code), "{name}");
    }
}

#[test]
fn frames_pipelined_right_after_the_request_are_served() {
    let server = server::Server::start(Config::default());
    let mut s = server::raw_client(server.addr);
    let mut bytes = server::REQUEST.to_vec();
    bytes.extend_from_slice(b"\r\n");
    bytes.extend(frame(0x81, b"hi"));
    bytes.extend(frame(0x88, &1000u16.to_be_bytes()));
    s.write_all(&bytes).unwrap();
    let head = server::read_head(&mut s);
    assert!(head.starts_with("HTTP/1.1 101"));
    assert_eq!(
        server::close_code(&mut s),
        Some(1000),
        "the echo, then the close answered"
    );
}
