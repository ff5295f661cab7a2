//! The deadline writer: the stream as the [`Writer`](crate::writer::Writer) sees it, with the
//! application's write deadline (gorilla's `SetWriteDeadline`) applied by setting the
//! stream's write timeout before each write, and every failure classified: a timeout that
//! fired, a stream that would block, or an error.

use std::io::{self, IoSlice, Write};
use std::time::{Duration, Instant};

use crate::stream::{self, AppliedTimeout, Pace, Stall, StreamOps};
use crate::writer::{Egress, WriteError};

/// A stream whose writes honour a deadline.
pub(crate) struct DeadlineWriter<'a, W> {
    pub(crate) stream: &'a mut W,
    /// How to set the stream's timeout; `None` for a stream that cannot time out.
    pub(crate) ops: Option<StreamOps<W>>,
    pub(crate) deadline: Option<Instant>,
    /// The write timeout wsio last set on the stream.
    pub(crate) applied: &'a mut AppliedTimeout,
    /// Non-blocking: no timeout is set; a stream that would block past the deadline has
    /// timed out.
    pub(crate) pace: Pace,
}

impl<W: Write> DeadlineWriter<'_, W> {
    /// Sets the stream's write timeout to the time left; returns whether one is armed.
    /// With the deadline passed, a write stalls at once; a flush gets the shortest timeout.
    fn arm(&mut self, flush: bool) -> Result<bool, WriteError> {
        let Some(ops) = self.ops.filter(|_| self.pace == Pace::Blocking) else {
            return Ok(false);
        };
        let wanted = match (self.deadline.map(stream::remaining), flush) {
            (None, _) => None,
            (Some(Some(left)), _) => Some(left),
            (Some(None), false) => return Err(WriteError::Stalled(Stall::TimedOut)),
            (Some(None), true) => Some(Duration::from_millis(1)),
        };
        let stream = &mut *self.stream;
        self.applied
            .apply(wanted, |timeout| ops.set_write_timeout(stream, timeout))
            .map_err(WriteError::Io)?;
        Ok(wanted.is_some())
    }

    /// Runs one write on the stream with the deadline armed, retrying interrupted ones.
    fn call<T>(&mut self, mut f: impl FnMut(&mut W) -> io::Result<T>) -> Result<T, WriteError> {
        loop {
            let armed = self.arm(false)?;
            match f(self.stream) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return result.map_err(|e| self.classify(e, armed)),
            }
        }
    }
}

impl<W> DeadlineWriter<'_, W> {
    /// A failed call: a stall, or an error. A non-blocking stream that would block once
    /// the deadline has passed has timed out.
    fn classify(&self, e: io::Error, armed: bool) -> WriteError {
        match stream::stall(&e, armed) {
            Some(Stall::WouldBlock)
                if self
                    .deadline
                    .is_some_and(|d| stream::remaining(d).is_none()) =>
            {
                WriteError::Stalled(Stall::TimedOut)
            }
            Some(stall) => WriteError::Stalled(stall),
            None => WriteError::Io(e),
        }
    }
}

impl<W: Write> Egress for DeadlineWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, WriteError> {
        self.call(|s| s.write(buf))
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> Result<usize, WriteError> {
        self.call(|s| s.write_vectored(bufs))
    }

    /// Flushes within what is left of the deadline. A stream that buffers (TLS) writes
    /// now, and must not outlast the deadline; one that does not (TCP) returns at once, so a
    /// deadline that passed fails nothing that went out whole: with none left, the flush
    /// runs with the shortest timeout rather than not at all.
    fn flush(&mut self) -> Result<(), WriteError> {
        let armed = self.arm(true)?;
        loop {
            match self.stream.flush() {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return result.map_err(|e| self.classify(e, armed)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Direction, Fault, pipe};

    fn deadline_writer<'a>(
        stream: &'a mut crate::testing::PipeEnd,
        deadline: Option<Instant>,
        applied: &'a mut AppliedTimeout,
    ) -> DeadlineWriter<'a, crate::testing::PipeEnd> {
        DeadlineWriter {
            stream,
            ops: Some(StreamOps::of()),
            deadline,
            applied,
            pace: Pace::Blocking,
        }
    }

    #[test]
    fn a_passed_deadline_stalls_before_writing() {
        let (mut a, b) = pipe();
        let mut applied = AppliedTimeout::default();
        let mut w = deadline_writer(&mut a, Some(Instant::now()), &mut applied);
        assert!(matches!(
            w.write(b"x"),
            Err(WriteError::Stalled(Stall::TimedOut))
        ));
        assert_eq!(b.available(), 0);
    }

    #[test]
    fn a_passed_deadline_does_not_fail_a_flush() {
        let (mut a, _b) = pipe();
        let mut applied = AppliedTimeout::default();
        let mut w = deadline_writer(&mut a, Some(Instant::now()), &mut applied);
        assert!(w.flush().is_ok());
    }

    #[test]
    fn would_block_without_a_deadline_is_not_a_timeout() {
        let (mut a, _b) = pipe();
        a.inject(Direction::Write, 0, Fault::Error(io::ErrorKind::WouldBlock));
        let mut applied = AppliedTimeout::default();
        let mut w = deadline_writer(&mut a, None, &mut applied);
        assert!(matches!(
            w.write(b"x"),
            Err(WriteError::Stalled(Stall::WouldBlock))
        ));
        assert_eq!(w.write(b"x").unwrap(), 1);
    }
}
