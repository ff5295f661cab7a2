//! The frame header parser: never panics; a parsed header is at most 14 bytes, encodes back
//! to a header that parses to itself, and every prefix of a whole header is "incomplete".
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsio::frame::{FrameHeader, MAX_HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((header, n))) = FrameHeader::parse(data) {
        assert!(n <= MAX_HEADER_LEN && n <= data.len());
        assert!(header.payload_len < 1 << 63);
        let mut out = [0u8; MAX_HEADER_LEN];
        let m = header.encode(&mut out);
        assert!(m <= n, "the encoding is minimal");
        assert_eq!(FrameHeader::parse(&out[..m]), Ok(Some((header, m))));
        for cut in 0..n {
            assert_eq!(FrameHeader::parse(&data[..cut]), Ok(None));
        }
    }
});
