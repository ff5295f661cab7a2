//! [`Server`]: a threaded WebSocket server (Jochen Voss's `Handler` in Rust): it listens on
//! TCP addresses and Unix sockets, with TLS when given an acceptor, gives every accepted
//! connection a thread of its own at once (the handshake never runs on the accept thread),
//! decides every request in one place (the [`Upgrader`]'s checks and request callback),
//! sends requests that are not upgrades to an optional plain-HTTP callback, caps the live
//! connections, counts what it does, and shuts down gracefully: close 1001 to every live
//! connection, a wait for the handlers, then the rest cut.

mod stream;

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
#[cfg(unix)]
use std::os::unix::net::{UnixListener, UnixStream};
#[cfg(unix)]
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::conn::Conn;
use crate::error::{Error, Result};
use crate::handshake::{Rejection, Upgrader, is_websocket_upgrade};
use crate::http::{self, HeadWriter, Headers, Request};
use crate::stream::SavedTimeouts;
pub use stream::ServerStream;
use stream::{Lifeline, Socket};

/// The stack size of a connection's thread unless set. Measured: wsio's handshake, TLS and
/// compression need under 96 KiB in a debug build and under 64 KiB in an optimized one
/// (`tests/server_tls.rs` runs them on 128 KiB), which leaves a handler of ordinary depth
/// room. A fraction of Rust's default 2 MiB: the resident memory is the same (only touched
/// pages count: about 30 KB per idle connection in all, see `scripts/memory.sh`), but
/// thousands of threads reserve an eighth of the address space.
pub const DEFAULT_STACK_SIZE: usize = 256 << 10;

/// The most live connections unless set.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// Refused connections waiting for their 503: past this many, a refused connection is
/// closed without an answer.
const REFUSALS_QUEUED: usize = 64;

/// How long the refusing thread gives one refused client, to read its request and take the
/// answer.
const REFUSAL_TIME: Duration = Duration::from_millis(200);

type Handler = dyn Fn(Conn<ServerStream>) + Send + Sync;
type HttpHandler = dyn Fn(&Request) -> HttpResponse + Send + Sync;
type ErrorHook = dyn Fn(&Error, Option<SocketAddr>) + Send + Sync;

/// An answer to a request that is not a WebSocket upgrade, from the server's plain-HTTP
/// callback ([`ServerBuilder::http`]): a page, a script, a redirect. The connection closes
/// after it (`Connection: close`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    status: u16,
    headers: Headers,
    body: Vec<u8>,
}

impl HttpResponse {
    /// A response with this status, no headers and an empty body.
    pub fn new(status: u16) -> HttpResponse {
        HttpResponse {
            status,
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// 200 with `body` as `Content-Type` (e.g. `text/html; charset=utf-8`).
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> HttpResponse {
        HttpResponse::new(200)
            .header("Content-Type", content_type)
            .body(body)
    }

    /// 404 with a short plain-text body.
    pub fn not_found() -> HttpResponse {
        HttpResponse::new(404)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body("not found")
    }

    /// Adds a header. A name that is not a token or a value with a control character is
    /// never written: the client gets 500 instead, and the error hook hears of it.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> HttpResponse {
        self.headers.push(name, value);
        self
    }

    /// Sets the body; `Content-Length` is added when the response is sent.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> HttpResponse {
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
    pub fn body_bytes(&self) -> &[u8] {
        &self.body
    }

    /// The response as sent: head, then the body (none for a `HEAD` request).
    fn to_bytes(
        &self,
        server: Option<&str>,
        head_only: bool,
    ) -> std::result::Result<Vec<u8>, crate::InvalidInput> {
        let mut head = HeadWriter::response(self.status);
        head.header("Connection", "close")?
            .headers(&self.headers)?
            .header("Content-Length", &self.body.len().to_string())?;
        if let Some(server) = server {
            head.header("Server", server)?;
        }
        let mut bytes = head.finish("").into_bytes();
        if !head_only {
            bytes.extend_from_slice(&self.body);
        }
        Ok(bytes)
    }
}

/// What a [`Server`] has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStats {
    /// Connections now open: in their handshake or with their handler.
    pub live: usize,
    /// Connections accepted (given a thread), over the server's life.
    pub accepted: u64,
    /// Connections refused because the cap was reached (answered 503 when possible).
    pub refused: u64,
    /// Opening handshakes that failed: TLS, a malformed or refused request, a client that
    /// left or was too slow.
    pub failed_handshakes: u64,
    /// Requests answered by the plain-HTTP callback.
    pub http_requests: u64,
}

/// Builds a [`Server`]: where it listens, how it decides requests, its limits.
///
/// ```no_run
/// use wsio::{Error, Server, Upgrader};
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
    upgrader: Upgrader,
    http: Option<Box<HttpHandler>>,
    on_error: Option<Box<ErrorHook>>,
    max_connections: usize,
    stack_size: usize,
    #[cfg(feature = "rustls")]
    tls: Option<crate::TlsAcceptor>,
    listeners: Vec<Listener>,
}

/// A socket the server accepts on.
enum Listener {
    Tcp(TcpListener),
    #[cfg(unix)]
    Unix(UnixListener, PathBuf),
}

impl ServerBuilder {
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
    /// socket). Without it they are answered 426 Upgrade Required with
    /// `Sec-WebSocket-Version: 13`. Runs on the connection's thread.
    #[must_use]
    pub fn http<F>(mut self, respond: F) -> ServerBuilder
    where
        F: Fn(&Request) -> HttpResponse + Send + Sync + 'static,
    {
        self.http = Some(Box::new(respond));
        self
    }

    /// Hears of what goes wrong outside the handler: failed handshakes (with the client's
    /// address when it has one), failed accepts, a thread that could not start. Defaults
    /// to nothing (the [counters](Server::stats) count them).
    #[must_use]
    pub fn on_error<F>(mut self, hook: F) -> ServerBuilder
    where
        F: Fn(&Error, Option<SocketAddr>) + Send + Sync + 'static,
    {
        self.on_error = Some(Box::new(hook));
        self
    }

    /// The most connections open at once (in their handshake or with their handler). Past
    /// it a new client is answered 503 with `Retry-After` at once, never queued, and the
    /// live ones are not disturbed.
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

    /// Listens on a TCP listener bound elsewhere.
    #[must_use]
    pub fn listener(mut self, listener: TcpListener) -> ServerBuilder {
        self.listeners.push(Listener::Tcp(listener));
        self
    }

    /// Listens on a Unix socket at `path` (removed when the server has shut down).
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
    /// No listener was bound, or a thread could not start.
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
        let (refusals, refused_rx) = mpsc::sync_channel(REFUSALS_QUEUED);
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
            drained: Condvar::new(),
            accepted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            http_requests: AtomicU64::new(0),
            wake,
            refusals: Mutex::new(Some(refusals)),
        });
        let refuser = thread::Builder::new()
            .name("wsio-refuse".into())
            .stack_size(64 << 10)
            .spawn(move || refuse_all(refused_rx, &busy))?;
        let mut accepters = Vec::new();
        for listener in self.listeners {
            let shared = Arc::clone(&shared);
            accepters.push(
                thread::Builder::new()
                    .name("wsio-accept".into())
                    .stack_size(128 << 10)
                    .spawn(move || accept_all(&shared, listener))?,
            );
        }
        Ok(Server {
            shared,
            accepters,
            refuser: Some(refuser),
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

/// How to wake an accept loop blocked in `accept`: connect to it.
enum Wake {
    Tcp(SocketAddr),
    #[cfg(unix)]
    Unix(PathBuf),
}

/// A running server. Dropping it does not stop it: call [`shutdown`](Self::shutdown) (or a
/// [`ServerHandle`]'s), then [`wait`](Self::wait).
pub struct Server {
    shared: Arc<Shared>,
    accepters: Vec<JoinHandle<()>>,
    refuser: Option<JoinHandle<()>>,
    local_addrs: Vec<SocketAddr>,
}

/// What the accept threads, the connection threads and the handles share.
struct Shared {
    upgrader: Upgrader,
    handler: Box<Handler>,
    http: Option<Box<HttpHandler>>,
    on_error: Option<Box<ErrorHook>>,
    max_connections: usize,
    stack_size: usize,
    #[cfg(feature = "rustls")]
    tls: Option<crate::TlsAcceptor>,
    registry: Mutex<Registry>,
    /// Signalled when a connection ends.
    drained: Condvar,
    accepted: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
    http_requests: AtomicU64,
    wake: Vec<Wake>,
    /// To the refusing thread; `None` once the server stops.
    refusals: Mutex<Option<SyncSender<Socket>>>,
}

/// The live connections.
#[derive(Default)]
struct Registry {
    next_id: u64,
    live: HashMap<u64, Arc<Lifeline>>,
    stopping: bool,
}

impl Server {
    /// A builder: no listener yet, [`Upgrader::new`], the default limits.
    pub fn builder() -> ServerBuilder {
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

    /// The TCP addresses the server listens on (with the port the system picked for port
    /// 0), in the order they were bound.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// A handle that stops the server from any thread (a signal handler's, say).
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The counters now.
    pub fn stats(&self) -> ServerStats {
        self.shared.stats()
    }

    /// As [`ServerHandle::shutdown`].
    pub fn shutdown(&self, grace: Duration) -> bool {
        self.shared.shutdown(grace)
    }

    /// Blocks until the server has been shut down (from a [`ServerHandle`]) and its accept
    /// threads have ended; removes its Unix socket files.
    pub fn wait(mut self) {
        for accepter in self.accepters.drain(..) {
            let _ = accepter.join();
        }
        if let Some(refuser) = self.refuser.take() {
            let _ = refuser.join();
        }
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addrs", &self.local_addrs)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Stops a [`Server`] from any thread; cloneable.
#[derive(Clone)]
pub struct ServerHandle {
    shared: Arc<Shared>,
}

impl ServerHandle {
    /// Shuts the server down gracefully: stops accepting, tells every live connection to
    /// go away (its handler's next read, or next message written, sends close 1001 and
    /// fails with [`Error::GoingAway`]; a reader blocked on the client is woken), waits up
    /// to `grace` for the handlers to return, then cuts the connections that remain.
    /// Returns whether every handler returned within `grace`. Calling it again waits again.
    pub fn shutdown(&self, grace: Duration) -> bool {
        self.shared.shutdown(grace)
    }

    /// The counters now.
    pub fn stats(&self) -> ServerStats {
        self.shared.stats()
    }
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Shared {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stats(&self) -> ServerStats {
        ServerStats {
            live: self.registry().live.len(),
            accepted: self.accepted.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            failed_handshakes: self.failed.load(Ordering::Relaxed),
            http_requests: self.http_requests.load(Ordering::Relaxed),
        }
    }

    fn report(&self, error: &Error, peer: Option<SocketAddr>) {
        if let Some(hook) = &self.on_error {
            hook(error, peer);
        }
    }

    fn shutdown(&self, grace: Duration) -> bool {
        let deadline = Instant::now() + grace;
        let first = {
            let mut registry = self.registry();
            let first = !registry.stopping;
            registry.stopping = true;
            for lifeline in registry.live.values() {
                lifeline.go_away();
            }
            first
        };
        if first {
            // No more refusals to answer; wake the accept loops so that they see the stop.
            self.refusals
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            for wake in &self.wake {
                match wake {
                    Wake::Tcp(addr) => {
                        let _ = TcpStream::connect_timeout(addr, Duration::from_secs(1));
                    }
                    #[cfg(unix)]
                    Wake::Unix(path) => {
                        let _ = UnixStream::connect(path);
                    }
                }
            }
        }
        if self.wait_drained(deadline) {
            return true;
        }
        for lifeline in self.registry().live.values() {
            lifeline.cut();
        }
        // Cut connections end at their next I/O; give their threads a moment.
        self.wait_drained(Instant::now() + Duration::from_secs(1));
        false
    }

    /// Waits until no connection is live, or `deadline`: whether none is.
    fn wait_drained(&self, deadline: Instant) -> bool {
        let mut registry = self.registry();
        while !registry.live.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            registry = self
                .drained
                .wait_timeout(registry, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Registers a new connection, unless the server stops or is full: its id and
    /// lifeline, or why not.
    fn register(&self, socket: &Socket) -> std::result::Result<(u64, Arc<Lifeline>), Refuse> {
        let mut registry = self.registry();
        if registry.stopping {
            return Err(Refuse::Stopping);
        }
        if registry.live.len() >= self.max_connections {
            return Err(Refuse::Full);
        }
        let clone = socket.try_clone().map_err(Refuse::Io)?;
        let lifeline = Arc::new(Lifeline::new(clone));
        let id = registry.next_id;
        registry.next_id += 1;
        registry.live.insert(id, Arc::clone(&lifeline));
        Ok((id, lifeline))
    }

    fn unregister(&self, id: u64) {
        self.registry().live.remove(&id);
        self.drained.notify_all();
    }

    /// Hands a refused connection to the refusing thread, or closes it when that is busy.
    fn refuse(&self, socket: Socket) {
        self.refused.fetch_add(1, Ordering::Relaxed);
        let refusals = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(refusals) = refusals.as_ref() {
            match refusals.try_send(socket) {
                Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
            }
        }
    }
}

/// Why a connection was not registered.
enum Refuse {
    Stopping,
    Full,
    Io(io::Error),
}

/// The accept loop of one listener, until the server stops.
fn accept_all(shared: &Arc<Shared>, listener: Listener) {
    loop {
        let accepted = match &listener {
            Listener::Tcp(l) => l.accept().map(|(s, _)| {
                let _ = s.set_nodelay(true);
                Socket::Tcp(s)
            }),
            #[cfg(unix)]
            Listener::Unix(l, _) => l.accept().map(|(s, _)| Socket::Unix(s)),
        };
        let socket = match accepted {
            Ok(socket) => socket,
            Err(e) => {
                if shared.registry().stopping {
                    break;
                }
                // Out of file descriptors, say: back off rather than spin.
                shared.report(&Error::Io(e), None);
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let (id, lifeline) = match shared.register(&socket) {
            Ok(registered) => registered,
            Err(Refuse::Stopping) => break,
            Err(Refuse::Full) => {
                shared.refuse(socket);
                continue;
            }
            Err(Refuse::Io(e)) => {
                shared.report(&Error::Io(e), socket.peer_addr());
                continue;
            }
        };
        shared.accepted.fetch_add(1, Ordering::Relaxed);
        let on_thread = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name("wsio-conn".into())
            .stack_size(shared.stack_size)
            .spawn(move || {
                let _registered = Registered {
                    shared: &on_thread,
                    id,
                };
                serve(&on_thread, socket, lifeline);
            });
        if let Err(e) = spawned {
            // The closure (and the socket) is gone; so must the registration be.
            shared.unregister(id);
            shared.report(&Error::Io(e), None);
            thread::sleep(Duration::from_millis(10));
        }
    }
    #[cfg(unix)]
    if let Listener::Unix(_, path) = &listener {
        let _ = std::fs::remove_file(path);
    }
}

/// Unregisters a connection when its thread ends, however it ends (a handler's panic
/// included).
struct Registered<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.shared.unregister(self.id);
    }
}

/// One connection, on its own thread: TLS, the request, then the handler or the HTTP
/// callback.
fn serve(shared: &Shared, socket: Socket, lifeline: Arc<Lifeline>) {
    let peer = socket.peer_addr();
    let deadline = shared
        .upgrader
        .settings()
        .handshake_timeout()
        .map(|t| Instant::now() + t);
    match handshake(shared, ServerStream::new(socket, lifeline), deadline) {
        Ok(Some(conn)) => (shared.handler)(conn),
        Ok(None) => {}
        Err(e) => {
            shared.failed.fetch_add(1, Ordering::Relaxed);
            shared.report(&e, peer);
        }
    }
}

/// TLS if the server has it, then the request: upgraded to a connection, or answered by
/// the HTTP callback (`None`).
fn handshake(
    shared: &Shared,
    stream: ServerStream,
    deadline: Option<Instant>,
) -> Result<Option<Conn<ServerStream>>> {
    #[cfg(feature = "rustls")]
    let stream = match &shared.tls {
        Some(acceptor) => {
            let saved = SavedTimeouts::take(&stream);
            let mut tls = stream.tls(acceptor, deadline)?;
            saved.restore(&mut tls);
            tls
        }
        None => stream,
    };
    let mut stream = stream;
    let saved = SavedTimeouts::take(&stream);
    let read = shared.upgrader.read_request(&mut stream, deadline);
    saved.restore(&mut stream);
    let (request, leftover) = read?;
    if let Some(respond) = &shared.http {
        if !is_websocket_upgrade(&request) {
            shared.http_requests.fetch_add(1, Ordering::Relaxed);
            let response = respond(&request);
            answer_http(shared, stream, &request, &response, deadline)?;
            return Ok(None);
        }
    }
    let saved = SavedTimeouts::take(&stream);
    shared
        .upgrader
        .answer(stream, &request, &leftover, deadline, saved)
        .map(Some)
}

/// Sends the HTTP callback's response and ends the connection.
fn answer_http(
    shared: &Shared,
    mut stream: ServerStream,
    request: &Request,
    response: &HttpResponse,
    deadline: Option<Instant>,
) -> Result<()> {
    let server = shared.upgrader.server_name();
    let head_only = request.method() == "HEAD";
    let (bytes, mistake) = match response.to_bytes(server, head_only) {
        Ok(bytes) => (bytes, None),
        Err(e) => {
            let plain = HttpResponse::new(500)
                .header("Content-Type", "text/plain; charset=utf-8")
                .body("internal server error");
            (plain.to_bytes(None, head_only).unwrap_or_default(), Some(e))
        }
    };
    let sent = http::write_all(&mut stream, deadline, &bytes);
    let _ = crate::Stream::shutdown(&mut stream);
    match mistake {
        Some(e) => Err(Error::InvalidInput(e)),
        None => sent.map_err(Error::from),
    }
}

/// The refusing thread: answers each refused connection 503, briefly, until the server
/// stops.
fn refuse_all(refused: Receiver<Socket>, busy: &[u8]) {
    for mut socket in refused {
        socket.set_timeouts(Some(REFUSAL_TIME));
        let mut request = [0u8; 4096];
        // Read what the client sent (so that closing does not reset the connection and
        // lose the answer), answer, and let it go.
        let _ = socket.read(&mut request);
        let _ = socket.write_all(busy);
        socket.shutdown(Shutdown::Write);
        let until = Instant::now() + REFUSAL_TIME;
        while Instant::now() < until {
            match socket.read(&mut request) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}
