//! The server's side of the opening handshake: [`Upgrader`], the [`Accept`] its request
//! callback shapes, and what it answers: a connection, an [`Accepted`] request for a server
//! that writes the response itself, or a [`Refusal`].

use std::any::Any;
use std::fmt;
use std::io::{Read, Write};
use std::time::Instant;

use super::{accept_key, is_handshake_header, is_valid_key};
use crate::config::Config;
use crate::conn::Conn;
use crate::deflate;
use crate::error::{Error, HandshakeError, InvalidInput, Result};
use crate::http::{self, HeadError, HeadWriter, Headers, Request, RequestPrefix};
use crate::info::{Info, RequestInfo};
use crate::proto::Role;
use crate::stream::{Interest, Pace, SavedTimeouts, Stream, StreamOps};

type OriginCheck = dyn Fn(&Request) -> bool + Send + Sync;
type RequestCheck = dyn Fn(&Request, &mut Accept<'_>) -> Result<(), Rejection> + Send + Sync;
type ErrorResponse = dyn Fn(&HandshakeError) -> Rejection + Send + Sync;

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

/// An HTTP response that refuses a request: its status, headers and body (sent as
/// `text/plain`). Made by a request callback to refuse, or by an error responder.
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

    /// Adds a response header, e.g. `WWW-Authenticate` or `Retry-After`. A name that is not
    /// a token or a value with a control character (CR, LF, NUL) is never written: the
    /// request is answered 500 instead and the handshake fails with
    /// [`InvalidInput`](crate::InvalidInput).
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

    /// The headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The whole response: status line, headers, `Content-Length` and body.
    fn to_head(&self) -> std::result::Result<String, InvalidInput> {
        let mut head = HeadWriter::response(self.status);
        head.header("Connection", "close")?
            .header("Content-Type", "text/plain; charset=utf-8")?
            .headers(&self.headers)?
            .header("Content-Length", &self.body.len().to_string())?;
        Ok(head.finish(&self.body))
    }
}

/// How the server accepts a request, as the request callback shapes it (Voss's `AccessOk`):
/// the subprotocol the response names, headers added to it, and a value the connection
/// carries. Refusing is the callback's `Err(Rejection)`.
///
/// Mistakes do not reach the wire: a subprotocol the client did not offer, a header that is
/// not valid HTTP or that belongs to the handshake. The first one is kept, and after the
/// callback the request is answered 500 and the handshake fails with that
/// [`InvalidInput`](crate::InvalidInput).
pub struct Accept<'r> {
    request: &'r Request,
    peer: Option<std::net::SocketAddr>,
    subprotocol: Option<String>,
    headers: Headers,
    value: Option<Box<dyn Any + Send + Sync>>,
    mistake: Option<InvalidInput>,
}

impl<'r> Accept<'r> {
    /// The client's address, when the stream has one (a TCP connection; not a Unix socket,
    /// nor a request checked with [`Upgrader::accept`]).
    pub fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        self.peer
    }

    /// The subprotocol the response will name: the [`Upgrader`]'s choice from its list, until
    /// changed here.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// Names `name` in the response instead. It must be one the client offered
    /// ([`Request::subprotocols`]).
    pub fn set_subprotocol(&mut self, name: &str) {
        if !http::is_token(name) {
            self.mistake(InvalidInput::Subprotocol(name.to_owned()));
        } else if !self.request.subprotocols().any(|p| p == name) {
            self.mistake(InvalidInput::UnofferedSubprotocol(name.to_owned()));
        } else {
            self.subprotocol = Some(name.to_owned());
        }
    }

    /// Names no subprotocol in the response.
    pub fn clear_subprotocol(&mut self) {
        self.subprotocol = None;
    }

    /// Adds a header to the response, e.g. `Set-Cookie`. Not a handshake header (`Upgrade`,
    /// `Connection`, `Sec-WebSocket-*`), which the handshake sets itself.
    pub fn header(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        if is_handshake_header(&name) {
            self.mistake(InvalidInput::HandshakeHeader(name));
        } else if let Err(e) = http::check_header(&name, &value) {
            self.mistake(e.into());
        } else {
            self.headers.push(name, value);
        }
    }

    /// Attaches a value to the connection, e.g. the authenticated user; the handler reads it
    /// with [`Conn::value`](crate::Conn::value). A later call replaces it.
    pub fn set_value<T: Any + Send + Sync>(&mut self, value: T) {
        self.value = Some(Box::new(value));
    }

    fn mistake(&mut self, e: InvalidInput) {
        self.mistake.get_or_insert(e);
    }
}

impl fmt::Debug for Accept<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accept")
            .field("subprotocol", &self.subprotocol)
            .field("headers", &self.headers)
            .field("value", &self.value.as_ref().map(|_| ".."))
            .finish_non_exhaustive()
    }
}

/// A request the [`Upgrader`] accepted, for an HTTP server that writes the response itself
/// (tiny_http's `Request::upgrade`, say): send status 101 with [`headers`](Self::headers),
/// then hand the upgraded stream to [`into_conn`](Self::into_conn).
pub struct Accepted {
    headers: Headers,
    info: Info,
}

impl Accepted {
    /// The response's headers but `Upgrade: websocket` and `Connection: Upgrade`, which an
    /// HTTP server's upgrade function adds itself (tiny_http's does; add them if yours does
    /// not): `Sec-WebSocket-Accept`, the agreed subprotocol and extensions, and those the
    /// request callback added.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The agreed subprotocol.
    pub fn subprotocol(&self) -> Option<&str> {
        self.info.subprotocol.as_deref()
    }

    /// The connection over the upgraded stream, after the 101 was sent; `leftover` is what
    /// was read from it past the request. With a [`Stream`], deadlines, the keepalive and
    /// the close timeout work.
    pub fn into_conn<S: Stream>(self, stream: S, leftover: &[u8]) -> Conn<S> {
        Conn::new(
            stream,
            leftover,
            self.info,
            Some(StreamOps::of()),
            Pace::Blocking,
        )
    }

    /// As [`into_conn`](Self::into_conn), for a stream that is only `Read + Write` (tiny_http
    /// hands back a `Box<dyn ReadWrite + Send>`): it cannot time out, so deadlines, the
    /// keepalive and the close timeout are unavailable, as with
    /// [`Conn::from_raw`](crate::Conn::from_raw).
    pub fn into_raw_conn<S: Read + Write>(self, stream: S, leftover: &[u8]) -> Conn<S> {
        Conn::new(stream, leftover, self.info, None, Pace::Blocking)
    }
}

impl fmt::Debug for Accepted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accepted")
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// A request the [`Upgrader`] refused: why, and the response to send.
#[derive(Debug)]
pub struct Refusal {
    error: Error,
    response: Rejection,
}

impl Refusal {
    /// Why: [`Error::Handshake`] with the rule the request broke or the callback's status,
    /// or [`Error::InvalidInput`] for a callback's mistake.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The response to send.
    pub fn response(&self) -> &Rejection {
        &self.response
    }

    /// The error, for `?`.
    pub fn into_error(self) -> Error {
        self.error
    }
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Error {
        refusal.error
    }
}

/// Accepts WebSocket connections: reads and checks the client's request and answers it
/// (gorilla's `Upgrader`).
///
/// Configure once, share between threads (it is `Send + Sync`), call
/// [`upgrade`](Self::upgrade) per connection, on the connection's own thread. A request
/// that is not an acceptable WebSocket upgrade is answered with the proper HTTP error
/// (400, 403, 405, 426 with `Sec-WebSocket-Version: 13`, 431) and `upgrade` returns
/// [`Error::Handshake`]: log it and carry on.
///
/// ```no_run
/// use std::net::TcpListener;
/// use std::sync::Arc;
/// use wsio::{Message, Upgrader};
///
/// let upgrader = Arc::new(Upgrader::new().subprotocols(["chat.v2", "chat.v1"]));
/// let listener = TcpListener::bind("127.0.0.1:9001")?;
/// for stream in listener.incoming() {
///     let Ok(stream) = stream else { continue };
///     let upgrader = Arc::clone(&upgrader);
///     std::thread::spawn(move || {
///         let mut conn = match upgrader.upgrade(stream) {
///             Ok(conn) => conn,
///             Err(e) => return eprintln!("handshake: {e}"),
///         };
///         while let Ok(Message::Text(text)) = conn.read_message() {
///             if conn.write_text(&text).is_err() {
///                 break;
///             }
///         }
///     });
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Upgrader {
    config: Config,
    subprotocols: Vec<String>,
    order: SubprotocolOrder,
    check_origin: Option<Box<OriginCheck>>,
    check_request: Option<Box<RequestCheck>>,
    keep_headers: Vec<String>,
    error_response: Option<Box<ErrorResponse>>,
    server_header: Option<String>,
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
            .field("keep_headers", &self.keep_headers)
            .finish_non_exhaustive()
    }
}

impl Upgrader {
    /// An upgrader with the default [`Config`], no subprotocols, the same-origin check, no
    /// request callback, no headers kept and plain-text error responses.
    pub fn new() -> Upgrader {
        Upgrader {
            config: Config::default(),
            subprotocols: Vec::new(),
            order: SubprotocolOrder::Server,
            check_origin: None,
            check_request: None,
            keep_headers: Vec::new(),
            error_response: None,
            server_header: None,
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

    /// The subprotocols the server speaks, in its order of preference. Names that are not
    /// tokens are never chosen.
    ///
    /// Defaults to none: no `Sec-WebSocket-Protocol` is answered, unless the request
    /// callback chooses one.
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

    /// A callback that sees each request after the protocol and origin checks (Voss's
    /// `AccessOk`), and either accepts it, shaping the response through [`Accept`] (the
    /// subprotocol, headers, a value for the connection), or refuses it with a
    /// [`Rejection`], which is sent as the response.
    ///
    /// Defaults to none.
    ///
    /// ```
    /// use wsio::{Rejection, Upgrader};
    ///
    /// struct User(String);
    ///
    /// let upgrader = Upgrader::new().check_request(|request, accept| {
    ///     let Some(user) = request.header("Authorization").and_then(|a| a.strip_prefix("Bearer "))
    ///     else {
    ///         return Err(Rejection::new(401).with_header("WWW-Authenticate", "Bearer"));
    ///     };
    ///     // The client's first choice, whatever it is.
    ///     if let Some(protocol) = request.subprotocols().next() {
    ///         accept.set_subprotocol(protocol);
    ///     }
    ///     accept.header("X-Server", "wsio");
    ///     accept.set_value(User(user.to_owned()));
    ///     Ok(())
    /// });
    /// ```
    #[must_use]
    pub fn check_request<F>(mut self, check: F) -> Upgrader
    where
        F: Fn(&Request, &mut Accept<'_>) -> Result<(), Rejection> + Send + Sync + 'static,
    {
        self.check_request = Some(Box::new(check));
        self
    }

    /// Request headers the connection keeps, for its handler to read with
    /// [`Conn::request`](crate::Conn::request) (the target and `Origin` are always kept).
    ///
    /// Defaults to none: an idle connection holds no more than it needs.
    #[must_use]
    pub fn keep_headers<I, T>(mut self, names: I) -> Upgrader
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.keep_headers = names.into_iter().map(Into::into).collect();
        self
    }

    /// Replaces the response to a request that breaks the protocol (gorilla's
    /// `Upgrader.Error`): given the error, return the response to send. The status it has
    /// is sent as is; a 426 always carries `Sec-WebSocket-Version: 13` and a 405 `Allow:
    /// GET`, as RFC 6455 and HTTP require.
    ///
    /// Defaults to a `text/plain` body naming the error, with the status
    /// [`HandshakeError::status`] gives.
    #[must_use]
    pub fn error_response<F>(mut self, respond: F) -> Upgrader
    where
        F: Fn(&HandshakeError) -> Rejection + Send + Sync + 'static,
    {
        self.error_response = Some(Box::new(respond));
        self
    }

    /// The configuration connections get.
    pub(crate) fn settings(&self) -> &Config {
        &self.config
    }

    /// The `Server:` header's value, if set.
    pub(crate) fn server_name(&self) -> Option<&str> {
        self.server_header.as_deref()
    }

    /// A refusal as sent, with the `Server:` header (a plain 500 if the refusal cannot be
    /// sent as it is).
    pub(crate) fn rejection_bytes(&self, mut rejection: Rejection) -> Vec<u8> {
        if let Some(server) = &self.server_header {
            rejection.headers.push("Server", server.as_str());
        }
        rejection
            .to_head()
            .or_else(|_| Rejection::new(500).to_head())
            .unwrap_or_default()
            .into_bytes()
    }

    /// A `Server:` header for every response (the 101 and refusals), e.g. `"myapp/1.2"`.
    /// A value with a control character is never written: the response fails with
    /// [`InvalidInput`](crate::InvalidInput) instead.
    ///
    /// Defaults to none.
    #[must_use]
    pub fn server_header(mut self, value: impl Into<String>) -> Upgrader {
        self.server_header = Some(value.into());
        self
    }

    /// Reads the opening handshake request from `stream`, checks it, answers it, and returns
    /// the connection. The request is read incrementally (each byte is looked at once), at
    /// most [`Config::max_handshake_size`] bytes and [`Config::max_headers`] headers, within
    /// [`Config::handshake_timeout`]; bytes that cannot be part of an HTTP request (a TLS
    /// ClientHello, random bytes) are answered 400 as soon as they arrive. Bytes the client
    /// sent after the request are kept as the start of the first frame. The stream's own
    /// timeouts are restored afterwards.
    ///
    /// Call it on the connection's own thread: it waits for the client, up to the handshake
    /// timeout.
    ///
    /// # Errors
    ///
    /// [`Error::Handshake`] for a request that was refused (the HTTP error response has been
    /// sent) or that timed out or was cut short; [`Error::InvalidInput`] for a mistake of
    /// the request callback (answered 500); [`Error::Io`].
    pub fn upgrade<S: Stream>(&self, stream: S) -> Result<Conn<S>> {
        let deadline = self.config.handshake_timeout().map(|t| Instant::now() + t);
        self.upgrade_by(stream, deadline)
    }

    /// Accepts TLS on `stream` (a `TcpStream`, say) with `acceptor`, then upgrades it as
    /// [`upgrade`](Self::upgrade) does. The TLS handshake and the HTTP upgrade together
    /// end within [`Config::handshake_timeout`]: a client that trickles its ClientHello
    /// cannot hold the thread longer.
    ///
    /// # Errors
    ///
    /// [`Error::Tls`] when the TLS handshake fails (with what went wrong, e.g. the client
    /// refused our certificate); [`HandshakeError::Timeout`] at the handshake timeout; as
    /// [`upgrade`](Self::upgrade).
    #[cfg(feature = "rustls")]
    pub fn upgrade_tls<S: Stream>(
        &self,
        stream: S,
        acceptor: &crate::TlsAcceptor,
    ) -> Result<Conn<crate::TlsStream<S>>> {
        let deadline = self.config.handshake_timeout().map(|t| Instant::now() + t);
        let saved = SavedTimeouts::take(&stream);
        let mut tls = acceptor.accept_before(stream, deadline)?;
        // The stream's own timeouts, as before the TLS handshake set its own.
        saved.restore(&mut tls);
        self.upgrade_by(tls, deadline)
    }

    fn upgrade_by<S: Stream>(&self, mut stream: S, deadline: Option<Instant>) -> Result<Conn<S>> {
        let saved = SavedTimeouts::take(&stream);
        let result = self.read_request(&mut stream, deadline);
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

    /// Checks a request that another HTTP server read and will answer itself, without the
    /// stream: the response to send, and how to make the connection once it is sent.
    ///
    /// # Errors
    ///
    /// A [`Refusal`] with the response to send instead.
    pub fn accept(&self, request: &Request) -> std::result::Result<Accepted, Refusal> {
        self.negotiate(request, None)
    }

    /// Reads a request head from `stream` within `deadline`, answering one that breaks
    /// HTTP or the limits.
    pub(crate) fn read_request<S: Stream>(
        &self,
        stream: &mut S,
        deadline: Option<Instant>,
    ) -> Result<(Request, Vec<u8>)> {
        let max = self.config.max_handshake_size();
        let head = http::read_head(stream, max, deadline, Some(RequestPrefix::default()));
        match self.take_request(head) {
            Ok(parsed) => Ok(parsed),
            Err(Unread::Gone(e)) => Err(e),
            Err(Unread::Refused(answer)) => {
                // The client may be gone already; the handshake error is what matters.
                let _ = http::write_all(stream, deadline, &answer.bytes);
                Err(answer.outcome.err().unwrap_or(Error::AlreadyClosed))
            }
        }
    }

    /// A request from a head that was read (or could not be): the request and the bytes
    /// after it, or the answer to a head that broke HTTP or the limits, or the error when
    /// there is nobody to answer (the client is gone or silent).
    fn take_request(
        &self,
        head: std::result::Result<http::Head, HeadError>,
    ) -> std::result::Result<(Request, Vec<u8>), Unread> {
        let head = head.and_then(|head| {
            let request = Request::parse(head.bytes(), self.config.max_headers())?;
            Ok((request, head.leftover().to_vec()))
        });
        let error = match head {
            Ok(parsed) => return Ok(parsed),
            Err(HeadError::TooLarge) => HandshakeError::TooLarge,
            Err(HeadError::TooManyHeaders) => HandshakeError::TooManyHeaders,
            Err(HeadError::Malformed) => HandshakeError::Malformed,
            Err(e) => return Err(Unread::Gone(e.into())),
        };
        Err(Unread::Refused(
            self.refused(self.refusal(error, Headers::new())),
        ))
    }

    /// A refusal as an answer, with the `Server:` header.
    fn refused(&self, mut refusal: Refusal) -> Answer {
        if let Some(server) = &self.server_header {
            refusal.response.headers.push("Server", server.as_str());
        }
        Answer::refusal(refusal)
    }

    /// Checks the request: the answer to send, and what follows once it is sent. The one
    /// place a request on a stream is answered, blocking or not.
    fn answer_for(&self, request: &Request, peer: Option<std::net::SocketAddr>) -> Answer {
        let accepted = match self.negotiate(request, peer) {
            Ok(accepted) => accepted,
            Err(refusal) => return self.refused(refusal),
        };
        let mut head = HeadWriter::response(101);
        let upgrade = head
            .header("Upgrade", "websocket")
            .and_then(|head| head.header("Connection", "Upgrade"))
            .and_then(|head| head.headers(&accepted.headers))
            .and_then(|head| match &self.server_header {
                Some(server) => head.header("Server", server),
                None => Ok(head),
            });
        match upgrade {
            Ok(_) => Answer {
                bytes: head.finish("").into_bytes(),
                outcome: Ok(Box::new(accepted)),
            },
            // The callback's headers were checked on the way in; the `Server:` header was
            // not: a plain 500 without it.
            Err(e) => Answer::refusal(Refusal {
                error: Error::InvalidInput(e.into()),
                response: Rejection::new(500).with_body("internal server error"),
            }),
        }
    }

    /// Checks the request and sends the response.
    pub(crate) fn answer<S: Stream>(
        &self,
        mut stream: S,
        request: &Request,
        leftover: &[u8],
        deadline: Option<Instant>,
        saved: SavedTimeouts,
    ) -> Result<Conn<S>> {
        let answer = self.answer_for(request, stream.peer_addr().ok());
        let sent = http::write_all(&mut stream, deadline, &answer.bytes);
        saved.restore(&mut stream);
        let accepted = match (answer.outcome, sent) {
            (Ok(accepted), Ok(())) => accepted,
            (Ok(_), Err(e)) => return Err(e.into()),
            // The client may be gone already; the handshake error is what matters.
            (Err(e), _) => return Err(e),
        };
        Ok(accepted.into_conn(stream, leftover))
    }

    /// Starts the opening handshake over a non-blocking stream (a `TcpStream` with
    /// `set_nonblocking(true)`, a TLS stream over one, ...), for an event loop:
    /// [`ServerHandshake::resume`] goes as far as the stream lets it each time it is
    /// called, and returns the connection when the 101 is sent. The handshake timeout
    /// counts from now.
    pub fn start<S: Stream>(&self, stream: S) -> ServerHandshake<S> {
        ServerHandshake {
            stream: Some(stream),
            phase: ServerPhase::Reading(http::HeadReader::new(
                self.config.max_handshake_size(),
                Some(RequestPrefix::default()),
            )),
            deadline: self.config.handshake_timeout().map(|t| Instant::now() + t),
        }
    }

    /// The protocol checks, then the origin, then the callback; picks the subprotocol and
    /// answers a permessage-deflate offer. The one place a request is decided.
    fn negotiate(
        &self,
        request: &Request,
        peer: Option<std::net::SocketAddr>,
    ) -> std::result::Result<Accepted, Refusal> {
        if let Err((error, headers)) = self.check_protocol(request) {
            return Err(self.refusal(error, headers));
        }
        let origin_ok = match &self.check_origin {
            Some(check) => check(request),
            None => same_origin(request),
        };
        if !origin_ok {
            return Err(self.refusal(HandshakeError::OriginRejected, Headers::new()));
        }
        let mut accept = Accept {
            request,
            peer,
            subprotocol: self.pick_subprotocol(request),
            headers: Headers::new(),
            value: None,
            mistake: None,
        };
        if let Some(check) = &self.check_request {
            if let Err(rejection) = check(request, &mut accept) {
                return Err(Refusal {
                    error: HandshakeError::Rejected(rejection.status).into(),
                    response: rejection,
                });
            }
        }
        if let Some(mistake) = accept.mistake {
            return Err(Refusal {
                error: mistake.into(),
                response: Rejection::new(500).with_body("internal server error"),
            });
        }
        let Accept {
            subprotocol,
            headers: extra,
            value,
            ..
        } = accept;
        let negotiated = self.config.deflate().and_then(|config| {
            deflate::negotiate_server(
                request.headers().get_all("Sec-WebSocket-Extensions"),
                config,
            )
        });
        let key = request.header("Sec-WebSocket-Key").unwrap_or_default();
        let mut headers = Headers::new();
        headers.push("Sec-WebSocket-Accept", accept_key(key.as_bytes()));
        if let Some(p) = &subprotocol {
            headers.push("Sec-WebSocket-Protocol", p.as_str());
        }
        if let Some((_, response)) = &negotiated {
            headers.push("Sec-WebSocket-Extensions", response.as_str());
        }
        for (name, value) in extra.iter() {
            headers.push(name, value);
        }
        let mut kept = Headers::new();
        for (name, value) in request.headers().iter() {
            if self
                .keep_headers
                .iter()
                .any(|k| k.eq_ignore_ascii_case(name))
            {
                kept.push(name, value);
            }
        }
        let info = Info {
            role: Role::Server,
            config: self.config.clone(),
            subprotocol,
            deflate: negotiated.map(|(params, _)| params),
            request: Some(Box::new(RequestInfo {
                target: request.target().to_owned(),
                origin: request.header("Origin").map(str::to_owned),
                headers: kept,
                value,
            })),
        };
        Ok(Accepted { headers, info })
    }

    /// The rules of RFC 6455 section 4.2.1 a request must follow; the headers a refusal must
    /// carry.
    fn check_protocol(
        &self,
        request: &Request,
    ) -> std::result::Result<(), (HandshakeError, Headers)> {
        let plain = |e: HandshakeError| Err((e, Headers::new()));
        let headers = request.headers();
        if request.method() != "GET" {
            let mut allow = Headers::new();
            allow.push("Allow", "GET");
            return Err((HandshakeError::MethodNotAllowed, allow));
        }
        if request.version < 1 {
            return plain(HandshakeError::HttpVersion);
        }
        if !headers.contains_token("Upgrade", "websocket")
            || !headers.contains_token("Connection", "upgrade")
        {
            return Err((HandshakeError::NotUpgrade, websocket_required()));
        }
        if !headers.tokens("Sec-WebSocket-Version").any(|v| v == "13") {
            return Err((HandshakeError::UnsupportedVersion, websocket_required()));
        }
        let mut keys = headers.get_all("Sec-WebSocket-Key");
        match (keys.next(), keys.next()) {
            (Some(key), None) if is_valid_key(key) => {}
            _ => return plain(HandshakeError::InvalidKey),
        }
        if request.header("Host").is_none_or(str::is_empty) {
            return plain(HandshakeError::MissingHost);
        }
        Ok(())
    }

    /// The response to a request that broke a rule: the error responder's, or plain text;
    /// with the headers the protocol requires for its status.
    fn refusal(&self, error: HandshakeError, required: Headers) -> Refusal {
        let mut response = match &self.error_response {
            Some(respond) => respond(&error),
            None => Rejection::new(error.status().unwrap_or(400)).with_body(error.to_string()),
        };
        for (name, value) in required.iter() {
            if response.status == error.status().unwrap_or(0)
                && response.headers.get(name).is_none()
            {
                response.headers.push(name, value);
            }
        }
        Refusal {
            error: error.into(),
            response,
        }
    }

    fn pick_subprotocol(&self, request: &Request) -> Option<String> {
        let offered: Vec<&str> = request.subprotocols().collect();
        let ours = self
            .subprotocols
            .iter()
            .map(String::as_str)
            .filter(|p| http::is_token(p));
        let found = match self.order {
            SubprotocolOrder::Server => ours.clone().find(|p| offered.contains(p)),
            SubprotocolOrder::Client => offered
                .iter()
                .copied()
                .find(|p| ours.clone().any(|s| s == *p)),
        };
        found.map(str::to_owned)
    }
}

/// What the server sends in answer to a request, and what follows once it is sent.
struct Answer {
    bytes: Vec<u8>,
    outcome: std::result::Result<Box<Accepted>, Error>,
}

impl Answer {
    /// A refusal's response (or, if its headers cannot be written, a plain 500) and its
    /// error.
    fn refusal(refusal: Refusal) -> Answer {
        let (bytes, error) = match refusal.response.to_head() {
            Ok(bytes) => (bytes, refusal.error),
            Err(mistake) => {
                let plain = Rejection::new(500).with_body("internal server error");
                let bytes = plain.to_head().unwrap_or_default();
                (bytes, Error::InvalidInput(mistake))
            }
        };
        Answer {
            bytes: bytes.into_bytes(),
            outcome: Err(error),
        }
    }
}

/// A request head that did not become a request.
enum Unread {
    /// Broke HTTP or a limit: this is the answer.
    Refused(Answer),
    /// Nobody to answer.
    Gone(Error),
}

/// The opening handshake of a server over a non-blocking stream, made by
/// [`Upgrader::start`]: an event loop calls [`resume`](Self::resume) whenever the stream
/// is ready for what [`interest`](Self::interest) says, or at
/// [`deadline`](Self::deadline), until it returns the connection or an error. A call that
/// would block returns an error for which [`Error::is_would_block`] is true, and loses
/// nothing: the next call goes on where it stopped. The handshake is never consumed by a
/// call that would block, so there is nothing to take back out of an error (tungstenite's
/// `MidHandshake` trap).
pub struct ServerHandshake<S> {
    /// The stream, until the connection takes it.
    stream: Option<S>,
    phase: ServerPhase,
    deadline: Option<Instant>,
}

/// Where a server's handshake stands.
enum ServerPhase {
    /// Reading the request head.
    Reading(http::HeadReader),
    /// Sending the answer (`sent` bytes of it so far); then the connection, over the
    /// bytes read past the request, or the refusal's error.
    Answering {
        answer: Answer,
        sent: usize,
        leftover: Vec<u8>,
    },
    /// Over: the connection was returned, or the handshake failed.
    Done,
}

impl<S: Stream> ServerHandshake<S> {
    /// Goes on with the handshake as far as the stream allows: the connection once the 101
    /// is sent (in non-blocking mode: see [`Conn::interest`]).
    ///
    /// # Errors
    ///
    /// `WouldBlock` ([`Error::is_would_block`]): call again when the stream is ready.
    /// Otherwise as [`Upgrader::upgrade`]: the handshake is over (a refused request has
    /// been answered first), and later calls return [`Error::AlreadyClosed`].
    pub fn resume(&mut self, upgrader: &Upgrader) -> Result<Conn<S>> {
        let result = self.advance(upgrader);
        match &result {
            Err(e) if e.is_would_block() => {}
            _ => self.phase = ServerPhase::Done,
        }
        result
    }

    fn advance(&mut self, upgrader: &Upgrader) -> Result<Conn<S>> {
        let stream = self.stream.as_mut().ok_or(Error::AlreadyClosed)?;
        if matches!(self.phase, ServerPhase::Done) {
            return Err(Error::AlreadyClosed);
        }
        if self.deadline.is_some_and(|d| d <= Instant::now()) {
            return Err(HandshakeError::Timeout.into());
        }
        if let ServerPhase::Reading(reader) = &mut self.phase {
            let head = reader.read(stream, |_| Ok(()), false);
            if let Err(HeadError::Io(e)) = &head {
                if e.kind() == std::io::ErrorKind::WouldBlock {
                    return Err(Error::Io(e.kind().into()));
                }
            }
            let (answer, leftover) = match upgrader.take_request(head) {
                Ok((request, leftover)) => (
                    upgrader.answer_for(&request, stream.peer_addr().ok()),
                    leftover,
                ),
                Err(Unread::Refused(answer)) => (answer, Vec::new()),
                Err(Unread::Gone(e)) => return Err(e),
            };
            self.phase = ServerPhase::Answering {
                answer,
                sent: 0,
                leftover,
            };
        }
        let ServerPhase::Answering { answer, sent, .. } = &mut self.phase else {
            return Err(Error::AlreadyClosed);
        };
        super::send_nonblocking(stream, &answer.bytes, sent)?;
        let ServerPhase::Answering {
            answer, leftover, ..
        } = std::mem::replace(&mut self.phase, ServerPhase::Done)
        else {
            return Err(Error::AlreadyClosed);
        };
        let accepted = answer.outcome?;
        let stream = self.stream.take().ok_or(Error::AlreadyClosed)?;
        Ok(Conn::new(
            stream,
            &leftover,
            accepted.info,
            Some(StreamOps::of()),
            Pace::NonBlocking,
        ))
    }

    /// What the handshake waits for: to read the request (and to send what the stream
    /// holds unsent: a TLS handshake's flight), then to send the answer.
    pub fn interest(&self) -> Interest {
        match self.phase {
            ServerPhase::Reading(_) => {
                let unsent = self.stream.as_ref().is_some_and(|s| s.unsent() > 0);
                Interest::of(true, unsent)
            }
            ServerPhase::Answering { .. } => Interest::Write,
            ServerPhase::Done => Interest::Nothing,
        }
    }

    /// When [`Config::handshake_timeout`] ends the handshake: call
    /// [`resume`](Self::resume) then, if not before, and it fails with
    /// [`HandshakeError::Timeout`].
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The stream (to register it with a poller, say); `None` once the connection has
    /// taken it.
    pub fn get_ref(&self) -> Option<&S> {
        self.stream.as_ref()
    }

    /// The stream; `None` once the connection has taken it. Reading or writing it
    /// directly corrupts the handshake.
    pub fn get_mut(&mut self) -> Option<&mut S> {
        self.stream.as_mut()
    }
}

impl<S> fmt::Debug for ServerHandshake<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let phase = match self.phase {
            ServerPhase::Reading(_) => "reading the request",
            ServerPhase::Answering { .. } => "answering",
            ServerPhase::Done => "done",
        };
        f.debug_struct("ServerHandshake")
            .field("phase", &phase)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// The headers of a 426: what to upgrade to (RFC 9110 15.5.22) and the one version spoken
/// (RFC 6455 4.4).
fn websocket_required() -> Headers {
    let mut headers = Headers::new();
    headers.push("Upgrade", "websocket");
    headers.push("Sec-WebSocket-Version", "13");
    headers
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
