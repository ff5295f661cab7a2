//! The server handshake fed an arbitrary request (and what follows it), with every option
//! on: origin check, subprotocols, a request callback, permessage-deflate.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let upgrader = wsio::Upgrader::new()
        .config(common::config(true))
        .subprotocols(["a", "b"])
        .check_request(|request, headers| {
            if request.path() == "/deny" {
                return Err(wsio::Rejection::new(403).with_header("X", "y"));
            }
            headers.push("X-Seen", request.target());
            Ok(())
        });
    if let Ok(mut conn) = upgrader.upgrade(common::Input::new(data)) {
        if let Some(p) = conn.subprotocol() {
            assert!(p == "a" || p == "b");
        }
        common::drain(&mut conn);
    }
});
