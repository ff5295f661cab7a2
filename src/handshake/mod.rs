//! The opening handshake (RFC 6455 section 4): the server's [`Upgrader`] and the client's
//! [`Dialer`], and what only they share: the key and its accept value. The HTTP heads they
//! exchange are read and written by `http.rs`.

mod client;
mod server;

pub use client::{Dialer, dial};
pub use server::{Rejection, SubprotocolOrder, Upgrader};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest, Sha1};

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

/// Whether a `Sec-WebSocket-Key` value is 16 bytes in base64.
fn is_valid_key(key: &str) -> bool {
    key.len() == 24 && BASE64.decode(key).is_ok_and(|k| k.len() == 16)
}

/// A fresh random `Sec-WebSocket-Key`.
fn new_key() -> String {
    BASE64.encode(rand::random::<[u8; 16]>())
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
    fn keys() {
        assert!(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_valid_key("dGhlIHNhbXBsZQ=="));
        assert!(!is_valid_key("not base64 at all!!!!!!!"));
        assert!(is_valid_key(&new_key()));
        assert_ne!(new_key(), new_key());
    }
}
