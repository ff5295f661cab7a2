//! The `Sec-WebSocket-Extensions` grammar and permessage-deflate negotiation, through the
//! public handshakes: an offer of any value never panics a server; whatever the server
//! agrees to, it answers with one permessage-deflate extension that a client allowing
//! everything accepts with the same parameters; and an answer of any value never panics a
//! client.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsio::{Config, DeflateConfig, Dialer, Upgrader};

#[path = "common.rs"]
mod common;

const REQUEST: &str = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

const SWITCHING: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n";

fn config(deflate: DeflateConfig) -> Config {
    Config::builder().deflate(deflate).keepalive(None).build()
}

/// The value of the `Sec-WebSocket-Extensions` header in a response head.
fn extensions_header(head: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(head).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Extensions: "))
        .map(str::to_owned)
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    if value.contains(['\r', '\n', '\0']) {
        return;
    }
    let servers = [
        DeflateConfig::new(),
        DeflateConfig::new()
            .client_max_window_bits(9)
            .server_no_context_takeover(true),
    ];
    for server_config in servers {
        let request = format!("{REQUEST}Sec-WebSocket-Extensions: {value}\r\n\r\n");
        let mut input = vec![0xff];
        input.extend_from_slice(request.as_bytes());
        let mut stream = common::Input::new(&input);
        let Ok(conn) = Upgrader::new()
            .config(config(server_config))
            .upgrade(&mut stream)
        else {
            continue;
        };
        let agreed = conn.compression();
        drop(conn);
        let answer = extensions_header(stream.written());
        let (params, answer) = match (agreed, answer) {
            (None, None) => continue,
            (Some(params), Some(answer)) => (params, answer),
            (agreed, answer) => panic!("agreed {agreed:?} but answered {answer:?}"),
        };
        for bits in [params.server_max_window_bits, params.client_max_window_bits] {
            assert!((8..=15).contains(&bits));
        }
        // A client that offered the defaults accepts what the server answered, with the
        // same parameters for the server's compressor.
        let head = format!("{SWITCHING}Sec-WebSocket-Extensions: {answer}\r\n\r\n");
        let client = Dialer::new().config(config(DeflateConfig::new()));
        let (conn, _) = client
            .handshake(common::Responder::new(head.into_bytes(), &[0]), "ws://h/")
            .expect("the server's answer is valid");
        let accepted = conn.compression().expect("compression agreed");
        assert_eq!(accepted.server_no_context_takeover, params.server_no_context_takeover);
        assert_eq!(accepted.server_max_window_bits, params.server_max_window_bits);
        // The client's own window is what that client offered, which the fuzzed offer
        // may have narrowed and this one did not: not compared.
    }
    // Any answer: accepted or refused with a typed error, never a panic.
    let head = format!("{SWITCHING}Sec-WebSocket-Extensions: {value}\r\n\r\n");
    let _ = Dialer::new()
        .config(config(DeflateConfig::new()))
        .handshake(common::Responder::new(head.into_bytes(), &[0]), "ws://h/");
});
