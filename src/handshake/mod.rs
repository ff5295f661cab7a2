//! The opening handshake (RFC 6455 section 4): the server's [`Upgrader`] and the client's
//! [`Dialer`], and what they share: the accept key, header tokens, and bounded reading of an
//! HTTP head that hands the bytes after it to the connection.

mod client;
mod server;

pub use client::{Dialer, dial};
pub use server::{Rejection, SubprotocolOrder, Upgrader};

use std::fmt;
use std::io;
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest, Sha1};

use crate::error::HandshakeError;
use crate::stream::{self, Stream};

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

/// HTTP header fields in order, with case-insensitive lookup by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// No headers.
    pub fn new() -> Headers {
        Headers(Vec::new())
    }

    /// Appends a header.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether any value of `name`, read as a comma-separated list, contains `token`
    /// (case-insensitive), as `Connection: keep-alive, Upgrade` contains `upgrade`.
    pub fn contains_token(&self, name: &str, token: &str) -> bool {
        self.tokens(name).any(|t| t.eq_ignore_ascii_case(token))
    }

    /// The comma-separated items of every value of `name`, trimmed, empty ones skipped.
    pub fn tokens<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.get_all(name)
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// All headers as (name, value) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The number of headers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn from_parsed(parsed: &[httparse::Header<'_>]) -> Headers {
        Headers(
            parsed
                .iter()
                .map(|h| {
                    (
                        h.name.to_owned(),
                        String::from_utf8_lossy(h.value).trim().to_owned(),
                    )
                })
                .collect(),
        )
    }

    fn write_to(&self, out: &mut String) {
        for (name, value) in self.iter() {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        }
    }
}

/// An opening-handshake request, as the server sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    method: String,
    target: String,
    /// The minor HTTP/1 version.
    version: u8,
    headers: Headers,
}

impl Request {
    /// A request line for [`Upgrader::upgrade_with_request`], when another HTTP parser read the
    /// request; add its headers with [`with_header`](Self::with_header).
    pub fn new(method: impl Into<String>, target: impl Into<String>) -> Request {
        Request {
            method: method.into(),
            target: target.into(),
            version: 1,
            headers: Headers::new(),
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push(name, value);
        self
    }

    /// The method, e.g. `GET`.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request target: path and query, e.g. `/chat?room=1`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The path part of the target.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The query part of the target, without the `?`.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// All headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The subprotocols the client offered, in its order of preference.
    pub fn subprotocols(&self) -> impl Iterator<Item = &str> {
        self.headers.tokens("Sec-WebSocket-Protocol")
    }
}

/// An opening-handshake response, as the client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    status: u16,
    reason: String,
    headers: Headers,
    body: Vec<u8>,
}

impl Response {
    /// The status code: 101 for an accepted handshake.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// All headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// For a failed handshake, the start of the body (at most 1 KiB); empty otherwise.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.reason)
    }
}

/// An HTTP head read from a stream, and what came after it.
pub(crate) struct Head {
    pub(crate) buf: Vec<u8>,
    /// The length of the head, through the blank line.
    pub(crate) len: usize,
}

impl Head {
    pub(crate) fn leftover(&self) -> &[u8] {
        &self.buf[self.len..]
    }
}

/// Why a head could not be read.
pub(crate) enum HeadError {
    TooLarge,
    Timeout,
    Eof,
    Io(io::Error),
}

impl From<HeadError> for crate::Error {
    fn from(e: HeadError) -> crate::Error {
        match e {
            HeadError::TooLarge => HandshakeError::TooLarge.into(),
            HeadError::Timeout => HandshakeError::Timeout.into(),
            HeadError::Eof => HandshakeError::Eof.into(),
            HeadError::Io(e) => crate::Error::Io(e),
        }
    }
}

/// Sets the stream's read timeout to the time left before `deadline`.
pub(crate) fn apply_read_deadline<S: Stream>(
    s: &mut S,
    deadline: Option<Instant>,
) -> io::Result<()> {
    match deadline {
        Some(d) => s.set_read_timeout(Some(stream::remaining(d)?)),
        None => Ok(()),
    }
}

/// Sets the stream's write timeout to the time left before `deadline`.
pub(crate) fn apply_write_deadline<S: Stream>(
    s: &mut S,
    deadline: Option<Instant>,
) -> io::Result<()> {
    match deadline {
        Some(d) => s.set_write_timeout(Some(stream::remaining(d)?)),
        None => Ok(()),
    }
}

/// Reads until the blank line that ends an HTTP head, at most `max` bytes of head, before
/// `deadline`. Each byte is scanned once, so a head trickled a byte at a time costs linear
/// time (tungstenite's CVE-2023-43669 was a quadratic re-parse). Bytes after the head are
/// kept: they are the first frames.
pub(crate) fn read_head<S: Stream>(
    s: &mut S,
    max: usize,
    deadline: Option<Instant>,
) -> Result<Head, HeadError> {
    let mut buf = Vec::new();
    let mut filled = 0;
    let mut scanned = 0;
    loop {
        if let Some(len) = find_head_end(&buf[..filled], scanned) {
            if len > max {
                return Err(HeadError::TooLarge);
            }
            buf.truncate(filled);
            return Ok(Head { buf, len });
        }
        scanned = filled;
        if filled >= max {
            return Err(HeadError::TooLarge);
        }
        if buf.len() < filled + 1024 {
            buf.resize((filled + 2048).min(max + 2048), 0);
        }
        let timeout = |e: io::Error| {
            if stream::is_timeout(&e) {
                HeadError::Timeout
            } else {
                HeadError::Io(e)
            }
        };
        apply_read_deadline(s, deadline).map_err(timeout)?;
        match s.read(&mut buf[filled..]) {
            Ok(0) => return Err(HeadError::Eof),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(timeout(e)),
        }
    }
}

/// The end of the head (just past `\n\r\n` or `\n\n`) in `buf`, looking only at bytes from
/// `from` on (with enough overlap to catch a terminator split across reads).
fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(2);
    let mut i = start;
    while let Some(pos) = buf[i..].iter().position(|&b| b == b'\n') {
        let at = i + pos;
        match buf.get(at + 1) {
            Some(b'\n') => return Some(at + 2),
            Some(b'\r') if buf.get(at + 2) == Some(&b'\n') => return Some(at + 3),
            _ => i = at + 1,
        }
    }
    None
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
    fn head_end_is_found_across_any_split() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nREST";
        for cut in 0..head.len() {
            let first = find_head_end(&head[..cut], 0);
            let found = first.or_else(|| find_head_end(head, cut));
            assert_eq!(found, Some(head.len() - 4), "cut {cut}");
        }
        assert_eq!(find_head_end(b"GET / HTTP/1.1\n\nx", 0), Some(16));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nHost: a\r\n", 0), None);
    }

    #[test]
    fn tokens_are_case_insensitive_and_comma_separated() {
        let mut h = Headers::new();
        h.push("connection", "keep-alive, Upgrade");
        h.push("X", " a ,, b ");
        assert!(h.contains_token("Connection", "upgrade"));
        assert!(!h.contains_token("Connection", "close"));
        assert_eq!(h.tokens("x").collect::<Vec<_>>(), ["a", "b"]);
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
