//! [`RedisExchange`]: the hub's [`Exchange`] on Redis pub/sub, with the `redis` crate's
//! blocking API.
//!
//! # Channels, and what they cost
//!
//! Each process subscribes once, on one connection, to two channels: `PREFIX:all`, where
//! every process publishes what is for a room or for everyone (and disconnects, joins and
//! requests by id), and `PREFIX:node:NAME`, where replies to its requests come. A second
//! connection publishes. So N processes hold 2N connections to Redis, whatever the number
//! of WebSocket connections and rooms.
//!
//! A message to a room is published once (its bytes go to Redis once) and Redis sends it to
//! every process, N times its size, whether or not the process has members of the room:
//! each process filters by its own rooms. Channels per room would spare the processes
//! without members, at the price of a SUBSCRIBE and UNSUBSCRIBE on the subscription each
//! time a process gets its first member of a room or loses its last (every connection is
//! alone in the room of its id, so that would be twice per connection), and of messages
//! lost in the window before a subscription takes effect. socket.io's Redis adapter makes
//! the same choice: one channel per namespace, rooms filtered locally.
//!
//! # When Redis goes away
//!
//! Local delivery goes on: a process's own connections get what it sends them. What it
//! publishes while Redis is away is dropped and counted
//! ([`HubStats::exchange_dropped`](crate::HubStats::exchange_dropped)), as is what does not
//! fit its bounded queue; a publication never waits for Redis. A publication that fails on
//! a connection that had worked (Redis restarted meanwhile) is tried once more on a fresh
//! one, and the publisher connects again as soon as the process's subscription is back:
//! once a process has resubscribed, nothing it publishes is lost. The subscription is made
//! again with backoff (50 ms doubling to 2 s) and counted
//! ([`HubStats::exchange_reconnects`](crate::HubStats::exchange_reconnects)); Redis keeps no
//! pub/sub messages, so what other processes published meanwhile is lost, and counted by
//! the gap in their numbering when their next publication arrives
//! ([`HubStats::exchange_missed`](crate::HubStats::exchange_missed)). Every call to Redis
//! has a timeout: a Redis that never answers holds up only the exchange's own threads.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::HubError;
use crate::exchange::{Exchange, ExchangeStats, Inbox};
use crate::shared::lock;

/// The default bound of the queue of envelopes waiting to be published.
pub const DEFAULT_PUBLISH_QUEUE: usize = 10_000;

/// The default time any one call to Redis may take (connecting, publishing, subscribing).
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// How long the subscription waits for a message before it checks whether the hub is gone.
const POLL: Duration = Duration::from_millis(250);

/// After this long without a message, the subscription pings Redis to learn whether it is
/// still there.
const PING_AFTER: Duration = Duration::from_secs(5);

/// The default bound of the bytes of the envelopes waiting to be published.
pub const DEFAULT_PUBLISH_QUEUE_BYTES: usize = 64 << 20;

enum Outbound {
    All(Vec<u8>),
    To(String, Vec<u8>),
}

impl Outbound {
    fn len(&self) -> usize {
        match self {
            Outbound::All(bytes) | Outbound::To(_, bytes) => bytes.len(),
        }
    }
}

struct Shared {
    client: redis::Client,
    prefix: String,
    timeout: Duration,
    published: AtomicU64,
    dropped: AtomicU64,
    reconnects: AtomicU64,
    subscribed: AtomicBool,
    /// Bytes of the envelopes waiting to be published.
    queued_bytes: AtomicUsize,
}

impl Shared {
    fn all(&self) -> String {
        format!("{}:all", self.prefix)
    }

    fn node(&self, node: &str) -> String {
        format!("{}:node:{node}", self.prefix)
    }

    fn connect(&self) -> redis::RedisResult<redis::Connection> {
        let con = self.client.get_connection_with_timeout(self.timeout)?;
        con.set_read_timeout(Some(self.timeout))?;
        con.set_write_timeout(Some(self.timeout))?;
        Ok(con)
    }
}

/// The hub's exchange on Redis pub/sub: one subscription and one publishing connection per
/// process, never one per WebSocket connection. See the [module](self) for the channels,
/// their cost, and what happens when Redis goes away.
///
/// ```no_run
/// use wsio_hub::{Hub, RedisExchange};
///
/// # fn main() -> Result<(), wsio_hub::HubError> {
/// let hub = Hub::builder()
///     .exchange(RedisExchange::new("redis://127.0.0.1:6379/")?)
///     .build();
/// // `hub.to("room").emit(..)` now reaches the room's members in every process.
/// # Ok(())
/// # }
/// ```
pub struct RedisExchange {
    shared: Arc<Shared>,
    queue: usize,
    queue_bytes: usize,
    outbound: Mutex<Option<SyncSender<Outbound>>>,
}

impl RedisExchange {
    /// An exchange on the Redis at `url` (`redis://HOST:PORT/`, `rediss://` needs the redis
    /// crate's TLS features). Nothing connects until the hub starts it.
    ///
    /// # Errors
    ///
    /// [`HubError::Exchange`] for a URL the redis crate does not take.
    pub fn new(url: &str) -> Result<RedisExchange, HubError> {
        let client = redis::Client::open(url).map_err(|e| HubError::Exchange(e.to_string()))?;
        Ok(RedisExchange {
            shared: Arc::new(Shared {
                client,
                prefix: "wsio-hub".to_owned(),
                timeout: DEFAULT_REDIS_TIMEOUT,
                published: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                reconnects: AtomicU64::new(0),
                subscribed: AtomicBool::new(false),
                queued_bytes: AtomicUsize::new(0),
            }),
            queue: DEFAULT_PUBLISH_QUEUE,
            queue_bytes: DEFAULT_PUBLISH_QUEUE_BYTES,
            outbound: Mutex::new(None),
        })
    }

    fn shared_mut(&mut self) -> &mut Shared {
        Arc::get_mut(&mut self.shared).expect("configured before it starts")
    }

    /// The prefix of the channel names, so that several hubs can share one Redis. Defaults to
    /// `wsio-hub`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> RedisExchange {
        self.shared_mut().prefix = prefix.into();
        self
    }

    /// How many envelopes, and bytes of them, may wait to be published; past either bound
    /// they are dropped and counted. Defaults to 10,000 envelopes and 64 MiB.
    #[must_use]
    pub fn queue_limit(mut self, envelopes: usize, bytes: usize) -> RedisExchange {
        self.queue = envelopes.max(1);
        self.queue_bytes = bytes;
        self
    }

    /// How long any one call to Redis may take. Defaults to 2 seconds.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> RedisExchange {
        self.shared_mut().timeout = timeout.max(Duration::from_millis(1));
        self
    }

    fn send(&self, outbound: Outbound) {
        let len = outbound.len();
        let queued = self.shared.queued_bytes.fetch_add(len, Ordering::Relaxed);
        let sent = if queued.saturating_add(len) > self.queue_bytes && queued > 0 {
            Err(TrySendError::Full(outbound))
        } else {
            match &*lock(&self.outbound) {
                Some(queue) => queue.try_send(outbound),
                None => Err(TrySendError::Disconnected(outbound)),
            }
        };
        if sent.is_err() {
            self.shared.queued_bytes.fetch_sub(len, Ordering::Relaxed);
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Exchange for RedisExchange {
    fn start(&self, node: &str, inbox: Arc<dyn Inbox>) -> std::io::Result<()> {
        let (queue, outbound) = mpsc::sync_channel(self.queue);
        let shared = Arc::clone(&self.shared);
        thread::Builder::new()
            .name("wsio-hub redis publish".into())
            .spawn(move || publish_all(&shared, &outbound))?;
        *lock(&self.outbound) = Some(queue);
        let shared = Arc::clone(&self.shared);
        let channels = [self.shared.all(), self.shared.node(node)];
        thread::Builder::new()
            .name("wsio-hub redis subscribe".into())
            .spawn(move || subscribe(&shared, &channels, inbox.as_ref()))?;
        Ok(())
    }

    fn publish(&self, envelope: Vec<u8>) {
        self.send(Outbound::All(envelope));
    }

    fn send_to(&self, node: &str, envelope: Vec<u8>) {
        self.send(Outbound::To(node.to_owned(), envelope));
    }

    fn stats(&self) -> ExchangeStats {
        let s = &self.shared;
        let mut stats = ExchangeStats::new(
            s.published.load(Ordering::Relaxed),
            s.dropped.load(Ordering::Relaxed),
            s.reconnects.load(Ordering::Relaxed),
        );
        stats.subscribed = s.subscribed.load(Ordering::Relaxed);
        stats
    }
}

impl std::fmt::Debug for RedisExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisExchange")
            .field("prefix", &self.shared.prefix)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// 50 ms, doubling to 2 s.
struct Backoff {
    delay: Duration,
    next_try: Instant,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(50);
    const MAX: Duration = Duration::from_secs(2);

    fn new() -> Backoff {
        Backoff {
            delay: Backoff::FIRST,
            next_try: Instant::now(),
        }
    }

    fn failed(&mut self) {
        self.next_try = Instant::now() + self.delay;
        self.delay = (self.delay * 2).min(Backoff::MAX);
    }

    fn reset(&mut self) {
        self.delay = Backoff::FIRST;
    }

    fn is_due(&self) -> bool {
        Instant::now() >= self.next_try
    }
}

/// Whether Redis answers a ping on the subscription within `timeout` (messages that come
/// first are kept for `get_message`).
fn alive(pubsub: &mut redis::PubSub<'_>, timeout: Duration) -> bool {
    pubsub.set_read_timeout(Some(timeout)).is_ok()
        && pubsub.ping::<redis::Value>().is_ok()
        && pubsub.set_read_timeout(Some(POLL)).is_ok()
}

/// The publishing thread: until the exchange is dropped. While Redis is away (between
/// attempts to reconnect), what comes is dropped and counted.
fn publish_all(shared: &Shared, outbound: &Receiver<Outbound>) {
    let mut con: Option<redis::Connection> = None;
    let mut backoff = Backoff::new();
    let mut connected_before = false;
    let all = shared.all();
    while let Ok(next) = outbound.recv() {
        shared.queued_bytes.fetch_sub(next.len(), Ordering::Relaxed);
        // The subscription being up again proves Redis is back: no need to wait out the
        // backoff.
        if con.is_none() && (backoff.is_due() || shared.subscribed.load(Ordering::Relaxed)) {
            match shared.connect() {
                Ok(c) => {
                    if connected_before {
                        shared.reconnects.fetch_add(1, Ordering::Relaxed);
                    }
                    connected_before = true;
                    backoff.reset();
                    con = Some(c);
                }
                Err(_) => backoff.failed(),
            }
        }
        let Some(c) = con.as_mut() else {
            shared.dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let (channel, bytes) = match &next {
            Outbound::All(bytes) => (all.as_str(), bytes.as_slice()),
            Outbound::To(node, bytes) => (&*shared.node(node), bytes.as_slice()),
        };
        if publish(c, channel, bytes).is_ok() {
            shared.published.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        // A connection that worked may only be stale (Redis restarted while this process
        // had nothing to say): one fresh connection, one more try, before dropping.
        con = None;
        let retried = shared
            .connect()
            .ok()
            .and_then(|mut fresh| publish(&mut fresh, channel, bytes).ok().map(|_| fresh));
        match retried {
            Some(fresh) => {
                shared.published.fetch_add(1, Ordering::Relaxed);
                shared.reconnects.fetch_add(1, Ordering::Relaxed);
                con = Some(fresh);
            }
            None => {
                shared.dropped.fetch_add(1, Ordering::Relaxed);
                backoff.failed();
            }
        }
    }
}

fn publish(con: &mut redis::Connection, channel: &str, bytes: &[u8]) -> redis::RedisResult<i64> {
    redis::cmd("PUBLISH").arg(channel).arg(bytes).query(con)
}

/// The subscription: hands what comes to the inbox, subscribing again after Redis went
/// away, until the hub is gone.
fn subscribe(shared: &Shared, channels: &[String; 2], inbox: &dyn Inbox) {
    let mut backoff = Backoff::new();
    let mut subscribed_before = false;
    while !inbox.is_closed() {
        if !backoff.is_due() {
            thread::sleep(POLL.min(backoff.next_try.saturating_duration_since(Instant::now())));
            continue;
        }
        let Ok(mut con) = shared.connect() else {
            backoff.failed();
            continue;
        };
        let mut pubsub = con.as_pubsub();
        if pubsub.subscribe(channels).is_err() || pubsub.set_read_timeout(Some(POLL)).is_err() {
            backoff.failed();
            continue;
        }
        if subscribed_before {
            shared.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        subscribed_before = true;
        shared.subscribed.store(true, Ordering::Relaxed);
        backoff.reset();
        let mut heard = Instant::now();
        loop {
            if inbox.is_closed() {
                shared.subscribed.store(false, Ordering::Relaxed);
                return;
            }
            match pubsub.get_message() {
                Ok(message) => {
                    heard = Instant::now();
                    inbox.deliver(message.get_payload_bytes());
                }
                Err(e) if e.is_timeout() => {
                    // A subscription that only listens never hears that Redis dropped it
                    // (a partition, a proxy's idle timeout): after a silence, it asks.
                    if heard.elapsed() >= PING_AFTER {
                        if !alive(&mut pubsub, shared.timeout) {
                            break;
                        }
                        heard = Instant::now();
                    }
                }
                Err(_) => break,
            }
        }
        shared.subscribed.store(false, Ordering::Relaxed);
        backoff.failed();
    }
}
