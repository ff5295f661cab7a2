//! Compression rules a peer can break: RSV1 where it may not be, data that does not
//! inflate, and text that is not UTF-8 once inflated.

mod common;

use std::io::Write;

use common::{client_frame, frames_from, server_and_raw_client_with};
use flate2::{Compress, Compression, FlushCompress};
use wsio::frame::OpCode;
use wsio::{Config, DeflateConfig, Error, ProtocolError};

fn negotiated() -> (wsio::Conn<wsio::testing::PipeEnd>, wsio::testing::PipeEnd) {
    let config = Config::builder().deflate(DeflateConfig::new()).build();
    server_and_raw_client_with(config, "Sec-WebSocket-Extensions: permessage-deflate\r\n")
}

fn rsv1(mut frame: Vec<u8>) -> Vec<u8> {
    frame[0] |= 0x40;
    frame
}

fn deflate_raw(data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::new(6), false);
    let mut out = vec![0u8; data.len() + 1024];
    c.compress(data, &mut out, FlushCompress::Sync).unwrap();
    out.truncate(c.total_out() as usize - 4);
    out
}

fn fails_with(
    conn_and_client: (wsio::Conn<wsio::testing::PipeEnd>, wsio::testing::PipeEnd),
    bytes: &[u8],
    expected: ProtocolError,
    code: u16,
) {
    let (mut server, mut client) = conn_and_client;
    client.write_all(bytes).unwrap();
    let err = server.read_message().unwrap_err();
    assert!(matches!(err, Error::Protocol(e) if e == expected), "{err}");
    assert_eq!(frames_from(&mut client)[0].close_code(), Some(code));
}

#[test]
fn rsv1_on_a_control_frame() {
    fails_with(
        negotiated(),
        &rsv1(client_frame(OpCode::Ping, true, b"")),
        ProtocolError::MisplacedCompressionBit,
        1002,
    );
}

#[test]
fn rsv1_on_a_continuation_frame() {
    let mut bytes = rsv1(client_frame(OpCode::Text, false, &deflate_raw(b"ab")));
    bytes.extend(rsv1(client_frame(OpCode::Continuation, true, b"")));
    fails_with(
        negotiated(),
        &bytes,
        ProtocolError::MisplacedCompressionBit,
        1002,
    );
}

#[test]
fn rsv1_without_negotiation() {
    let plain =
        common::server_and_raw_client(Config::builder().deflate(DeflateConfig::new()).build());
    fails_with(
        plain,
        &rsv1(client_frame(OpCode::Text, true, &deflate_raw(b"hi"))),
        ProtocolError::ReservedBits,
        1002,
    );
}

#[test]
fn corrupt_deflate_data() {
    // 0xff starts a block of the reserved type 3.
    fails_with(
        negotiated(),
        &rsv1(client_frame(OpCode::Binary, true, &[0xff, 0xff, 0xff])),
        ProtocolError::InvalidDeflateData,
        1007,
    );
}

#[test]
fn invalid_utf8_after_inflating() {
    fails_with(
        negotiated(),
        &rsv1(client_frame(
            OpCode::Text,
            true,
            &deflate_raw(b"ok \xf4\x90\x80\x80"),
        )),
        ProtocolError::InvalidUtf8,
        1007,
    );
}
