//! undici CVE-2026-1526: bad window bits from a server crashed the client. wsio's client
//! refuses every malformed permessage-deflate answer with a typed handshake error.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::thread;

use wsio::{Config, DeflateConfig, Dialer, Error, HandshakeError};

#[test]
fn bad_window_bits_fail_the_handshake_cleanly() {
    let answers = [
        "client_max_window_bits=0",
        "client_max_window_bits=16",
        "client_max_window_bits=abc",
        "client_max_window_bits=-1",
        "client_max_window_bits=99999999999999999999",
        "server_max_window_bits=7",
        "server_max_window_bits",
        "server_max_window_bits=\"\"",
    ];
    for answer in answers {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let key = common::request_key(&mut s).unwrap();
            let response = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: permessage-deflate; {answer}\r\n\r\n",
                wsio::accept_key(key.as_bytes())
            );
            s.write_all(response.as_bytes()).unwrap();
        });
        let config = Config::builder().deflate(DeflateConfig::new()).build();
        let err = Dialer::new()
            .config(config)
            .dial(&format!("ws://{addr}/"))
            .map(|_| ())
            .unwrap_err();
        assert!(
            matches!(err, Error::Handshake(HandshakeError::InvalidExtension(_))),
            "{answer}: {err}"
        );
        server.join().unwrap();
    }
}
