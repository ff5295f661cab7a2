//! The opening handshake (RFC 6455 section 4): the server's [`Upgrader`] and the client's
//! [`Dialer`], and what only they share: the key and its accept value. The HTTP heads they
//! exchange are read and written by `http.rs`.

mod client;
mod server;

pub use client::{ClientHandshake, Dialer, dial};
pub use server::{
    Accept, Accepted, Refusal, Rejection, ServerHandshake, SubprotocolOrder, Upgrader,
};

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest, Sha1};

use crate::error::{Error, Result};
use crate::http::Request;

const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` (RFC 6455 section 4.2.2).
///
/// ```
/// assert_eq!(
///     wsio::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// );
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key);
    sha1.update(GUID);
    BASE64.encode(sha1.finalize())
}

/// Whether a request asks for a WebSocket upgrade (gorilla's `IsWebSocketUpgrade`): a `GET`
/// with `Upgrade: websocket` and `Connection: upgrade`. For an HTTP server that serves
/// pages and WebSocket connections alike, to tell which is which before upgrading; the
/// [`Upgrader`] still checks the rest.
///
/// ```
/// let request = wsio::Request::new("GET", "/chat")
///     .with_header("Upgrade", "websocket")
///     .with_header("Connection", "keep-alive, Upgrade");
/// assert!(wsio::is_websocket_upgrade(&request));
/// assert!(!wsio::is_websocket_upgrade(&wsio::Request::new("GET", "/favicon.ico")));
/// ```
pub fn is_websocket_upgrade(request: &Request) -> bool {
    request.method() == "GET"
        && request.headers().contains_token("Upgrade", "websocket")
        && request.headers().contains_token("Connection", "upgrade")
}

/// Whether a header is one the opening handshake sets itself, which the application may not.
fn is_handshake_header(name: &str) -> bool {
    ["Upgrade", "Connection"]
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
        || name
            .get(..14)
            .is_some_and(|p| p.eq_ignore_ascii_case("Sec-WebSocket-"))
}

/// Whether a `Sec-WebSocket-Key` value is 16 bytes in base64.
fn is_valid_key(key: &str) -> bool {
    key.len() == 24 && BASE64.decode(key).is_ok_and(|k| k.len() == 16)
}

/// A fresh random `Sec-WebSocket-Key`.
fn new_key() -> String {
    BASE64.encode(rand::random::<[u8; 16]>())
}

/// Sends `bytes` from `sent` on and flushes the stream, counting in `sent`: a stream that
/// would block returns `WouldBlock`, and the next call goes on from there.
pub(crate) fn send_nonblocking<S: Write>(
    stream: &mut S,
    bytes: &[u8],
    sent: &mut usize,
) -> Result<()> {
    while *sent < bytes.len() {
        match stream.write(&bytes[*sent..]) {
            Ok(0) => return Err(Error::Io(std::io::ErrorKind::WriteZero.into())),
            Ok(n) => *sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::Io(e)),
        }
    }
    loop {
        match stream.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            result => return result.map_err(Error::Io),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_sample_accept_key() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn handshake_headers_are_told_apart() {
        for name in [
            "upgrade",
            "Connection",
            "Sec-WebSocket-Protocol",
            "sec-websocket-x",
        ] {
            assert!(is_handshake_header(name), "{name}");
        }
        for name in ["Set-Cookie", "Sec-Fetch-Mode", "X", "Sec-WebSocke"] {
            assert!(!is_handshake_header(name), "{name}");
        }
    }

    #[test]
    fn keys() {
        assert!(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_valid_key("dGhlIHNhbXBsZQ=="));
        assert!(!is_valid_key("not base64 at all!!!!!!!"));
        assert!(is_valid_key(&new_key()));
        assert_ne!(new_key(), new_key());
    }
}
