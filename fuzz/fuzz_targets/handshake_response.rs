//! The client handshake fed an arbitrary response (and what follows it).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let dialer = wsio::Dialer::new()
        .config(common::config(true))
        .subprotocols(["chat"]);
    match dialer.handshake(common::Input::new(data), "ws://example.com/path?q=1") {
        Ok((mut conn, response)) => {
            assert_eq!(response.status(), 101);
            common::drain(&mut conn);
        }
        Err(wsio::Error::Handshake(wsio::HandshakeError::Status(response))) => {
            assert_ne!(response.status(), 101);
            assert!(response.body().len() <= 1024);
        }
        Err(_) => {}
    }
});
