//! Node ws CVE-2021-32640: a crafted header made token parsing blow up (ReDoS). wsio splits
//! token lists in one pass: pathological `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`
//! values sent to a real server are answered. The extension grammar's work is counted, not
//! timed, by its own test (`deflate::tests::pathological_values_cost_linear_work`); the
//! times printed here are for the record only.

#[path = "support/server.rs"]
mod server;

use std::io::Write;
use std::time::Instant;

use wsio::{Config, DeflateConfig};

#[test]
fn pathological_token_lists_are_handled_in_linear_time() {
    let config = Config::builder().deflate(DeflateConfig::new()).build();
    let server = server::Server::start(config);
    let values = [
        format!("Sec-WebSocket-Protocol: {}", " ,".repeat(5000)),
        format!("Sec-WebSocket-Protocol: {}", "a".repeat(14_000)),
        format!(
            "Sec-WebSocket-Extensions: permessage-deflate{}",
            "; x".repeat(3000)
        ),
        format!("Sec-WebSocket-Extensions: {}", "a=\"\\\"".repeat(2500)),
        format!(
            "Sec-WebSocket-Extensions: {}",
            "permessage-deflate,".repeat(700)
        ),
    ];
    for value in values {
        let mut s = server::raw_client(server.addr);
        let started = Instant::now();
        s.write_all(server::REQUEST).unwrap();
        s.write_all(format!("{value}\r\n\r\n").as_bytes()).unwrap();
        let head = server::read_head(&mut s);
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        let took = started.elapsed();
        eprintln!("{} byte token list: answered in {took:?}", value.len());
    }
}
