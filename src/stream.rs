//! What wsio needs of a stream beyond `Read + Write`: timeouts and shutdown.
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
use std::net::{Shutdown, TcpStream};
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
}

impl<T: Stream + ?Sized> Stream for Box<T> {
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
}

impl<T: Stream + ?Sized> Stream for &mut T {
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
}

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
}

/// The time left until `deadline`, or a `TimedOut` error if it has passed.
pub(crate) fn remaining(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"))
    } else {
        Ok(left)
    }
}

/// Whether an I/O error is a timeout (`TimedOut`, or `WouldBlock` as Unix sockets report one).
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}
