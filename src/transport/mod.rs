//! Reaching a server for a [`Dialer`](crate::Dialer): resolve its name, connect (every address
//! in turn, all within the connect timeout), go through a proxy, and speak TLS for `wss://`;
//! and [`MaybeTlsStream`], the stream that comes out of it, which is [`Stream`] and [`Split`]
//! whatever it carries.

pub(crate) mod proxy;
#[cfg(feature = "rustls")]
pub mod tls;

use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::error::{Error, ProxyError, UrlError};
use crate::split::Split;
use crate::stream::{SavedTimeouts, Stream};
use proxy::{Proxy, ProxyKind};
#[cfg(feature = "rustls")]
use tls::TlsStream;

/// The stream [`Dialer::dial`](crate::Dialer::dial) connects: TCP, or TLS over TCP for
/// `wss://`, or what a proxy's tunnel needs. Like `TcpStream`, it is a [`Stream`] (timeouts,
/// shutdown, addresses) and splits ([`Split`]) into two handles of its own type.
#[non_exhaustive]
pub enum MaybeTlsStream {
    /// Plain TCP: `ws://`, directly or through an `http://` or SOCKS5 proxy.
    Plain(TcpStream),
    /// TLS over TCP: `wss://`, or `ws://` through an `https://` proxy.
    #[cfg(feature = "rustls")]
    Tls(TlsStream<TcpStream>),
    /// TLS inside TLS: `wss://` through an `https://` proxy.
    #[cfg(feature = "rustls")]
    TlsInTls(TlsStream<TlsStream<TcpStream>>),
}

/// Runs one expression on whichever stream a [`MaybeTlsStream`] holds.
macro_rules! each {
    ($stream:expr, $s:ident => $e:expr) => {
        match $stream {
            MaybeTlsStream::Plain($s) => $e,
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Tls($s) => $e,
            #[cfg(feature = "rustls")]
            MaybeTlsStream::TlsInTls($s) => $e,
        }
    };
}

impl Read for MaybeTlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        each!(self, s => s.read(buf))
    }
}

impl Write for MaybeTlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        each!(self, s => s.write(buf))
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        each!(self, s => s.write_vectored(bufs))
    }
    fn flush(&mut self) -> io::Result<()> {
        each!(self, s => s.flush())
    }
}

impl Stream for MaybeTlsStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        each!(self, s => Stream::set_read_timeout(s, timeout))
    }
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        each!(self, s => Stream::read_timeout(s))
    }
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        each!(self, s => Stream::set_write_timeout(s, timeout))
    }
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        each!(self, s => Stream::write_timeout(s))
    }
    fn shutdown(&mut self) -> io::Result<()> {
        each!(self, s => Stream::shutdown(s))
    }
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        each!(self, s => Stream::peer_addr(s))
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        each!(self, s => Stream::local_addr(s))
    }
    fn is_going_away(&self) -> bool {
        each!(self, s => Stream::is_going_away(s))
    }
    fn unsent(&self) -> usize {
        each!(self, s => Stream::unsent(s))
    }
    fn short_read_drains(&self) -> bool {
        each!(self, s => Stream::short_read_drains(s))
    }
}

impl Split for MaybeTlsStream {
    type Reader = MaybeTlsStream;
    type Writer = MaybeTlsStream;

    fn split(self) -> io::Result<(MaybeTlsStream, MaybeTlsStream)> {
        Ok(match self {
            MaybeTlsStream::Plain(s) => {
                let (r, w) = s.split()?;
                (MaybeTlsStream::Plain(r), MaybeTlsStream::Plain(w))
            }
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Tls(s) => {
                let (r, w) = s.split()?;
                (MaybeTlsStream::Tls(r), MaybeTlsStream::Tls(w))
            }
            #[cfg(feature = "rustls")]
            MaybeTlsStream::TlsInTls(s) => {
                let (r, w) = s.split()?;
                (MaybeTlsStream::TlsInTls(r), MaybeTlsStream::TlsInTls(w))
            }
        })
    }

    fn reunite(reader: MaybeTlsStream, writer: MaybeTlsStream) -> MaybeTlsStream {
        match (reader, writer) {
            (MaybeTlsStream::Plain(r), MaybeTlsStream::Plain(w)) => {
                MaybeTlsStream::Plain(<TcpStream as Split>::reunite(r, w))
            }
            #[cfg(feature = "rustls")]
            (MaybeTlsStream::Tls(r), MaybeTlsStream::Tls(w)) => {
                MaybeTlsStream::Tls(TlsStream::reunite(r, w))
            }
            #[cfg(feature = "rustls")]
            (MaybeTlsStream::TlsInTls(r), MaybeTlsStream::TlsInTls(w)) => {
                MaybeTlsStream::TlsInTls(TlsStream::reunite(r, w))
            }
            // Halves of one split are always of one kind; wsio checks that they are of one
            // connection before it reunites them.
            #[allow(unreachable_patterns)]
            (reader, _) => reader,
        }
    }
}

impl fmt::Debug for MaybeTlsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaybeTlsStream::Plain(s) => f.debug_tuple("Plain").field(s).finish(),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Tls(s) => f.debug_tuple("Tls").field(s).finish(),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::TlsInTls(s) => f.debug_tuple("TlsInTls").field(s).finish(),
        }
    }
}

/// Where a dial goes and how.
pub(crate) struct Route<'a> {
    /// The server's host (a name or an IP address) and port.
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    /// `wss://`.
    pub(crate) tls: bool,
    pub(crate) proxy: Option<&'a Proxy>,
    /// For each TCP connection attempt, all of them together.
    pub(crate) connect_timeout: Option<Duration>,
    /// The TLS config for the server and an `https://` proxy.
    #[cfg(feature = "rustls")]
    pub(crate) tls_config: Option<std::sync::Arc<rustls::ClientConfig>>,
    /// The limits of the proxy's `CONNECT` response.
    pub(crate) max_head: usize,
    pub(crate) max_headers: usize,
}

impl Route<'_> {
    /// Connects: TCP to the proxy or the server, the proxy's tunnel, then TLS for `wss://`.
    /// The proxy leg and TLS end before `deadline` (the handshake's).
    pub(crate) fn open(
        &self,
        deadline: impl Fn() -> Option<Instant>,
    ) -> Result<MaybeTlsStream, Error> {
        let (host, port) = match self.proxy {
            Some(proxy) => (proxy.host.as_str(), proxy.port),
            None => (self.host, self.port),
        };
        let tcp = connect(host, port, self.connect_timeout).map_err(|e| match (e, self.proxy) {
            (Error::Io(e), Some(_)) => ProxyError::Unreachable(e.kind()).into(),
            (e, _) => e,
        })?;
        let saved = SavedTimeouts::take(&tcp);
        let mut stream = self.through(tcp, deadline())?;
        // The proxy leg and TLS set timeouts of their own; the stream starts without them.
        saved.restore(&mut stream);
        Ok(stream)
    }

    fn through(
        &self,
        mut tcp: TcpStream,
        deadline: Option<Instant>,
    ) -> Result<MaybeTlsStream, Error> {
        let Some(proxy) = self.proxy else {
            return self.secure(MaybeTlsStream::Plain(tcp), deadline);
        };
        match proxy.kind {
            ProxyKind::Http => {
                proxy::http_connect(
                    &mut tcp,
                    proxy,
                    self.host,
                    self.port,
                    self.max_head,
                    self.max_headers,
                    deadline,
                )?;
                self.secure(MaybeTlsStream::Plain(tcp), deadline)
            }
            ProxyKind::Socks5 | ProxyKind::Socks5h => {
                proxy::socks5_connect(&mut tcp, proxy, self.host, self.port, deadline)?;
                self.secure(MaybeTlsStream::Plain(tcp), deadline)
            }
            ProxyKind::Https => self.through_https_proxy(tcp, proxy, deadline),
        }
    }

    #[cfg(feature = "rustls")]
    fn through_https_proxy(
        &self,
        tcp: TcpStream,
        proxy: &Proxy,
        deadline: Option<Instant>,
    ) -> Result<MaybeTlsStream, Error> {
        let config = self.client_config()?;
        let mut to_proxy =
            tls::connect(tcp, config.clone(), &proxy.host, deadline).map_err(|e| match e {
                Error::Tls(e) => ProxyError::Tls(e).into(),
                e => e,
            })?;
        proxy::http_connect(
            &mut to_proxy,
            proxy,
            self.host,
            self.port,
            self.max_head,
            self.max_headers,
            deadline,
        )?;
        if self.tls {
            let inner = tls::connect(to_proxy, config, self.host, deadline)?;
            Ok(MaybeTlsStream::TlsInTls(inner))
        } else {
            Ok(MaybeTlsStream::Tls(to_proxy))
        }
    }

    #[cfg(not(feature = "rustls"))]
    fn through_https_proxy(
        &self,
        _tcp: TcpStream,
        _proxy: &Proxy,
        _deadline: Option<Instant>,
    ) -> Result<MaybeTlsStream, Error> {
        Err(UrlError::TlsUnsupported.into())
    }

    /// TLS over `stream` for `wss://`.
    fn secure(
        &self,
        stream: MaybeTlsStream,
        deadline: Option<Instant>,
    ) -> Result<MaybeTlsStream, Error> {
        if !self.tls {
            return Ok(stream);
        }
        #[cfg(feature = "rustls")]
        if let MaybeTlsStream::Plain(tcp) = stream {
            let tls = tls::connect(tcp, self.client_config()?, self.host, deadline)?;
            return Ok(MaybeTlsStream::Tls(tls));
        }
        let _ = (stream, deadline);
        Err(UrlError::TlsUnsupported.into())
    }

    #[cfg(feature = "rustls")]
    fn client_config(&self) -> Result<std::sync::Arc<rustls::ClientConfig>, Error> {
        match &self.tls_config {
            Some(config) => Ok(config.clone()),
            None => tls::default_client_config(),
        }
    }
}

/// The least time one address gets when several share the connect timeout.
const MIN_ATTEMPT: Duration = Duration::from_secs(2);

/// Resolves `host` and connects to its addresses in turn, all within `timeout`, which is
/// shared among them as Go shares it: each attempt gets the time left divided by the
/// addresses left, but at least 2 seconds (or what is left), so that one address that
/// drops packets cannot use up the time of the others. Sets `TCP_NODELAY`. Name resolution
/// is the system's and not bounded by `timeout`.
pub(crate) fn connect(
    host: &str,
    port: u16,
    timeout: Option<Duration>,
) -> Result<TcpStream, Error> {
    let bare = crate::http::unbracket(host);
    let addrs: Vec<SocketAddr> = (bare, port).to_socket_addrs().map_err(Error::Io)?.collect();
    if addrs.is_empty() {
        return Err(UrlError::NoAddress.into());
    }
    let until = timeout.map(|t| Instant::now() + t);
    let mut last_error = None;
    let count = addrs.len();
    for (i, addr) in addrs.into_iter().enumerate() {
        let attempt = match until {
            None => TcpStream::connect(addr),
            Some(until) => match crate::stream::remaining(until) {
                Some(left) => {
                    let share = (left / (count - i) as u32).max(left.min(MIN_ATTEMPT));
                    TcpStream::connect_timeout(&addr, share)
                }
                None => break,
            },
        };
        match attempt {
            Ok(stream) => {
                stream.set_nodelay(true).map_err(Error::Io)?;
                return Ok(stream);
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(Error::Io(last_error.unwrap_or_else(|| {
        io::Error::new(io::ErrorKind::TimedOut, "connect timeout passed")
    })))
}
