//! The server's answer to every kind of permessage-deflate offer: accepted parameters,
//! declined offers (unknown parameters, bad values, repeats, bad syntax) and fallbacks.

use std::io::Write;

use wsio::testing::pipe;
use wsio::{Config, DeflateConfig, DeflateParams, Upgrader};

/// Upgrades a request carrying `extensions` headers; returns the negotiated parameters and
/// the `Sec-WebSocket-Extensions` response header, if any.
fn negotiate(
    deflate: Option<DeflateConfig>,
    extensions: &[&str],
) -> (Option<DeflateParams>, Option<String>) {
    let (mut client, server) = pipe();
    let mut request = String::from(
        "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
    );
    for value in extensions {
        request.push_str(&format!("Sec-WebSocket-Extensions: {value}\r\n"));
    }
    request.push_str("\r\n");
    client.write_all(request.as_bytes()).unwrap();
    let mut config = Config::builder();
    if let Some(deflate) = deflate {
        config = config.deflate(deflate);
    }
    let conn = Upgrader::new()
        .config(config.build())
        .upgrade(server)
        .unwrap();
    let response = String::from_utf8(client.take_available()).unwrap();
    let header = response
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Extensions: "))
        .map(str::to_owned);
    (conn.compression(), header)
}

fn on() -> Option<DeflateConfig> {
    Some(DeflateConfig::new())
}

fn params(snct: bool, cnct: bool, smwb: u8, cmwb: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: snct,
        client_no_context_takeover: cnct,
        server_max_window_bits: smwb,
        client_max_window_bits: cmwb,
    }
}

#[test]
fn no_offer_no_compression() {
    assert_eq!(negotiate(on(), &[]), (None, None));
}

#[test]
fn compression_off_ignores_offers() {
    assert_eq!(negotiate(None, &["permessage-deflate"]), (None, None));
}

#[test]
fn a_plain_offer_gets_context_takeover_and_full_windows() {
    assert_eq!(
        negotiate(on(), &["permessage-deflate"]),
        (
            Some(params(false, false, 15, 15)),
            Some("permessage-deflate".into())
        )
    );
}

#[test]
fn client_max_window_bits_without_a_value_lets_the_server_choose() {
    assert_eq!(
        negotiate(on(), &["permessage-deflate; client_max_window_bits"]),
        (
            Some(params(false, false, 15, 15)),
            Some("permessage-deflate".into())
        )
    );
    let small = Some(DeflateConfig::new().client_max_window_bits(10));
    assert_eq!(
        negotiate(small, &["permessage-deflate; client_max_window_bits"]),
        (
            Some(params(false, false, 15, 10)),
            Some("permessage-deflate; client_max_window_bits=10".into())
        )
    );
}

#[test]
fn client_max_window_bits_with_a_value_is_the_clients_limit() {
    assert_eq!(
        negotiate(on(), &["permessage-deflate; client_max_window_bits=12"]),
        (
            Some(params(false, false, 15, 12)),
            Some("permessage-deflate".into())
        )
    );
    // The server may lower it, never raise it.
    let small = Some(DeflateConfig::new().client_max_window_bits(9));
    assert_eq!(
        negotiate(small, &["permessage-deflate; client_max_window_bits=12"])
            .1
            .as_deref(),
        Some("permessage-deflate; client_max_window_bits=9")
    );
}

#[test]
fn the_client_may_not_be_limited_unless_it_offered_the_parameter() {
    let small = Some(DeflateConfig::new().client_max_window_bits(9));
    assert_eq!(
        negotiate(small, &["permessage-deflate"]),
        (
            Some(params(false, false, 15, 15)),
            Some("permessage-deflate".into())
        )
    );
}

#[test]
fn server_max_window_bits_is_honoured_and_answered() {
    for bits in 9..=15u8 {
        let offer = format!("permessage-deflate; server_max_window_bits={bits}");
        assert_eq!(
            negotiate(on(), &[&offer]),
            (
                Some(params(false, false, bits, 15)),
                Some(format!("permessage-deflate; server_max_window_bits={bits}"))
            )
        );
    }
    // A server configured smaller answers its own, smaller value.
    let small = Some(DeflateConfig::new().server_max_window_bits(10));
    assert_eq!(
        negotiate(small, &["permessage-deflate; server_max_window_bits=12"])
            .1
            .as_deref(),
        Some("permessage-deflate; server_max_window_bits=10")
    );
}

#[test]
fn an_8_bit_server_window_is_accepted_and_the_server_then_sends_uncompressed() {
    // zlib cannot compress with a 256-byte window; wsio accepts the offer (the client's
    // messages still get compressed) and never compresses its own (see message tests).
    assert_eq!(
        negotiate(on(), &["permessage-deflate; server_max_window_bits=8"]),
        (
            Some(params(false, false, 8, 15)),
            Some("permessage-deflate; server_max_window_bits=8".into())
        )
    );
}

#[test]
fn no_context_takeover_requests_are_echoed() {
    assert_eq!(
        negotiate(
            on(),
            &["permessage-deflate; server_no_context_takeover; client_no_context_takeover"]
        ),
        (
            Some(params(true, true, 15, 15)),
            Some(
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover".into()
            )
        )
    );
}

#[test]
fn the_server_can_impose_no_context_takeover() {
    let config = DeflateConfig::new()
        .server_no_context_takeover(true)
        .client_no_context_takeover(true);
    assert_eq!(
        negotiate(Some(config), &["permessage-deflate"]),
        (
            Some(params(true, true, 15, 15)),
            Some(
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover".into()
            )
        )
    );
}

#[test]
fn bad_offers_are_declined_not_fatal() {
    for offer in [
        "permessage-deflate; foo",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits=abc",
        "permessage-deflate; client_max_window_bits=0",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=11",
        "permessage-deflate;;",
        "permessage-deflate; server_max_window_bits=\"10",
        "permessage-deflate x",
        "x-webkit-deflate-frame",
    ] {
        assert_eq!(negotiate(on(), &[offer]), (None, None), "{offer}");
    }
}

#[test]
fn the_first_acceptable_of_several_offers_wins() {
    assert_eq!(
        negotiate(
            on(),
            &[
                "permessage-deflate; foo=bar, permessage-deflate; server_max_window_bits=10, permessage-deflate"
            ]
        ),
        (
            Some(params(false, false, 10, 15)),
            Some("permessage-deflate; server_max_window_bits=10".into())
        )
    );
    // Across several headers, too, and after other extensions.
    assert_eq!(
        negotiate(
            on(),
            &[
                "x-foo",
                "permessage-deflate; bad",
                "permessage-deflate; client_no_context_takeover"
            ]
        )
        .0,
        Some(params(false, true, 15, 15))
    );
}

#[test]
fn quoted_values_are_unquoted() {
    assert_eq!(
        negotiate(on(), &["permessage-deflate; server_max_window_bits=\"11\""]).0,
        Some(params(false, false, 11, 15))
    );
}
