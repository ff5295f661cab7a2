//! The decompressor: arbitrary data split into messages, inflated with context takeover and
//! without, for every window size: never panics, never exceeds the limit it is given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsio::__private::{inflate_message, inflater};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let bits = 8 + first % 8;
    let mut inflater = inflater(bits, first & 0x80 != 0);
    // Each message: a two-byte big-endian length, then that many bytes.
    let mut rest = rest;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let message = &rest[2..2 + len];
        rest = &rest[2 + len..];
        match inflate_message(&mut inflater, message, 1 << 20) {
            Some(out) => assert!(out.len() <= 1 << 20),
            None => return,
        }
    }
});
