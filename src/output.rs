//! [`Output`]: the stream a connection writes to, with the [`Writer`] that frames what goes
//! on it, the write deadline, and the stream's own controls (timeouts, shutdown).
//!
//! It knows nothing of the closing handshake: [`WriteSide`](crate::write_side::WriteSide)
//! adds those rules on top.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::deadline::DeadlineWriter;
use crate::stream::{AppliedTimeout, StreamOps};
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
}

impl<W> Output<W> {
    pub(crate) fn new(stream: W, writer: Writer, ops: Option<StreamOps<W>>) -> Output<W> {
        Output {
            stream,
            writer,
            ops,
            write_deadline: None,
            applied: AppliedTimeout::Untouched,
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
            ..
        } = self;
        let out = Output {
            stream,
            writer,
            ops,
            write_deadline,
            applied,
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
            },
        )
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
    pub(crate) fn shutdown(&mut self) {
        if let Some(ops) = self.ops {
            let _ = self.stream.flush();
            let _ = ops.shutdown(&mut self.stream);
        }
    }
}
