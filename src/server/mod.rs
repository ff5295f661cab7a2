//! [`Server`]: a threaded WebSocket server (Jochen Voss's `Handler` in Rust): it listens on
//! TCP addresses and Unix sockets, with TLS when given an acceptor, gives every accepted
//! connection a thread of its own at once (the handshake never runs on the accept thread),
//! decides every request in one place (the [`Upgrader`]'s checks and request callback),
//! sends requests that are not upgrades to an optional plain-HTTP callback, caps the live
//! connections, counts what it does, and shuts down gracefully: close 1001 to every live
//! connection, a wait for the handlers, then the rest cut.
//!
//! The parts: `builder.rs` (where it listens, its settings, `start`), `accept.rs` (its
//! threads), `response.rs` (the plain-HTTP answers), `stream.rs` (the connections' stream
//! and how the server reaches it); this file, the running server and its registry of live
//! connections.

mod accept;
mod builder;
mod response;
mod stream;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::conn::Conn;
use crate::error::Error;
use crate::handshake::Upgrader;
use crate::http::Request;
use accept::Wake;
pub use builder::ServerBuilder;
pub use response::HttpResponse;
pub use stream::{Cutter, ServerStream};
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

type Handler = dyn Fn(Conn<ServerStream>) + Send + Sync;
type HttpHandler = dyn Fn(&Request, Option<SocketAddr>) -> HttpResponse + Send + Sync;
type ErrorHook = dyn Fn(&Error, Option<SocketAddr>) + Send + Sync;

/// What a [`Server`] has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStats {
    /// Connections open now: in their handshake or with their handler. A connection stops
    /// being live when its handler returns, even if the handler handed a half of it to
    /// another thread.
    pub live: usize,
    /// Connections given a thread, over the server's life.
    pub accepted: u64,
    /// Connections refused because the cap was reached (answered 503 when possible), or
    /// because their thread could not start.
    pub refused: u64,
    /// Handshakes that did not end in a connection nor an HTTP answer: TLS failures,
    /// requests refused (a bad request, the origin check, the request callback's refusal:
    /// each answered with its status), clients that left or were too slow. Not those cut
    /// short by a shutdown.
    pub failed_handshakes: u64,
    /// Requests answered by the plain-HTTP callback.
    pub http_requests: u64,
}

/// The counters behind [`ServerStats`].
#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    refused: AtomicU64,
    failed_handshakes: AtomicU64,
    http_requests: AtomicU64,
}

/// A running server. Dropping it does not stop it: call [`shutdown`](Self::shutdown) (or a
/// [`ServerHandle`]'s), and [`wait`](Self::wait) for it.
pub struct Server {
    shared: Arc<Shared>,
    /// The accept threads and the refusing thread.
    threads: Vec<JoinHandle<()>>,
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
    /// Signalled when a connection ends and when a shutdown has finished.
    changed: Condvar,
    counters: Counters,
    wake: Vec<Wake>,
    /// To the refusing thread; `None` once the server stops (or over TLS, where refused
    /// connections are closed unanswered).
    refusals: Mutex<Option<SyncSender<Socket>>>,
}

/// The live connections, and where the server is in its life.
#[derive(Default)]
struct Registry {
    next_id: u64,
    live: HashMap<u64, Arc<Lifeline>>,
    /// A shutdown has begun: nothing more is accepted.
    stopping: bool,
    /// A shutdown has finished: every connection ended or was cut.
    stopped: bool,
}

/// Why a connection was not registered.
enum Refuse {
    Stopping,
    Full,
}

impl Server {
    /// A builder: no listener yet, [`Upgrader::new`], the default limits.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new()
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

    /// Blocks until a shutdown (from this thread or a [`ServerHandle`]) has finished: every
    /// connection ended or was cut, the accept threads ended, Unix socket files removed.
    pub fn wait(self) {
        let mut registry = self.shared.registry();
        while !registry.stopped {
            registry = self
                .shared
                .changed
                .wait(registry)
                .unwrap_or_else(|p| p.into_inner());
        }
        drop(registry);
        for thread in self.threads {
            let _ = thread.join();
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
    /// go away (its next read or write of any kind sends close 1001 and fails with
    /// [`Error::GoingAway`]; a read blocked on the client is woken), waits up to `grace`
    /// for the handlers to return, then cuts the connections that remain (their next I/O
    /// fails) and waits a second more for them. Returns whether every handler returned
    /// within `grace`. A handler that calls it waits for itself: it gets `false` after the
    /// grace period. Calling it again waits again.
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

    fn stopping(&self) -> bool {
        self.registry().stopping
    }

    fn stats(&self) -> ServerStats {
        let c = &self.counters;
        ServerStats {
            live: self.registry().live.len(),
            accepted: c.accepted.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            failed_handshakes: c.failed_handshakes.load(Ordering::Relaxed),
            http_requests: c.http_requests.load(Ordering::Relaxed),
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
                wake.wake();
            }
        }
        let all_left = self.wait_drained(deadline);
        if !all_left {
            for lifeline in self.registry().live.values() {
                lifeline.cut();
            }
            // Cut connections end at their next I/O; give their threads a moment.
            self.wait_drained(Instant::now() + Duration::from_secs(1));
        }
        self.registry().stopped = true;
        self.changed.notify_all();
        all_left
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
                .changed
                .wait_timeout(registry, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Registers a new connection, unless the server stops or is full: its id and
    /// lifeline, or why not. Under the registry's lock, so that a shutdown either sees the
    /// connection (and tells it to go away) or the connection sees the shutdown.
    fn register(&self, socket: &Socket) -> Result<(u64, Arc<Lifeline>), Refuse> {
        let mut registry = self.registry();
        if registry.stopping {
            return Err(Refuse::Stopping);
        }
        if registry.live.len() >= self.max_connections {
            return Err(Refuse::Full);
        }
        let lifeline = Arc::new(Lifeline::new(socket.clone()));
        let id = registry.next_id;
        registry.next_id += 1;
        registry.live.insert(id, Arc::clone(&lifeline));
        Ok((id, lifeline))
    }

    fn unregister(&self, id: u64) {
        self.registry().live.remove(&id);
        self.changed.notify_all();
    }

    /// Hands a refused connection to the refusing thread, or closes it unanswered when
    /// that is busy (or the server is over TLS).
    fn refuse(&self, socket: Socket) {
        self.counters.refused.fetch_add(1, Ordering::Relaxed);
        let refusals = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(refusals) = refusals.as_ref() {
            match refusals.try_send(socket) {
                Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
            }
        }
    }
}
