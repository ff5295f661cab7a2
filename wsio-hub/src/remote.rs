//! What other processes tell this hub, through its exchange: messages for its connections,
//! disconnects and joins by id, requests for its connections and replies to its own.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::Duration;

use serde_json::value::RawValue;
use wsio::{MessageKind, PreparedMessage};

use crate::connection::Connection;
use crate::core::{Core, Target, bump, disconnect};
use crate::error::HubError;
use crate::exchange::{Command, Envelope, Inbox};
use crate::shared::lock;

/// The hub's inbox: holds the hub weakly, so that a hub nobody uses stops its exchange.
pub(crate) struct HubInbox {
    core: Weak<Core>,
    /// The last publication seen from each other process, to count the ones missed.
    last_seen: Mutex<HashMap<String, u64>>,
}

impl HubInbox {
    pub(crate) fn new(core: &Arc<Core>) -> HubInbox {
        HubInbox {
            core: Arc::downgrade(core),
            last_seen: Mutex::default(),
        }
    }

    /// Counts the publications of `origin` that never arrived before `seq`.
    fn count_missed(&self, core: &Core, origin: &str, seq: u64) {
        let mut last_seen = lock(&self.last_seen);
        match last_seen.get_mut(origin) {
            Some(last) => {
                if seq > *last + 1 {
                    core.counters
                        .exchange_missed
                        .fetch_add(seq - *last - 1, Ordering::Relaxed);
                }
                *last = seq.max(*last);
            }
            // The first heard of it: what it published before is not ours to count.
            None => {
                last_seen.insert(origin.to_owned(), seq);
            }
        }
    }
}

impl Inbox for HubInbox {
    fn deliver(&self, bytes: &[u8]) {
        let Some(core) = self.core.upgrade() else {
            return;
        };
        let Ok(envelope) = Envelope::decode(bytes) else {
            return;
        };
        let Some(link) = &core.link else {
            return;
        };
        // Its own publications the hub delivered itself.
        if envelope.origin == link.node {
            return;
        }
        bump(&core.counters.exchange_received);
        if envelope.seq != 0 {
            self.count_missed(&core, envelope.origin, envelope.seq);
        }
        // The application's callbacks run here (leave callbacks, for one): a panic in one
        // must not end the subscription for every later message.
        let run = catch_unwind(AssertUnwindSafe(|| {
            execute(&core, envelope.origin, envelope.command);
        }));
        if run.is_err() {
            bump(&core.counters.exchange_panics);
        }
    }

    fn is_closed(&self) -> bool {
        self.core.strong_count() == 0
    }
}

fn execute(core: &Arc<Core>, origin: &str, command: Command<'_>) {
    match command {
        Command::Emit {
            room,
            except,
            binary,
            payload,
        } => {
            let kind = if binary {
                MessageKind::Binary
            } else {
                MessageKind::Text
            };
            // Text that is not UTF-8 is not from a hub: dropped.
            if let Ok(message) = PreparedMessage::new(kind, payload.to_vec()) {
                let target = match room {
                    Some(room) => Target::Room(room.to_owned()),
                    None => Target::All,
                };
                core.deliver(&target, except, &message);
            }
        }
        Command::Disconnect { id } => {
            if let Some(shared) = core.get(id) {
                disconnect(&shared);
            }
        }
        Command::Join { id, room } => {
            let _ = core.join(id, room);
        }
        Command::Leave { id, room } => {
            core.leave(id, room);
        }
        Command::LeaveAll { id } => {
            core.leave_all(id);
        }
        Command::Ask {
            key,
            id,
            timeout_ms,
            event,
            data,
        } => {
            if let Some(shared) = core.get(id) {
                let timeout = Duration::from_millis(timeout_ms.into()).min(MAX_REMOTE_ASK);
                answer_remote(core, origin, key, shared, event, data, timeout);
            }
        }
        Command::Reply { key, ok, body } => {
            let waiting = lock(&core.remote_asks).remove(key);
            if let Some(waiting) = waiting {
                let answer = if ok {
                    std::str::from_utf8(body)
                        .ok()
                        .and_then(|json| RawValue::from_string(json.to_owned()).ok())
                        .ok_or_else(|| "the reply is not JSON".to_owned())
                } else {
                    Err(String::from_utf8_lossy(body).into_owned())
                };
                let _ = waiting.try_send(answer);
            }
        }
    }
}

/// Asks one of this process's connections for another process, on a thread of its own (the
/// inbox must not wait), and sends the reply back.
fn answer_remote(
    core: &Arc<Core>,
    origin: &str,
    key: u64,
    shared: Arc<crate::shared::ConnShared>,
    event: &str,
    data: &[u8],
    timeout: Duration,
) {
    let Some(data) = std::str::from_utf8(data)
        .ok()
        .and_then(|json| RawValue::from_string(json.to_owned()).ok())
    else {
        return;
    };
    let refuse = |why: &str| {
        if let Some(link) = &core.link {
            let body = why.as_bytes();
            link.send_to(
                origin,
                Command::Reply {
                    key,
                    ok: false,
                    body,
                },
            );
        }
    };
    // One thread per request being answered, and a bounded number of them.
    if core.answering.fetch_add(1, Ordering::Relaxed) >= MAX_ANSWERING {
        core.answering.fetch_sub(1, Ordering::Relaxed);
        return refuse("too many requests from other processes");
    }
    let conn = Connection::new(shared, Arc::clone(core));
    let answerer = Arc::clone(core);
    let (to, event) = (origin.to_owned(), event.to_owned());
    let spawned = thread::Builder::new()
        .name("wsio-hub ask".into())
        .stack_size(128 * 1024)
        .spawn(move || {
            let core = answerer;
            let result: Result<Box<RawValue>, HubError> = conn.ask(&event, &data, timeout);
            core.answering.fetch_sub(1, Ordering::Relaxed);
            let (ok, body) = match &result {
                Ok(raw) => (true, raw.get().as_bytes().to_vec()),
                Err(HubError::Refused(why)) => (false, why.as_bytes().to_vec()),
                Err(e) => (false, e.to_string().into_bytes()),
            };
            if let Some(link) = &core.link {
                link.send_to(
                    &to,
                    Command::Reply {
                        key,
                        ok,
                        body: &body,
                    },
                );
            }
        });
    if spawned.is_err() {
        core.answering.fetch_sub(1, Ordering::Relaxed);
        refuse("no thread to answer with");
    }
}

/// The most requests of other processes answered at once, each on a thread of its own.
const MAX_ANSWERING: usize = 256;

/// The longest another process's request may wait for one of this process's connections.
const MAX_REMOTE_ASK: Duration = Duration::from_secs(300);
