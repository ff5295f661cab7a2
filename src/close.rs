//! Where the closing handshake stands (RFC 6455 section 7): the one record of it per
//! connection, which every face and both directions consult.
//!
//! It is readable from any thread without a lock, so that a reader half never waits for a
//! writer to learn that the connection is over; it changes only while the write side is
//! held (the output's lock, for split halves), so changes never race one another.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::proto::{CloseStatus, Role};

/// Where the closing handshake stands, as a question's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase<'a> {
    /// No close frame sent or received.
    Open,
    /// We sent a close frame and wait for the peer's.
    Sent,
    /// Done: both close frames exchanged, or the connection failed or dropped.
    Closed(&'a CloseStatus),
}

/// The closing handshake's state, and the two settings it runs by.
#[derive(Debug)]
pub(crate) struct CloseState {
    /// Our close frame went out (or was attempted).
    sent: AtomicBool,
    /// How the connection ended; set once, when it does.
    status: OnceLock<CloseStatus>,
    /// RFC 6455 7.1.1: the server closes the TCP connection first; a client leaves that to
    /// the server unless it started the close itself.
    pub(crate) role: Role,
    /// How long the closing handshake may take from our close frame on, its own write
    /// included.
    pub(crate) timeout: Option<Duration>,
}

impl CloseState {
    pub(crate) fn new(role: Role, timeout: Option<Duration>) -> CloseState {
        CloseState {
            sent: AtomicBool::new(false),
            status: OnceLock::new(),
            role,
            timeout,
        }
    }

    pub(crate) fn phase(&self) -> Phase<'_> {
        match self.status.get() {
            Some(status) => Phase::Closed(status),
            None if self.sent.load(Ordering::Acquire) => Phase::Sent,
            None => Phase::Open,
        }
    }

    /// Whether data and pings may still be sent: no close frame has been.
    pub(crate) fn is_open(&self) -> bool {
        self.phase() == Phase::Open
    }

    /// How the connection ended, once it has.
    pub(crate) fn status(&self) -> Option<&CloseStatus> {
        self.status.get()
    }

    /// Records that our close frame is going out.
    pub(crate) fn mark_sent(&self) {
        self.sent.store(true, Ordering::Release);
    }

    /// Records how the connection ended. The first record stands: returns whether this
    /// one did.
    pub(crate) fn finish(&self, status: CloseStatus) -> bool {
        self.status.set(status).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Initiator;

    #[test]
    fn open_then_sent_then_closed_and_the_first_status_stands() {
        let state = CloseState::new(crate::proto::Role::Server, None);
        assert_eq!(state.phase(), Phase::Open);
        assert!(state.is_open());
        state.mark_sent();
        assert_eq!(state.phase(), Phase::Sent);
        assert!(!state.is_open());
        let first = CloseStatus::abnormal(Initiator::Local);
        state.finish(first.clone());
        state.finish(CloseStatus::abnormal(Initiator::Peer));
        assert_eq!(state.phase(), Phase::Closed(&first));
        assert_eq!(state.status(), Some(&first));
    }
}
