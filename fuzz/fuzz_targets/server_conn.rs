//! A server connection fed arbitrary bytes after a valid handshake that negotiated
//! permessage-deflate: frames of any shape, compressed or not, in reads of any size.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
    Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    let (first, rest) = data.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
    let mut stream = Vec::with_capacity(1 + REQUEST.len() + rest.len());
    stream.push(first);
    stream.extend_from_slice(REQUEST);
    stream.extend_from_slice(rest);
    let upgrader = wsio::Upgrader::new().config(common::config(first & 1 == 0));
    if let Ok(mut conn) = upgrader.upgrade(common::Input::new(&stream)) {
        common::drain(&mut conn);
        let _ = conn.close(wsio::CloseCode::NORMAL, "");
    }
});
