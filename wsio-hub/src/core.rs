//! The hub's state shared by every thread: the registry of connections and rooms, the
//! counters, and delivery. Every message the hub sends to a room or to everyone goes through
//! [`Core::route`], the one place an exchange between processes will plug into.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::Serialize;
use wsio::{CloseCode, MessageKind, PreparedMessage};

use crate::error::HubError;
use crate::exchange::{Command, Envelope, Exchange};
use crate::protocol::{self, MAX_ROOM_LEN};
use crate::queue::{Limits, Push};
use crate::shared::{Asks, ConnShared, Ending, lock};

/// The first character of every connection id, and of no room name: ids and room names
/// never meet, in any process, so nobody can join the room of another connection's id.
pub const ID_MARK: char = '@';

/// Whether a name is a connection's id (and so the room that holds only that connection).
pub(crate) fn is_id(name: &str) -> bool {
    name.starts_with(ID_MARK)
}

/// Who a message is for.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// The members of a room; a connection's id names the room that holds only it.
    Room(String),
    /// Every connection.
    All,
}

/// One connection in the registry, with the rooms it joined (not counting its own).
struct Member {
    shared: Arc<ConnShared>,
    rooms: HashSet<String>,
}

#[derive(Default)]
struct Registry {
    conns: HashMap<String, Member>,
    rooms: HashMap<String, HashSet<String>>,
}

/// The counters behind [`HubStats`](crate::HubStats).
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) connected: AtomicU64,
    pub(crate) disconnected: AtomicU64,
    pub(crate) events: AtomicU64,
    pub(crate) native: AtomicU64,
    pub(crate) unhandled: AtomicU64,
    pub(crate) malformed: AtomicU64,
    pub(crate) too_slow: AtomicU64,
    pub(crate) queued: AtomicU64,
    pub(crate) not_queued: AtomicU64,
    pub(crate) asks_timed_out: AtomicU64,
    pub(crate) exchange_received: AtomicU64,
    pub(crate) exchange_missed: AtomicU64,
    pub(crate) exchange_panics: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The way to the other processes: the exchange, this process's name among them, and the
/// number of its last publication.
pub(crate) struct Link {
    pub(crate) exchange: Arc<dyn Exchange>,
    pub(crate) node: String,
    /// The number of the last publication; held while publishing, so that publications
    /// reach the exchange in the order of their numbers (a gap then means a loss).
    seq: Mutex<u64>,
}

impl Link {
    pub(crate) fn new(exchange: Arc<dyn Exchange>, node: String) -> Link {
        Link {
            exchange,
            node,
            seq: Mutex::new(0),
        }
    }

    /// Publishes a command to every other process, numbered so that they can count what
    /// they missed.
    pub(crate) fn publish(&self, command: Command<'_>) {
        let mut seq = lock(&self.seq);
        *seq += 1;
        let envelope = Envelope {
            origin: &self.node,
            seq: *seq,
            command,
        };
        // Publishing never blocks: the lock is held for a queue push.
        self.exchange.publish(envelope.encode());
    }

    /// Sends a command to one process.
    pub(crate) fn send_to(&self, node: &str, command: Command<'_>) {
        let envelope = Envelope {
            origin: &self.node,
            seq: 0,
            command,
        };
        self.exchange.send_to(node, envelope.encode());
    }
}

pub(crate) struct Core {
    registry: RwLock<Registry>,
    pub(crate) counters: Counters,
    pub(crate) limits: Limits,
    pub(crate) link: Option<Link>,
    /// Requests to connections of other processes, waiting for their replies.
    pub(crate) remote_asks: Mutex<Asks>,
    /// Threads answering other processes' requests now.
    pub(crate) answering: AtomicUsize,
}

impl Core {
    pub(crate) fn new(limits: Limits, link: Option<Link>) -> Core {
        Core {
            registry: RwLock::default(),
            counters: Counters::default(),
            limits,
            link,
            remote_asks: Mutex::default(),
            answering: AtomicUsize::new(0),
        }
    }

    /// Tells the other processes, if there is an exchange.
    pub(crate) fn forward(&self, command: Command<'_>) {
        if let Some(link) = &self.link {
            link.publish(command);
        }
    }

    // The registry is only changed by whole inserts and removes: it stays consistent even
    // if a thread panicked while holding it.
    fn read(&self) -> RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Registry> {
        self.registry
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connection, unless its id is empty or names a connection or a room.
    pub(crate) fn insert(&self, shared: Arc<ConnShared>) -> Result<(), HubError> {
        let mut registry = self.write();
        let id = &shared.id;
        if !is_id(id) || id.len() > MAX_ROOM_LEN || registry.conns.contains_key(id) {
            return Err(HubError::DuplicateId(id.clone()));
        }
        registry.conns.insert(
            id.clone(),
            Member {
                shared: Arc::clone(&shared),
                rooms: HashSet::new(),
            },
        );
        Ok(())
    }

    /// Unregisters a connection; the rooms it was in.
    pub(crate) fn remove(&self, id: &str) -> Vec<String> {
        let mut registry = self.write();
        let Some(member) = registry.conns.remove(id) else {
            return Vec::new();
        };
        let rooms: Vec<String> = member.rooms.into_iter().collect();
        for room in &rooms {
            leave_room(&mut registry.rooms, room, id);
        }
        rooms
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<ConnShared>> {
        self.read().conns.get(id).map(|m| Arc::clone(&m.shared))
    }

    pub(crate) fn all(&self) -> Vec<Arc<ConnShared>> {
        self.read()
            .conns
            .values()
            .map(|m| Arc::clone(&m.shared))
            .collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.read().conns.len()
    }

    /// The ids of a room's members, sorted.
    pub(crate) fn members(&self, room: &str) -> Vec<String> {
        let registry = self.read();
        let mut ids: Vec<String> = if is_id(room) {
            registry
                .conns
                .contains_key(room)
                .then(|| room.to_owned())
                .into_iter()
                .collect()
        } else {
            registry
                .rooms
                .get(room)
                .map(|ids| ids.iter().cloned().collect())
                .unwrap_or_default()
        };
        ids.sort_unstable();
        ids
    }

    /// The names of the rooms that have members, sorted (connections' own rooms left out).
    pub(crate) fn rooms(&self) -> Vec<String> {
        let mut rooms: Vec<String> = self.read().rooms.keys().cloned().collect();
        rooms.sort_unstable();
        rooms
    }

    /// The rooms a connection joined, sorted (its own left out).
    pub(crate) fn rooms_of(&self, id: &str) -> Vec<String> {
        let mut rooms: Vec<String> = self
            .read()
            .conns
            .get(id)
            .map(|m| m.rooms.iter().cloned().collect())
            .unwrap_or_default();
        rooms.sort_unstable();
        rooms
    }

    pub(crate) fn is_member(&self, id: &str, room: &str) -> bool {
        let registry = self.read();
        room == id
            || !is_id(room)
                && registry
                    .conns
                    .get(id)
                    .is_some_and(|m| m.rooms.contains(room))
    }

    /// Puts a connection in a room. `Ok(false)` if no such connection is here.
    pub(crate) fn join(&self, id: &str, room: &str) -> Result<bool, HubError> {
        if room.is_empty() || room.len() > MAX_ROOM_LEN {
            return Err(HubError::RoomName(room.to_owned()));
        }
        let mut registry = self.write();
        if room == id {
            // Always in the room of its own id.
            return Ok(registry.conns.contains_key(id));
        }
        if is_id(room) {
            // Nobody joins the room of a connection's id, here or in another process.
            return Err(HubError::RoomName(room.to_owned()));
        }
        let Some(member) = registry.conns.get_mut(id) else {
            return Ok(false);
        };
        member.rooms.insert(room.to_owned());
        registry
            .rooms
            .entry(room.to_owned())
            .or_default()
            .insert(id.to_owned());
        Ok(true)
    }

    /// Takes a connection out of a room; whether it was in it. Its leave callback runs.
    pub(crate) fn leave(&self, id: &str, room: &str) -> bool {
        let shared = {
            let mut registry = self.write();
            let Some(member) = registry.conns.get_mut(id) else {
                return false;
            };
            if !member.rooms.remove(room) {
                return false;
            }
            let shared = Arc::clone(&member.shared);
            leave_room(&mut registry.rooms, room, id);
            shared
        };
        fire_leave(&shared, room);
        true
    }

    /// Takes a connection out of every room it joined; the rooms. Its leave callback runs
    /// for each.
    pub(crate) fn leave_all(&self, id: &str) -> Vec<String> {
        let (shared, rooms) = {
            let mut registry = self.write();
            let Some(member) = registry.conns.get_mut(id) else {
                return Vec::new();
            };
            let rooms: Vec<String> = member.rooms.drain().collect();
            let shared = Arc::clone(&member.shared);
            for room in &rooms {
                leave_room(&mut registry.rooms, room, id);
            }
            (shared, rooms)
        };
        for room in &rooms {
            fire_leave(&shared, room);
        }
        rooms
    }

    /// Sends a message to a target, except to one connection: to the connections here, and
    /// through the exchange to those of the other processes (encoded once for them all).
    /// Returns how many queues of this process took it. This is the one door for messages to
    /// rooms and to everyone.
    pub(crate) fn route(
        &self,
        target: &Target,
        except: Option<&str>,
        message: &PreparedMessage,
    ) -> usize {
        // Published first, so that the other processes' fan-out overlaps this one's.
        self.forward(Command::Emit {
            room: match target {
                Target::Room(room) => Some(room),
                Target::All => None,
            },
            except,
            binary: message.kind() == MessageKind::Binary,
            payload: message.data(),
        });
        self.deliver(target, except, message)
    }

    /// Delivers to the connections of this process.
    pub(crate) fn deliver(
        &self,
        target: &Target,
        except: Option<&str>,
        message: &PreparedMessage,
    ) -> usize {
        let mut queued = 0;
        let mut slow = Vec::new();
        {
            let registry = self.read();
            let mut push = |shared: &Arc<ConnShared>| {
                if except == Some(shared.id.as_str()) {
                    return;
                }
                match shared.queue.push(message) {
                    Push::Queued => queued += 1,
                    Push::Full => slow.push(Arc::clone(shared)),
                    Push::Closed => bump(&self.counters.not_queued),
                }
            };
            match target {
                Target::All => registry.conns.values().for_each(|m| push(&m.shared)),
                Target::Room(room) if is_id(room) => {
                    if let Some(member) = registry.conns.get(room) {
                        push(&member.shared);
                    }
                }
                Target::Room(room) => {
                    if let Some(ids) = registry.rooms.get(room) {
                        ids.iter()
                            .filter_map(|id| registry.conns.get(id))
                            .for_each(|m| push(&m.shared));
                    }
                }
            }
        }
        self.counters
            .queued
            .fetch_add(queued as u64, Ordering::Relaxed);
        for shared in slow {
            self.evict(&shared);
        }
        queued
    }

    /// Sends a message to one connection; false if it did not take it (closing, or too slow:
    /// then it is ended).
    pub(crate) fn send_to(&self, shared: &ConnShared, message: &PreparedMessage) -> bool {
        match shared.queue.push(message) {
            Push::Queued => {
                bump(&self.counters.queued);
                true
            }
            Push::Full => {
                self.evict(shared);
                false
            }
            Push::Closed => {
                bump(&self.counters.not_queued);
                false
            }
        }
    }

    /// Ends a connection whose queue is full: what waits is dropped, and a close 1008 goes
    /// out after the write in progress (which the write timeout bounds).
    fn evict(&self, shared: &ConnShared) {
        if shared.end_because(Ending::TooSlow) {
            bump(&self.counters.too_slow);
            shared
                .queue
                .close(CloseCode::POLICY_VIOLATION, "too slow", true);
        }
    }

    /// Ends a connection gracefully: what is queued goes out, then close 1000. False if it
    /// is not here.
    pub(crate) fn disconnect(&self, id: &str) -> bool {
        let Some(shared) = self.get(id) else {
            return false;
        };
        disconnect(&shared);
        true
    }
}

/// Ends a connection gracefully: what is queued goes out, then close 1000.
pub(crate) fn disconnect(shared: &ConnShared) {
    if shared.end_because(Ending::ByServer) {
        shared.queue.close(CloseCode::NORMAL, "", false);
    }
}

fn leave_room(rooms: &mut HashMap<String, HashSet<String>>, room: &str, id: &str) {
    if let Some(ids) = rooms.get_mut(room) {
        ids.remove(id);
        if ids.is_empty() {
            rooms.remove(room);
        }
    }
}

fn fire_leave(shared: &ConnShared, room: &str) {
    let hook = lock(&shared.handlers).leave.clone();
    if let Some(hook) = hook {
        hook(room);
    }
}

/// A text message of an event, encoded once for any number of receivers.
pub(crate) fn event_message<T: Serialize + ?Sized>(
    event: &str,
    data: &T,
    ask: Option<u64>,
) -> Result<PreparedMessage, HubError> {
    let bytes = protocol::event(event, data, ask).map_err(HubError::Encode)?;
    Ok(text_message(bytes))
}

/// A text message from bytes that are UTF-8 (serde_json's output, or a `&str`'s).
pub(crate) fn text_message(bytes: Vec<u8>) -> PreparedMessage {
    PreparedMessage::new(MessageKind::Text, bytes).expect("JSON and &str are UTF-8")
}

/// Sends to a room, to everyone, or to everyone but one connection: get one from
/// [`Hub::to`](crate::Hub::to), [`Hub::everyone`](crate::Hub::everyone),
/// [`Connection::to`](crate::Connection::to), [`Connection::broadcast`](crate::Connection::broadcast)
/// or [`Connection::everyone`](crate::Connection::everyone). Each message is encoded once,
/// whatever the number of receivers, and queued for each: sending never waits for a client.
#[derive(Clone)]
pub struct Emitter {
    core: Arc<Core>,
    target: Target,
    except: Option<String>,
}

impl Emitter {
    pub(crate) fn new(core: Arc<Core>, target: Target, except: Option<String>) -> Emitter {
        Emitter {
            core,
            target,
            except,
        }
    }

    /// Leaves out the connection with this id.
    #[must_use]
    pub fn except(mut self, id: impl Into<String>) -> Emitter {
        self.except = Some(id.into());
        self
    }

    /// Sends the event `event` with `data` as its JSON payload. Returns how many connections
    /// it was queued for.
    ///
    /// # Errors
    ///
    /// [`HubError::Encode`] if `data` cannot be encoded as JSON.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<usize, HubError> {
        let message = event_message(event, data, None)?;
        Ok(self.prepared(&message))
    }

    /// Sends a native text message (passed to clients as it is, but for a text that starts
    /// with U+001E, which travels as `{"text":...}`: see [`protocol`](crate::protocol)).
    /// Returns how many connections it was queued for.
    pub fn text(&self, text: &str) -> usize {
        self.prepared(&text_message(protocol::native_text(text)))
    }

    /// Sends a native binary message. Returns how many connections it was queued for.
    pub fn binary(&self, data: &[u8]) -> usize {
        let message = PreparedMessage::new(MessageKind::Binary, data.to_vec())
            .expect("binary is never refused");
        self.prepared(&message)
    }

    /// Sends a message prepared by the caller, as it is: a text message that starts with
    /// U+001E is taken for a hub frame by clients. Returns how many connections it was
    /// queued for.
    pub fn prepared(&self, message: &PreparedMessage) -> usize {
        self.core
            .route(&self.target, self.except.as_deref(), message)
    }
}

impl std::fmt::Debug for Emitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter")
            .field("target", &self.target)
            .field("except", &self.except)
            .finish()
    }
}
