//! The decompressor, through the reader's real path: a client connection that agreed on
//! permessage-deflate reads compressed messages made of arbitrary data, with context
//! takeover and without, for every window size: never panics, never delivers more than the
//! message limit, and every message is a message or a typed error.
//!
//! Input: a mode byte (bits 0-2: the server's window bits - 8; bit 6:
//! server_no_context_takeover), a byte that picks the read size, then messages, each a
//! two-byte big-endian header (low 15 bits: length; top bit: send it as two fragments)
//! and that many bytes of compressed payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsio::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};

#[path = "common.rs"]
mod common;

/// A server frame (unmasked) with RSV1 on the first frame of a message.
fn frame(out: &mut Vec<u8>, opcode: OpCode, fin: bool, rsv1: bool, payload: &[u8]) {
    let mut header = FrameHeader::new(opcode, fin, payload.len() as u64);
    header.rsv1 = rsv1;
    let mut head = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut head);
    out.extend_from_slice(&head[..n]);
    out.extend_from_slice(payload);
}

fuzz_target!(|data: &[u8]| {
    let [mode, chunk, rest @ ..] = data else {
        return;
    };
    let mut rest = rest;
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {{ACCEPT}}\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits={}{}\r\n\r\n",
        8 + (mode & 7),
        if mode & 0x40 != 0 {
            "; server_no_context_takeover"
        } else {
            ""
        }
    );
    let mut frames = vec![*chunk];
    while let [hi, lo, tail @ ..] = rest {
        let word = u16::from_be_bytes([*hi, *lo]);
        let len = usize::from(word & 0x7fff).min(tail.len());
        let (message, after) = tail.split_at(len);
        rest = after;
        if word & 0x8000 != 0 {
            let (a, b) = message.split_at(len / 2);
            frame(&mut frames, OpCode::Binary, false, true, a);
            frame(&mut frames, OpCode::Continuation, true, false, b);
        } else {
            frame(&mut frames, OpCode::Binary, true, true, message);
        }
    }
    let stream = common::Responder::new(head.into_bytes(), &frames);
    let (mut conn, _) = wsio::Dialer::new()
        .config(common::config(true))
        .handshake(stream, "ws://example.com/")
        .expect("a valid handshake");
    assert!(conn.compression().is_some());
    common::drain(&mut conn);
});
