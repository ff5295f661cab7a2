//! The server's side of the opening handshake: [`Upgrader`].

use std::fmt;
use std::time::Instant;

use super::{accept_key, is_valid_key};
use crate::config::Config;
use crate::conn::{Conn, Info};
use crate::deflate::{self, DeflateParams};
use crate::error::{Error, HandshakeError, Result};
use crate::http::{self, HeadError, HeadWriter, Headers, Request};
use crate::proto::Role;
use crate::stream::{SavedTimeouts, Stream, StreamOps};

type OriginCheck = dyn Fn(&Request) -> bool + Send + Sync;

/// What the server agreed to.
struct Agreed {
    subprotocol: Option<String>,
    deflate: Option<DeflateParams>,
}
type RequestCheck = dyn Fn(&Request, &mut Headers) -> Result<(), Rejection> + Send + Sync;

/// Which side's order of preference picks the subprotocol when several would do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SubprotocolOrder {
    /// The first protocol in the server's list that the client offered (gorilla's rule).
    #[default]
    Server,
    /// The first protocol the client offered that is in the server's list (the oragono
    /// fork's rule: the client knows which of its protocols it prefers).
    Client,
}

/// A refusal from the request callback: the HTTP status, headers and body sent back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    status: u16,
    headers: Headers,
    body: String,
}

impl Rejection {
    /// A refusal with this status (e.g. 401, 403, 404, 429) and an empty body.
    pub fn new(status: u16) -> Rejection {
        Rejection {
            status,
            headers: Headers::new(),
            body: String::new(),
        }
    }

    /// Adds a response header, e.g. `WWW-Authenticate` or `Retry-After`.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Rejection {
        self.headers.push(name, value);
        self
    }

    /// Sets the response body (sent as `text/plain`).
    #[must_use]
    pub fn with_body(mut self, body: impl Into<String>) -> Rejection {
        self.body = body.into();
        self
    }

    /// The status.
    pub fn status(&self) -> u16 {
        self.status
    }
}

/// Accepts WebSocket connections: reads and checks the client's request and answers it
/// (gorilla's `Upgrader`).
///
/// Configure once, share between threads (it is `Send + Sync`), call
/// [`upgrade`](Self::upgrade) per connection. A request that is not an acceptable WebSocket
/// upgrade is answered with the proper HTTP error (400, 403, 405, 426 with
/// `Sec-WebSocket-Version: 13`, 431) and `upgrade` returns [`Error::Handshake`].
///
/// ```no_run
/// use std::net::TcpListener;
/// use wsio::{Upgrader, Message};
///
/// let upgrader = Upgrader::new().subprotocols(["chat.v2", "chat.v1"]);
/// let listener = TcpListener::bind("127.0.0.1:9001")?;
/// for stream in listener.incoming() {
///     let mut conn = upgrader.upgrade(stream?)?;
///     if let Message::Text(text) = conn.read_message()? {
///         conn.write_text(&text)?;
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Upgrader {
    config: Config,
    subprotocols: Vec<String>,
    order: SubprotocolOrder,
    check_origin: Option<Box<OriginCheck>>,
    check_request: Option<Box<RequestCheck>>,
}

impl Default for Upgrader {
    fn default() -> Upgrader {
        Upgrader::new()
    }
}

impl fmt::Debug for Upgrader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgrader")
            .field("config", &self.config)
            .field("subprotocols", &self.subprotocols)
            .field("order", &self.order)
            .finish_non_exhaustive()
    }
}

impl Upgrader {
    /// An upgrader with the default [`Config`], no subprotocols, the same-origin check and no
    /// request callback.
    pub fn new() -> Upgrader {
        Upgrader {
            config: Config::default(),
            subprotocols: Vec::new(),
            order: SubprotocolOrder::Server,
            check_origin: None,
            check_request: None,
        }
    }

    /// The configuration for the handshake and the connections.
    ///
    /// Defaults to [`Config::default`].
    #[must_use]
    pub fn config(mut self, config: Config) -> Upgrader {
        self.config = config;
        self
    }

    /// The subprotocols the server speaks, in its order of preference.
    ///
    /// Defaults to none: no `Sec-WebSocket-Protocol` is answered.
    #[must_use]
    pub fn subprotocols<I, T>(mut self, protocols: I) -> Upgrader
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.subprotocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Whose order of preference picks the subprotocol.
    ///
    /// Defaults to [`SubprotocolOrder::Server`].
    #[must_use]
    pub fn subprotocol_order(mut self, order: SubprotocolOrder) -> Upgrader {
        self.order = order;
        self
    }

    /// Replaces the origin check: return `true` to accept. A refused request is answered
    /// with 403.
    ///
    /// Defaults to gorilla's same-origin check: a request without `Origin` is accepted (it
    /// is not from a browser); otherwise the origin's host and port must equal the `Host`
    /// header's. This stops other web sites' pages from opening connections with your
    /// users' cookies (cross-site WebSocket hijacking).
    #[must_use]
    pub fn check_origin<F>(mut self, check: F) -> Upgrader
    where
        F: Fn(&Request) -> bool + Send + Sync + 'static,
    {
        self.check_origin = Some(Box::new(check));
        self
    }

    /// Accepts every origin. For test servers and servers that authenticate otherwise (not
    /// with cookies).
    #[must_use]
    pub fn allow_any_origin(self) -> Upgrader {
        self.check_origin(|_| true)
    }

    /// A callback that sees each request after the protocol checks (Voss's `AccessOk`). It
    /// may add headers to the 101 response, or refuse with a [`Rejection`], which is sent
    /// as the response.
    ///
    /// Defaults to none.
    ///
    /// ```
    /// use wsio::{Rejection, Upgrader};
    ///
    /// let upgrader = Upgrader::new().check_request(|request, response_headers| {
    ///     if request.header("Authorization") != Some("Bearer secret") {
    ///         return Err(Rejection::new(401).with_header("WWW-Authenticate", "Bearer"));
    ///     }
    ///     response_headers.push("X-Server", "wsio");
    ///     Ok(())
    /// });
    /// ```
    #[must_use]
    pub fn check_request<F>(mut self, check: F) -> Upgrader
    where
        F: Fn(&Request, &mut Headers) -> Result<(), Rejection> + Send + Sync + 'static,
    {
        self.check_request = Some(Box::new(check));
        self
    }

    /// Reads the opening handshake request from `stream`, checks it, answers it, and returns
    /// the connection. The request is read incrementally (each byte is looked at once), at
    /// most [`Config::max_handshake_size`] bytes and [`Config::max_headers`] headers, within
    /// [`Config::handshake_timeout`]. Bytes the client sent after the request are kept as the
    /// start of the first frame. The stream's own timeouts are restored afterwards.
    ///
    /// # Errors
    ///
    /// [`Error::Handshake`] for a request that was refused (the HTTP error response has been
    /// sent) or that timed out or was cut short; [`Error::Io`].
    pub fn upgrade<S: Stream>(&self, mut stream: S) -> Result<Conn<S>> {
        let deadline = self.config.handshake_timeout().map(|t| Instant::now() + t);
        let saved = SavedTimeouts::take(&stream);
        let result = self.read_and_upgrade(&mut stream, deadline);
        saved.restore(&mut stream);
        let (request, leftover) = result?;
        self.answer(stream, &request, &leftover, deadline, saved)
    }

    /// Upgrades a connection whose request another HTTP parser already read: `leftover` is
    /// whatever that parser read past the request's head.
    ///
    /// # Errors
    ///
    /// As [`upgrade`](Self::upgrade).
    pub fn upgrade_with_request<S: Stream>(
        &self,
        stream: S,
        request: &Request,
        leftover: &[u8],
    ) -> Result<Conn<S>> {
        let deadline = self.config.handshake_timeout().map(|t| Instant::now() + t);
        let saved = SavedTimeouts::take(&stream);
        self.answer(stream, request, leftover, deadline, saved)
    }

    fn read_and_upgrade<S: Stream>(
        &self,
        stream: &mut S,
        deadline: Option<Instant>,
    ) -> Result<(Request, Vec<u8>)> {
        let head =
            http::read_head(stream, self.config.max_handshake_size(), deadline).and_then(|head| {
                let request = Request::parse(head.bytes(), self.config.max_headers())?;
                Ok((request, head.leftover().to_vec()))
            });
        let error = match head {
            Ok(parsed) => return Ok(parsed),
            Err(HeadError::TooLarge) => HandshakeError::TooLarge,
            Err(HeadError::TooManyHeaders) => HandshakeError::TooManyHeaders,
            Err(HeadError::Malformed) => HandshakeError::Malformed,
            // Nobody to answer: the client is gone or silent.
            Err(e) => return Err(e.into()),
        };
        Err(refuse(stream, deadline, error, &Headers::new(), ""))
    }

    /// Checks the request and sends the response.
    fn answer<S: Stream>(
        &self,
        mut stream: S,
        request: &Request,
        leftover: &[u8],
        deadline: Option<Instant>,
        saved: SavedTimeouts,
    ) -> Result<Conn<S>> {
        let mut extra = Headers::new();
        let verdict = self.check(request, &mut extra);
        let result = match verdict {
            Ok((agreed, extensions)) => {
                let key = request.header("Sec-WebSocket-Key").unwrap_or_default();
                let mut head = HeadWriter::response(101);
                head.header("Upgrade", "websocket")
                    .header("Connection", "Upgrade")
                    .header("Sec-WebSocket-Accept", &accept_key(key.as_bytes()));
                if let Some(p) = &agreed.subprotocol {
                    head.header("Sec-WebSocket-Protocol", p);
                }
                if let Some(extensions) = &extensions {
                    head.header("Sec-WebSocket-Extensions", extensions);
                }
                head.headers(&extra);
                http::write_all(&mut stream, deadline, head.finish("").as_bytes())
                    .map_err(Error::from)
                    .map(|()| agreed)
            }
            Err((error, headers, body)) => {
                Err(refuse(&mut stream, deadline, error, &headers, &body))
            }
        };
        saved.restore(&mut stream);
        let agreed = result?;
        let info = Info {
            role: Role::Server,
            config: self.config.clone(),
            subprotocol: agreed.subprotocol,
            deflate: agreed.deflate,
        };
        Ok(Conn::new(stream, leftover, info, Some(StreamOps::of())))
    }

    /// The protocol checks, then the origin, then the callback; picks the subprotocol and
    /// answers a permessage-deflate offer (with the response header's value).
    #[allow(clippy::type_complexity)]
    fn check(
        &self,
        request: &Request,
        extra: &mut Headers,
    ) -> Result<(Agreed, Option<String>), (HandshakeError, Headers, String)> {
        let plain = |e: HandshakeError| Err((e, Headers::new(), String::new()));
        let headers = &request.headers;
        if request.method != "GET" {
            let mut allow = Headers::new();
            allow.push("Allow", "GET");
            return Err((HandshakeError::MethodNotAllowed, allow, String::new()));
        }
        if request.version < 1 {
            return plain(HandshakeError::HttpVersion);
        }
        if !headers.contains_token("Upgrade", "websocket")
            || !headers.contains_token("Connection", "upgrade")
        {
            return plain(HandshakeError::NotUpgrade);
        }
        if !headers.tokens("Sec-WebSocket-Version").any(|v| v == "13") {
            let mut version = Headers::new();
            version.push("Upgrade", "websocket");
            version.push("Sec-WebSocket-Version", "13");
            return Err((HandshakeError::UnsupportedVersion, version, String::new()));
        }
        let mut keys = headers.get_all("Sec-WebSocket-Key");
        match (keys.next(), keys.next()) {
            (Some(key), None) if is_valid_key(key) => {}
            _ => return plain(HandshakeError::InvalidKey),
        }
        if request.header("Host").is_none_or(str::is_empty) {
            return plain(HandshakeError::MissingHost);
        }
        let origin_ok = match &self.check_origin {
            Some(check) => check(request),
            None => same_origin(request),
        };
        if !origin_ok {
            return plain(HandshakeError::OriginRejected);
        }
        if let Some(check) = &self.check_request {
            if let Err(rejection) = check(request, extra) {
                return Err((
                    HandshakeError::Rejected(rejection.status),
                    rejection.headers,
                    rejection.body,
                ));
            }
        }
        let negotiated = self.config.deflate().and_then(|config| {
            deflate::negotiate_server(headers.get_all("Sec-WebSocket-Extensions"), config)
        });
        let (deflate, extensions) = match negotiated {
            Some((params, response)) => (Some(params), Some(response)),
            None => (None, None),
        };
        let agreed = Agreed {
            subprotocol: self.pick_subprotocol(request),
            deflate,
        };
        Ok((agreed, extensions))
    }

    fn pick_subprotocol(&self, request: &Request) -> Option<String> {
        let offered: Vec<&str> = request.subprotocols().collect();
        let found = match self.order {
            SubprotocolOrder::Server => self
                .subprotocols
                .iter()
                .map(String::as_str)
                .find(|p| offered.contains(p)),
            SubprotocolOrder::Client => offered
                .iter()
                .copied()
                .find(|p| self.subprotocols.iter().any(|s| s == p)),
        };
        found.map(str::to_owned)
    }
}

/// Sends the HTTP error response for `error` and returns the error.
fn refuse<S: Stream>(
    s: &mut S,
    deadline: Option<Instant>,
    error: HandshakeError,
    headers: &Headers,
    body: &str,
) -> Error {
    let status = error.status().unwrap_or(400);
    let body = if body.is_empty() {
        error.to_string()
    } else {
        body.to_owned()
    };
    let mut head = HeadWriter::response(status);
    head.header("Connection", "close")
        .header("Content-Type", "text/plain; charset=utf-8")
        .headers(headers)
        .header("Content-Length", &body.len().to_string());
    // The client may be gone already; the handshake error is what matters.
    let _ = http::write_all(s, deadline, head.finish(&body).as_bytes());
    Error::Handshake(error)
}

/// gorilla's default origin check: no `Origin`, or one whose host and port are the `Host`
/// header's.
fn same_origin(request: &Request) -> bool {
    let Some(origin) = request.header("Origin") else {
        return true;
    };
    let Some(host) = request.header("Host") else {
        return false;
    };
    let Ok(origin) = url::Url::parse(origin) else {
        return false;
    };
    let Some(origin_host) = origin.host_str() else {
        return false;
    };
    let (host, port) = split_host_port(host);
    // A `Host` without a port means the scheme's default port, so the origin must not
    // name another one (`url` reports an explicit default port as none).
    let same_port = match port {
        None => origin.port().is_none(),
        Some(port) => Some(port) == origin.port_or_known_default(),
    };
    origin_host.eq_ignore_ascii_case(host) && same_port
}

/// `example.com:8080` -> (`example.com`, Some(8080)); `[::1]:80` -> (`[::1]`, Some(80)).
fn split_host_port(host: &str) -> (&str, Option<u16>) {
    let port_start = match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => i,
        _ => return (host, None),
    };
    match host[port_start + 1..].parse() {
        Ok(port) => (&host[..port_start], Some(port)),
        Err(_) => (host, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_origin(host: &str, origin: &str) -> Request {
        Request::new("GET", "/")
            .with_header("Host", host)
            .with_header("Origin", origin)
    }

    #[test]
    fn same_origin_rules() {
        assert!(same_origin(
            &Request::new("GET", "/").with_header("Host", "a")
        ));
        assert!(same_origin(&with_origin(
            "example.com",
            "https://example.com"
        )));
        assert!(same_origin(&with_origin(
            "Example.com:8080",
            "http://example.COM:8080"
        )));
        assert!(same_origin(&with_origin("[::1]:9001", "http://[::1]:9001")));
        assert!(!same_origin(&with_origin(
            "example.com:8080",
            "http://example.com"
        )));
        assert!(!same_origin(&with_origin(
            "example.com",
            "https://evil.com"
        )));
        assert!(!same_origin(&with_origin("example.com", "null")));
        // A Host without a port is the default port: an origin on another port differs.
        assert!(!same_origin(&with_origin(
            "example.com",
            "http://example.com:8080"
        )));
        assert!(same_origin(&with_origin(
            "example.com",
            "http://example.com:80"
        )));
        assert!(same_origin(&with_origin(
            "example.com:443",
            "https://example.com"
        )));
    }

    #[test]
    fn host_port_split() {
        assert_eq!(split_host_port("a:1"), ("a", Some(1)));
        assert_eq!(split_host_port("a"), ("a", None));
        assert_eq!(split_host_port("[::1]"), ("[::1]", None));
        assert_eq!(split_host_port("[::1]:2"), ("[::1]", Some(2)));
    }

    #[test]
    fn subprotocol_order() {
        let request = Request::new("GET", "/").with_header("Sec-WebSocket-Protocol", "b, a");
        let server = Upgrader::new().subprotocols(["a", "b"]);
        assert_eq!(server.pick_subprotocol(&request).as_deref(), Some("a"));
        let client = server.subprotocol_order(SubprotocolOrder::Client);
        assert_eq!(client.pick_subprotocol(&request).as_deref(), Some("b"));
        let none = Upgrader::new().subprotocols(["c"]);
        assert_eq!(none.pick_subprotocol(&request), None);
    }
}
