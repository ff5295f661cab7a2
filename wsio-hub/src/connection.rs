//! [`Connection`]: a handle to one client of the hub, usable from any thread.

use std::any::Any;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use wsio::{Message, RequestInfo};

use crate::core::{self, Core, Emitter, Target, bump, event_message, text_message};
use crate::error::{Disconnected, HubError};
use crate::protocol;
use crate::shared::{ConnShared, Outcome, lock};

/// One client of the hub. Cheap to clone; every clone is the same connection, usable from
/// any thread. Register its handlers in the hub's
/// [`on_connection`](crate::HubBuilder::on_connection) callback: they run on the
/// connection's own reading thread, one at a time, in the order the messages came.
///
/// A handler that keeps a clone of its connection makes a cycle; the hub breaks it when the
/// connection ends, by dropping every handler.
#[derive(Clone)]
pub struct Connection {
    pub(crate) shared: Arc<ConnShared>,
    pub(crate) core: Arc<Core>,
}

impl Connection {
    pub(crate) fn new(shared: Arc<ConnShared>, core: Arc<Core>) -> Connection {
        Connection { shared, core }
    }

    /// The connection's id, unique among the hub's connections: also the name of the room
    /// that holds only this connection.
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// Whether the connection is still registered with the hub (it is not once it ended or
    /// is ending).
    pub fn is_connected(&self) -> bool {
        !self.shared.is_ending() && self.core.get(&self.shared.id).is_some()
    }

    /// Whether the client speaks the hub protocol (it offered the `wsio-hub.1`
    /// subprotocol); a native client does not.
    pub fn speaks_hub(&self) -> bool {
        self.shared.speaks_hub
    }

    /// What the server kept of the request that opened the connection: target, origin, the
    /// headers named by [`Upgrader::keep_headers`](wsio::Upgrader::keep_headers), and the value
    /// the access callback attached.
    pub fn request(&self) -> Option<&RequestInfo> {
        self.shared.request.as_ref()
    }

    /// The path of the request that opened the connection (without the query).
    pub fn path(&self) -> &str {
        self.request().map_or("", RequestInfo::path)
    }

    /// The value the access callback attached with
    /// [`Accept::set_value`](wsio::Accept::set_value), if it is a `T`.
    pub fn value<T: Any>(&self) -> Option<&T> {
        self.request()?.value()
    }

    /// The client's address (`None` over a Unix socket).
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.shared.peer
    }

    /// Sends the event `event` with `data` as its JSON payload to this connection.
    ///
    /// # Errors
    ///
    /// [`HubError::Encode`] if `data` cannot be encoded; [`HubError::Disconnected`] if the
    /// connection is closing or its queue is full (it is then ended as too slow).
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), HubError> {
        let message = event_message(event, data, None)?;
        self.send(&message)
    }

    /// Sends a native text message to this connection.
    ///
    /// # Errors
    ///
    /// [`HubError::Disconnected`], as for [`emit`](Self::emit).
    pub fn text(&self, text: &str) -> Result<(), HubError> {
        self.send(&text_message(protocol::native_text(text)))
    }

    /// Sends a native binary message to this connection.
    ///
    /// # Errors
    ///
    /// [`HubError::Disconnected`], as for [`emit`](Self::emit).
    pub fn binary(&self, data: &[u8]) -> Result<(), HubError> {
        let message = wsio::PreparedMessage::new(wsio::MessageKind::Binary, data.to_vec())
            .expect("binary is never refused");
        self.send(&message)
    }

    fn send(&self, message: &wsio::PreparedMessage) -> Result<(), HubError> {
        if self.core.send_to(&self.shared, message) {
            Ok(())
        } else {
            Err(HubError::Disconnected)
        }
    }

    /// Sends to the members of `room` (this connection too, if it is one). A connection's id
    /// names the room that holds only it.
    pub fn to(&self, room: &str) -> Emitter {
        Emitter::new(Arc::clone(&self.core), Target::Room(room.to_owned()), None)
    }

    /// Sends to every connection of the hub but this one.
    pub fn broadcast(&self) -> Emitter {
        Emitter::new(
            Arc::clone(&self.core),
            Target::All,
            Some(self.shared.id.clone()),
        )
    }

    /// Sends to every connection of the hub, this one included.
    pub fn everyone(&self) -> Emitter {
        Emitter::new(Arc::clone(&self.core), Target::All, None)
    }

    /// Handles the event `event`: `handler` gets its payload decoded as a `T`. A request
    /// for the event is answered with `null` once the handler returned; use
    /// [`answer`](Self::answer) to answer with a value. A payload that does not decode as
    /// a `T` is a malformed message: the error callback hears of it and the connection is
    /// closed with 1007. Replaces an earlier handler of the same event.
    pub fn on<T, F>(&self, event: &str, handler: F)
    where
        T: DeserializeOwned,
        F: Fn(T) + Send + Sync + 'static,
    {
        self.set_event(event, move |data: &RawValue| {
            match serde_json::from_str::<T>(data.get()) {
                Ok(value) => {
                    handler(value);
                    Outcome::Done
                }
                Err(e) => Outcome::BadData(e),
            }
        });
    }

    /// Answers requests for the event `event` (the client's `ask`): `handler` gets the
    /// payload decoded as a `T`; what it returns is the reply, a value or an error (sent as
    /// its `Display` text). Plain events of that name run the handler too, and the answer
    /// is dropped. Replaces an earlier handler of the same event.
    pub fn answer<T, R, E, F>(&self, event: &str, handler: F)
    where
        T: DeserializeOwned,
        R: Serialize,
        E: fmt::Display,
        F: Fn(T) -> Result<R, E> + Send + Sync + 'static,
    {
        self.set_event(event, move |data: &RawValue| {
            let value = match serde_json::from_str::<T>(data.get()) {
                Ok(value) => value,
                Err(e) => return Outcome::BadData(e),
            };
            match handler(value) {
                Ok(reply) => match serde_json::value::to_raw_value(&reply) {
                    Ok(raw) => Outcome::Answer(Ok(raw)),
                    Err(e) => Outcome::Encode(e),
                },
                Err(e) => Outcome::Answer(Err(e.to_string())),
            }
        });
    }

    fn set_event(
        &self,
        event: &str,
        handler: impl Fn(&RawValue) -> Outcome + Send + Sync + 'static,
    ) {
        self.shared.handlers(|h| {
            h.events.insert(event.to_owned(), Arc::new(handler));
        });
    }

    /// Stops handling the event `event`.
    pub fn off(&self, event: &str) {
        self.shared.handlers(|h| {
            h.events.remove(event);
        });
    }

    /// Handles native messages (text or binary, passed through as the client sent them).
    /// Without it they are counted and dropped.
    pub fn on_native<F>(&self, handler: F)
    where
        F: Fn(&Message) + Send + Sync + 'static,
    {
        self.shared.handlers(|h| h.native = Some(Arc::new(handler)));
    }

    /// Runs once when the connection ends, whatever ended it, after it left its rooms and
    /// its writer stopped. Registered after the end, it never runs.
    pub fn on_disconnect<F>(&self, handler: F)
    where
        F: FnOnce(&Disconnected) + Send + 'static,
    {
        self.shared
            .handlers(|h| h.disconnect = Some(Box::new(handler)));
    }

    /// Hears of what goes wrong on this connection: malformed messages, payloads that do not
    /// fit their handler, answers that cannot be encoded, write failures.
    pub fn on_error<F>(&self, handler: F)
    where
        F: Fn(&HubError) + Send + Sync + 'static,
    {
        self.shared.handlers(|h| h.error = Some(Arc::new(handler)));
    }

    /// Sees each ping's payload (the pong is sent anyway).
    pub fn on_ping<F>(&self, handler: F)
    where
        F: Fn(&[u8]) + Send + Sync + 'static,
    {
        self.shared.handlers(|h| h.ping = Some(Arc::new(handler)));
    }

    /// Sees each pong's payload (the keepalive's answers among them).
    pub fn on_pong<F>(&self, handler: F)
    where
        F: Fn(&[u8]) + Send + Sync + 'static,
    {
        self.shared.handlers(|h| h.pong = Some(Arc::new(handler)));
    }

    /// Runs with the room's name each time the connection leaves a room: by
    /// [`leave`](Self::leave), [`leave_all`](Self::leave_all), the client's request, or
    /// its end (for every room it was in, before the disconnect callback).
    pub fn on_leave<F>(&self, handler: F)
    where
        F: Fn(&str) + Send + Sync + 'static,
    {
        self.shared.handlers(|h| h.leave = Some(Arc::new(handler)));
    }

    /// Joins `room`.
    ///
    /// # Errors
    ///
    /// [`HubError::RoomName`] for a name that is empty, over 256 bytes, or another
    /// connection's id; [`HubError::Disconnected`] once the connection ended.
    pub fn join(&self, room: &str) -> Result<(), HubError> {
        match self.core.join(&self.shared.id, room)? {
            true => Ok(()),
            false => Err(HubError::Disconnected),
        }
    }

    /// Leaves `room`; whether it was in it.
    pub fn leave(&self, room: &str) -> bool {
        self.core.leave(&self.shared.id, room)
    }

    /// Leaves every room it joined; the rooms.
    pub fn leave_all(&self) -> Vec<String> {
        self.core.leave_all(&self.shared.id)
    }

    /// Whether the connection is in `room` (always in the room of its own id).
    pub fn is_joined(&self, room: &str) -> bool {
        self.core.is_member(&self.shared.id, room)
    }

    /// The rooms it joined, sorted (the room of its own id left out).
    pub fn rooms(&self) -> Vec<String> {
        self.core.rooms_of(&self.shared.id)
    }

    /// Stores a value under `key` for the life of the connection, replacing an earlier one.
    pub fn set<T: Any + Send + Sync>(&self, key: &str, value: T) {
        lock(&self.shared.values).insert(key.to_owned(), Arc::new(value));
    }

    /// The value stored under `key`, if it is a `T`.
    pub fn get<T: Any + Send + Sync>(&self, key: &str) -> Option<Arc<T>> {
        let value = Arc::clone(lock(&self.shared.values).get(key)?);
        value.downcast().ok()
    }

    /// Removes the value stored under `key`; whether there was one.
    pub fn remove(&self, key: &str) -> bool {
        lock(&self.shared.values).remove(key).is_some()
    }

    /// Sends the event `event` as a request and waits up to `timeout` for the client's
    /// reply (neffos's `Ask`), decoded as an `R`.
    ///
    /// # Errors
    ///
    /// [`HubError::AskOnOwnThread`] when called from one of this connection's handlers
    /// (the reply could not be read while it waits: ask from another thread);
    /// [`HubError::Timeout`]; [`HubError::Refused`] with the client's error;
    /// [`HubError::Disconnected`] if the connection ends first; [`HubError::BadData`] if
    /// the reply does not decode as an `R`; [`HubError::Encode`].
    pub fn ask<T, R>(&self, event: &str, data: &T, timeout: Duration) -> Result<R, HubError>
    where
        T: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        if std::thread::current().id() == self.shared.reader {
            return Err(HubError::AskOnOwnThread);
        }
        let (answer, reply) = mpsc::sync_channel(1);
        let n = lock(&self.shared.asks).insert(answer);
        let sent = event_message(event, data, Some(n)).and_then(|m| self.send(&m));
        if let Err(e) = sent {
            lock(&self.shared.asks).remove(n);
            return Err(e);
        }
        match reply.recv_timeout(timeout) {
            Ok(Ok(raw)) => serde_json::from_str(raw.get()).map_err(|error| HubError::BadData {
                event: event.to_owned(),
                error,
            }),
            Ok(Err(why)) => Err(HubError::Refused(why)),
            Err(RecvTimeoutError::Timeout) => {
                lock(&self.shared.asks).remove(n);
                bump(&self.core.counters.asks_timed_out);
                Err(HubError::Timeout)
            }
            Err(RecvTimeoutError::Disconnected) => Err(HubError::Disconnected),
        }
    }

    /// Ends the connection gracefully: what is queued for it goes out, then close 1000. Its
    /// disconnect callback runs when the client answered (or the close timeout passed).
    pub fn disconnect(&self) {
        core::disconnect(&self.shared);
    }

    /// How many messages wait in its queue.
    pub fn queued(&self) -> usize {
        self.shared.queue.len()
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.shared.id)
            .field("peer", &self.shared.peer)
            .finish_non_exhaustive()
    }
}
