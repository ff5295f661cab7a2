//! An in-memory duplex stream for tests: ours and yours.
//!
//! [`pipe`] returns two connected ends. Bytes written to one are read from the other, in
//! order. Each end can be told to return at most `n` bytes per read or accept at most `n`
//! bytes per write, to exercise the short reads and writes real sockets give. Reads block
//! until data arrives (so two threads can hold a conversation), honour
//! [`Stream::set_read_timeout`], and return end-of-stream once the other end is dropped or
//! shut down.
//!
//! Faults can be injected at chosen points, deterministically: [`PipeEnd::inject`] makes the
//! read or write that reaches a given byte offset fail with an error (`WouldBlock`,
//! `Interrupted`, `TimedOut`, `ConnectionReset`, ...), end the stream, or come up short. A
//! [`PipeEnd::set_capacity`] bounds what the other end can write before it blocks, as a full
//! socket buffer does.
//!
//! ```
//! use std::io::{self, Read, Write};
//! use wsio::testing::{pipe, Direction, Fault};
//! let (mut a, mut b) = pipe();
//! b.inject(Direction::Read, 3, Fault::Error(io::ErrorKind::WouldBlock));
//! a.write_all(b"hello")?;
//! let mut buf = [0u8; 8];
//! assert_eq!(b.read(&mut buf)?, 3); // stops at the fault's offset
//! assert_eq!(b.read(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
//! assert_eq!(b.read(&mut buf)?, 2);
//! # Ok::<(), io::Error>(())
//! ```
//!
//! ```
//! use std::io::{Read, Write};
//! let (mut a, mut b) = wsio::testing::pipe();
//! b.set_max_read(1); // one byte per read
//! a.write_all(b"hi")?;
//! let mut buf = [0u8; 8];
//! assert_eq!(b.read(&mut buf)?, 1);
//! assert_eq!(b.read(&mut buf)?, 1);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::split::Split;
use crate::stream::Stream;

/// How long a read blocks with no timeout set before giving up with an error, so that a test
/// that would hang fails instead.
const SAFETY_LIMIT: Duration = Duration::from_secs(30);

/// One direction of a pipe.
#[derive(Default)]
struct Channel {
    state: Mutex<ChannelState>,
    ready: Condvar,
}

#[derive(Default)]
struct ChannelState {
    bytes: VecDeque<u8>,
    /// The writing end is gone or shut down: reads see end-of-stream once `bytes` is empty.
    write_closed: bool,
    /// The reading end is gone or shut down: writes fail.
    read_closed: bool,
    /// The most unread bytes the channel holds before writes block.
    capacity: Option<usize>,
}

impl Channel {
    fn lock(&self) -> MutexGuard<'_, ChannelState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A fault a [`PipeEnd`] injects into one of its own reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The call fails with this kind of error and transfers nothing.
    Error(io::ErrorKind),
    /// A read returns end-of-stream (`Ok(0)`); a write accepts nothing (`Ok(0)`).
    Eof,
    /// The call transfers at most this many bytes (at least 1).
    Short(usize),
}

/// Which calls a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Reads from this end.
    Read,
    /// Writes to this end.
    Write,
}

/// Faults waiting for their byte offset, in the order they were injected.
#[derive(Clone, Debug, Default)]
struct Faults {
    pending: VecDeque<(u64, Fault)>,
    /// Bytes transferred so far in this direction.
    done: u64,
}

impl Faults {
    /// Before a call: the fault to apply now, or how many bytes the call may transfer so as
    /// to stop exactly at the next fault's offset.
    fn next(&mut self) -> (Option<Fault>, usize) {
        match self.pending.front() {
            Some(&(at, fault)) if at <= self.done => {
                self.pending.pop_front();
                (Some(fault), usize::MAX)
            }
            Some(&(at, _)) => (None, usize::try_from(at - self.done).unwrap_or(usize::MAX)),
            None => (None, usize::MAX),
        }
    }
}

/// One end of an in-memory duplex stream; see the [module docs](self).
pub struct PipeEnd {
    /// Shared by the handles of one end made by [`Split`]; the end closes when the last goes.
    handles: Arc<()>,
    incoming: Arc<Channel>,
    outgoing: Arc<Channel>,
    max_read: usize,
    max_write: usize,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    read_faults: Faults,
    write_faults: Faults,
    nonblocking: bool,
}

/// Two connected ends.
pub fn pipe() -> (PipeEnd, PipeEnd) {
    let a_to_b = Arc::new(Channel::default());
    let b_to_a = Arc::new(Channel::default());
    let end = |incoming: &Arc<Channel>, outgoing: &Arc<Channel>| PipeEnd {
        handles: Arc::new(()),
        incoming: Arc::clone(incoming),
        outgoing: Arc::clone(outgoing),
        max_read: usize::MAX,
        max_write: usize::MAX,
        read_timeout: None,
        write_timeout: None,
        read_faults: Faults::default(),
        write_faults: Faults::default(),
        nonblocking: false,
    };
    (end(&b_to_a, &a_to_b), end(&a_to_b, &b_to_a))
}

impl PipeEnd {
    /// Returns at most `n` bytes per read (at least 1).
    pub fn set_max_read(&mut self, n: usize) {
        self.max_read = n.max(1);
    }

    /// Accepts at most `n` bytes per write (at least 1).
    pub fn set_max_write(&mut self, n: usize) {
        self.max_write = n.max(1);
    }

    /// Makes the first read (or write) of this end that starts at or after `offset` bytes
    /// transferred in that direction apply `fault`. The call before it stops short at
    /// `offset`, so a fault lands exactly there (inside a frame header, say). Faults apply
    /// once each, in the order injected.
    pub fn inject(&mut self, direction: Direction, offset: u64, fault: Fault) {
        match direction {
            Direction::Read => self.read_faults.pending.push_back((offset, fault)),
            Direction::Write => self.write_faults.pending.push_back((offset, fault)),
        }
    }

    /// Makes this end non-blocking, as `TcpStream::set_nonblocking` does: a read with
    /// nothing to read, and a write with no room (see [`set_capacity`](Self::set_capacity)),
    /// fail with `WouldBlock` instead of waiting.
    pub fn set_nonblocking(&mut self, on: bool) {
        self.nonblocking = on;
    }

    /// Bytes read from this end so far.
    pub fn bytes_read(&self) -> u64 {
        self.read_faults.done
    }

    /// Bytes written to this end so far.
    pub fn bytes_written(&self) -> u64 {
        self.write_faults.done
    }

    /// Lets the other end write at most `bytes` that this end has not read yet; beyond that
    /// its writes block (until its write timeout), like a full socket buffer.
    pub fn set_capacity(&mut self, bytes: usize) {
        self.incoming.lock().capacity = Some(bytes.max(1));
    }

    /// Bytes written by the other end and not read yet.
    pub fn available(&self) -> usize {
        self.incoming.lock().bytes.len()
    }

    /// Takes everything the other end has written so far, without blocking.
    pub fn take_available(&mut self) -> Vec<u8> {
        self.incoming.lock().bytes.drain(..).collect()
    }

    /// Closes the writing direction: the other end reads end-of-stream after the bytes
    /// already sent. Reading from this end still works.
    pub fn shutdown_write(&mut self) {
        self.outgoing.lock().write_closed = true;
        self.outgoing.ready.notify_all();
    }

    fn shutdown_read(&mut self) {
        let mut state = self.incoming.lock();
        state.read_closed = true;
        state.bytes.clear();
        drop(state);
        self.incoming.ready.notify_all();
    }
}

fn injected(kind: io::ErrorKind) -> io::Error {
    io::Error::new(kind, "injected fault")
}

impl Read for PipeEnd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let (fault, mut allowed) = self.read_faults.next();
        match fault {
            Some(Fault::Error(kind)) => return Err(injected(kind)),
            Some(Fault::Eof) => return Ok(0),
            Some(Fault::Short(n)) => allowed = n.max(1),
            None => {}
        }
        let limit = self.read_timeout.unwrap_or(SAFETY_LIMIT);
        let deadline = Instant::now() + limit;
        let mut state = self.incoming.lock();
        while state.bytes.is_empty() && !state.write_closed && !state.read_closed {
            if self.nonblocking {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(if self.read_timeout.is_some() {
                    io::Error::new(io::ErrorKind::TimedOut, "pipe read timed out")
                } else {
                    io::Error::other(
                        "pipe read blocked for 30 s with no timeout set (test safety limit)",
                    )
                });
            }
            state = self
                .incoming
                .ready
                .wait_timeout(state, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        let n = buf
            .len()
            .min(self.max_read)
            .min(allowed)
            .min(state.bytes.len());
        for (slot, byte) in buf.iter_mut().zip(state.bytes.drain(..n)) {
            *slot = byte;
        }
        drop(state);
        // Room for a writer blocked on the capacity.
        self.incoming.ready.notify_all();
        self.read_faults.done += n as u64;
        Ok(n)
    }
}

impl Write for PipeEnd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let (fault, mut allowed) = self.write_faults.next();
        match fault {
            Some(Fault::Error(kind)) => return Err(injected(kind)),
            Some(Fault::Eof) => return Ok(0),
            Some(Fault::Short(n)) => allowed = n.max(1),
            None => {}
        }
        let limit = self.write_timeout.unwrap_or(SAFETY_LIMIT);
        let deadline = Instant::now() + limit;
        let mut state = self.outgoing.lock();
        while state
            .capacity
            .is_some_and(|c| state.bytes.len() >= c && !state.read_closed && !state.write_closed)
        {
            if self.nonblocking {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(if self.write_timeout.is_some() {
                    io::Error::new(io::ErrorKind::TimedOut, "pipe write timed out")
                } else {
                    io::Error::other(
                        "pipe write blocked for 30 s with no timeout set (test safety limit)",
                    )
                });
            }
            state = self
                .outgoing
                .ready
                .wait_timeout(state, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        if state.write_closed {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "pipe shut down for writing",
            ));
        }
        if state.read_closed {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the other end is gone",
            ));
        }
        let room = state.capacity.map_or(usize::MAX, |c| c - state.bytes.len());
        let n = buf.len().min(self.max_write).min(allowed).min(room);
        state.bytes.extend(&buf[..n]);
        drop(state);
        self.outgoing.ready.notify_all();
        self.write_faults.done += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Stream for PipeEnd {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.read_timeout = timeout;
        Ok(())
    }
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.read_timeout)
    }
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.write_timeout = timeout;
        Ok(())
    }
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.write_timeout)
    }
    fn shutdown(&mut self) -> io::Result<()> {
        self.shutdown_write();
        self.shutdown_read();
        Ok(())
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        if Arc::strong_count(&self.handles) == 1 {
            self.shutdown_write();
            self.shutdown_read();
        }
    }
}

impl Split for PipeEnd {
    type Reader = PipeEnd;
    type Writer = PipeEnd;

    /// Two handles to the same end; it closes when both are gone. Limits and timeouts are
    /// copied and then set separately per handle; pending read faults go with the reading
    /// handle, write faults stay with the writing one.
    fn split(mut self) -> io::Result<(PipeEnd, PipeEnd)> {
        let read_faults = std::mem::take(&mut self.read_faults);
        let other = PipeEnd {
            handles: Arc::clone(&self.handles),
            incoming: Arc::clone(&self.incoming),
            outgoing: Arc::clone(&self.outgoing),
            max_read: self.max_read,
            max_write: self.max_write,
            read_timeout: self.read_timeout,
            write_timeout: self.write_timeout,
            read_faults,
            write_faults: Faults::default(),
            nonblocking: self.nonblocking,
        };
        Ok((other, self))
    }

    fn reunite(reader: PipeEnd, mut writer: PipeEnd) -> PipeEnd {
        writer.read_timeout = reader.read_timeout;
        writer.max_read = reader.max_read;
        writer.read_faults = reader.read_faults.clone();
        drop(reader);
        writer
    }
}

impl std::fmt::Debug for PipeEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipeEnd")
            .field("max_read", &self.max_read)
            .field("max_write", &self.max_write)
            .field("read_timeout", &self.read_timeout)
            .finish_non_exhaustive()
    }
}
