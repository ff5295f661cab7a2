//! Proxies a client dials through: HTTP `CONNECT` (through `http://` and `https://`
//! proxies) and SOCKS5 (`socks5://` resolves the server's name here, `socks5h://` lets the
//! proxy resolve it), chosen explicitly or from the environment as other tools read it.
//!
//! A proxy's credentials never show: not in `Debug`, not in `Display`, not in errors.

use std::fmt;
use std::io;
use std::net::{IpAddr, ToSocketAddrs};
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::error::{Error, HandshakeError, ProxyError};
use crate::http::{self, HeadError, HeadWriter, Response};
use crate::stream::{self, Stall, Stream};

/// How a proxy is spoken to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProxyKind {
    /// HTTP `CONNECT` over plain TCP.
    Http,
    /// HTTP `CONNECT` over TLS to the proxy.
    Https,
    /// SOCKS5, the server's name resolved here.
    Socks5,
    /// SOCKS5, the server's name resolved by the proxy.
    Socks5h,
}

impl ProxyKind {
    fn scheme(self) -> &'static str {
        match self {
            ProxyKind::Http => "http",
            ProxyKind::Https => "https",
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Socks5h => "socks5h",
        }
    }
}

/// A proxy to dial through: `http://`, `https://`, `socks5://` or `socks5h://`, with
/// credentials in the URL's user info (percent-decoded) when it needs them.
///
/// ```
/// let proxy = wsio::Proxy::parse("socks5h://alice:s%40cret@127.0.0.1:1080")?;
/// // The credentials never show.
/// assert_eq!(format!("{proxy:?}"), "Proxy(socks5h://***@127.0.0.1:1080)");
/// # Ok::<(), wsio::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    pub(crate) kind: ProxyKind,
    pub(crate) host: String,
    pub(crate) port: u16,
    credentials: Option<(String, String)>,
}

impl Proxy {
    /// Parses a proxy URL. A URL without a scheme is `http://`, as curl reads it. Default
    /// ports: 80 for `http`, 443 for `https`, 1080 for SOCKS.
    ///
    /// # Errors
    ///
    /// [`ProxyError::Url`] for a URL that does not parse, another scheme, no host, or
    /// SOCKS5 credentials longer than 255 bytes. The message never holds the credentials.
    pub fn parse(url: &str) -> Result<Proxy, Error> {
        let with_scheme = if url.contains("://") {
            url.to_owned()
        } else {
            format!("http://{url}")
        };
        let parsed = url::Url::parse(&with_scheme)
            .map_err(|e| ProxyError::Url(format!("does not parse: {e}")))?;
        let kind = match parsed.scheme() {
            "http" => ProxyKind::Http,
            "https" => ProxyKind::Https,
            "socks5" => ProxyKind::Socks5,
            "socks5h" => ProxyKind::Socks5h,
            other => {
                return Err(ProxyError::Url(format!(
                    "scheme {other:?} is not http, https, socks5 or socks5h"
                ))
                .into());
            }
        };
        let host = match parsed.host_str() {
            Some(host) if !host.is_empty() => host.to_owned(),
            _ => return Err(ProxyError::Url("no host".into()).into()),
        };
        let port = parsed.port().unwrap_or(match kind {
            ProxyKind::Http => 80,
            ProxyKind::Https => 443,
            ProxyKind::Socks5 | ProxyKind::Socks5h => 1080,
        });
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| ProxyError::Url("credentials are not valid UTF-8".into()))
        };
        let credentials = match (parsed.username(), parsed.password()) {
            ("", None) => None,
            (user, password) => Some((decode(user)?, decode(password.unwrap_or(""))?)),
        };
        if matches!(kind, ProxyKind::Socks5 | ProxyKind::Socks5h)
            && credentials
                .as_ref()
                .is_some_and(|(u, p)| u.len() > 255 || p.len() > 255)
        {
            return Err(ProxyError::Url("SOCKS5 credentials longer than 255 bytes".into()).into());
        }
        Ok(Proxy {
            kind,
            host,
            port,
            credentials,
        })
    }

    /// The proxy the environment names for a connection to `host` (`tls`: for `wss://`),
    /// as curl and Go read it: `https_proxy`/`HTTPS_PROXY` for `wss://`,
    /// `http_proxy`/`HTTP_PROXY` for `ws://`, `all_proxy`/`ALL_PROXY` otherwise (lower case
    /// first); none when `no_proxy`/`NO_PROXY` covers the host, or the host is loopback
    /// (`localhost`, 127.0.0.0/8, `::1`), which is never reached through an environment
    /// proxy. In a CGI program (`REQUEST_METHOD` set) `HTTP_PROXY` is ignored, as Go does:
    /// there a client's `Proxy:` request header becomes that variable ("httpoxy").
    pub(crate) fn from_env(host: &str, tls: bool) -> Result<Option<Proxy>, Error> {
        Proxy::from_vars(host, tls, |name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables read through `lookup`.
    fn from_vars(
        host: &str,
        tls: bool,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Proxy>, Error> {
        let var = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| lookup(n).filter(|v| !v.trim().is_empty()))
        };
        if is_loopback(host) {
            return Ok(None);
        }
        if var(&["no_proxy", "NO_PROXY"]).is_some_and(|list| bypasses(&list, host)) {
            return Ok(None);
        }
        let cgi = lookup("REQUEST_METHOD").is_some();
        let url = match (tls, cgi) {
            (true, _) => var(&["https_proxy", "HTTPS_PROXY"]),
            (false, false) => var(&["http_proxy", "HTTP_PROXY"]),
            (false, true) => var(&["http_proxy"]),
        }
        .or_else(|| var(&["all_proxy", "ALL_PROXY"]));
        url.map(|url| Proxy::parse(url.trim())).transpose()
    }

    /// `user:password` for Basic authentication.
    fn basic_credentials(&self) -> Option<String> {
        self.credentials
            .as_ref()
            .map(|(user, password)| BASE64.encode(format!("{user}:{password}")))
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Proxy({self})")
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = if self.credentials.is_some() {
            "***@"
        } else {
            ""
        };
        let host = match self.host.parse::<IpAddr>() {
            Ok(IpAddr::V6(_)) => format!("[{}]", self.host),
            _ => self.host.clone(),
        };
        write!(f, "{}://{auth}{host}:{}", self.kind.scheme(), self.port)
    }
}

/// Whether `host` is loopback: never proxied from the environment.
fn is_loopback(host: &str) -> bool {
    let host = crate::http::unbracket(host);
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether a `no_proxy` list covers `host`: `*`; a host name or a `.suffix` (which
/// covers the name and its subdomains); an IP address; an address range in CIDR notation.
/// A port after an entry is ignored.
pub(crate) fn bypasses(list: &str, host: &str) -> bool {
    let host = crate::http::unbracket(host);
    let ip = host.parse::<IpAddr>().ok();
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            if let Some((net, bits)) = entry.split_once('/') {
                return match (ip, net.parse::<IpAddr>(), bits.parse::<u8>()) {
                    (Some(ip), Ok(net), Ok(bits)) => in_range(ip, net, bits),
                    _ => false,
                };
            }
            let entry = strip_port(entry);
            if let (Some(ip), Ok(addr)) = (ip, entry.parse::<IpAddr>()) {
                return ip == addr;
            }
            let suffix = entry.trim_start_matches('*').trim_start_matches('.');
            !suffix.is_empty()
                && (host.eq_ignore_ascii_case(suffix)
                    || (host.len() > suffix.len()
                        && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
                        && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix)))
        })
}

/// `host:port` → `host`; `[::1]:80` → `::1`; an address with colons but no brackets is left.
fn strip_port(entry: &str) -> &str {
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.parse::<u16>().is_ok() => host,
        _ => entry,
    }
}

/// Whether `ip` is in `net`/`bits`.
fn in_range(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// `host:port` as a `CONNECT` target and `Host` value.
fn authority(host: &str, port: u16) -> String {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => format!("[{host}]:{port}"),
        _ => format!("{host}:{port}"),
    }
}

/// Asks an HTTP proxy for a tunnel to `host:port` over `stream` (TCP, or TLS to the proxy),
/// before `deadline`.
pub(crate) fn http_connect<S: Stream>(
    stream: &mut S,
    proxy: &Proxy,
    host: &str,
    port: u16,
    max_head: usize,
    max_headers: usize,
    deadline: Option<Instant>,
) -> Result<(), Error> {
    let target = authority(host, port);
    let mut head = HeadWriter::request("CONNECT", &target);
    let bad = |e| Error::InvalidInput(crate::InvalidInput::from(e));
    head.header("Host", &target).map_err(bad)?;
    if let Some(credentials) = proxy.basic_credentials() {
        head.header("Proxy-Authorization", &format!("Basic {credentials}"))
            .map_err(bad)?;
    }
    http::write_all(stream, deadline, head.finish("").as_bytes())?;
    let answer = http::read_head(stream, max_head, deadline, None).map_err(|e| match e {
        HeadError::Eof => ProxyError::Malformed("the proxy closed the connection").into(),
        HeadError::TooLarge | HeadError::TooManyHeaders => {
            ProxyError::Malformed("a CONNECT response past the handshake's limits").into()
        }
        e => Error::from(e),
    })?;
    let response = Response::parse(answer.bytes(), max_headers)
        .map_err(|_| ProxyError::Malformed("not an HTTP response to CONNECT"))?;
    if !(200..300).contains(&response.status()) {
        return Err(ProxyError::Refused {
            status: response.status(),
        }
        .into());
    }
    if !answer.leftover().is_empty() {
        return Err(ProxyError::Malformed("data before the tunnel opened").into());
    }
    Ok(())
}

/// Asks a SOCKS5 proxy (RFC 1928, with RFC 1929 username and password) for a connection to
/// `host:port` over `stream`, before `deadline`.
pub(crate) fn socks5_connect<S: Stream>(
    stream: &mut S,
    proxy: &Proxy,
    host: &str,
    port: u16,
    deadline: Option<Instant>,
) -> Result<(), Error> {
    let mut io = Deadlined { stream, deadline };
    // The greeting: no authentication, and username/password when there are credentials.
    let methods: &[u8] = match proxy.credentials {
        Some(_) => &[0x00, 0x02],
        None => &[0x00],
    };
    let mut greeting = vec![0x05, methods.len() as u8];
    greeting.extend_from_slice(methods);
    io.write(&greeting)?;
    let [version, method] = io.read::<2>()?;
    if version != 0x05 {
        return Err(ProxyError::Malformed("not a SOCKS5 proxy").into());
    }
    match (method, &proxy.credentials) {
        (0x00, _) => {}
        (0x02, Some((user, password))) => {
            let mut auth = vec![0x01, user.len() as u8];
            auth.extend_from_slice(user.as_bytes());
            auth.push(password.len() as u8);
            auth.extend_from_slice(password.as_bytes());
            io.write(&auth)?;
            let [_, status] = io.read::<2>()?;
            if status != 0x00 {
                return Err(ProxyError::SocksAuthFailed.into());
            }
        }
        (0xFF, _) => return Err(ProxyError::SocksNoAcceptableMethod.into()),
        _ => return Err(ProxyError::Malformed("a method that was not offered").into()),
    }
    // The request: the address as an IP (resolved here for socks5://) or a name.
    let mut request = vec![0x05, 0x01, 0x00];
    let bare = crate::http::unbracket(host);
    let ip = match (bare.parse::<IpAddr>(), proxy.kind) {
        (Ok(ip), _) => Some(ip),
        (Err(_), ProxyKind::Socks5) => Some(
            (bare, port)
                .to_socket_addrs()
                .map_err(Error::Io)?
                .next()
                .ok_or(crate::error::UrlError::NoAddress)?
                .ip(),
        ),
        (Err(_), _) => None,
    };
    match ip {
        Some(IpAddr::V4(v4)) => {
            request.push(0x01);
            request.extend_from_slice(&v4.octets());
        }
        Some(IpAddr::V6(v6)) => {
            request.push(0x04);
            request.extend_from_slice(&v6.octets());
        }
        None if bare.len() <= 255 => {
            request.push(0x03);
            request.push(bare.len() as u8);
            request.extend_from_slice(bare.as_bytes());
        }
        None => return Err(ProxyError::Url("a host name longer than 255 bytes".into()).into()),
    }
    request.extend_from_slice(&port.to_be_bytes());
    io.write(&request)?;
    let [version, reply, _, address_type] = io.read::<4>()?;
    if version != 0x05 {
        return Err(ProxyError::Malformed("not a SOCKS5 reply").into());
    }
    if reply != 0x00 {
        return Err(ProxyError::SocksRefused(reply).into());
    }
    // The address the proxy bound, which nothing here needs.
    let skip = match address_type {
        0x01 => 4,
        0x04 => 16,
        0x03 => usize::from(io.read::<1>()?[0]),
        _ => return Err(ProxyError::Malformed("an unknown address type").into()),
    };
    let mut rest = vec![0u8; skip + 2];
    io.read_exact(&mut rest)?;
    Ok(())
}

/// A stream whose reads and writes all end before one deadline; a timeout is the
/// handshake's.
struct Deadlined<'a, S> {
    stream: &'a mut S,
    deadline: Option<Instant>,
}

impl<S: Stream> Deadlined<'_, S> {
    fn failed(&self, e: io::Error) -> Error {
        match (e.kind(), stream::stall(&e, self.deadline.is_some())) {
            (io::ErrorKind::UnexpectedEof, _) => {
                ProxyError::Malformed("the proxy closed the connection").into()
            }
            (_, Some(Stall::TimedOut)) => HandshakeError::Timeout.into(),
            _ => Error::Io(e),
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        stream::write_all_before(self.stream, self.deadline, bytes).map_err(|e| self.failed(e))
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        stream::read_exact_before(self.stream, self.deadline, buf).map_err(|e| self.failed(e))
    }

    fn read<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut buf = [0u8; N];
        self.read_exact(&mut buf)?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;
    use crate::testing::{PipeEnd, pipe};

    #[test]
    fn proxy_urls_parse_with_default_ports_and_decoded_credentials() {
        let p = Proxy::parse("http://u%20ser:p%40ss@proxy.example:3128").unwrap();
        assert_eq!(
            (p.kind, p.host.as_str(), p.port),
            (ProxyKind::Http, "proxy.example", 3128)
        );
        assert_eq!(p.credentials, Some(("u ser".to_owned(), "p@ss".to_owned())));
        assert_eq!(Proxy::parse("proxy:8080").unwrap().kind, ProxyKind::Http);
        assert_eq!(Proxy::parse("https://p").unwrap().port, 443);
        assert_eq!(Proxy::parse("socks5h://p").unwrap().port, 1080);
        for bad in ["ftp://p", "http://", "socks5://:1"] {
            assert!(Proxy::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credentials_never_show() {
        let p = Proxy::parse("https://alice:hunter2@[::1]:8443").unwrap();
        for shown in [format!("{p}"), format!("{p:?}")] {
            assert!(
                !shown.contains("alice") && !shown.contains("hunter2"),
                "{shown}"
            );
        }
        assert_eq!(format!("{p}"), "https://***@[::1]:8443");
        let err = Proxy::parse("gopher://alice:hunter2@h")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn no_proxy_lists() {
        let list = "example.com, .internal, 10.0.0.0/8, 192.168.1.7, ::1, fd00::/8, host:8080";
        for host in [
            "example.com",
            "www.EXAMPLE.com",
            "a.b.internal",
            "10.1.2.3",
            "192.168.1.7",
            "[::1]",
            "fd12::1",
            "host",
        ] {
            assert!(bypasses(list, host), "{host}");
        }
        for host in [
            "notexample.com",
            "internal.org",
            "11.0.0.1",
            "192.168.1.8",
            "fe80::1",
        ] {
            assert!(!bypasses(list, host), "{host}");
        }
        assert!(bypasses("*", "anything"));
        assert!(!bypasses("", "anything"));
    }

    #[test]
    fn loopback_is_never_proxied_from_the_environment() {
        for host in ["localhost", "127.0.0.1", "127.9.9.9", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        assert!(!is_loopback("example.com"));
    }
    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn chosen(host: &str, tls: bool, vars: &[(&str, &str)]) -> Option<String> {
        Proxy::from_vars(host, tls, env(vars))
            .unwrap()
            .map(|p| p.to_string())
    }

    #[test]
    fn the_environment_names_the_proxy_by_scheme_with_all_proxy_as_fallback() {
        let vars = [
            ("http_proxy", "http://plain:1"),
            ("HTTPS_PROXY", "http://secure:2"),
            ("all_proxy", "socks5h://any:3"),
        ];
        assert_eq!(chosen("h.example", false, &vars).unwrap(), "http://plain:1");
        assert_eq!(chosen("h.example", true, &vars).unwrap(), "http://secure:2");
        assert_eq!(
            chosen("h.example", true, &vars[..1]).as_deref(),
            None,
            "http_proxy is not for wss://"
        );
        assert_eq!(
            chosen("h.example", true, &[vars[0], vars[2]]).unwrap(),
            "socks5h://any:3"
        );
        // Lower case first; blank counts as unset.
        let both = [
            ("http_proxy", "http://lower:1"),
            ("HTTP_PROXY", "http://upper:2"),
        ];
        assert_eq!(chosen("h.example", false, &both).unwrap(), "http://lower:1");
        let blank = [("http_proxy", " "), ("HTTP_PROXY", "http://upper:2")];
        assert_eq!(
            chosen("h.example", false, &blank).unwrap(),
            "http://upper:2"
        );
    }

    #[test]
    fn a_cgi_program_ignores_http_proxy_in_upper_case() {
        let vars = [("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "http://evil:1")];
        assert_eq!(chosen("h.example", false, &vars), None);
        let vars = [("REQUEST_METHOD", "GET"), ("http_proxy", "http://ok:1")];
        assert_eq!(chosen("h.example", false, &vars).unwrap(), "http://ok:1");
    }

    #[test]
    fn no_proxy_and_loopback_bypass_the_environments_proxy() {
        let vars = [
            ("all_proxy", "http://p:1"),
            ("NO_PROXY", ".corp, 10.0.0.0/8"),
        ];
        assert_eq!(chosen("git.corp", false, &vars), None);
        assert_eq!(chosen("10.2.3.4", true, &vars), None);
        assert!(chosen("example.com", false, &vars).is_some());
        for host in ["localhost", "127.0.0.1", "[::1]"] {
            assert_eq!(chosen(host, false, &vars[..1]), None, "{host}");
        }
        // A proxy URL that does not parse is an error, not a direct connection.
        assert!(Proxy::from_vars("example.com", false, env(&[("all_proxy", "ftp://x")])).is_err());
    }

    /// Runs `connect` against a proxy that follows `script`: for each step, it reads that
    /// many bytes (0: an HTTP head) and answers. Returns the result and all it read.
    fn against(
        script: &'static [(usize, &'static [u8])],
        connect: impl FnOnce(&mut PipeEnd) -> Result<(), Error>,
    ) -> (Result<(), Error>, Vec<u8>) {
        let (mut ours, mut proxy) = pipe();
        let peer = std::thread::spawn(move || {
            let mut request = Vec::new();
            for &(len, answer) in script {
                let start = request.len();
                let mut byte = [0u8; 1];
                while (len == 0 && !request.ends_with(b"\r\n\r\n"))
                    || (len > 0 && request.len() < start + len)
                {
                    if proxy.read(&mut byte).unwrap_or(0) == 0 {
                        return request;
                    }
                    request.push(byte[0]);
                }
                let _ = proxy.write_all(answer);
            }
            request
        });
        let result = connect(&mut ours);
        (result, peer.join().unwrap())
    }

    fn http(ours: &mut PipeEnd, proxy: &str) -> Result<(), Error> {
        let proxy = Proxy::parse(proxy).unwrap();
        http_connect(ours, &proxy, "server.example", 443, 8192, 64, None)
    }

    #[test]
    fn http_connect_sends_basic_credentials_decoded_and_reports_a_refusal_without_them() {
        let (result, request) = against(
            &[(
                0,
                b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
            )],
            |ours| http(ours, "http://alice:s3cr%40t@proxy:3128"),
        );
        let request = String::from_utf8(request).unwrap();
        assert!(
            request.starts_with("CONNECT server.example:443 HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(
            request.contains("Host: server.example:443\r\n"),
            "{request}"
        );
        let credentials = BASE64.encode("alice:s3cr@t");
        assert!(
            request.contains(&format!("Proxy-Authorization: Basic {credentials}\r\n")),
            "{request}"
        );
        let err = result.unwrap_err();
        assert!(
            matches!(err, Error::Proxy(ProxyError::Refused { status: 407 })),
            "{err}"
        );
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains("alice") && !shown.contains("s3cr"),
            "{shown}"
        );
    }

    #[test]
    fn http_connect_opens_the_tunnel_on_2xx_only() {
        let (ok, request) = against(
            &[(0, b"HTTP/1.1 200 Connection established\r\n\r\n")],
            |o| http(o, "http://proxy:3128"),
        );
        ok.unwrap();
        assert!(
            !String::from_utf8(request)
                .unwrap()
                .contains("Proxy-Authorization")
        );
        let (bad_gateway, _) = against(&[(0, b"HTTP/1.1 502 Bad Gateway\r\n\r\n")], |o| {
            http(o, "http://proxy:3128")
        });
        assert!(matches!(
            bad_gateway,
            Err(Error::Proxy(ProxyError::Refused { status: 502 }))
        ));
        let (early, _) = against(&[(0, b"HTTP/1.1 200 OK\r\n\r\nhello")], |o| {
            http(o, "http://proxy:3128")
        });
        assert!(matches!(early, Err(Error::Proxy(ProxyError::Malformed(_)))));
        let (not_http, _) = against(&[(0, b"SSH-2.0-OpenSSH\r\n\r\n")], |o| {
            http(o, "http://proxy:3128")
        });
        assert!(matches!(
            not_http,
            Err(Error::Proxy(ProxyError::Malformed(_)))
        ));
    }

    fn socks(ours: &mut PipeEnd, proxy: &str, host: &str) -> Result<(), Error> {
        socks5_connect(ours, &Proxy::parse(proxy).unwrap(), host, 8080, None)
    }

    #[test]
    fn socks5h_sends_the_name_and_authenticates_with_username_and_password() {
        // Method 2 chosen, auth ok, connect ok with an IPv4 bound address.
        let script: &[(usize, &[u8])] = &[
            (4, &[5, 2]),
            (12, &[1, 0]),
            (21, &[5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90]),
        ];
        let (result, request) = against(script, |o| {
            socks(o, "socks5h://alice:pass@p", "server.example")
        });
        result.unwrap();
        let mut expected = vec![5, 2, 0, 2, 1, 5];
        expected.extend(b"alice");
        expected.extend([4]);
        expected.extend(b"pass");
        expected.extend([5, 1, 0, 3, 14]);
        expected.extend(b"server.example");
        expected.extend([0x1f, 0x90]);
        assert_eq!(request, expected);
    }

    #[test]
    fn socks5_refusals_are_typed() {
        let (wrong_password, _) = against(&[(4, &[5, 2]), (13, &[1, 1])], |o| {
            socks(o, "socks5://alice:wrong@p", "127.0.0.1")
        });
        assert!(matches!(
            wrong_password,
            Err(Error::Proxy(ProxyError::SocksAuthFailed))
        ));
        let (wants_auth, _) = against(&[(3, &[5, 0xFF])], |o| socks(o, "socks5://p", "127.0.0.1"));
        assert!(matches!(
            wants_auth,
            Err(Error::Proxy(ProxyError::SocksNoAcceptableMethod))
        ));
        let (refused, request) = against(&[(3, &[5, 0]), (10, &[5, 5, 0, 1])], |o| {
            socks(o, "socks5://p", "127.0.0.1")
        });
        assert!(matches!(
            refused,
            Err(Error::Proxy(ProxyError::SocksRefused(5)))
        ));
        // socks5:// sends an address, never the name.
        assert_eq!(&request[3..], &[5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90]);
    }

    #[test]
    fn a_silent_proxy_cannot_outlast_the_handshake_deadline() {
        let (mut ours, _proxy) = pipe();
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(200);
        let proxy = Proxy::parse("http://p:1").unwrap();
        let err = http_connect(&mut ours, &proxy, "h", 80, 8192, 64, Some(deadline)).unwrap_err();
        assert!(
            matches!(err, Error::Handshake(HandshakeError::Timeout)),
            "{err}"
        );
        let proxy = Proxy::parse("socks5://p:1").unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(200);
        let err = socks5_connect(&mut ours, &proxy, "127.0.0.1", 80, Some(deadline)).unwrap_err();
        assert!(
            matches!(err, Error::Handshake(HandshakeError::Timeout)),
            "{err}"
        );
    }
}
