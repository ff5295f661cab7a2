//! [`Hub`] and its [`HubBuilder`]: the registry of connections and rooms as the application
//! sees it, the callbacks that decide, and the counters.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use wsio::{Accept, Config, FlushPolicy, HttpResponse, Rejection, Request, RequestInfo};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::connection::Connection;
use crate::core::{Core, Emitter, Link, Target, bump};
use crate::error::HubError;
use crate::exchange::{Command, Exchange};
use crate::queue::Limits;
use crate::remote::HubInbox;
use crate::shared::lock;

pub(crate) type ConnectionFn = dyn Fn(&Connection) + Send + Sync;
pub(crate) type JoinFn = dyn Fn(&Connection, &str) -> Result<(), String> + Send + Sync;
pub(crate) type IdFn = dyn Fn(&RequestInfo) -> String + Send + Sync;
pub(crate) type HubErrorFn = dyn Fn(&HubError, Option<&str>) + Send + Sync;
pub(crate) type AccessFn = dyn Fn(&Request, &mut Accept<'_>) -> Result<(), Rejection> + Send + Sync;
pub(crate) type OriginFn = dyn Fn(&Request) -> bool + Send + Sync;
pub(crate) type HttpFn = dyn Fn(&Request, Option<SocketAddr>) -> HttpResponse + Send + Sync;

/// The default bound of a connection's queue, in messages.
pub const DEFAULT_QUEUE_MESSAGES: usize = 1024;
/// The default bound of a connection's queue, in bytes of the messages waiting.
pub const DEFAULT_QUEUE_BYTES: usize = 16 << 20;
/// The default number of rooms a client may ask to be in at once.
pub const DEFAULT_MAX_ROOMS: usize = 64;
/// The default time a write to one client may take before the client is dropped.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// The default stack of a connection's writer thread: it only encodes frames (and
/// compresses them, with permessage-deflate).
pub const DEFAULT_WRITER_STACK_SIZE: usize = 128 * 1024;

/// What the hub was built with; read by the threads that serve its connections.
pub(crate) struct Settings {
    pub(crate) config: Config,
    pub(crate) on_connection: Option<Box<ConnectionFn>>,
    pub(crate) check_join: Option<Box<JoinFn>>,
    pub(crate) id: Option<Box<IdFn>>,
    pub(crate) on_error: Option<Box<HubErrorFn>>,
    pub(crate) access: Option<Arc<AccessFn>>,
    pub(crate) check_origin: Option<Arc<OriginFn>>,
    pub(crate) keep_headers: Vec<String>,
    pub(crate) http: Option<Arc<HttpFn>>,
    pub(crate) write_timeout: Duration,
    pub(crate) writer_stack_size: usize,
    pub(crate) max_rooms: usize,
}

pub(crate) struct HubInner {
    pub(crate) core: Arc<Core>,
    pub(crate) settings: Settings,
}

/// A hub: connections with ids, rooms, named events and broadcast (iris's websocket server,
/// for threads). Cheap to clone; every clone is the same hub. Build one with
/// [`Hub::builder`], then serve it with [`Hub::serve`].
#[derive(Clone)]
pub struct Hub {
    pub(crate) inner: Arc<HubInner>,
}

/// What a hub has done so far, from [`Hub::stats`]. Counts since the hub was built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HubStats {
    /// Connections live now.
    pub connections: usize,
    /// Connections registered so far.
    pub connected: u64,
    /// Connections ended so far (each fired its disconnect callback).
    pub disconnected: u64,
    /// Hub events received.
    pub events: u64,
    /// Native messages received.
    pub native_messages: u64,
    /// Events received that no handler took (not fatal).
    pub unhandled_events: u64,
    /// Malformed hub frames and payloads that did not fit their handler (each closed its
    /// connection with 1007).
    pub malformed: u64,
    /// Connections ended because their queue filled up (closed with 1008).
    pub too_slow: u64,
    /// Messages queued for sending, counted once per receiver.
    pub queued: u64,
    /// Messages not queued because their receiver was closing.
    pub not_queued: u64,
    /// Requests the hub sent that were not answered in time.
    pub asks_timed_out: u64,
    /// Envelopes this process handed to its exchange (0 without one).
    pub exchange_published: u64,
    /// Envelopes this process could not hand to its exchange (its engine away or behind):
    /// what they carried never reached the other processes.
    pub exchange_dropped: u64,
    /// Times the exchange connected to its engine again after losing it.
    pub exchange_reconnects: u64,
    /// Whether the exchange's subscription is up (false without an exchange).
    pub exchange_subscribed: bool,
    /// Envelopes received from other processes.
    pub exchange_received: u64,
    /// Publications of other processes that never arrived here (gaps in their numbering:
    /// dropped by their sender, or published while this process's subscription was away).
    pub exchange_missed: u64,
    /// Application callbacks that panicked while running for another process's message (a
    /// leave callback for a leave by id, say); the exchange carried on.
    pub exchange_panics: u64,
}

impl Hub {
    /// A builder with the defaults.
    pub fn builder() -> HubBuilder {
        HubBuilder::new()
    }

    /// The connection with this id, if it is here.
    pub fn connection(&self, id: &str) -> Option<Connection> {
        let shared = self.inner.core.get(id)?;
        Some(Connection::new(shared, Arc::clone(&self.inner.core)))
    }

    /// Every connection, in no particular order.
    pub fn connections(&self) -> Vec<Connection> {
        self.inner
            .core
            .all()
            .into_iter()
            .map(|shared| Connection::new(shared, Arc::clone(&self.inner.core)))
            .collect()
    }

    /// How many connections there are.
    pub fn len(&self) -> usize {
        self.inner.core.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a connection with this id is here.
    pub fn is_connected(&self, id: &str) -> bool {
        self.inner.core.get(id).is_some()
    }

    /// The ids of a room's members, sorted. For a connection's id: that id alone.
    pub fn members(&self, room: &str) -> Vec<String> {
        self.inner.core.members(room)
    }

    /// The rooms that have members, sorted (connections' own rooms left out).
    pub fn rooms(&self) -> Vec<String> {
        self.inner.core.rooms()
    }

    /// Puts the connection `id` in `room`. `Ok(false)` if no such connection is in this
    /// process; with an exchange, the other processes are told, and the one that has it
    /// puts it in the room.
    ///
    /// # Errors
    ///
    /// [`HubError::RoomName`] for a name that is empty, over 256 bytes, or another
    /// connection's id.
    pub fn join(&self, id: &str, room: &str) -> Result<bool, HubError> {
        let here = self.inner.core.join(id, room)?;
        if !here {
            self.inner.core.forward(Command::Join { id, room });
        }
        Ok(here)
    }

    /// Takes the connection `id` out of `room`; whether it was in it here. With an exchange,
    /// a connection of another process is taken out there.
    pub fn leave(&self, id: &str, room: &str) -> bool {
        let left = self.inner.core.leave(id, room);
        if !left && self.inner.core.get(id).is_none() {
            self.inner.core.forward(Command::Leave { id, room });
        }
        left
    }

    /// Takes the connection `id` out of every room it joined; the rooms, if it is here. With
    /// an exchange, a connection of another process is taken out there.
    pub fn leave_all(&self, id: &str) -> Vec<String> {
        if self.inner.core.get(id).is_none() {
            self.inner.core.forward(Command::LeaveAll { id });
        }
        self.inner.core.leave_all(id)
    }

    /// Ends the connection `id` gracefully (see [`Connection::disconnect`]); false if it is
    /// not in this process. With an exchange, the process that has it ends it.
    pub fn disconnect(&self, id: &str) -> bool {
        let here = self.inner.core.disconnect(id);
        if !here {
            self.inner.core.forward(Command::Disconnect { id });
        }
        here
    }

    /// Sends the event `event` as a request to the connection `id`, here or, through the
    /// exchange, in another process, and waits up to `timeout` for its reply (see
    /// [`Connection::ask`]).
    ///
    /// # Errors
    ///
    /// For a connection here, as [`Connection::ask`]. For one in another process:
    /// [`HubError::Timeout`] when no answer comes in time (also when no process has the
    /// connection), [`HubError::Refused`] with the text of any other failure there (the
    /// client's refusal, its disconnection), [`HubError::BadData`] for a reply that is not
    /// an `R`; [`HubError::Disconnected`] without an exchange.
    pub fn ask<T, R>(
        &self,
        id: &str,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<R, HubError>
    where
        T: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        if let Some(conn) = self.connection(id) {
            return conn.ask(event, data, timeout);
        }
        let core = &self.inner.core;
        let Some(link) = &core.link else {
            return Err(HubError::Disconnected);
        };
        let body = serde_json::to_vec(data).map_err(HubError::Encode)?;
        let (answer, reply) = std::sync::mpsc::sync_channel(1);
        let key = lock(&core.remote_asks).insert(answer);
        link.publish(Command::Ask {
            key,
            id,
            timeout_ms: u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX),
            event,
            data: &body,
        });
        match reply.recv_timeout(timeout) {
            Ok(Ok(raw)) => serde_json::from_str(raw.get()).map_err(|error| HubError::BadData {
                event: event.to_owned(),
                error,
            }),
            Ok(Err(why)) => Err(HubError::Refused(why)),
            Err(_) => {
                lock(&core.remote_asks).remove(key);
                bump(&core.counters.asks_timed_out);
                Err(HubError::Timeout)
            }
        }
    }

    /// Sends to the members of `room`, in every process when there is an exchange; a
    /// connection's id names the room that holds only it.
    pub fn to(&self, room: &str) -> Emitter {
        Emitter::new(
            Arc::clone(&self.inner.core),
            Target::Room(room.to_owned()),
            None,
        )
    }

    /// Sends to every connection.
    pub fn everyone(&self) -> Emitter {
        Emitter::new(Arc::clone(&self.inner.core), Target::All, None)
    }

    /// The counters.
    pub fn stats(&self) -> HubStats {
        let c = &self.inner.core.counters;
        let get = |n: &std::sync::atomic::AtomicU64| n.load(Ordering::Relaxed);
        let exchange = self
            .inner
            .core
            .link
            .as_ref()
            .map(|link| link.exchange.stats())
            .unwrap_or_default();
        HubStats {
            connections: self.len(),
            connected: get(&c.connected),
            disconnected: get(&c.disconnected),
            events: get(&c.events),
            native_messages: get(&c.native),
            unhandled_events: get(&c.unhandled),
            malformed: get(&c.malformed),
            too_slow: get(&c.too_slow),
            queued: get(&c.queued),
            not_queued: get(&c.not_queued),
            asks_timed_out: get(&c.asks_timed_out),
            exchange_published: exchange.published,
            exchange_dropped: exchange.dropped,
            exchange_reconnects: exchange.reconnects,
            exchange_subscribed: exchange.subscribed,
            exchange_received: get(&c.exchange_received),
            exchange_missed: get(&c.exchange_missed),
            exchange_panics: get(&c.exchange_panics),
        }
    }
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub")
            .field("connections", &self.len())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Hub`]: callbacks, limits and the connection settings. Every setter says its
/// default; calling a setter again replaces what the earlier call set (one
/// `on_connection` callback registers every handler a connection needs).
#[must_use]
pub struct HubBuilder {
    settings: Settings,
    limits: Limits,
    exchange: Option<Arc<dyn Exchange>>,
}

impl HubBuilder {
    fn new() -> HubBuilder {
        HubBuilder {
            settings: Settings {
                config: Config::builder().flush_policy(FlushPolicy::Batched).build(),
                on_connection: None,
                check_join: None,
                id: None,
                on_error: None,
                access: None,
                check_origin: None,
                keep_headers: Vec::new(),
                http: None,
                write_timeout: DEFAULT_WRITE_TIMEOUT,
                writer_stack_size: DEFAULT_WRITER_STACK_SIZE,
                max_rooms: DEFAULT_MAX_ROOMS,
            },
            limits: Limits {
                messages: DEFAULT_QUEUE_MESSAGES,
                bytes: DEFAULT_QUEUE_BYTES,
            },
            exchange: None,
        }
    }

    /// Joins this hub to the hubs of other processes through an exchange (Redis, with the
    /// `redis` feature: [`RedisExchange`](crate::RedisExchange)): messages to rooms and to
    /// everyone, disconnects, joins and leaves by id, and requests ([`Hub::ask`]) reach
    /// connections in every process. Each message is encoded once per process. Defaults to
    /// none: one process.
    pub fn exchange(mut self, exchange: impl Exchange) -> HubBuilder {
        self.exchange = Some(Arc::new(exchange));
        self
    }

    /// Runs for each new connection, on its reading thread, before its first message is
    /// read: register its handlers here, join it to rooms, greet it. Defaults to nothing.
    pub fn on_connection<F>(mut self, callback: F) -> HubBuilder
    where
        F: Fn(&Connection) + Send + Sync + 'static,
    {
        self.settings.on_connection = Some(Box::new(callback));
        self
    }

    /// Decides whether a client may join a room it asked for (the JS client's `join`):
    /// `Err` refuses, with a text the client sees. Joins made by the application
    /// ([`Connection::join`], [`Hub::join`]) are not checked. Defaults to allowing every
    /// room (the hub's own rules hold anyway: 1 to 256 bytes, not starting with `@`, which
    /// marks connection ids, and at most [`max_rooms`](Self::max_rooms) rooms per client).
    pub fn check_join<F>(mut self, check: F) -> HubBuilder
    where
        F: Fn(&Connection, &str) -> Result<(), String> + Send + Sync + 'static,
    {
        self.settings.check_join = Some(Box::new(check));
        self
    }

    /// Makes connection ids from the request (iris's `IDGenerator`). Every id starts with
    /// [`ID_MARK`](crate::ID_MARK) (`@`), which no room name may: the hub puts it in front of
    /// what the generator returns when it is not there, so `"alice"` becomes `"@alice"`. An
    /// id is at most 256 bytes and unique: a connection that gets a taken id is refused
    /// (close 1011) and the error hook hears of it; with an exchange, ids must be unique
    /// across processes too, which the generator must ensure. Defaults to `@` and 16 random
    /// bytes from the operating system's generator, base64url: unguessable, so that nobody
    /// can address a connection whose id it was not told.
    pub fn id_generator<F>(mut self, generate: F) -> HubBuilder
    where
        F: Fn(&RequestInfo) -> String + Send + Sync + 'static,
    {
        self.settings.id = Some(Box::new(generate));
        self
    }

    /// Hears of errors that belong to no connection's error callback (a duplicate id, a
    /// writer thread that could not start), with the connection's id when there is one.
    /// Defaults to nothing.
    pub fn on_error<F>(mut self, hook: F) -> HubBuilder
    where
        F: Fn(&HubError, Option<&str>) + Send + Sync + 'static,
    {
        self.settings.on_error = Some(Box::new(hook));
        self
    }

    /// Decides who may connect (Voss's `AccessOk`): see
    /// [`Upgrader::check_request`](wsio::Upgrader::check_request). The hub has already
    /// chosen its subprotocol when the client offered it. Defaults to accepting everyone
    /// who passes the origin check.
    pub fn access<F>(mut self, check: F) -> HubBuilder
    where
        F: Fn(&Request, &mut Accept<'_>) -> Result<(), Rejection> + Send + Sync + 'static,
    {
        self.settings.access = Some(Arc::new(check));
        self
    }

    /// Replaces the origin check (iris's `CheckOrigin`); see
    /// [`Upgrader::check_origin`](wsio::Upgrader::check_origin). Defaults to the same-origin
    /// check, which stops other sites' pages from connecting with your users' cookies.
    pub fn check_origin<F>(mut self, check: F) -> HubBuilder
    where
        F: Fn(&Request) -> bool + Send + Sync + 'static,
    {
        self.settings.check_origin = Some(Arc::new(check));
        self
    }

    /// Request headers to keep for [`Connection::request`]; see
    /// [`Upgrader::keep_headers`](wsio::Upgrader::keep_headers). Defaults to none.
    pub fn keep_headers<I, T>(mut self, names: I) -> HubBuilder
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.settings.keep_headers = names.into_iter().map(Into::into).collect();
        self
    }

    /// The connections' settings: limits, keepalive, permessage-deflate. Defaults to
    /// [`Config::default`] with [`FlushPolicy::Batched`]: a connection's writer drains its
    /// queue in batches and flushes after each, so messages that queued up while it wrote
    /// leave in as few writes as its buffer allows. Keep `Batched` in a config of your own
    /// for that. The default keepalive is iris's (a ping after 54 s of silence, dead after
    /// 60 s).
    pub fn config(mut self, config: Config) -> HubBuilder {
        self.settings.config = config;
        self
    }

    /// Answers plain HTTP requests that the hub does not serve itself (it serves its
    /// JavaScript client at `/wsio-hub.js` and its TypeScript declarations at
    /// `/wsio-hub.d.ts`). Defaults to 404 Not Found.
    pub fn http<F>(mut self, respond: F) -> HubBuilder
    where
        F: Fn(&Request, Option<SocketAddr>) -> HttpResponse + Send + Sync + 'static,
    {
        self.settings.http = Some(Arc::new(respond));
        self
    }

    /// How many messages, and bytes of messages, may wait for one client. A client whose
    /// queue is full when a message comes for it reads slower than the hub sends: it is
    /// dropped (what waits is discarded, close 1008 "too slow" follows the write in
    /// progress) and counted in [`HubStats::too_slow`]; the others never wait for it.
    /// Defaults to 1024 messages and 16 MiB. A message bigger than the byte bound is queued
    /// when nothing else waits.
    pub fn queue_limit(mut self, messages: usize, bytes: usize) -> HubBuilder {
        self.limits = Limits {
            messages: messages.max(1),
            bytes,
        };
        self
    }

    /// How long one write to a client may block before the client is dropped. Defaults to
    /// 10 seconds.
    pub fn write_timeout(mut self, timeout: Duration) -> HubBuilder {
        self.settings.write_timeout = timeout;
        self
    }

    /// How many rooms a client may ask to be in at once (its own not counted): a join past
    /// it is refused with an error reply, so that no client can grow the hub's registry
    /// without bound. Joins made by the application are not counted against it. Defaults
    /// to 64.
    pub fn max_rooms(mut self, rooms: usize) -> HubBuilder {
        self.settings.max_rooms = rooms;
        self
    }

    /// The stack size of each connection's writer thread. Defaults to 128 KiB.
    pub fn writer_stack_size(mut self, bytes: usize) -> HubBuilder {
        self.settings.writer_stack_size = bytes;
        self
    }

    /// The hub. With an exchange, its threads start here; an engine that is away is not an
    /// error (the exchange keeps trying), a thread that cannot start goes to the
    /// [error hook](Self::on_error).
    pub fn build(self) -> Hub {
        let node = crate::shared::random_name();
        let link = self
            .exchange
            .as_ref()
            .map(|exchange| Link::new(Arc::clone(exchange), node.clone()));
        let core = Arc::new(Core::new(self.limits, link));
        let hub = Hub {
            inner: Arc::new(HubInner {
                core: Arc::clone(&core),
                settings: self.settings,
            }),
        };
        if let Some(exchange) = self.exchange {
            if let Err(e) = exchange.start(&node, Arc::new(HubInbox::new(&core))) {
                if let Some(hook) = &hub.inner.settings.on_error {
                    hook(&HubError::Ws(wsio::Error::Io(e)), None);
                }
            }
        }
        hub
    }
}

impl fmt::Debug for HubBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubBuilder")
            .field("config", &self.settings.config)
            .field("queue_messages", &self.limits.messages)
            .field("queue_bytes", &self.limits.bytes)
            .finish_non_exhaustive()
    }
}
