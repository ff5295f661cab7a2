//! [`ServerBuilder`]: where a [`Server`] listens, how it decides requests, its limits; and
//! `start`, which sets it running.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
#[cfg(unix)]
use std::os::unix::net::UnixListener;
#[cfg(unix)]
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use super::accept::{Wake, accept_all, refuse_all};
use super::stream::Listener;
use super::{
    DEFAULT_MAX_CONNECTIONS, DEFAULT_STACK_SIZE, ErrorHook, HttpHandler, HttpResponse, Registry,
    Server, ServerStream, Shared,
};
use crate::conn::Conn;
use crate::error::Error;
use crate::handshake::{Rejection, Upgrader};
use crate::http::{self, Request};

/// Refused connections waiting for their 503: past this many, a refused connection is
/// closed without an answer.
const REFUSALS_QUEUED: usize = 64;

/// Builds a [`Server`]: where it listens, how it decides requests, its limits.
///
/// ```no_run
/// use wsio::{Server, Upgrader};
///
/// let server = Server::builder()
///     .upgrader(Upgrader::new().subprotocols(["chat"]))
///     .bind("127.0.0.1:9001")?
///     .start(|mut conn| {
///         while let Ok(message) = conn.read_message() {
///             if conn.write_message(message.kind(), message.as_bytes()).is_err() {
///                 break;
///             }
///         }
///     })?;
/// println!("listening on {:?}", server.local_addrs());
/// server.wait();
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ServerBuilder {
    pub(super) upgrader: Upgrader,
    pub(super) http: Option<Box<HttpHandler>>,
    pub(super) on_error: Option<Box<ErrorHook>>,
    pub(super) max_connections: usize,
    pub(super) stack_size: usize,
    #[cfg(feature = "rustls")]
    pub(super) tls: Option<crate::TlsAcceptor>,
    pub(super) listeners: Vec<Listener>,
}

impl ServerBuilder {
    pub(super) fn new() -> ServerBuilder {
        ServerBuilder {
            upgrader: Upgrader::new(),
            http: None,
            on_error: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            stack_size: DEFAULT_STACK_SIZE,
            #[cfg(feature = "rustls")]
            tls: None,
            listeners: Vec::new(),
        }
    }

    /// How requests are decided and connections configured: the [`Config`](crate::Config),
    /// origin check, subprotocols, the request callback (Voss's `AccessOk`: it sees the
    /// request and the client's address, accepts with a subprotocol, headers and a value
    /// for the handler, or refuses with any status), the `Server:` header.
    ///
    /// Defaults to [`Upgrader::new`].
    #[must_use]
    pub fn upgrader(mut self, upgrader: Upgrader) -> ServerBuilder {
        self.upgrader = upgrader;
        self
    }

    /// Answers requests that are not WebSocket upgrades (a page, the script that opens the
    /// socket), given the request and the client's address when it has one. Without it they
    /// are answered 426 Upgrade Required with `Sec-WebSocket-Version: 13`. Runs on the
    /// connection's thread; the answer then has the handshake timeout again to be sent.
    #[must_use]
    pub fn http<F>(mut self, respond: F) -> ServerBuilder
    where
        F: Fn(&Request, Option<SocketAddr>) -> HttpResponse + Send + Sync + 'static,
    {
        self.http = Some(Box::new(respond));
        self
    }

    /// Hears of what goes wrong outside the handler: failed handshakes (with the client's
    /// address when it has one; not those cut short by a shutdown), failed accepts, a
    /// thread that could not start, a plain-HTTP answer that could not be sent. Runs on the
    /// thread where it happened. Defaults to nothing (the [counters](Server::stats) count
    /// them).
    #[must_use]
    pub fn on_error<F>(mut self, hook: F) -> ServerBuilder
    where
        F: Fn(&Error, Option<SocketAddr>) + Send + Sync + 'static,
    {
        self.on_error = Some(Box::new(hook));
        self
    }

    /// The most connections open at once, in their handshake or with their handler (at
    /// least 1). Past it a new client is answered 503 with `Retry-After: 1` at once (over
    /// TLS, closed without an answer: a TLS handshake for it would cost what the cap
    /// saves), never queued; the live ones are not disturbed. Each connection costs a
    /// thread and a file descriptor: the process's descriptor limit (`ulimit -n`) must be
    /// above the cap.
    ///
    /// Defaults to [`DEFAULT_MAX_CONNECTIONS`].
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> ServerBuilder {
        self.max_connections = max.max(1);
        self
    }

    /// The stack size of each connection's thread (at least 64 KiB). Deeply recursive
    /// handlers (a JSON parser on nested input, say) may need more.
    ///
    /// Defaults to [`DEFAULT_STACK_SIZE`].
    #[must_use]
    pub fn stack_size(mut self, bytes: usize) -> ServerBuilder {
        self.stack_size = bytes.max(64 << 10);
        self
    }

    /// Serves `wss://`: every connection starts with a TLS handshake, which the handshake
    /// timeout bounds together with the upgrade.
    #[cfg(feature = "rustls")]
    #[must_use]
    pub fn tls(mut self, acceptor: crate::TlsAcceptor) -> ServerBuilder {
        self.tls = Some(acceptor);
        self
    }

    /// Listens on a TCP address (port 0: one the system picks; see
    /// [`Server::local_addrs`]). May be called several times.
    ///
    /// # Errors
    ///
    /// The address cannot be bound.
    pub fn bind(mut self, addr: impl ToSocketAddrs) -> io::Result<ServerBuilder> {
        self.listeners.push(Listener::Tcp(TcpListener::bind(addr)?));
        Ok(self)
    }

    /// Listens on a TCP listener bound elsewhere (systemd's, say); made blocking.
    ///
    /// # Errors
    ///
    /// The listener cannot be made blocking.
    pub fn listener(mut self, listener: TcpListener) -> io::Result<ServerBuilder> {
        listener.set_nonblocking(false)?;
        self.listeners.push(Listener::Tcp(listener));
        Ok(self)
    }

    /// Listens on a Unix socket at `path`, removed when the server stops.
    ///
    /// # Errors
    ///
    /// The path cannot be bound (it exists, say).
    #[cfg(unix)]
    pub fn bind_unix(mut self, path: impl AsRef<Path>) -> io::Result<ServerBuilder> {
        let path = path.as_ref().to_path_buf();
        let listener = UnixListener::bind(&path)?;
        self.listeners.push(Listener::Unix(listener, path));
        Ok(self)
    }

    /// Starts serving: one accept thread per listener, and `handler` on its own thread for
    /// every connection once its handshake succeeded. Returns at once.
    ///
    /// # Errors
    ///
    /// No listener was bound; the `Server:` header the [`Upgrader`] names is not a valid
    /// header value; a thread could not start (nothing keeps running then).
    pub fn start<H>(self, handler: H) -> io::Result<Server>
    where
        H: Fn(Conn<ServerStream>) + Send + Sync + 'static,
    {
        if self.listeners.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the server has nothing to listen on: call bind first",
            ));
        }
        if let Some(server) = self.upgrader.server_name() {
            http::check_header("Server", server).map_err(|e| {
                io::Error::new(io::ErrorKind::InvalidInput, Error::InvalidInput(e.into()))
            })?;
        }
        let mut wake = Vec::new();
        let mut local_addrs = Vec::new();
        for listener in &self.listeners {
            match listener {
                Listener::Tcp(l) => {
                    let addr = l.local_addr()?;
                    local_addrs.push(addr);
                    wake.push(Wake::Tcp(loopback(addr)));
                }
                #[cfg(unix)]
                Listener::Unix(_, path) => wake.push(Wake::Unix(path.clone())),
            }
        }
        let busy = Rejection::new(503)
            .with_header("Retry-After", "1")
            .with_body("too many connections; retry later");
        let busy = self.upgrader.rejection_bytes(busy);
        #[cfg(feature = "rustls")]
        let answer_refusals = self.tls.is_none();
        #[cfg(not(feature = "rustls"))]
        let answer_refusals = true;
        let (refusals, refused) = mpsc::sync_channel(REFUSALS_QUEUED);
        let shared = Arc::new(Shared {
            upgrader: self.upgrader,
            handler: Box::new(handler),
            http: self.http,
            on_error: self.on_error,
            max_connections: self.max_connections,
            stack_size: self.stack_size,
            #[cfg(feature = "rustls")]
            tls: self.tls,
            registry: Mutex::new(Registry::default()),
            changed: Condvar::new(),
            counters: Default::default(),
            wake,
            refusals: Mutex::new(answer_refusals.then_some(refusals)),
        });
        let mut threads = Vec::new();
        let on_refuser = Arc::clone(&shared);
        let spawned = thread::Builder::new()
            .name("wsio-refuse".into())
            .stack_size(64 << 10)
            .spawn(move || refuse_all(&on_refuser, refused, &busy));
        let mut spawned = spawned.map(|t| threads.push(t));
        for listener in self.listeners {
            if spawned.is_err() {
                break;
            }
            let shared = Arc::clone(&shared);
            spawned = thread::Builder::new()
                .name("wsio-accept".into())
                .stack_size(128 << 10)
                .spawn(move || accept_all(&shared, listener))
                .map(|t| threads.push(t));
        }
        if let Err(e) = spawned {
            // Stop what started.
            shared.shutdown(Duration::ZERO);
            return Err(e);
        }
        Ok(Server {
            shared,
            threads,
            local_addrs,
        })
    }
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("upgrader", &self.upgrader)
            .field("max_connections", &self.max_connections)
            .field("stack_size", &self.stack_size)
            .field("listeners", &self.listeners.len())
            .finish_non_exhaustive()
    }
}

/// The address to connect to in order to wake an accept loop on `addr`.
fn loopback(addr: SocketAddr) -> SocketAddr {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    addr
}
