//! HTTP/1.1 heads, as the opening handshake (and a proxy client) needs them: [`Headers`],
//! [`Request`] and [`Response`]; reading a head with a size limit and a deadline, parsing
//! it, and writing one.
//!
//! Nothing here knows WebSocket: the handshakes in `handshake/` give the heads their
//! meaning.

use std::fmt;
use std::io::{self, Read};
use std::time::Instant;

use crate::stream::{self, Stall, Stream};

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
}

/// An opening-handshake request, as the server sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub(crate) method: String,
    pub(crate) target: String,
    /// The minor HTTP/1 version.
    pub(crate) version: u8,
    pub(crate) headers: Headers,
}

impl Request {
    /// A request line for [`Upgrader::upgrade_with_request`](crate::Upgrader::upgrade_with_request),
    /// when another HTTP parser read the request; add its headers with
    /// [`with_header`](Self::with_header).
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

    /// Parses a whole request head (through the blank line) with at most `max_headers`
    /// header lines.
    pub(crate) fn parse(head: &[u8], max_headers: usize) -> Result<Request, HeadError> {
        let mut headers = vec![httparse::EMPTY_HEADER; max_headers];
        let mut parsed = httparse::Request::new(&mut headers);
        check_parse(parsed.parse(head))?;
        Ok(Request {
            method: parsed.method.unwrap_or_default().to_owned(),
            target: parsed.path.unwrap_or_default().to_owned(),
            version: parsed.version.unwrap_or(0),
            headers: Headers::from_parsed(parsed.headers),
        })
    }
}

/// An opening-handshake response, as the client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) headers: Headers,
    pub(crate) body: Vec<u8>,
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

    /// Parses a whole response head, as [`Request::parse`] does a request.
    pub(crate) fn parse(head: &[u8], max_headers: usize) -> Result<Response, HeadError> {
        let mut headers = vec![httparse::EMPTY_HEADER; max_headers];
        let mut parsed = httparse::Response::new(&mut headers);
        check_parse(parsed.parse(head))?;
        Ok(Response {
            status: parsed.code.unwrap_or_default(),
            reason: parsed.reason.unwrap_or_default().to_owned(),
            headers: Headers::from_parsed(parsed.headers),
            body: Vec::new(),
        })
    }
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.reason)
    }
}

fn check_parse(result: httparse::Result<usize>) -> Result<(), HeadError> {
    match result {
        Ok(httparse::Status::Complete(_)) => Ok(()),
        Err(httparse::Error::TooManyHeaders) => Err(HeadError::TooManyHeaders),
        // A head that `read_head` found complete but httparse finds partial is malformed.
        Ok(httparse::Status::Partial) | Err(_) => Err(HeadError::Malformed),
    }
}

/// Whether `c` may be part of a token (RFC 9110 5.6.2): a header name, a method, a
/// subprotocol.
pub(crate) fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// Whether `s` is a token.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// A header wsio will not write: it would break the head (CR, LF, NUL: header injection)
/// or is not valid HTTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BadHeader {
    /// The name is not a token.
    Name(String),
    /// The value of the header with this name holds a control character (CR, LF, NUL...).
    Value(String),
}

/// Checks a header the application wants written: the name a token, the value free of
/// control characters but horizontal tab.
pub(crate) fn check_header(name: &str, value: &str) -> Result<(), BadHeader> {
    if !is_token(name) {
        return Err(BadHeader::Name(name.to_owned()));
    }
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(BadHeader::Value(name.to_owned()));
    }
    Ok(())
}

/// Where a request head stands, byte by byte; see [`RequestPrefix`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Prefix {
    /// Before the method (empty lines before it are allowed, RFC 9112 2.2).
    #[default]
    Start,
    Method,
    TargetStart,
    Target,
    /// Inside `HTTP/1.`: how much of it has arrived.
    Version(u8),
    /// The minor version digit.
    Minor,
    /// After the request line or a header value: a line end.
    LineEnd,
    /// After a CR: its LF.
    Cr,
    /// At the start of a line: a header name, or the blank line.
    LineStart,
    Name,
    Value,
    /// After the blank line's CR.
    BlankCr,
    /// The head is complete; what follows is not checked.
    Done,
}

/// Checks bytes as they arrive against the shape of an HTTP/1.x request head, so that a
/// peer sending anything else (a TLS ClientHello, random bytes, another protocol) is
/// answered 400 at once instead of holding a thread until the handshake timeout. Each byte
/// is looked at once.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RequestPrefix {
    state: Prefix,
}

impl RequestPrefix {
    /// Checks the next bytes; `false` once they cannot be part of a request head.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> bool {
        const VERSION: &[u8] = b"HTTP/1.";
        for &c in bytes {
            self.state = match (self.state, c) {
                (Prefix::Done, _) => return true,
                (Prefix::Start, b'\r' | b'\n') => Prefix::Start,
                (Prefix::Start | Prefix::Method, c) if is_tchar(c) => Prefix::Method,
                (Prefix::Method, b' ') => Prefix::TargetStart,
                (Prefix::TargetStart | Prefix::Target, 0x21..=0x7e | 0x80..=0xff) => Prefix::Target,
                (Prefix::Target, b' ') => Prefix::Version(0),
                (Prefix::Version(i), c) if c == VERSION[usize::from(i)] => {
                    if usize::from(i) + 1 == VERSION.len() {
                        Prefix::Minor
                    } else {
                        Prefix::Version(i + 1)
                    }
                }
                (Prefix::Minor, b'0'..=b'9') => Prefix::LineEnd,
                (Prefix::LineEnd | Prefix::Value, b'\r') => Prefix::Cr,
                (Prefix::LineEnd | Prefix::Value | Prefix::Cr, b'\n') => Prefix::LineStart,
                (Prefix::LineStart, b'\r') => Prefix::BlankCr,
                (Prefix::LineStart | Prefix::BlankCr, b'\n') => Prefix::Done,
                (Prefix::LineStart | Prefix::Name, c) if is_tchar(c) => Prefix::Name,
                (Prefix::Name, b':') => Prefix::Value,
                (Prefix::Value, c) if c == b'\t' || (c >= 0x20 && c != 0x7f) => Prefix::Value,
                _ => return false,
            };
        }
        true
    }
}

/// Why a head could not be read, parsed or written.
#[derive(Debug)]
pub(crate) enum HeadError {
    /// Larger than the limit.
    TooLarge,
    /// More header lines than the limit.
    TooManyHeaders,
    /// Not valid HTTP.
    Malformed,
    /// The deadline passed.
    Timeout,
    /// The stream ended first.
    Eof,
    /// The stream failed (a non-blocking stream's `WouldBlock` among them).
    Io(io::Error),
}

impl HeadError {
    /// A failed read or write: a timeout if one fired (`timeout_armed`: a deadline was set).
    fn from_io(e: io::Error, timeout_armed: bool) -> HeadError {
        match stream::stall(&e, timeout_armed) {
            Some(Stall::TimedOut) => HeadError::Timeout,
            Some(Stall::WouldBlock) | None => HeadError::Io(e),
        }
    }
}

/// An HTTP head read from a stream, and what came after it.
pub(crate) struct Head {
    buf: Vec<u8>,
    /// The length of the head, through the blank line.
    len: usize,
    /// How many bytes the search for the blank line looked at, over all reads: the work
    /// reading the head cost, linear in its length however it was trickled.
    #[cfg_attr(not(test), allow(dead_code))]
    examined: usize,
}

impl Head {
    /// The head, through the blank line.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// What the peer sent after the head (the first frames, or a body).
    pub(crate) fn leftover(&self) -> &[u8] {
        &self.buf[self.len..]
    }
}

/// Sets the stream's read timeout to the time left before `deadline`.
fn arm_read<S: Stream>(s: &mut S, deadline: Option<Instant>) -> Result<(), HeadError> {
    match deadline {
        None => Ok(()),
        Some(d) => {
            let left = stream::remaining(d).ok_or(HeadError::Timeout)?;
            s.set_read_timeout(Some(left)).map_err(HeadError::Io)
        }
    }
}

/// Reads until the blank line that ends an HTTP head, at most `max` bytes of head, before
/// `deadline`. Each byte is scanned once, so a head trickled a byte at a time costs linear
/// time (tungstenite's CVE-2023-43669 was a quadratic re-parse). With `check`, bytes that
/// cannot be part of a request head are [`HeadError::Malformed`] as soon as they arrive.
/// Bytes after the head are kept: they are the first frames.
pub(crate) fn read_head<S: Stream>(
    s: &mut S,
    max: usize,
    deadline: Option<Instant>,
    check: Option<RequestPrefix>,
) -> Result<Head, HeadError> {
    HeadReader::new(max, check).read(s, |s| arm_read(s, deadline), deadline.is_some())
}

/// A head being read, which a read that would block leaves as it was: the same reader,
/// called again, goes on where it stopped (the non-blocking handshakes).
pub(crate) struct HeadReader {
    buf: Vec<u8>,
    filled: usize,
    scanned: usize,
    examined: usize,
    max: usize,
    check: Option<RequestPrefix>,
}

impl HeadReader {
    /// A reader of a head of at most `max` bytes; with `check`, of a request head.
    pub(crate) fn new(max: usize, check: Option<RequestPrefix>) -> HeadReader {
        HeadReader {
            buf: Vec::new(),
            filled: 0,
            scanned: 0,
            examined: 0,
            max,
            check,
        }
    }

    /// Reads until the head is complete, calling `arm` before each read; `armed`: whether
    /// `arm` sets a timeout (a stream that would block then timed out).
    pub(crate) fn read<S: Read>(
        &mut self,
        s: &mut S,
        mut arm: impl FnMut(&mut S) -> Result<(), HeadError>,
        armed: bool,
    ) -> Result<Head, HeadError> {
        loop {
            let found = find_head_end(&self.buf[..self.filled], self.scanned);
            self.examined += self.filled - self.scanned.saturating_sub(2).min(self.filled);
            if let Some(len) = found {
                if len > self.max {
                    return Err(HeadError::TooLarge);
                }
                let mut buf = std::mem::take(&mut self.buf);
                buf.truncate(self.filled);
                return Ok(Head {
                    buf,
                    len,
                    examined: self.examined,
                });
            }
            self.scanned = self.filled;
            if self.filled >= self.max {
                return Err(HeadError::TooLarge);
            }
            let filled = self.filled;
            if self.buf.len() < filled + 1024 {
                self.buf.resize((filled + 2048).min(self.max + 2048), 0);
            }
            arm(s)?;
            match s.read(&mut self.buf[filled..]) {
                Ok(0) => return Err(HeadError::Eof),
                Ok(n) => {
                    let fresh = &self.buf[filled..filled + n];
                    if self.check.as_mut().is_some_and(|c| !c.feed(fresh)) {
                        return Err(HeadError::Malformed);
                    }
                    self.filled += n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(HeadError::from_io(e, armed)),
            }
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

/// Up to `max` bytes of a response's body: what came with the head, plus more while
/// `Content-Length` says it is coming and the deadline allows. Without a deadline, only
/// what came with the head: a silent server cannot hold the caller.
pub(crate) fn read_body_prefix<S: Stream>(
    s: &mut S,
    headers: &Headers,
    already: &[u8],
    max: usize,
    deadline: Option<Instant>,
) -> Vec<u8> {
    let declared = headers
        .get("Content-Length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(already.len());
    let want = declared.min(max);
    let mut body = already[..already.len().min(want)].to_vec();
    if deadline.is_none() {
        return body;
    }
    let mut chunk = [0u8; 512];
    while body.len() < want {
        if arm_read(s, deadline).is_err() {
            break;
        }
        match s.read(&mut chunk[..(want - body.len()).min(512)]) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body
}

/// A head being written: the start line, then header lines, then the blank line (and an
/// optional body). Every header is checked ([`check_header`]): nothing that would break the
/// head is ever written.
pub(crate) struct HeadWriter {
    out: String,
}

impl HeadWriter {
    /// `GET /path HTTP/1.1`, say. The target comes from a parsed URL, which has no spaces
    /// or control characters.
    pub(crate) fn request(method: &str, target: &str) -> HeadWriter {
        HeadWriter {
            out: format!("{method} {target} HTTP/1.1\r\n"),
        }
    }

    /// `HTTP/1.1 101 Switching Protocols`, say.
    pub(crate) fn response(status: u16) -> HeadWriter {
        HeadWriter {
            out: format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status)),
        }
    }

    /// Adds a header line.
    pub(crate) fn header(&mut self, name: &str, value: &str) -> Result<&mut HeadWriter, BadHeader> {
        check_header(name, value)?;
        self.out.push_str(name);
        self.out.push_str(": ");
        self.out.push_str(value);
        self.out.push_str("\r\n");
        Ok(self)
    }

    /// Adds every header of `headers`.
    pub(crate) fn headers(&mut self, headers: &Headers) -> Result<&mut HeadWriter, BadHeader> {
        for (name, value) in headers.iter() {
            self.header(name, value)?;
        }
        Ok(self)
    }

    /// Ends the head (and appends `body`): the bytes to send.
    pub(crate) fn finish(mut self, body: &str) -> String {
        self.out.push_str("\r\n");
        self.out.push_str(body);
        self.out
    }
}

/// Writes `bytes` before `deadline`.
pub(crate) fn write_all<S: Stream>(
    s: &mut S,
    deadline: Option<Instant>,
    bytes: &[u8],
) -> Result<(), HeadError> {
    stream::write_all_before(s, deadline, bytes)
        .map_err(|e| HeadError::from_io(e, deadline.is_some()))
}

/// A URL's host without the brackets of an IPv6 literal (`[::1]` is `::1`).
pub(crate) fn unbracket(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// The reason phrase for a status.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ if (200..300).contains(&status) => "Success",
        _ if (300..400).contains(&status) => "Redirection",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// A stream that gives one byte per read.
    struct Trickle(Vec<u8>, usize);

    impl io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(1).min(self.0.len() - self.1);
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    impl io::Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Stream for Trickle {}

    #[test]
    fn a_head_trickled_byte_by_byte_costs_linear_work() {
        // tungstenite's CVE-2023-43669 re-parsed the whole head on every read: for this
        // head, about 120 million bytes looked at instead of a few times 15,000.
        let head = format!(
            "GET / HTTP/1.1\r\nHost: h\r\nX-Long: {}\r\n\r\n",
            "a".repeat(15_000)
        );
        let mut stream = Trickle(head.clone().into_bytes(), 0);
        let read = read_head(&mut stream, 16 << 10, None, Some(RequestPrefix::default())).unwrap();
        assert_eq!(read.bytes(), head.as_bytes());
        assert!(
            read.examined <= 4 * head.len(),
            "{} bytes examined for a {}-byte head",
            read.examined,
            head.len()
        );
    }

    #[test]
    fn no_header_that_breaks_the_head_is_written() {
        let mut head = HeadWriter::request("GET", "/");
        assert_eq!(
            head.header("X-Test", "1\r\nX-Injected: yes").err(),
            Some(BadHeader::Value("X-Test".into()))
        );
        for value in ["a\nb", "a\rb", "a\0b", "a\x7fb", "a\x01b"] {
            assert!(check_header("X", value).is_err(), "{value:?}");
        }
        for name in ["", "X Y", "X:Y", "X\r\nY", "é"] {
            assert_eq!(check_header(name, "v"), Err(BadHeader::Name(name.into())));
        }
        assert!(check_header("X-Ok", "tab\tand üñí and spaces").is_ok());
        assert_eq!(head.finish(""), "GET / HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn request_heads_pass_the_prefix_check_split_anywhere() {
        let head = b"\r\nGET /chat?x=1 HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nY:\tv\xc3\xa9 \r\n\r\n\x81\x05hello";
        for cut in 0..=head.len() {
            let mut check = RequestPrefix::default();
            assert!(
                check.feed(&head[..cut]) && check.feed(&head[cut..]),
                "cut {cut}"
            );
        }
        let bare_lf = b"GET / HTTP/1.1\nHost: h\n\n";
        assert!(RequestPrefix::default().feed(bare_lf));
    }

    #[test]
    fn what_cannot_start_a_request_fails_the_prefix_check_at_once() {
        let tls_client_hello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01];
        let cases: [&[u8]; 8] = [
            &tls_client_hello,
            b"\x00\x01\x02",
            b"GET  / HTTP/1.1\r\n",
            b"GET / SPDY/3\r\n",
            b"GET / HTTP/1.1\r\nBad Name: v\r\n",
            b"GET / HTTP/1.1\r\nX: a\x00b\r\n",
            b"GET / HTTP/1.1\r\n folded\r\n",
            b"SSH-2.0-OpenSSH_9.0\r\n",
        ];
        for case in cases {
            assert!(!RequestPrefix::default().feed(case), "{case:x?}");
        }
        // The first impossible byte decides; what came before was fine.
        let mut check = RequestPrefix::default();
        assert!(check.feed(b"GET"));
        assert!(!check.feed(b"\x16"));
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
    fn requests_and_responses_parse() {
        let request = Request::parse(b"GET /a?b HTTP/1.1\r\nHost: h\r\nX:  v \r\n\r\n", 8).unwrap();
        assert_eq!((request.path(), request.query()), ("/a", Some("b")));
        assert_eq!(request.header("x"), Some("v"));
        let response = Response::parse(b"HTTP/1.1 404 Nope\r\nA: b\r\n\r\n", 8).unwrap();
        assert_eq!((response.status(), response.reason()), (404, "Nope"));
        assert!(matches!(
            Request::parse(b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", 1),
            Err(HeadError::TooManyHeaders)
        ));
        assert!(matches!(
            Request::parse(b"NOT HTTP\r\n\r\n", 8),
            Err(HeadError::Malformed)
        ));
    }

    #[test]
    fn heads_are_written_line_by_line() {
        let mut head = HeadWriter::response(101);
        head.header("Upgrade", "websocket").unwrap();
        assert_eq!(
            head.finish(""),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
        );
    }
}
