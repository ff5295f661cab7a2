//! The client's offer, and its checks on the server's answer: accepted parameters, and
//! answers it did not offer or that are invalid.

use std::io::{Read, Write};
use std::thread;

use wsio::testing::pipe;
use wsio::{Config, DeflateConfig, DeflateParams, Dialer, Error, HandshakeError};

/// Handshakes against a server that answers with `extensions` (if any); returns the
/// client's request and the result.
fn against(
    deflate: Option<DeflateConfig>,
    extensions: Option<&'static str>,
) -> (String, Result<Option<DeflateParams>, Error>) {
    let (client, mut server) = pipe();
    let peer = thread::spawn(move || {
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") {
            server.read_exact(&mut byte).unwrap();
            request.push(byte[0]);
        }
        let text = String::from_utf8(request).unwrap();
        let key = text
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap()
            .to_owned();
        let mut response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
            wsio::accept_key(key.as_bytes())
        );
        if let Some(e) = extensions {
            response.push_str(&format!("Sec-WebSocket-Extensions: {e}\r\n"));
        }
        response.push_str("\r\n");
        server.write_all(response.as_bytes()).unwrap();
        (text, server)
    });
    let mut config = Config::builder();
    if let Some(d) = deflate {
        config = config.deflate(d);
    }
    let result = Dialer::new()
        .config(config.build())
        .handshake(client, "ws://h/")
        .map(|(conn, _)| conn.compression());
    let (request, _server) = peer.join().unwrap();
    (request, result)
}

fn on() -> Option<DeflateConfig> {
    Some(DeflateConfig::new())
}

fn offer_line(request: &str) -> Option<&str> {
    request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Extensions: "))
}

#[test]
fn the_offer_always_includes_client_max_window_bits() {
    let (request, _) = against(on(), None);
    assert_eq!(
        offer_line(&request),
        Some("permessage-deflate; client_max_window_bits")
    );
    let config = DeflateConfig::new()
        .server_no_context_takeover(true)
        .client_no_context_takeover(true)
        .server_max_window_bits(10)
        .client_max_window_bits(12);
    let (request, _) = against(Some(config), None);
    assert_eq!(
        offer_line(&request),
        Some(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=12"
        )
    );
    let (request, _) = against(None, None);
    assert_eq!(offer_line(&request), None);
}

#[test]
fn a_server_that_declines_leaves_compression_off() {
    assert_eq!(against(on(), None).1.unwrap(), None);
}

#[test]
fn accepted_answers() {
    let cases = [
        ("permessage-deflate", (false, false, 15, 15)),
        (
            "permessage-deflate; server_no_context_takeover",
            (true, false, 15, 15),
        ),
        (
            "permessage-deflate; client_no_context_takeover",
            (false, true, 15, 15),
        ),
        (
            "permessage-deflate; server_max_window_bits=9",
            (false, false, 9, 15),
        ),
        (
            "permessage-deflate; client_max_window_bits=10",
            (false, false, 15, 10),
        ),
        (
            "permessage-deflate; client_max_window_bits=8",
            (false, false, 15, 8),
        ),
        (
            "PerMessage-Deflate; Client_Max_Window_Bits=\"11\"",
            (false, false, 15, 11),
        ),
    ];
    for (answer, (snct, cnct, smwb, cmwb)) in cases {
        let params = against(on(), Some(answer)).1.unwrap().unwrap();
        assert_eq!(
            params,
            DeflateParams {
                server_no_context_takeover: snct,
                client_no_context_takeover: cnct,
                server_max_window_bits: smwb,
                client_max_window_bits: cmwb,
            },
            "{answer}"
        );
    }
}

#[test]
fn invalid_or_unoffered_answers_fail_the_handshake() {
    let small = || {
        Some(
            DeflateConfig::new()
                .server_max_window_bits(10)
                .client_max_window_bits(12),
        )
    };
    let cases: [(Option<DeflateConfig>, &'static str); 10] = [
        (on(), "permessage-deflate; foo"),
        (on(), "permessage-deflate; client_max_window_bits"),
        (on(), "permessage-deflate; server_max_window_bits=16"),
        (on(), "permessage-deflate; server_max_window_bits=7"),
        (
            on(),
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        ),
        (on(), "permessage-deflate, permessage-deflate"),
        (on(), "x-webkit-deflate-frame"),
        (on(), "permessage-deflate;"),
        (small(), "permessage-deflate; server_max_window_bits=11"),
        (small(), "permessage-deflate; client_max_window_bits=13"),
    ];
    for (config, answer) in cases {
        let err = against(config, Some(answer)).1.unwrap_err();
        assert!(
            matches!(err, Error::Handshake(HandshakeError::InvalidExtension(_))),
            "{answer}: {err}"
        );
    }
}

#[test]
fn an_extension_answer_without_an_offer_fails_the_handshake() {
    let err = against(None, Some("permessage-deflate")).1.unwrap_err();
    assert!(
        matches!(err, Error::Handshake(HandshakeError::UnofferedExtension(_))),
        "{err}"
    );
}
