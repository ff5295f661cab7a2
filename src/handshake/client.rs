//! The client's side of the opening handshake: [`Dialer`].

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::{accept_key, is_handshake_header, new_key};
use crate::config::Config;
use crate::conn::Conn;
use crate::deflate;
use crate::error::{HandshakeError, InvalidInput, Result, UrlError};
use crate::http::{self, HeadWriter, Headers, Response};
use crate::info::Info;
use crate::proto::Role;
use crate::stream::{Interest, Pace, SavedTimeouts, Stream, StreamOps};
use crate::transport::proxy::Proxy;
use crate::transport::{MaybeTlsStream, Route};

/// The most body bytes of a refused handshake kept in [`Response::body`].
const MAX_BODY: usize = 1024;

/// Opens WebSocket connections (gorilla's `Dialer`): `ws://`, and `wss://` with a TLS
/// feature; directly or through a proxy.
///
/// ```no_run
/// let (mut conn, _response) = wsio::Dialer::new()
///     .subprotocols(["chat.v1"])
///     .header("Authorization", "Bearer secret")
///     .dial("ws://127.0.0.1:9001/chat")?;
/// conn.write_text("hello")?;
/// # Ok::<(), wsio::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Dialer {
    config: Config,
    headers: Headers,
    subprotocols: Vec<String>,
    connect_timeout: Option<Duration>,
    proxy: ProxyChoice,
    #[cfg(feature = "rustls")]
    tls_config: Option<std::sync::Arc<rustls::ClientConfig>>,
}

/// Where a dial's proxy comes from.
#[derive(Clone, Debug)]
enum ProxyChoice {
    /// The environment's (`http_proxy`, `https_proxy`, `all_proxy`, `no_proxy`).
    Environment,
    /// None.
    Direct,
    /// This one, for every server.
    Explicit(Proxy),
}

impl Default for Dialer {
    fn default() -> Dialer {
        Dialer::new()
    }
}

/// The parts of a `ws://` or `wss://` URL a handshake needs.
struct Target {
    url: url::Url,
    /// The `Host` header: host, and port unless it is the scheme's default.
    host: String,
    /// Path and query.
    resource: String,
    tls: bool,
}

impl Target {
    fn parse(input: &str) -> Result<Target, UrlError> {
        let url = url::Url::parse(input).map_err(UrlError::Parse)?;
        let tls = match url.scheme() {
            "ws" => false,
            "wss" => true,
            other => return Err(UrlError::UnsupportedScheme(other.to_owned())),
        };
        // The URL standard reads `ws:///chat` and `ws:chat` as the host `chat`; a WebSocket
        // URL names its host after `//` (RFC 6455 3).
        let after_scheme = input.trim_start()[url.scheme().len() + 1..].trim_start();
        let authority = after_scheme.strip_prefix("//").unwrap_or("");
        if authority.is_empty() || authority.starts_with(['/', '\\', '?', '#']) {
            return Err(UrlError::MissingHost);
        }
        if url.fragment().is_some() {
            return Err(UrlError::Fragment);
        }
        let mut host = url.host_str().ok_or(UrlError::MissingHost)?.to_owned();
        if host.is_empty() {
            return Err(UrlError::MissingHost);
        }
        if let Some(port) = url.port() {
            write!(host, ":{port}").expect("writing to a String");
        }
        let mut resource = url.path().to_owned();
        if resource.is_empty() {
            resource.push('/');
        }
        if let Some(query) = url.query() {
            resource.push('?');
            resource.push_str(query);
        }
        Ok(Target {
            url,
            host,
            resource,
            tls,
        })
    }
}

impl Dialer {
    /// A dialer with the default [`Config`], no extra headers, no subprotocols and a 10-second
    /// connect timeout.
    pub fn new() -> Dialer {
        Dialer {
            config: Config::default(),
            headers: Headers::new(),
            subprotocols: Vec::new(),
            connect_timeout: Some(Duration::from_secs(10)),
            proxy: ProxyChoice::Environment,
            #[cfg(feature = "rustls")]
            tls_config: None,
        }
    }

    /// The configuration for the handshake and the connection.
    ///
    /// Defaults to [`Config::default`].
    #[must_use]
    pub fn config(mut self, config: Config) -> Dialer {
        self.config = config;
        self
    }

    /// Adds a header to the request (e.g. `Authorization`, `Origin`, `Cookie`). A `Host`
    /// header replaces the one taken from the URL. The handshake's own headers (`Upgrade`,
    /// `Connection`, `Sec-WebSocket-*`: set subprotocols with
    /// [`subprotocols`](Self::subprotocols)) are refused, and so are names that are not
    /// tokens and values with control characters (CR, LF, NUL: header injection): the dial
    /// fails with [`InvalidInput`](crate::InvalidInput) before connecting.
    ///
    /// Defaults to none.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Dialer {
        self.headers.push(name, value);
        self
    }

    /// The subprotocols to offer, most preferred first. Each must be a token; the server must
    /// answer with one of them or none.
    ///
    /// Defaults to none.
    #[must_use]
    pub fn subprotocols<I, T>(mut self, protocols: I) -> Dialer
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.subprotocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// The time limit for connecting in [`dial`](Self::dial): every address the server's
    /// (or the proxy's) name resolves to is tried in turn, all within it. `None` leaves each
    /// attempt to the operating system.
    ///
    /// Defaults to 10 seconds.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Dialer {
        self.connect_timeout = timeout;
        self
    }

    /// Dials through this proxy, whatever the environment says.
    ///
    /// Defaults to the environment's proxy, as curl and Go read it: `https_proxy` (or
    /// `HTTPS_PROXY`) for `wss://`, `http_proxy` (or `HTTP_PROXY`) for `ws://`, `all_proxy`
    /// (or `ALL_PROXY`) otherwise, none for a host that `no_proxy` (or `NO_PROXY`) covers (a
    /// name, a `.suffix`, an IP address, a CIDR range, or `*`). A loopback server
    /// (`localhost`, 127.0.0.0/8, `::1`) is never reached through the environment's proxy;
    /// set one here to do that.
    #[must_use]
    pub fn proxy(mut self, proxy: Proxy) -> Dialer {
        self.proxy = ProxyChoice::Explicit(proxy);
        self
    }

    /// Dials directly, whatever the environment says.
    #[must_use]
    pub fn no_proxy(mut self) -> Dialer {
        self.proxy = ProxyChoice::Direct;
        self
    }

    /// The TLS config for `wss://` and `https://` proxies: your roots (a private CA), client
    /// certificates, ALPN (`http/1.1` if any, never `h2`: the upgrade is HTTP/1.1). Build it
    /// with a crypto provider named (`ClientConfig::builder_with_provider`) unless your
    /// program installs a process-wide default.
    ///
    /// Defaults to the roots of the build's features: the platform's
    /// (`rustls-tls-native-roots`) and Mozilla's (`rustls-tls-webpki-roots`).
    #[cfg(feature = "rustls")]
    #[must_use]
    pub fn tls_config(mut self, config: std::sync::Arc<rustls::ClientConfig>) -> Dialer {
        self.tls_config = Some(config);
        self
    }

    /// Connects to a `ws://` or `wss://` URL, through the proxy if there is one, and
    /// performs the handshake. The handshake timeout covers the proxy's part, TLS and the
    /// HTTP upgrade together; the connect timeout, reaching the first TCP peer (shared by
    /// the addresses a name resolves to). Resolving names is the system resolver's, bounded
    /// by its own settings, not by these timeouts.
    ///
    /// `wss://` verifies the server's certificate against the config given to
    /// `tls_config` (with the `rustls` feature), or the roots of the build's features, for the URL's
    /// host (a name, or an IP address).
    ///
    /// # Errors
    ///
    /// [`Error::Url`](crate::Error::Url) for a URL that cannot be dialed (`wss://` without a TLS feature);
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) for a header or subprotocol that cannot be sent (checked
    /// before connecting); [`Error::Io`](crate::Error::Io) when no address accepts the connection;
    /// [`Error::Proxy`](crate::Error::Proxy) when the proxy refuses; [`Error::Tls`](crate::Error::Tls) when TLS fails (an
    /// unverifiable certificate, say); as [`handshake`](Self::handshake).
    pub fn dial(&self, url: &str) -> Result<(Conn<MaybeTlsStream>, Response)> {
        let target = Target::parse(url)?;
        #[cfg(not(feature = "rustls"))]
        if target.tls {
            return Err(UrlError::TlsUnsupported.into());
        }
        self.request(&target, "")?;
        let host = target.url.host_str().unwrap_or_default();
        let port = target.url.port_or_known_default().unwrap_or(80);
        let proxy = match &self.proxy {
            ProxyChoice::Explicit(proxy) => Some(proxy.clone()),
            ProxyChoice::Direct => None,
            ProxyChoice::Environment => Proxy::from_env(host, target.tls)?,
        };
        let route = Route {
            host,
            port,
            tls: target.tls,
            proxy: proxy.as_ref(),
            connect_timeout: self.connect_timeout,
            #[cfg(feature = "rustls")]
            tls_config: self.tls_config.clone(),
            max_head: self.config.max_handshake_size(),
            max_headers: self.config.max_headers(),
        };
        // The handshake's time starts once a TCP peer answered.
        let deadline = std::cell::Cell::new(None);
        let stream = route.open(|| {
            let d = self.config.handshake_timeout().map(|t| Instant::now() + t);
            deadline.set(d);
            d
        })?;
        self.handshake_by(stream, &target, deadline.get())
    }

    /// Performs the client handshake over a connected stream (TCP, TLS, Unix socket, ...).
    /// `url` gives the `Host` header and the request target; its scheme may be `ws` or
    /// `wss` (this function does no TLS itself).
    ///
    /// # Errors
    ///
    /// [`Error::Handshake`](crate::Error::Handshake): [`HandshakeError::Status`] with the server's response (status,
    /// headers, up to 1 KiB of body) if it did not answer 101; `InvalidAccept`,
    /// `NotUpgrade`, `UnofferedSubprotocol`, `UnofferedExtension` for a 101 that breaks
    /// RFC 6455; `Timeout` after [`Config::handshake_timeout`]. [`Error::Url`](crate::Error::Url), [`Error::Io`](crate::Error::Io).
    pub fn handshake<S: Stream>(&self, stream: S, url: &str) -> Result<(Conn<S>, Response)> {
        let target = Target::parse(url)?;
        let deadline = self.config.handshake_timeout().map(|t| Instant::now() + t);
        self.handshake_by(stream, &target, deadline)
    }

    fn handshake_by<S: Stream>(
        &self,
        mut stream: S,
        target: &Target,
        deadline: Option<Instant>,
    ) -> Result<(Conn<S>, Response)> {
        let saved = SavedTimeouts::take(&stream);
        let result = self.exchange(&mut stream, target, deadline);
        saved.restore(&mut stream);
        let (response, info, leftover) = result?;
        let conn = Conn::new(
            stream,
            &leftover,
            info,
            Some(StreamOps::of()),
            Pace::Blocking,
        );
        Ok((conn, response))
    }

    /// Sends the request, reads and checks the response.
    fn exchange<S: Stream>(
        &self,
        stream: &mut S,
        target: &Target,
        deadline: Option<Instant>,
    ) -> Result<(Response, Info, Vec<u8>)> {
        let key = new_key();
        http::write_all(stream, deadline, self.request(target, &key)?.as_bytes())?;

        let head = http::read_head(stream, self.config.max_handshake_size(), deadline, None)?;
        let mut response = Response::parse(head.bytes(), self.config.max_headers())?;
        if response.status != 101 {
            response.body = http::read_body_prefix(
                stream,
                &response.headers,
                head.leftover(),
                MAX_BODY,
                deadline,
            );
            return Err(HandshakeError::Status(Box::new(response)).into());
        }
        let info = check_upgrade(&response, &key, &self.subprotocols, &self.config)?;
        Ok((response, info, head.leftover().to_vec()))
    }

    /// Starts the opening handshake over a connected non-blocking stream (a `TcpStream`
    /// with `set_nonblocking(true)`, a TLS stream over one, ...), for an event loop:
    /// [`ClientHandshake::resume`] goes as far as the stream lets it each time it is
    /// called, and returns the connection once the server's 101 is read and checked. The
    /// handshake timeout counts from now. `url` is as for [`handshake`](Self::handshake).
    ///
    /// # Errors
    ///
    /// [`Error::Url`](crate::Error::Url); [`Error::InvalidInput`](crate::Error::InvalidInput)
    /// for headers or subprotocols that would break the request.
    pub fn start<S: Stream>(&self, stream: S, url: &str) -> Result<ClientHandshake<S>> {
        let target = Target::parse(url)?;
        let key = new_key();
        let request = self.request(&target, &key)?;
        Ok(ClientHandshake {
            stream: Some(stream),
            phase: ClientPhase::Sending {
                request: request.into_bytes(),
                sent: 0,
            },
            key,
            subprotocols: self.subprotocols.clone(),
            config: self.config.clone(),
            deadline: self.config.handshake_timeout().map(|t| Instant::now() + t),
        })
    }

    /// The request head. Every header and subprotocol is checked: nothing that would break
    /// the head (header injection) or contradict the handshake is sent.
    fn request(&self, target: &Target, key: &str) -> Result<String, InvalidInput> {
        if let Some(p) = self.subprotocols.iter().find(|p| !http::is_token(p)) {
            return Err(InvalidInput::Subprotocol(p.clone()));
        }
        if let Some((name, _)) = self.headers.iter().find(|(n, _)| is_handshake_header(n)) {
            return Err(InvalidInput::HandshakeHeader(name.to_owned()));
        }
        let mut head = HeadWriter::request("GET", &target.resource);
        if self.headers.get("Host").is_none() {
            head.header("Host", &target.host)?;
        }
        head.header("Upgrade", "websocket")?
            .header("Connection", "Upgrade")?
            .header("Sec-WebSocket-Key", key)?
            .header("Sec-WebSocket-Version", "13")?;
        if !self.subprotocols.is_empty() {
            head.header("Sec-WebSocket-Protocol", &self.subprotocols.join(", "))?;
        }
        if let Some(config) = self.config.deflate() {
            head.header("Sec-WebSocket-Extensions", &deflate::client_offer(config))?;
        }
        head.headers(&self.headers)?;
        Ok(head.finish(""))
    }
}

/// Checks a 101 against RFC 6455 and what was offered: what the handshake agreed.
fn check_upgrade(
    response: &Response,
    key: &str,
    offered: &[String],
    config: &Config,
) -> Result<Info> {
    let headers = &response.headers;
    if !headers.contains_token("Upgrade", "websocket")
        || !headers.contains_token("Connection", "upgrade")
    {
        return Err(HandshakeError::NotUpgrade.into());
    }
    if headers.get("Sec-WebSocket-Accept") != Some(accept_key(key.as_bytes()).as_str()) {
        return Err(HandshakeError::InvalidAccept.into());
    }
    let named: Vec<&str> = headers.get_all("Sec-WebSocket-Protocol").collect();
    let subprotocol = match named.as_slice() {
        [] => None,
        [p] if p.contains(',') => {
            return Err(HandshakeError::SeveralSubprotocols(p.to_string()).into());
        }
        [p] if offered.iter().any(|o| o == p) => Some(p.to_string()),
        [p] => return Err(HandshakeError::UnofferedSubprotocol(p.to_string()).into()),
        several => {
            return Err(HandshakeError::SeveralSubprotocols(several.join(", ")).into());
        }
    };
    let extensions: Vec<&str> = headers.get_all("Sec-WebSocket-Extensions").collect();
    let deflate = match (extensions.as_slice(), config.deflate()) {
        ([], _) => None,
        ([value], Some(deflate_config)) => Some(
            deflate::accept_response(value, deflate_config)
                .map_err(HandshakeError::InvalidExtension)?,
        ),
        (values, _) => {
            return Err(HandshakeError::UnofferedExtension(values.join(", ")).into());
        }
    };
    Ok(Info {
        subprotocol,
        deflate,
        ..Info::raw(Role::Client, config.clone())
    })
}

/// The opening handshake of a client over a non-blocking stream, made by
/// [`Dialer::start`]: an event loop calls [`resume`](Self::resume) whenever the stream is
/// ready for what [`interest`](Self::interest) says, or at [`deadline`](Self::deadline),
/// until it returns the connection or an error. A call that would block returns an error
/// for which [`Error::is_would_block`](crate::Error::is_would_block) is true, and loses
/// nothing: the next call goes on where it stopped.
pub struct ClientHandshake<S> {
    /// The stream, until the connection takes it.
    stream: Option<S>,
    phase: ClientPhase,
    key: String,
    subprotocols: Vec<String>,
    config: Config,
    deadline: Option<Instant>,
}

/// Where a client's handshake stands.
enum ClientPhase {
    /// Sending the request (`sent` bytes of it so far).
    Sending { request: Vec<u8>, sent: usize },
    /// Reading the response head.
    Reading(http::HeadReader),
    /// Over: the connection was returned, or the handshake failed.
    Done,
}

impl<S: Stream> ClientHandshake<S> {
    /// Goes on with the handshake as far as the stream allows: the connection, in
    /// non-blocking mode (see [`Conn::interest`]), and the server's response.
    ///
    /// # Errors
    ///
    /// `WouldBlock` ([`Error::is_would_block`](crate::Error::is_would_block)): call again
    /// when the stream is ready. Otherwise as [`Dialer::handshake`] (the body of a refusal
    /// is only what came with its head): the handshake is over, and later calls return
    /// [`Error::AlreadyClosed`](crate::Error::AlreadyClosed).
    pub fn resume(&mut self) -> Result<(Conn<S>, Response)> {
        let result = self.advance();
        match &result {
            Err(e) if e.is_would_block() => {}
            _ => self.phase = ClientPhase::Done,
        }
        result
    }

    fn advance(&mut self) -> Result<(Conn<S>, Response)> {
        let stream = self.stream.as_mut().ok_or(crate::Error::AlreadyClosed)?;
        if matches!(self.phase, ClientPhase::Done) {
            return Err(crate::Error::AlreadyClosed);
        }
        if self.deadline.is_some_and(|d| d <= Instant::now()) {
            return Err(HandshakeError::Timeout.into());
        }
        if let ClientPhase::Sending { request, sent } = &mut self.phase {
            super::send_nonblocking(stream, request, sent)?;
            self.phase = ClientPhase::Reading(http::HeadReader::new(
                self.config.max_handshake_size(),
                None,
            ));
        }
        let ClientPhase::Reading(reader) = &mut self.phase else {
            return Err(crate::Error::AlreadyClosed);
        };
        let head = reader.read(stream, |_| Ok(()), false)?;
        let mut response = Response::parse(head.bytes(), self.config.max_headers())?;
        if response.status != 101 {
            let body = head.leftover();
            response.body = http::read_body_prefix(stream, &response.headers, body, MAX_BODY, None);
            return Err(HandshakeError::Status(Box::new(response)).into());
        }
        let info = check_upgrade(&response, &self.key, &self.subprotocols, &self.config)?;
        let stream = self.stream.take().ok_or(crate::Error::AlreadyClosed)?;
        let conn = Conn::new(
            stream,
            head.leftover(),
            info,
            Some(StreamOps::of()),
            Pace::NonBlocking,
        );
        Ok((conn, response))
    }

    /// What the handshake waits for: to send the request, then to read the response (and
    /// to send what the stream holds unsent: a TLS handshake's flight).
    pub fn interest(&self) -> Interest {
        match self.phase {
            ClientPhase::Sending { .. } => Interest::Write,
            ClientPhase::Reading(_) => {
                let unsent = self.stream.as_ref().is_some_and(|s| s.unsent() > 0);
                Interest::of(true, unsent)
            }
            ClientPhase::Done => Interest::Nothing,
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

impl<S> std::fmt::Debug for ClientHandshake<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let phase = match self.phase {
            ClientPhase::Sending { .. } => "sending the request",
            ClientPhase::Reading(_) => "reading the response",
            ClientPhase::Done => "done",
        };
        f.debug_struct("ClientHandshake")
            .field("phase", &phase)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// Connects to a `ws://` URL with the default [`Dialer`].
///
/// # Errors
///
/// As [`Dialer::dial`].
pub fn dial(url: &str) -> Result<(Conn<MaybeTlsStream>, Response)> {
    Dialer::new().dial(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn targets() {
        let t = Target::parse("ws://example.com/chat?x=1").unwrap();
        assert_eq!(
            (t.host.as_str(), t.resource.as_str(), t.tls),
            ("example.com", "/chat?x=1", false)
        );
        let t = Target::parse("wss://example.com:8443").unwrap();
        assert_eq!(
            (t.host.as_str(), t.resource.as_str(), t.tls),
            ("example.com:8443", "/", true)
        );
        let t = Target::parse("ws://[::1]:9001/").unwrap();
        assert_eq!(t.host, "[::1]:9001");
        assert!(matches!(
            Target::parse("http://a/"),
            Err(UrlError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            Target::parse("ws://a/#frag"),
            Err(UrlError::Fragment)
        ));
        assert!(matches!(Target::parse("nonsense"), Err(UrlError::Parse(_))));
    }

    #[test]
    fn a_url_without_a_host_is_a_url_error() {
        // The URL standard reads these as the host "chat" or "x".
        for url in [
            "ws:///chat",
            "ws:chat",
            "wss:/chat",
            "WS:///x",
            "ws:\\\\chat",
        ] {
            assert!(
                matches!(Target::parse(url), Err(UrlError::MissingHost)),
                "{url}"
            );
        }
        for url in ["ws://", "ws://?q"] {
            assert!(Target::parse(url).is_err(), "{url}");
        }
        assert!(Target::parse("ws://chat/").is_ok());
    }

    #[test]
    fn headers_and_subprotocols_that_would_break_the_request_are_refused() {
        let target = Target::parse("ws://h/").unwrap();
        let injected = Dialer::new().header("X-Test", "1\r\nX-Injected: yes");
        assert_eq!(
            injected.request(&target, "K"),
            Err(InvalidInput::HeaderValue("X-Test".into()))
        );
        let name = Dialer::new().header("X Test", "1");
        assert_eq!(
            name.request(&target, "K"),
            Err(InvalidInput::HeaderName("X Test".into()))
        );
        let protocol = Dialer::new().subprotocols(["chat\r\nX: y"]);
        assert!(matches!(
            protocol.request(&target, "K"),
            Err(InvalidInput::Subprotocol(_))
        ));
        let own = Dialer::new().header("Sec-WebSocket-Protocol", "chat");
        assert!(matches!(
            own.request(&target, "K"),
            Err(InvalidInput::HandshakeHeader(_))
        ));
        // Refused before connecting: the port is closed, yet the error is the header's.
        let err = injected.dial("ws://127.0.0.1:1/").unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    }

    #[cfg(not(feature = "rustls"))]
    #[test]
    fn wss_without_tls_is_a_clear_error_not_a_connection() {
        let err = Dialer::new().dial("wss://127.0.0.1:1/").unwrap_err();
        assert!(matches!(err, Error::Url(UrlError::TlsUnsupported)), "{err}");
        assert!(err.to_string().contains("rustls-tls-webpki-roots"), "{err}");
    }

    #[test]
    fn request_carries_the_websocket_headers() {
        let dialer = Dialer::new().subprotocols(["a", "b"]).header("X-Test", "1");
        let request = dialer
            .request(&Target::parse("ws://h:81/p").unwrap(), "KEY")
            .unwrap();
        assert!(request.starts_with("GET /p HTTP/1.1\r\nHost: h:81\r\n"));
        for line in [
            "Upgrade: websocket\r\n",
            "Connection: Upgrade\r\n",
            "Sec-WebSocket-Key: KEY\r\n",
            "Sec-WebSocket-Version: 13\r\n",
            "Sec-WebSocket-Protocol: a, b\r\n",
            "X-Test: 1\r\n",
        ] {
            assert!(request.contains(line), "{line}");
        }
        assert!(request.ends_with("\r\n\r\n"));
    }
}
