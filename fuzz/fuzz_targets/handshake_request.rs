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
        .check_request(|request, accept| {
            if request.path() == "/deny" {
                return Err(wsio::Rejection::new(403).with_header("X", "y"));
            }
            // Whatever the request holds, nothing it carries breaks the response.
            accept.header("X-Seen", request.target());
            if let Some(protocol) = request.subprotocols().last() {
                accept.set_subprotocol(protocol);
            }
            Ok(())
        });
    if let Ok(mut conn) = upgrader.upgrade(common::Input::new(data)) {
        if let Some(p) = conn.subprotocol() {
            // One of the client's, and a token: nothing that could break the response.
            let token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
            assert!(!p.is_empty() && p.bytes().all(token), "{p:?}");
        }
        common::drain(&mut conn);
    }
});
