//! The `Sec-WebSocket-Extensions` grammar and permessage-deflate negotiation: never panics;
//! whatever the server answers parses as one permessage-deflate extension, and a client that
//! allows everything accepts it with the same parameters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsio::__private::{accept_response, negotiate_server, parse_extensions};
use wsio::DeflateConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_extensions(value);
    let configs = [
        DeflateConfig::new(),
        DeflateConfig::new()
            .client_max_window_bits(9)
            .server_no_context_takeover(true),
    ];
    for config in &configs {
        if let Some((params, response)) = negotiate_server(&[value], config) {
            assert_eq!(parse_extensions(&response), Some(1));
            for bits in [params.server_max_window_bits, params.client_max_window_bits] {
                assert!((8..=15).contains(&bits));
            }
            let client = DeflateConfig::new();
            if params.client_max_window_bits == 15 || response.contains("client_max_window_bits") {
                let accepted =
                    accept_response(&response, &client).expect("the server's answer is valid");
                assert_eq!(
                    accepted.server_no_context_takeover,
                    params.server_no_context_takeover
                );
                assert_eq!(
                    accepted.server_max_window_bits,
                    params.server_max_window_bits
                );
            }
        }
    }
    let _ = accept_response(value, &DeflateConfig::new());
});
