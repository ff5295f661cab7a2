//! Time on the read side: the application's read deadline, the closing handshake's deadline
//! and the keepalive, all carried out with the stream's read timeout, so no thread is
//! needed per connection.
//!
//! The timeout is set on the stream only when its value changes. With only the keepalive
//! active it is a constant (the ping interval, then the rest of the pong timeout), which
//! works because each blocking read restarts the stream's timer: a read that times out has
//! itself measured that much silence, so the hot path reads no clock at all. A deadline needs
//! the exact time left, set before each read.
//!
//! Over a non-blocking stream ([`Pace::NonBlocking`]) no timeout is ever set: each read that
//! brings bytes notes the time, and a read that would block compares the clock with the
//! deadlines and the keepalive's next moment, which [`ReadTimer::next_deadline`] tells the
//! event loop so that it polls with the right timeout.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use crate::config::Keepalive;
use crate::reader::ReadError;
use crate::stream::{self, AppliedTimeout, Pace, Stall, StreamOps};

/// A stream's own timer may fire this much early without confusing the keepalive.
const SLACK: Duration = Duration::from_millis(5);

/// The outcome of one read attempt.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// Return this to the reader.
    Done(Result<usize, ReadError>),
    /// The keepalive wants a ping sent; then read again.
    Ping,
    /// Woken early (by a deadline's timer set for a later instant, an interrupted call, or
    /// spuriously): read again.
    Retry,
}

/// Where the keepalive stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Silence {
    /// Listening; the peer was heard within the ping interval.
    Listening,
    /// A keepalive ping went out and nothing has been heard since.
    Pinged,
}

/// Read-side time keeping for one connection (or reader half).
#[derive(Debug)]
pub(crate) struct ReadTimer {
    deadline: Option<Instant>,
    close_deadline: Option<Instant>,
    keepalive: Option<Keepalive>,
    silence: Silence,
    applied: AppliedTimeout,
    pace: Pace,
    /// When the peer was last heard (non-blocking: the keepalive counts from it).
    heard: Instant,
    /// The last read of a non-blocking stream emptied it (see `attempt_polled`).
    drained: bool,
    skip: Skip,
}

/// Whether a read after one that drained the socket is skipped
/// ([`ConfigBuilder::skip_drained_reads`](crate::ConfigBuilder::skip_drained_reads)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Skip {
    /// Always ask the stream.
    Never,
    /// The loop reads until `WouldBlock` before waiting: the read after a short one is
    /// answered `WouldBlock` without a system call.
    DrainedReads,
}

impl ReadTimer {
    pub(crate) fn new(keepalive: Option<Keepalive>, pace: Pace, skip: Skip) -> ReadTimer {
        ReadTimer {
            deadline: None,
            close_deadline: None,
            keepalive,
            silence: Silence::Listening,
            applied: AppliedTimeout::Untouched,
            pace,
            heard: Instant::now(),
            drained: false,
            skip,
        }
    }

    /// Whether the closing handshake's deadline is set.
    pub(crate) fn has_close_deadline(&self) -> bool {
        self.close_deadline.is_some()
    }

    /// The next moment a read must be made even if the stream stays silent: a deadline, or
    /// the keepalive's ping or pong timeout (non-blocking streams; blocking ones keep time
    /// with their own timeouts).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let keepalive = match self.pace {
            Pace::Blocking => None,
            Pace::NonBlocking => self.keepalive_due(),
        };
        match (self.hard_deadline(), keepalive) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The keepalive's next moment over a non-blocking stream, counted from when the peer
    /// was last heard: the ping, or after it the end of the pong timeout.
    fn keepalive_due(&self) -> Option<Instant> {
        self.keepalive.map(|k| {
            self.heard
                + match self.silence {
                    Silence::Listening => k.ping_interval(),
                    Silence::Pinged => k.timeout(),
                }
        })
    }

    /// A read was refused (our queue is over the mark): the caller will wait on its poller,
    /// so the next read asks the stream.
    pub(crate) fn forget_drain(&mut self) {
        self.drained = false;
    }

    /// Over a non-blocking stream with nothing to read now: what the clock says, if
    /// anything is due (a deadline passed, the keepalive's ping, a peer silent past the
    /// pong timeout). `None` over a blocking stream, whose timeouts keep time.
    pub(crate) fn check_clock(&mut self) -> Option<Attempt> {
        if self.pace == Pace::Blocking {
            return None;
        }
        let now = Instant::now();
        if self.hard_deadline().is_some_and(|d| d <= now) {
            return Some(Attempt::Done(Err(ReadError::TimedOut)));
        }
        match (self.keepalive_due(), self.silence) {
            (Some(due), Silence::Listening) if due <= now => {
                self.silence = Silence::Pinged;
                Some(Attempt::Ping)
            }
            (Some(due), Silence::Pinged) if due <= now => {
                Some(Attempt::Done(Err(ReadError::PeerSilent)))
            }
            _ => None,
        }
    }

    /// One read of a non-blocking stream: when it would block, the clock decides whether a
    /// deadline passed or the keepalive is due. After a read that brought less than asked
    /// from a stream where that means it had no more (a socket: epoll(7)), the next
    /// attempt would block without asking the stream (an edge-triggered poller reports the
    /// next bytes to arrive), saving a system call per message; the one after asks.
    fn attempt_polled<S: Read>(
        &mut self,
        stream: &mut S,
        ops: Option<StreamOps<S>>,
        buf: &mut [u8],
    ) -> Attempt {
        if std::mem::replace(&mut self.drained, false) {
            return self
                .check_clock()
                .unwrap_or(Attempt::Done(Err(ReadError::WouldBlock(
                    io::ErrorKind::WouldBlock.into(),
                ))));
        }
        match stream.read(buf) {
            Ok(n) => {
                if n > 0 {
                    self.silence = Silence::Listening;
                    self.heard = Instant::now();
                    self.drained = self.skip == Skip::DrainedReads
                        && n < buf.len()
                        && ops.is_some_and(|ops| ops.short_read_drains(stream));
                }
                Attempt::Done(Ok(n))
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Attempt::Retry,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self
                .check_clock()
                .unwrap_or(Attempt::Done(Err(ReadError::WouldBlock(e)))),
            Err(e) => Attempt::Done(Err(ReadError::Io(e))),
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

    /// One read: sets the stream's timeout if it must change, reads, and interprets a
    /// timeout (a deadline, the keepalive's ping, a dead peer, or the stream's own timeout).
    pub(crate) fn attempt<S: Read>(
        &mut self,
        stream: &mut S,
        ops: Option<StreamOps<S>>,
        buf: &mut [u8],
    ) -> Attempt {
        if self.pace == Pace::NonBlocking {
            return self.attempt_polled(stream, ops, buf);
        }
        let ours = match self.hard_deadline() {
            None => self.keepalive_timeout(),
            Some(deadline) => match stream::remaining(deadline) {
                None => return Attempt::Done(Err(ReadError::TimedOut)),
                Some(left) => Some(self.keepalive_timeout().map_or(left, |k| k.min(left))),
            },
        };
        if let Some(ops) = ops {
            let set = |timeout| ops.set_read_timeout(stream, timeout);
            if let Err(e) = self.applied.apply(ours, set) {
                return Attempt::Done(Err(ReadError::Io(e)));
            }
        }
        let armed = ops.is_some() && ours.is_some();
        match stream.read(buf) {
            Ok(n) => {
                if n > 0 {
                    self.silence = Silence::Listening;
                }
                Attempt::Done(Ok(n))
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Attempt::Retry,
            Err(e) => match stream::stall(&e, armed) {
                Some(Stall::TimedOut) if armed => self.on_timeout(ours.unwrap_or_default()),
                // The stream's own timeout, which wsio did not set.
                Some(Stall::TimedOut) => Attempt::Done(Err(ReadError::TimedOut)),
                Some(Stall::WouldBlock) => Attempt::Done(Err(ReadError::WouldBlock(e))),
                None => Attempt::Done(Err(ReadError::Io(e))),
            },
        }
    }

    /// The keepalive's timeout for the next read: the ping interval, or after a ping the
    /// rest of the pong timeout.
    fn keepalive_timeout(&self) -> Option<Duration> {
        self.keepalive.map(|k| match self.silence {
            Silence::Listening => k.ping_interval(),
            Silence::Pinged => k.timeout() - k.ping_interval(),
        })
    }

    /// The timeout wsio set fired after `waited` of silence.
    fn on_timeout(&mut self, waited: Duration) -> Attempt {
        if self
            .hard_deadline()
            .is_some_and(|d| d <= Instant::now() + SLACK)
        {
            return Attempt::Done(Err(ReadError::TimedOut));
        }
        if self.keepalive.is_none() {
            return Attempt::Done(Err(ReadError::TimedOut));
        }
        if waited + SLACK < self.keepalive_timeout().unwrap_or_default() {
            // A deadline's shorter timer fired, before the keepalive's time: read again.
            return Attempt::Retry;
        }
        match self.silence {
            Silence::Pinged => Attempt::Done(Err(ReadError::PeerSilent)),
            Silence::Listening => {
                self.silence = Silence::Pinged;
                Attempt::Ping
            }
        }
    }
}
