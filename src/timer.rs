//! Time on the read side: the application's read deadline, the closing handshake's deadline
//! and the keepalive, all carried out with the stream's read timeout, so no thread is
//! needed per connection.
//!
//! The timeout is set on the stream only when its value changes. With only the keepalive
//! active it is a constant (the ping interval, then the rest of the pong timeout), which
//! works because each blocking read restarts the stream's timer: a read that times out has
//! itself measured that much silence, so the hot path reads no clock at all. A deadline needs
//! the exact time left, set before each read.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::stream::{StreamOps, is_timeout};

/// Detecting a dead peer while the application blocks reading: after `ping_interval` with
/// nothing heard from the peer, wsio sends a ping; if still nothing has been heard when
/// `timeout` has passed since the peer was last heard, the peer is taken for dead: wsio
/// sends close 1001, drops the connection, and the read returns
/// [`Error::KeepaliveTimeout`](crate::Error::KeepaliveTimeout). Any frame counts as being
/// heard. Works for streams that can time out ([`Stream`](crate::Stream)), with or
/// without [`split`](crate::Conn::split).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Keepalive {
    ping_interval: Duration,
    timeout: Duration,
}

impl Default for Keepalive {
    /// iris's defaults: a ping after 54 seconds of silence, dead after 60.
    fn default() -> Keepalive {
        Keepalive::new(Duration::from_secs(54), Duration::from_secs(60))
    }
}

impl Keepalive {
    /// Ping after `ping_interval` of silence; dead after `timeout` of silence. The timeout
    /// is raised to at least the interval plus 10 ms, to give the pong a chance.
    pub fn new(ping_interval: Duration, timeout: Duration) -> Keepalive {
        let ping_interval = ping_interval.max(Duration::from_millis(1));
        Keepalive {
            ping_interval,
            timeout: timeout.max(ping_interval + Duration::from_millis(10)),
        }
    }

    /// The silence after which a ping is sent.
    pub fn ping_interval(&self) -> Duration {
        self.ping_interval
    }

    /// The silence after which the peer is taken for dead.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// A stream's own timer may fire this much early without confusing the keepalive.
const SLACK: Duration = Duration::from_millis(5);

/// The outcome of one read attempt.
pub(crate) enum Attempt {
    /// Return this to the reader.
    Done(io::Result<usize>),
    /// The keepalive wants a ping sent; then read again.
    Ping,
    /// Woken early (by a deadline's timer set for a later instant, or spuriously): read
    /// again.
    Retry,
}

/// Read-side time keeping for one connection (or reader half).
#[derive(Debug)]
pub(crate) struct ReadTimer {
    deadline: Option<Instant>,
    close_deadline: Option<Instant>,
    keepalive: Option<Keepalive>,
    /// A keepalive ping went out and nothing has been heard since.
    pinged: bool,
    /// The timeout last set on the stream by us; `None` if we never set one.
    applied: Option<Option<Duration>>,
}

impl ReadTimer {
    pub(crate) fn new(keepalive: Option<Keepalive>) -> ReadTimer {
        ReadTimer {
            deadline: None,
            close_deadline: None,
            keepalive,
            pinged: false,
            applied: None,
        }
    }

    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    pub(crate) fn set_close_deadline(&mut self, deadline: Option<Instant>) {
        self.close_deadline = deadline;
    }

    /// The earlier of the application's and the closing handshake's deadlines.
    fn hard_deadline(&self) -> Option<Instant> {
        match (self.deadline, self.close_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The timeout the next read should have, or the error for a deadline that passed.
    fn wanted(&self, now: Instant) -> io::Result<Option<Duration>> {
        let hard = match self.hard_deadline() {
            Some(deadline) if deadline <= now => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "read deadline passed",
                ));
            }
            Some(deadline) => Some(deadline - now),
            None => None,
        };
        let soft = self.keepalive_timeout();
        Ok(match (hard, soft) {
            (Some(h), Some(s)) => Some(h.min(s)),
            (h, s) => h.or(s),
        })
    }

    /// One read: sets the stream's timeout if it must change, reads, and interprets a
    /// timeout (a deadline, the keepalive's ping, a dead peer, or the stream's own timeout).
    pub(crate) fn attempt<S: Read>(
        &mut self,
        stream: &mut S,
        ops: Option<StreamOps<S>>,
        buf: &mut [u8],
    ) -> Attempt {
        let ours = if self.hard_deadline().is_some() {
            match self.wanted(Instant::now()) {
                Ok(timeout) => timeout,
                Err(e) => return Attempt::Done(Err(e)),
            }
        } else {
            self.keepalive_timeout()
        };
        if let Some(ops) = ops {
            // Only touch the stream's timeout to set ours, or to undo ours.
            if (ours.is_some() || self.applied.is_some()) && self.applied != Some(ours) {
                if let Err(e) = ops.set_read_timeout(stream, ours) {
                    return Attempt::Done(Err(e));
                }
                self.applied = ours.map(Some);
            }
        }
        match stream.read(buf) {
            Ok(n) => {
                if n > 0 {
                    self.pinged = false;
                }
                Attempt::Done(Ok(n))
            }
            Err(e) if is_timeout(&e) && ops.is_some() && ours.is_some() => {
                self.on_timeout(e, ours.unwrap_or_default())
            }
            Err(e) => Attempt::Done(Err(e)),
        }
    }

    /// The keepalive's timeout for the next read: the ping interval, or after a ping the
    /// rest of the pong timeout.
    fn keepalive_timeout(&self) -> Option<Duration> {
        self.keepalive.map(|k| {
            if self.pinged {
                k.timeout - k.ping_interval
            } else {
                k.ping_interval
            }
        })
    }

    /// The stream's timer fired after `waited` of silence.
    fn on_timeout(&mut self, e: io::Error, waited: Duration) -> Attempt {
        if self
            .hard_deadline()
            .is_some_and(|d| d <= Instant::now() + SLACK)
        {
            return Attempt::Done(Err(e));
        }
        if self.keepalive.is_none() {
            return Attempt::Done(Err(e));
        }
        if waited + SLACK < self.keepalive_timeout().unwrap_or_default() {
            // A deadline's shorter timer fired, before the keepalive's time: read again.
            return Attempt::Retry;
        }
        if self.pinged {
            return Attempt::Done(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                Error::KeepaliveTimeout,
            )));
        }
        self.pinged = true;
        Attempt::Ping
    }
}
