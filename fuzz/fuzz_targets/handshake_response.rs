//! The client handshake fed an arbitrary response (and what follows it). `{ACCEPT}` in the
//! input becomes the right `Sec-WebSocket-Accept` value, so the fuzzer gets past that check
//! to the extension and subprotocol checks and the first frames.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let dialer = wsio::Dialer::new()
        .config(common::config(true))
        .subprotocols(["chat"]);
    let stream = common::Responder::new(Vec::new(), data);
    match dialer.handshake(stream, "ws://example.com/path?q=1") {
        Ok((mut conn, response)) => {
            assert_eq!(response.status(), 101);
            if let Some(protocol) = conn.subprotocol() {
                assert_eq!(protocol, "chat");
            }
            common::drain(&mut conn);
        }
        Err(wsio::Error::Handshake(wsio::HandshakeError::Status(response))) => {
            assert_ne!(response.status(), 101);
            assert!(response.body().len() <= 1024);
        }
        Err(_) => {}
    }
});
