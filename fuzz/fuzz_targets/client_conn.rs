//! A client connection fed arbitrary bytes as server frames, after a valid handshake that
//! may agree on permessage-deflate: input byte 1 picks the read size, byte 2 the
//! compression (bit 7 on, bit 6 server_no_context_takeover, bits 0-2 window bits - 8).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let [chunk, mode, frames @ ..] = data else {
        return;
    };
    let deflate = mode & 0x80 != 0;
    let mut head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n"
        .to_vec();
    if deflate {
        head.extend_from_slice(
            format!(
                "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits={}{}\r\n",
                8 + (mode & 7),
                if mode & 0x40 != 0 {
                    "; server_no_context_takeover"
                } else {
                    ""
                }
            )
            .as_bytes(),
        );
    }
    head.extend_from_slice(b"\r\n");
    let mut input = vec![*chunk];
    input.extend_from_slice(frames);
    let stream = common::Responder::new(head, &input);
    let (mut conn, _) = wsio::Dialer::new()
        .config(common::config(deflate))
        .handshake(stream, "ws://example.com/")
        .expect("a valid handshake");
    assert_eq!(conn.compression().is_some(), deflate);
    common::drain(&mut conn);
});
