//! What a hub keeps of one connection, shared by its reading thread, its writer thread and
//! every [`Connection`](crate::Connection) handle: its id, its queue, its handlers, its
//! values, its pending requests, and why the hub is ending it.

use std::any::Any;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;

use serde_json::value::RawValue;
use wsio::{Cutter, Message, RequestInfo};

use crate::error::{Disconnected, HubError};
use crate::protocol::MAX_ASK;
use crate::queue::{Limits, Queue};

/// 16 random bytes from the operating system's generator, base64url (22 characters): a
/// name nobody can guess.
pub(crate) fn random_name() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

/// Locks a mutex whose data stays consistent even if a holder panicked: every critical
/// section here only inserts, removes or replaces whole values.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What an event handler did with a payload.
pub(crate) enum Outcome {
    /// Handled; a request gets `null`.
    Done,
    /// Handled with an answer for a request: JSON, or an error text.
    Answer(Result<Box<RawValue>, String>),
    /// The payload did not decode as the handler's type.
    BadData(serde_json::Error),
    /// The handler's answer could not be encoded.
    Encode(serde_json::Error),
}

pub(crate) type EventFn = dyn Fn(&RawValue) -> Outcome + Send + Sync;
pub(crate) type NativeFn = dyn Fn(&Message) + Send + Sync;
pub(crate) type BytesFn = dyn Fn(&[u8]) + Send + Sync;
pub(crate) type ErrorFn = dyn Fn(&HubError) + Send + Sync;
pub(crate) type LeaveFn = dyn Fn(&str) + Send + Sync;
pub(crate) type DisconnectFn = dyn FnOnce(&Disconnected) + Send;

/// A connection's callbacks. Each is an `Arc`, cloned out of the lock before it runs, so a
/// handler may register handlers.
#[derive(Default)]
pub(crate) struct Handlers {
    pub(crate) events: HashMap<String, Arc<EventFn>>,
    pub(crate) native: Option<Arc<NativeFn>>,
    pub(crate) ping: Option<Arc<BytesFn>>,
    pub(crate) pong: Option<Arc<BytesFn>>,
    pub(crate) error: Option<Arc<ErrorFn>>,
    pub(crate) leave: Option<Arc<LeaveFn>>,
    pub(crate) disconnect: Option<Box<DisconnectFn>>,
    /// The connection ended: handlers registered now would never run, and one that holds
    /// a clone of its connection would keep it alive forever.
    pub(crate) ended: bool,
}

/// The answer to a request: the reply's JSON, or its error text.
pub(crate) type Answer = Result<Box<RawValue>, String>;

/// The requests this end sent and the peer has not answered.
#[derive(Default)]
pub(crate) struct Asks {
    next: u64,
    pending: HashMap<u64, SyncSender<Answer>>,
}

impl Asks {
    /// Registers a request; its number.
    pub(crate) fn insert(&mut self, answer: SyncSender<Answer>) -> u64 {
        let n = self.next;
        self.next = if n == MAX_ASK { 0 } else { n + 1 };
        self.pending.insert(n, answer);
        n
    }

    pub(crate) fn remove(&mut self, n: u64) -> Option<SyncSender<Answer>> {
        self.pending.remove(&n)
    }

    /// Drops every pending request: their askers hear the connection is gone.
    pub(crate) fn clear(&mut self) {
        self.pending.clear();
    }
}

/// Why the hub is ending a connection, set by whoever decided first.
#[derive(Debug)]
pub(crate) enum Ending {
    ByServer,
    TooSlow,
    Failed(HubError),
}

pub(crate) struct ConnShared {
    pub(crate) id: String,
    pub(crate) queue: Queue,
    pub(crate) handlers: Mutex<Handlers>,
    pub(crate) values: Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>,
    pub(crate) asks: Mutex<Asks>,
    pub(crate) request: Option<RequestInfo>,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) cutter: Cutter,
    pub(crate) ending: Mutex<Option<Ending>>,
    /// The thread that reads the connection and runs its handlers.
    pub(crate) reader: ThreadId,
    /// Whether the client negotiated the hub subprotocol (and got the welcome).
    pub(crate) speaks_hub: bool,
}

impl ConnShared {
    pub(crate) fn new(
        id: String,
        limits: Limits,
        request: Option<RequestInfo>,
        peer: Option<SocketAddr>,
        cutter: Cutter,
        speaks_hub: bool,
    ) -> ConnShared {
        ConnShared {
            id,
            queue: Queue::new(limits),
            handlers: Mutex::default(),
            values: Mutex::default(),
            asks: Mutex::default(),
            request,
            peer,
            cutter,
            ending: Mutex::new(None),
            reader: std::thread::current().id(),
            speaks_hub,
        }
    }

    /// Records why the hub ends the connection, unless a reason was recorded already.
    /// Returns whether this one was recorded.
    pub(crate) fn end_because(&self, ending: Ending) -> bool {
        let mut slot = lock(&self.ending);
        if slot.is_some() {
            return false;
        }
        *slot = Some(ending);
        true
    }

    pub(crate) fn take_ending(&self) -> Option<Ending> {
        lock(&self.ending).take()
    }

    pub(crate) fn is_ending(&self) -> bool {
        lock(&self.ending).is_some()
    }

    /// Whether the hub is dropping the connection because its queue filled up.
    pub(crate) fn is_too_slow(&self) -> bool {
        matches!(*lock(&self.ending), Some(Ending::TooSlow))
    }

    /// Changes the handlers, unless the connection ended.
    pub(crate) fn handlers(&self, change: impl FnOnce(&mut Handlers)) {
        let mut handlers = lock(&self.handlers);
        if !handlers.ended {
            change(&mut handlers);
        }
    }

    /// Takes every handler out, for the end; later registrations are dropped.
    pub(crate) fn take_handlers(&self) -> Handlers {
        let mut handlers = lock(&self.handlers);
        let taken = std::mem::take(&mut *handlers);
        handlers.ended = true;
        taken
    }

    /// Tells the connection's error callback, if it has one.
    pub(crate) fn report(&self, error: &HubError) {
        let hook = lock(&self.handlers).error.clone();
        if let Some(hook) = hook {
            hook(error);
        }
    }
}
