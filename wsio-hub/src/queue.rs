//! A connection's outgoing queue: bounded, filled by any thread without blocking, drained by
//! the connection's writer thread. A broadcast only ever pushes here, so a slow or dead
//! client cannot hold it up.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use wsio::{CloseCode, PreparedMessage};

/// What the writer sends next.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A message, encoded once and shared by every queue it was pushed to.
    Message(PreparedMessage),
    /// A close frame; the writer stops after it.
    Close(CloseCode, &'static str),
}

/// What a wait found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Items moved into the batch.
    Items,
    /// Nothing within the time given.
    Idle,
    /// The queue ended.
    Ended,
}

/// The result of a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Push {
    /// Queued; the writer will send it.
    Queued,
    /// The queue is at its limit; nothing was queued.
    Full,
    /// The connection is closing or gone; nothing was queued.
    Closed,
}

/// How many messages, and how many bytes of them, a queue holds at most.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) messages: usize,
    pub(crate) bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Taking messages.
    Open,
    /// A close frame is queued: nothing more is taken.
    Closing,
    /// The connection ended: the writer stops, whatever is queued.
    Ended,
}

#[derive(Debug)]
struct State {
    items: VecDeque<Outgoing>,
    bytes: usize,
    phase: Phase,
    /// The writer sleeps on the condition variable: only then does a push wake it (a
    /// wake is a system call; a writer busy writing finds the new items when it comes back).
    writer_waits: bool,
}

#[derive(Debug)]
pub(crate) struct Queue {
    state: Mutex<State>,
    ready: Condvar,
    limits: Limits,
}

impl Queue {
    pub(crate) fn new(limits: Limits) -> Queue {
        Queue {
            state: Mutex::new(State {
                items: VecDeque::new(),
                bytes: 0,
                phase: Phase::Open,
                writer_waits: false,
            }),
            ready: Condvar::new(),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No code that can panic runs under this lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a message unless the queue is full or closing. Never blocks on the writer.
    pub(crate) fn push(&self, message: &PreparedMessage) -> Push {
        let mut state = self.lock();
        if state.phase != Phase::Open {
            return Push::Closed;
        }
        let len = message.data().len();
        // One message always fits, however big: the limit bounds what waits behind it.
        if !state.items.is_empty()
            && (state.items.len() >= self.limits.messages
                || state.bytes.saturating_add(len) > self.limits.bytes)
        {
            return Push::Full;
        }
        state.bytes += len;
        state.items.push_back(Outgoing::Message(message.clone()));
        self.wake(state);
        Push::Queued
    }

    /// Queues a close frame after what is queued (or, with `discard`, instead of it), and
    /// takes nothing more. Returns false if the queue was closing or ended already.
    pub(crate) fn close(&self, code: CloseCode, reason: &'static str, discard: bool) -> bool {
        let mut state = self.lock();
        if state.phase != Phase::Open {
            return false;
        }
        if discard {
            state.items.clear();
            state.bytes = 0;
        }
        state.items.push_back(Outgoing::Close(code, reason));
        state.phase = Phase::Closing;
        self.wake(state);
        true
    }

    /// Ends the queue: the writer stops, and what is queued is dropped.
    pub(crate) fn end(&self) {
        let mut state = self.lock();
        state.phase = Phase::Ended;
        state.items.clear();
        state.bytes = 0;
        self.wake(state);
    }

    /// Wakes the writer if it sleeps.
    fn wake(&self, state: MutexGuard<'_, State>) {
        let waits = state.writer_waits;
        drop(state);
        if waits {
            self.ready.notify_one();
        }
    }

    /// Waits up to `idle` for something to send and moves all of it into `batch`.
    pub(crate) fn wait(&self, batch: &mut Vec<Outgoing>, idle: Duration) -> Wait {
        let until = Instant::now() + idle;
        let mut state = self.lock();
        loop {
            if state.phase == Phase::Ended {
                return Wait::Ended;
            }
            if !state.items.is_empty() {
                batch.extend(state.items.drain(..));
                state.bytes = 0;
                return Wait::Items;
            }
            state = match self.sleep(state, until) {
                Some(state) => state,
                None => return Wait::Idle,
            };
        }
    }

    /// Waits up to `limit` for the queue to end; whether it did.
    pub(crate) fn wait_end(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        let mut state = self.lock();
        while state.phase != Phase::Ended {
            state = match self.sleep(state, until) {
                Some(state) => state,
                None => return false,
            };
        }
        true
    }

    /// The writer sleeps until woken or `until`; `None` once `until` has passed.
    fn sleep<'a>(
        &self,
        mut state: MutexGuard<'a, State>,
        until: Instant,
    ) -> Option<MutexGuard<'a, State>> {
        let left = until.checked_duration_since(Instant::now())?;
        state.writer_waits = true;
        let mut state = self
            .ready
            .wait_timeout(state, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        state.writer_waits = false;
        Some(state)
    }

    /// How many messages wait.
    pub(crate) fn len(&self) -> usize {
        self.lock().items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wsio::MessageKind;

    const LONG: Duration = Duration::from_secs(10);

    fn message(len: usize) -> PreparedMessage {
        PreparedMessage::new(MessageKind::Binary, vec![0; len]).unwrap()
    }

    #[test]
    fn full_by_count_or_bytes_but_one_always_fits() {
        let q = Queue::new(Limits {
            messages: 2,
            bytes: 100,
        });
        assert_eq!(q.push(&message(1000)), Push::Queued);
        assert_eq!(q.push(&message(1)), Push::Full);
        let mut batch = Vec::new();
        assert_eq!(q.wait(&mut batch, LONG), Wait::Items);
        assert_eq!(q.push(&message(10)), Push::Queued);
        assert_eq!(q.push(&message(10)), Push::Queued);
        assert_eq!(q.push(&message(10)), Push::Full);
    }

    #[test]
    fn close_comes_after_what_is_queued_unless_discarded() {
        let q = Queue::new(Limits {
            messages: 10,
            bytes: 1 << 20,
        });
        q.push(&message(1));
        assert!(q.close(CloseCode::NORMAL, "", false));
        assert!(!q.close(CloseCode::NORMAL, "", true));
        assert_eq!(q.push(&message(1)), Push::Closed);
        let mut batch = Vec::new();
        assert_eq!(q.wait(&mut batch, LONG), Wait::Items);
        assert!(matches!(
            batch[..],
            [Outgoing::Message(_), Outgoing::Close(..)]
        ));

        let q = Queue::new(Limits {
            messages: 10,
            bytes: 1 << 20,
        });
        q.push(&message(1));
        q.close(CloseCode::POLICY_VIOLATION, "too slow", true);
        batch.clear();
        q.wait(&mut batch, LONG);
        assert!(matches!(batch[..], [Outgoing::Close(..)]));
    }

    #[test]
    fn end_wakes_the_writer() {
        let q = std::sync::Arc::new(Queue::new(Limits {
            messages: 10,
            bytes: 100,
        }));
        let writer = {
            let q = q.clone();
            std::thread::spawn(move || q.wait(&mut Vec::new(), LONG))
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        q.end();
        assert_eq!(writer.join().unwrap(), Wait::Ended);
        assert!(q.wait_end(Duration::ZERO));
    }

    #[test]
    fn an_idle_wait_returns_after_its_time() {
        let q = Queue::new(Limits {
            messages: 10,
            bytes: 100,
        });
        assert_eq!(
            q.wait(&mut Vec::new(), Duration::from_millis(10)),
            Wait::Idle
        );
        assert!(!q.wait_end(Duration::from_millis(10)));
    }
}
