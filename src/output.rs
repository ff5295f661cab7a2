//! [`Output`]: the stream a connection writes to, with the [`Writer`] that frames what goes
//! on it, the write deadline, and the stream's own controls (timeouts, shutdown).
//!
//! It knows nothing of the closing handshake: [`WriteSide`](crate::write_side::WriteSide)
//! adds those rules on top.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::deadline::DeadlineWriter;
use crate::stream::{AppliedTimeout, Pace, StreamOps};
use crate::writer::Writer;

/// The write side's stream and state.
pub(crate) struct Output<W> {
    pub(crate) stream: W,
    pub(crate) writer: Writer,
    /// How to time out and shut down the stream; `None` for a stream from
    /// [`Conn::from_raw`](crate::Conn::from_raw), which wsio cannot control.
    pub(crate) ops: Option<StreamOps<W>>,
    /// The application's write deadline.
    pub(crate) write_deadline: Option<Instant>,
    /// The write timeout wsio last set on the stream.
    applied: AppliedTimeout,
    /// How the stream is waited for.
    pub(crate) pace: Pace,
    /// Whether the stream is to be shut down once the queue is out (the closing handshake
    /// ended while a non-blocking stream still had our close frame to send).
    shutdown: Shutdown,
}

/// When the stream is shut down at the end of the closing handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shutdown {
    /// Not asked.
    NotYet,
    /// Once the queued bytes are sent.
    WhenSent,
    /// Done.
    Done,
}

impl<W> Output<W> {
    pub(crate) fn new(
        stream: W,
        writer: Writer,
        ops: Option<StreamOps<W>>,
        pace: Pace,
    ) -> Output<W> {
        Output {
            stream,
            writer,
            ops,
            write_deadline: None,
            applied: AppliedTimeout::Untouched,
            pace,
            shutdown: Shutdown::NotYet,
        }
    }

    /// The same output over another stream (a split half, or the reunited whole).
    pub(crate) fn replace_stream<W2>(
        self,
        stream: W2,
        ops: Option<StreamOps<W2>>,
    ) -> (W, Output<W2>) {
        let Output {
            stream: old,
            writer,
            write_deadline,
            applied,
            pace,
            shutdown,
            ..
        } = self;
        let out = Output {
            stream,
            writer,
            ops,
            write_deadline,
            applied,
            pace,
            shutdown,
        };
        (old, out)
    }

    /// The writer, and the stream with the write deadline applied.
    pub(crate) fn io(&mut self) -> (&mut Writer, DeadlineWriter<'_, W>) {
        (
            &mut self.writer,
            DeadlineWriter {
                stream: &mut self.stream,
                ops: self.ops,
                deadline: self.write_deadline,
                applied: &mut self.applied,
                pace: self.pace,
            },
        )
    }

    /// Bytes the stream holds unsent (a TLS stream's records).
    pub(crate) fn stream_unsent(&self) -> usize {
        self.ops.map_or(0, |ops| ops.unsent(&self.stream))
    }

    /// Bytes queued for sending, in the writer and in the stream.
    pub(crate) fn queued(&self) -> usize {
        self.writer.queued() + self.stream_unsent()
    }

    /// Whether bytes wait to be sent that can still go.
    pub(crate) fn must_send(&self) -> bool {
        self.writer.check().is_ok() && (self.writer.has_pending() || self.stream_unsent() > 0)
    }

    /// Whether the stream says this end is going away.
    pub(crate) fn is_going_away(&self) -> bool {
        self.ops.is_some_and(|ops| ops.is_going_away(&self.stream))
    }

    /// Makes the write deadline no later than `timeout` from now.
    pub(crate) fn bound_write_deadline(&mut self, timeout: Duration) {
        let bound = Instant::now() + timeout;
        self.write_deadline = Some(self.write_deadline.map_or(bound, |d| d.min(bound)));
    }
}

impl<W: Write> Output<W> {
    /// Flushes what the stream holds and shuts it down, where the stream can (a peer that
    /// waits for the end of the connection sees it even while the application holds on).
    /// While a non-blocking stream still has queued bytes to take (our close frame), the
    /// shutdown waits for them: [`shutdown_when_sent`](Self::shutdown_when_sent) does it.
    pub(crate) fn shutdown(&mut self) {
        if self.shutdown == Shutdown::Done {
            return;
        }
        if self.pace == Pace::NonBlocking && self.must_send() {
            self.shutdown = Shutdown::WhenSent;
            return;
        }
        self.shutdown = Shutdown::Done;
        if let Some(ops) = self.ops {
            let _ = self.stream.flush();
            let _ = ops.shutdown(&mut self.stream);
        }
    }

    /// After a flush: the shutdown that waited for the queue.
    pub(crate) fn shutdown_when_sent(&mut self) {
        if self.shutdown == Shutdown::WhenSent {
            self.shutdown = Shutdown::NotYet;
            self.shutdown();
        }
    }
}
