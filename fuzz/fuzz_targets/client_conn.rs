//! A client connection fed arbitrary bytes as server frames.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let mut conn = wsio::Conn::from_raw(
        common::Input::new(data),
        wsio::Role::Client,
        common::config(false),
    );
    common::drain(&mut conn);
});
