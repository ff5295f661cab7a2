//! What wsio needs of a stream beyond `Read + Write`: timeouts, shutdown and addresses; and
//! how a failed call is told apart: a timeout that fired, or a stream that would block.
//!
//! [`Conn`](crate::Conn) works over any `Read + Write`. The handshakes
//! ([`Upgrader::upgrade`](crate::Upgrader::upgrade), [`Dialer::handshake`](crate::Dialer::handshake))
//! take a [`Stream`], which can also time out and shut down, so that a slow or silent peer
//! cannot hold a thread past [`Config::handshake_timeout`](crate::Config::handshake_timeout) or
//! [`Config::close_timeout`](crate::Config::close_timeout). wsio implements it for
//! `TcpStream`, `UnixStream` and the test pipe; for another stream, implement it yourself
//! (the trait is wsio's, so this is allowed for any type, even a foreign one):
//!
//! ```
//! use std::io::{self, Read, Write};
//! use std::time::Duration;
//!
//! struct MyTls { /* ... */ }
//! # impl Read for MyTls { fn read(&mut self, _: &mut [u8]) -> io::Result<usize> { Ok(0) } }
//! # impl Write for MyTls {
//! #     fn write(&mut self, b: &[u8]) -> io::Result<usize> { Ok(b.len()) }
//! #     fn flush(&mut self) -> io::Result<()> { Ok(()) }
//! # }
//!
//! // A stream that cannot time out: the defaults do nothing.
//! impl wsio::Stream for MyTls {}
//! ```

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A byte stream that may support timeouts and shutdown. Every method has a default that
/// does nothing, for streams without them; wsio then cannot bound how long a silent peer
/// blocks it.
pub trait Stream: Read + Write {
    /// Sets how long a read may block; `None` blocks forever. A read that times out fails
    /// with `TimedOut` or `WouldBlock`.
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let _ = timeout;
        Ok(())
    }

    /// The read timeout currently set.
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(None)
    }

    /// Sets how long a write may block; `None` blocks forever.
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let _ = timeout;
        Ok(())
    }

    /// The write timeout currently set.
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(None)
    }

    /// Shuts the stream down in both directions after the closing handshake, so that the peer
    /// sees the end of the connection even while the application still holds the
    /// [`Conn`](crate::Conn).
    fn shutdown(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// The peer's address, for streams that have one. Defaults to an `Unsupported` error.
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        Err(no_address())
    }

    /// This end's address, for streams that have one. Defaults to an `Unsupported` error.
    fn local_addr(&self) -> io::Result<SocketAddr> {
        Err(no_address())
    }

    /// Whether this end is going away (a server shutting down), so that the connection
    /// over the stream must end: at its next read, or before the next message it writes,
    /// wsio sends a close frame with 1001 (going away) and the call fails with
    /// [`Error::GoingAway`](crate::Error::GoingAway). To wake a reader blocked on the
    /// stream, shut the stream's read direction down as well (what [`Server`](crate::Server)
    /// does). The default: never.
    fn is_going_away(&self) -> bool {
        false
    }

    /// Bytes written to the stream that it holds unsent (a TLS stream's records, which a
    /// non-blocking transport did not take): a flush sends them, and over a non-blocking
    /// stream wsio reports them in [`Conn::interest`](crate::Conn::interest) and
    /// [`Conn::queued`](crate::Conn::queued). The default: none.
    fn unsent(&self) -> usize {
        0
    }

    /// Whether a read that returns fewer bytes than asked means the stream had no more at
    /// that moment, so that an edge-triggered poller reports the next bytes to arrive
    /// (stream sockets, as epoll(7) says; not a stream that buffers, such as TLS). Over a
    /// non-blocking stream that says so, wsio then skips the read that would only return
    /// `WouldBlock`. The default: no.
    fn short_read_drains(&self) -> bool {
        false
    }
}

fn no_address() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "this stream has no socket address",
    )
}

impl Stream for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout.map(nonzero))
    }
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        TcpStream::read_timeout(self)
    }
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, timeout.map(nonzero))
    }
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        TcpStream::write_timeout(self)
    }
    fn shutdown(&mut self) -> io::Result<()> {
        TcpStream::shutdown(self, Shutdown::Both)
    }
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::peer_addr(self)
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::local_addr(self)
    }
    fn short_read_drains(&self) -> bool {
        true
    }
}

#[cfg(unix)]
impl Stream for std::os::unix::net::UnixStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout.map(nonzero))
    }
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        std::os::unix::net::UnixStream::read_timeout(self)
    }
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_write_timeout(self, timeout.map(nonzero))
    }
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        std::os::unix::net::UnixStream::write_timeout(self)
    }
    fn shutdown(&mut self) -> io::Result<()> {
        std::os::unix::net::UnixStream::shutdown(self, Shutdown::Both)
    }
    fn short_read_drains(&self) -> bool {
        true
    }
}

/// mio's sockets, for event loops on mio (feature `mio`): always non-blocking, so no
/// timeouts; shutdown and addresses are the socket's.
#[cfg(feature = "mio")]
impl Stream for mio::net::TcpStream {
    fn shutdown(&mut self) -> io::Result<()> {
        mio::net::TcpStream::shutdown(self, Shutdown::Both)
    }
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        mio::net::TcpStream::peer_addr(self)
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        mio::net::TcpStream::local_addr(self)
    }
    fn short_read_drains(&self) -> bool {
        true
    }
}

#[cfg(all(feature = "mio", unix))]
impl Stream for mio::net::UnixStream {
    fn shutdown(&mut self) -> io::Result<()> {
        mio::net::UnixStream::shutdown(self, Shutdown::Both)
    }
    fn short_read_drains(&self) -> bool {
        true
    }
}

/// A stream behind a pointer is the stream.
macro_rules! forward_stream {
    ($($pointer:ty),+) => {$(
        impl<T: Stream + ?Sized> Stream for $pointer {
            fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
                (**self).set_read_timeout(timeout)
            }
            fn read_timeout(&self) -> io::Result<Option<Duration>> {
                (**self).read_timeout()
            }
            fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
                (**self).set_write_timeout(timeout)
            }
            fn write_timeout(&self) -> io::Result<Option<Duration>> {
                (**self).write_timeout()
            }
            fn shutdown(&mut self) -> io::Result<()> {
                (**self).shutdown()
            }
            fn peer_addr(&self) -> io::Result<SocketAddr> {
                (**self).peer_addr()
            }
            fn local_addr(&self) -> io::Result<SocketAddr> {
                (**self).local_addr()
            }
            fn is_going_away(&self) -> bool {
                (**self).is_going_away()
            }
            fn unsent(&self) -> usize {
                (**self).unsent()
            }
            fn short_read_drains(&self) -> bool {
                (**self).short_read_drains()
            }
        }
    )+};
}

forward_stream!(Box<T>, &mut T);

/// Sockets reject a zero timeout; the shortest real one stands in for "already expired".
fn nonzero(timeout: Duration) -> Duration {
    timeout.max(Duration::from_millis(1))
}

/// A [`Stream`]'s methods captured as plain function pointers, so that a `Conn<S>` built by a
/// handshake (where `S: Stream`) can use them while `Conn`'s own bound stays `Read + Write`.
pub(crate) struct StreamOps<S> {
    set_read_timeout: fn(&mut S, Option<Duration>) -> io::Result<()>,
    set_write_timeout: fn(&mut S, Option<Duration>) -> io::Result<()>,
    shutdown: fn(&mut S) -> io::Result<()>,
    is_going_away: fn(&S) -> bool,
    unsent: fn(&S) -> usize,
    short_read_drains: fn(&S) -> bool,
}

impl<S> Clone for StreamOps<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for StreamOps<S> {}

impl<S: Stream> StreamOps<S> {
    pub(crate) fn of() -> StreamOps<S> {
        StreamOps {
            set_read_timeout: S::set_read_timeout,
            set_write_timeout: S::set_write_timeout,
            shutdown: S::shutdown,
            is_going_away: S::is_going_away,
            unsent: S::unsent,
            short_read_drains: S::short_read_drains,
        }
    }
}

impl<S> StreamOps<S> {
    pub(crate) fn set_read_timeout(&self, s: &mut S, t: Option<Duration>) -> io::Result<()> {
        (self.set_read_timeout)(s, t)
    }
    pub(crate) fn set_write_timeout(&self, s: &mut S, t: Option<Duration>) -> io::Result<()> {
        (self.set_write_timeout)(s, t)
    }
    pub(crate) fn shutdown(&self, s: &mut S) -> io::Result<()> {
        (self.shutdown)(s)
    }
    pub(crate) fn is_going_away(&self, s: &S) -> bool {
        (self.is_going_away)(s)
    }
    pub(crate) fn unsent(&self, s: &S) -> usize {
        (self.unsent)(s)
    }
    pub(crate) fn short_read_drains(&self, s: &S) -> bool {
        (self.short_read_drains)(s)
    }
}

/// Writes all of `bytes` and flushes before `deadline`, the write timeout set to the time
/// left before each write, so that a peer draining a byte at a time cannot stretch the
/// whole past the deadline. A deadline that passes is an error of kind `TimedOut`.
pub(crate) fn write_all_before<S: Stream>(
    s: &mut S,
    deadline: Option<Instant>,
    mut bytes: &[u8],
) -> io::Result<()> {
    while !bytes.is_empty() {
        arm_before(deadline, |t| s.set_write_timeout(t))?;
        match s.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    arm_before(deadline, |t| s.set_write_timeout(t))?;
    s.flush()
}

/// Fills `buf` before `deadline`, the read timeout set to the time left before each read;
/// as [`write_all_before`]. The stream ending first is an error of kind `UnexpectedEof`.
pub(crate) fn read_exact_before<S: Stream>(
    s: &mut S,
    deadline: Option<Instant>,
    mut buf: &mut [u8],
) -> io::Result<()> {
    while !buf.is_empty() {
        arm_before(deadline, |t| s.set_read_timeout(t))?;
        match s.read(buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => buf = &mut buf[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Sets a timeout with `set` to the time left before `deadline`, if there is one.
fn arm_before(
    deadline: Option<Instant>,
    set: impl FnOnce(Option<Duration>) -> io::Result<()>,
) -> io::Result<()> {
    match deadline {
        None => Ok(()),
        Some(d) => set(Some(remaining(d).ok_or(io::ErrorKind::TimedOut)?)),
    }
}

/// The time left until `deadline`; `None` once it has passed.
pub(crate) fn remaining(deadline: Instant) -> Option<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    (!left.is_zero()).then_some(left)
}

/// How a connection waits for its stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pace {
    /// Calls block; deadlines and the keepalive are carried out with the stream's
    /// timeouts.
    Blocking,
    /// The stream is non-blocking and an event loop waits for it: wsio never sets its
    /// timeouts, and deadlines and the keepalive are kept by the clock, checked at each
    /// call (see [`Conn::next_deadline`](crate::Conn::next_deadline)).
    NonBlocking,
}

/// What a connection (or a handshake) over a non-blocking stream waits for, so that an
/// event loop polls its stream with the right interest. See the crate's "Non-blocking"
/// topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Interest {
    /// The stream becoming readable.
    Read,
    /// The stream becoming writable: bytes are queued ([`Conn::flush`](crate::Conn::flush)
    /// sends them).
    Write,
    /// Either.
    ReadWrite,
    /// Nothing: the connection is over; drop it.
    Nothing,
}

impl Interest {
    /// An interest from its two halves.
    pub(crate) fn of(read: bool, write: bool) -> Interest {
        match (read, write) {
            (true, true) => Interest::ReadWrite,
            (true, false) => Interest::Read,
            (false, true) => Interest::Write,
            (false, false) => Interest::Nothing,
        }
    }

    /// Whether readability is wanted.
    pub fn is_readable(self) -> bool {
        matches!(self, Interest::Read | Interest::ReadWrite)
    }

    /// Whether writability is wanted.
    pub fn is_writable(self) -> bool {
        matches!(self, Interest::Write | Interest::ReadWrite)
    }
}

/// How a read or write that moved no bytes stalled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stall {
    /// A timeout fired: one wsio set for a deadline, or the stream's own.
    TimedOut,
    /// A non-blocking stream has nothing to give or take now.
    WouldBlock,
}

/// Tells a timeout from a stream that would block. `TimedOut` is always a timeout.
/// `WouldBlock` is one only when wsio armed a timeout for the call (Unix sockets report an
/// expired timeout as `WouldBlock`); otherwise the stream is non-blocking. Any other error
/// is no stall.
pub(crate) fn stall(e: &io::Error, timeout_armed: bool) -> Option<Stall> {
    match e.kind() {
        io::ErrorKind::TimedOut => Some(Stall::TimedOut),
        io::ErrorKind::WouldBlock if timeout_armed => Some(Stall::TimedOut),
        io::ErrorKind::WouldBlock => Some(Stall::WouldBlock),
        _ => None,
    }
}

/// The timeout wsio last set on one direction of a stream, so that it is set only when the
/// wanted value changes by more than [`TIMEOUT_SLACK`], and a stream whose timeout wsio
/// never touched keeps its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum AppliedTimeout {
    /// wsio has not set this timeout: the stream's own setting stands.
    #[default]
    Untouched,
    /// wsio set it to this.
    Set(Option<Duration>),
}

/// How far a timeout wsio set may be from the one wanted before it is set again: a
/// deadline renewed before each write (a writer that gives each message its own ten
/// seconds) then costs no system call per write, and a call ends at most this much before or
/// after its deadline, below the kernel's own timer granularity (a jiffy, 1 to 10 ms).
pub(crate) const TIMEOUT_SLACK: Duration = Duration::from_millis(1);

impl AppliedTimeout {
    /// Makes the stream's timeout `wanted` by calling `set`, unless it already is, or
    /// `wanted` is none and wsio never set one.
    pub(crate) fn apply(
        &mut self,
        wanted: Option<Duration>,
        set: impl FnOnce(Option<Duration>) -> io::Result<()>,
    ) -> io::Result<()> {
        let unchanged = match (*self, wanted) {
            (AppliedTimeout::Untouched, wanted) => wanted.is_none(),
            (AppliedTimeout::Set(Some(current)), Some(wanted)) => {
                current.abs_diff(wanted) <= TIMEOUT_SLACK
            }
            (AppliedTimeout::Set(current), wanted) => current == wanted,
        };
        if !unchanged {
            set(wanted)?;
            *self = AppliedTimeout::Set(wanted);
        }
        Ok(())
    }
}

/// A stream's own timeouts, taken before a handshake changes them and put back after it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SavedTimeouts {
    read: Option<Duration>,
    write: Option<Duration>,
}

impl SavedTimeouts {
    pub(crate) fn take<S: Stream>(s: &S) -> SavedTimeouts {
        SavedTimeouts {
            read: s.read_timeout().ok().flatten(),
            write: s.write_timeout().ok().flatten(),
        }
    }

    pub(crate) fn restore<S: Stream>(self, s: &mut S) {
        let _ = s.set_read_timeout(self.read);
        let _ = s.set_write_timeout(self.write);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn would_block_is_a_timeout_only_when_armed() {
        let would_block = io::Error::from(io::ErrorKind::WouldBlock);
        let timed_out = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(stall(&would_block, true), Some(Stall::TimedOut));
        assert_eq!(stall(&would_block, false), Some(Stall::WouldBlock));
        assert_eq!(stall(&timed_out, false), Some(Stall::TimedOut));
        assert_eq!(
            stall(&io::Error::from(io::ErrorKind::BrokenPipe), true),
            None
        );
    }

    #[test]
    fn a_timeout_is_set_only_when_it_changes() {
        let mut applied = AppliedTimeout::default();
        let mut calls = Vec::new();
        let set = |t: Option<Duration>, calls: &mut Vec<_>| {
            calls.push(t);
            Ok(())
        };
        let second = Some(Duration::from_secs(1));
        for wanted in [None, second, second, None, None] {
            applied.apply(wanted, |t| set(t, &mut calls)).unwrap();
        }
        assert_eq!(calls, [second, None]);
    }

    #[test]
    fn a_timeout_within_the_slack_is_not_set_again() {
        let mut applied = AppliedTimeout::default();
        let mut calls = Vec::new();
        let ten = Duration::from_secs(10);
        // A deadline renewed before each write: the time left moves by microseconds.
        for wanted in [
            ten,
            ten - Duration::from_micros(300),
            ten + Duration::from_micros(900),
        ] {
            applied
                .apply(Some(wanted), |t| {
                    calls.push(t);
                    Ok(())
                })
                .unwrap();
        }
        assert_eq!(calls, [Some(ten)]);
        // A fixed deadline coming closer: set again.
        applied
            .apply(Some(Duration::from_secs(9)), |t| {
                calls.push(t);
                Ok(())
            })
            .unwrap();
        assert_eq!(calls, [Some(ten), Some(Duration::from_secs(9))]);
    }

    #[test]
    fn remaining_is_none_once_passed() {
        assert!(remaining(Instant::now() + Duration::from_secs(5)).is_some());
        assert_eq!(remaining(Instant::now()), None);
    }
}
