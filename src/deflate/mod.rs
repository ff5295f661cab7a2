//! permessage-deflate (RFC 7692): its settings, the extension header grammar, and
//! negotiation in both roles. The compressing and inflating is in [`codec`].
//!
//! Parameters are named by the RFC for the endpoint whose *compressor* they govern:
//! `server_*` for what the server sends, `client_*` for what the client sends.

pub(crate) mod codec;

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::http::is_tchar;
use crate::proto::Role;
use codec::{Context, Deflater, Inflater, MIN_ZLIB_WINDOW_BITS};

/// permessage-deflate settings for an [`Upgrader`](crate::Upgrader) or a
/// [`Dialer`](crate::Dialer), set with [`ConfigBuilder::deflate`](crate::ConfigBuilder::deflate).
///
/// Compression is off unless configured: it costs CPU on both ends, and memory per
/// connection, which a server with many connections must choose knowingly. Measured idle
/// heap per connection (`tests/deflate_memory.rs`): 8 KiB without compression or without
/// context takeover (the compressor and decompressor are released after every message),
/// 55 KiB when only the peer keeps context (our decompressor stays), 300 KiB (9-bit
/// windows) to 426 KiB (15-bit windows) when both keep context (zlib's compressor state
/// dominates). Text protocols with repetitive messages (JSON) shrink by 3-10x.
///
/// zlib cannot compress with an 8-bit window (asked for one, it uses 9 bits, which a peer
/// with a real 256-byte window could not inflate). When a peer limits wsio's window to 8
/// bits, wsio accepts and sends its own messages uncompressed, while still inflating the
/// peer's; it never asks for an 8-bit window itself.
///
/// The `server_*` and `client_*` settings follow the RFC's naming: each governs one
/// endpoint's compressor.
///
/// | setting | on a server (`Upgrader`) | on a client (`Dialer`) |
/// |---|---|---|
/// | `server_no_context_takeover` | never keep context between our messages, and say so | ask the server not to keep context |
/// | `client_no_context_takeover` | ask the client not to keep context | never keep context, and say so |
/// | `server_max_window_bits` | compress with at most this window | ask the server for at most this window |
/// | `client_max_window_bits` | ask the client for at most this window (if it allows) | compress with at most this window; always offered |
///
/// ```
/// use wsio::{Config, DeflateConfig};
/// let config = Config::builder()
///     .deflate(DeflateConfig::new().level(6).client_no_context_takeover(true))
///     .build();
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    level: u32,
    threshold: usize,
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: u8,
    client_max_window_bits: u8,
}

impl Default for DeflateConfig {
    fn default() -> DeflateConfig {
        DeflateConfig::new()
    }
}

impl DeflateConfig {
    /// Compression with context takeover and 15-bit windows, level 1, for messages of 64
    /// bytes and more.
    pub fn new() -> DeflateConfig {
        DeflateConfig {
            level: 1,
            threshold: 64,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }

    /// The compression level, 0 (store) to 9 (smallest); values above 9 mean 9. Can be
    /// changed per connection with [`Conn::set_compression_level`](crate::Conn::set_compression_level).
    ///
    /// Defaults to 1: most of the gain for JSON-like messages at a fraction of the CPU.
    #[must_use]
    pub fn level(mut self, level: u32) -> DeflateConfig {
        self.level = level.min(9);
        self
    }

    /// Messages written with `write_message` shorter than this are sent uncompressed
    /// (streamed messages are compressed whatever their size).
    ///
    /// Defaults to 64 bytes: below that, deflate's overhead eats the gain.
    #[must_use]
    pub fn threshold(mut self, bytes: usize) -> DeflateConfig {
        self.threshold = bytes;
        self
    }

    /// See the table above.
    ///
    /// Defaults to false.
    #[must_use]
    pub fn server_no_context_takeover(mut self, on: bool) -> DeflateConfig {
        self.server_no_context_takeover = on;
        self
    }

    /// See the table above.
    ///
    /// Defaults to false.
    #[must_use]
    pub fn client_no_context_takeover(mut self, on: bool) -> DeflateConfig {
        self.client_no_context_takeover = on;
        self
    }

    /// See the table above; clamped to 9..=15 (zlib cannot compress with an 8-bit window).
    ///
    /// Defaults to 15.
    #[must_use]
    pub fn server_max_window_bits(mut self, bits: u8) -> DeflateConfig {
        self.server_max_window_bits = bits.clamp(MIN_ZLIB_WINDOW_BITS, 15);
        self
    }

    /// See the table above; clamped to 9..=15.
    ///
    /// Defaults to 15.
    #[must_use]
    pub fn client_max_window_bits(mut self, bits: u8) -> DeflateConfig {
        self.client_max_window_bits = bits.clamp(MIN_ZLIB_WINDOW_BITS, 15);
        self
    }

    pub(crate) fn threshold_bytes(&self) -> usize {
        self.threshold
    }
}

/// The permessage-deflate parameters a handshake agreed on
/// ([`Conn::compression`](crate::Conn::compression)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeflateParams {
    /// The server starts every message with an empty window.
    pub server_no_context_takeover: bool,
    /// The client starts every message with an empty window.
    pub client_no_context_takeover: bool,
    /// The largest window the server compresses with (8 to 15 bits).
    pub server_max_window_bits: u8,
    /// The largest window the client compresses with (8 to 15 bits).
    pub client_max_window_bits: u8,
}

impl DeflateParams {
    /// (context, window bits) of the compressor of the endpoint in `role`.
    fn sender(&self, role: Role) -> (Context, u8) {
        let (no_context_takeover, bits) = match role {
            Role::Server => (self.server_no_context_takeover, self.server_max_window_bits),
            Role::Client => (self.client_no_context_takeover, self.client_max_window_bits),
        };
        let context = if no_context_takeover {
            Context::Reset
        } else {
            Context::Kept
        };
        (context, bits)
    }

    /// The compressor this endpoint (in `role`) sends with.
    pub(crate) fn deflater(&self, role: Role, config: &DeflateConfig) -> Deflater {
        let (context, window_bits) = self.sender(role);
        Deflater::new(config.level, window_bits, context)
    }

    /// The decompressor for what the peer of `role` sends.
    pub(crate) fn inflater(&self, role: Role) -> Inflater {
        let (context, window_bits) = self.sender(role.peer());
        Inflater::new(window_bits, context)
    }
}

/// One extension from a `Sec-WebSocket-Extensions` header.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Extension<'a> {
    pub(crate) name: &'a str,
    pub(crate) params: Vec<(&'a str, Option<Cow<'a, str>>)>,
}

/// A cursor over a header value, for the grammar of RFC 6455 section 9.1:
/// `1#( token *( ";" token [ "=" ( token / quoted-string ) ] ) )`.
struct Cursor<'a> {
    s: &'a str,
    at: usize,
    /// How many times a byte was looked at: the parse's work.
    work: std::cell::Cell<usize>,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.work.set(self.work.get() + 1);
        self.s.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn token(&mut self) -> Option<&'a str> {
        self.skip_space();
        let start = self.at;
        while self.peek().is_some_and(is_tchar) {
            self.at += 1;
        }
        (self.at > start).then(|| &self.s[start..self.at])
    }

    fn quoted(&mut self) -> Option<Cow<'a, str>> {
        // At the opening quote.
        self.at += 1;
        let start = self.at;
        let mut owned: Option<String> = None;
        loop {
            match self.peek()? {
                b'"' => {
                    let raw = &self.s[start..self.at];
                    self.at += 1;
                    return Some(owned.map_or(Cow::Borrowed(raw), Cow::Owned));
                }
                b'\\' => {
                    let so_far = owned.get_or_insert_with(|| self.s[start..self.at].to_owned());
                    self.at += 1;
                    let escaped = self.peek()?;
                    if !escaped.is_ascii() || escaped.is_ascii_control() && escaped != b'\t' {
                        return None;
                    }
                    so_far.push(char::from(escaped));
                    self.at += 1;
                }
                c if c.is_ascii_control() && c != b'\t' => return None,
                c => {
                    let len = if c.is_ascii() {
                        1
                    } else {
                        self.s[self.at..].chars().next().map_or(1, char::len_utf8)
                    };
                    if let Some(so_far) = &mut owned {
                        so_far.push_str(&self.s[self.at..self.at + len]);
                    }
                    self.at += len;
                }
            }
        }
    }
}

/// Parses every extension in a header value. Each byte is looked at a bounded number of
/// times; malformed input is `None`, never a panic.
pub(crate) fn parse_extensions(value: &str) -> Option<Vec<Extension<'_>>> {
    parse_counting_work(value).0
}

/// [`parse_extensions`], and how many times it looked at a byte.
fn parse_counting_work(value: &str) -> (Option<Vec<Extension<'_>>>, usize) {
    let mut cursor = Cursor {
        s: value,
        at: 0,
        work: std::cell::Cell::new(0),
    };
    let parsed = parse_with(&mut cursor);
    (parsed, cursor.work.get())
}

fn parse_with<'a>(cursor: &mut Cursor<'a>) -> Option<Vec<Extension<'a>>> {
    let mut out = Vec::new();
    loop {
        cursor.skip_space();
        match cursor.peek() {
            None => return Some(out),
            Some(b',') => {
                cursor.at += 1;
                continue;
            }
            _ => {}
        }
        let name = cursor.token()?;
        let mut params = Vec::new();
        while cursor.eat(b';') {
            let param = cursor.token()?;
            let value = if cursor.eat(b'=') {
                cursor.skip_space();
                if cursor.peek() == Some(b'"') {
                    Some(cursor.quoted()?)
                } else {
                    Some(Cow::Borrowed(cursor.token()?))
                }
            } else {
                None
            };
            params.push((param, value));
        }
        out.push(Extension { name, params });
        cursor.skip_space();
        match cursor.peek() {
            None => return Some(out),
            Some(b',') => cursor.at += 1,
            Some(_) => return None,
        }
    }
}

/// A window-bits value: 8 to 15, digits only, no leading zero.
fn window_bits(value: &str) -> Option<u8> {
    match value.as_bytes() {
        [b'8'..=b'9'] | [b'1', b'0'..=b'5'] => value.parse().ok(),
        _ => None,
    }
}

/// The server's answer to the offers in `headers` (every `Sec-WebSocket-Extensions` value,
/// in order): the parameters and the response header value for the first offer it can
/// accept. Offers with unknown or repeated parameters or bad values are declined, as is a
/// header that does not parse.
pub(crate) fn negotiate_server<'a>(
    header_values: impl Iterator<Item = &'a str>,
    config: &DeflateConfig,
) -> Option<(DeflateParams, String)> {
    for value in header_values {
        let Some(extensions) = parse_extensions(value) else {
            continue;
        };
        for extension in extensions {
            if !extension.name.eq_ignore_ascii_case("permessage-deflate") {
                continue;
            }
            if let Some(accepted) = accept_offer(&extension.params, config) {
                return Some(accepted);
            }
        }
    }
    None
}

fn accept_offer(
    params: &[(&str, Option<Cow<'_, str>>)],
    config: &DeflateConfig,
) -> Option<(DeflateParams, String)> {
    let mut server_no_context_takeover = config.server_no_context_takeover;
    let mut client_no_context_takeover = config.client_no_context_takeover;
    let mut server_window: Option<u8> = None;
    let mut client_window: Option<u8> = None;
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in params {
        let name = *name;
        if seen.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            return None;
        }
        seen.push(name);
        match (name.to_ascii_lowercase().as_str(), value) {
            ("server_no_context_takeover", None) => server_no_context_takeover = true,
            ("client_no_context_takeover", None) => client_no_context_takeover = true,
            ("server_max_window_bits", Some(v)) => server_window = Some(window_bits(v)?),
            ("client_max_window_bits", None) => client_window = Some(15),
            ("client_max_window_bits", Some(v)) => client_window = Some(window_bits(v)?),
            _ => return None,
        }
    }
    let params = DeflateParams {
        server_no_context_takeover,
        client_no_context_takeover,
        server_max_window_bits: server_window.map_or(config.server_max_window_bits, |w| {
            w.min(config.server_max_window_bits)
        }),
        client_max_window_bits: client_window.map_or(15, |w| w.min(config.client_max_window_bits)),
    };
    let mut response = String::from("permessage-deflate");
    if params.server_no_context_takeover {
        response.push_str("; server_no_context_takeover");
    }
    if params.client_no_context_takeover {
        response.push_str("; client_no_context_takeover");
    }
    if server_window.is_some() {
        write!(
            response,
            "; server_max_window_bits={}",
            params.server_max_window_bits
        )
        .expect("writing to a String");
    }
    if client_window.is_some_and(|offered| params.client_max_window_bits < offered) {
        write!(
            response,
            "; client_max_window_bits={}",
            params.client_max_window_bits
        )
        .expect("writing to a String");
    }
    Some((params, response))
}

/// The client's offer.
pub(crate) fn client_offer(config: &DeflateConfig) -> String {
    let mut offer = String::from("permessage-deflate");
    if config.server_no_context_takeover {
        offer.push_str("; server_no_context_takeover");
    }
    if config.client_no_context_takeover {
        offer.push_str("; client_no_context_takeover");
    }
    if config.server_max_window_bits < 15 {
        write!(
            offer,
            "; server_max_window_bits={}",
            config.server_max_window_bits
        )
        .expect("writing to a String");
    }
    if config.client_max_window_bits < 15 {
        write!(
            offer,
            "; client_max_window_bits={}",
            config.client_max_window_bits
        )
        .expect("writing to a String");
    } else {
        offer.push_str("; client_max_window_bits");
    }
    offer
}

/// Checks the server's answer to [`client_offer`]; `Err` says what is wrong with it.
pub(crate) fn accept_response(
    value: &str,
    config: &DeflateConfig,
) -> Result<DeflateParams, String> {
    let extensions =
        parse_extensions(value).ok_or_else(|| format!("malformed extensions {value:?}"))?;
    let [extension] = extensions.as_slice() else {
        return Err(format!("expected one extension, got {value:?}"));
    };
    if !extension.name.eq_ignore_ascii_case("permessage-deflate") {
        return Err(format!("extension {:?} was not offered", extension.name));
    }
    let mut params = DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: config.client_no_context_takeover,
        server_max_window_bits: config.server_max_window_bits,
        client_max_window_bits: config.client_max_window_bits,
    };
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in &extension.params {
        if seen.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            return Err(format!("parameter {name} repeated"));
        }
        seen.push(name);
        let bad = || {
            format!(
                "bad parameter {name}{}",
                value.as_ref().map(|v| format!("={v}")).unwrap_or_default()
            )
        };
        match (name.to_ascii_lowercase().as_str(), value) {
            ("server_no_context_takeover", None) => params.server_no_context_takeover = true,
            ("client_no_context_takeover", None) => params.client_no_context_takeover = true,
            ("server_max_window_bits", Some(v)) => {
                let bits = window_bits(v).ok_or_else(bad)?;
                if bits > config.server_max_window_bits {
                    return Err(bad());
                }
                params.server_max_window_bits = bits;
            }
            ("client_max_window_bits", Some(v)) => {
                let bits = window_bits(v).ok_or_else(bad)?;
                if bits > config.client_max_window_bits {
                    return Err(bad());
                }
                params.client_max_window_bits = bits;
            }
            _ => return Err(bad()),
        }
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Owned = Vec<(String, Vec<(String, Option<String>)>)>;

    fn ext(value: &str) -> Owned {
        parse_extensions(value)
            .unwrap()
            .into_iter()
            .map(|e| {
                (
                    e.name.to_owned(),
                    e.params
                        .into_iter()
                        .map(|(n, v)| (n.to_owned(), v.map(|v| v.into_owned())))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn extension_grammar() {
        assert_eq!(ext(""), vec![]);
        assert_eq!(
            ext("permessage-deflate; client_max_window_bits, x-foo;a=1; b=\"q\\\"x\" ,, bar"),
            vec![
                (
                    "permessage-deflate".into(),
                    vec![("client_max_window_bits".into(), None)]
                ),
                (
                    "x-foo".into(),
                    vec![
                        ("a".into(), Some("1".into())),
                        ("b".into(), Some("q\"x".into()))
                    ]
                ),
                ("bar".into(), vec![]),
            ]
        );
        for bad in [
            "a;",
            "a; =1",
            "a b",
            "a;b=",
            "a;b=\"open",
            ";x",
            "a;b=\"\x01\"",
        ] {
            assert!(parse_extensions(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn pathological_values_cost_linear_work() {
        // Node ws's CVE-2021-32640 was a token list that made parsing blow up.
        let values = [
            " ,".repeat(5000),
            "permessage-deflate".to_owned() + &"; x".repeat(3000),
            "a=\"\\\"".repeat(2500),
            "permessage-deflate,".repeat(700),
            "a".repeat(14_000),
            "x;y=\"".to_owned() + &"\\a".repeat(5000),
        ];
        for value in values {
            let (_, work) = parse_counting_work(&value);
            assert!(
                work <= 4 * value.len() + 16,
                "{work} looks for {} bytes",
                value.len()
            );
        }
    }

    #[test]
    fn window_bits_values() {
        for (v, bits) in [
            ("8", Some(8)),
            ("9", Some(9)),
            ("10", Some(10)),
            ("15", Some(15)),
        ] {
            assert_eq!(window_bits(v), bits);
        }
        for v in ["7", "16", "08", "", "1", "+9", "9.0", "255"] {
            assert_eq!(window_bits(v), None, "{v}");
        }
    }
}
