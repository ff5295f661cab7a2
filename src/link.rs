//! How the read side reaches the stream and the write side. A whole connection owns both
//! ([`Whole`]); split halves share the write side behind a lock (`shared.rs`). The read
//! side, the message writer and every face are written once, against these traits.

use std::io::{Read, Write};

use crate::close::CloseState;
use crate::message::Sink;
use crate::output::Output;
use crate::proto::OpCode;
use crate::reader::ReadError;
use crate::stream::StreamOps;
use crate::write_side::WriteSide;
use crate::writer::QUEUE_HIGH_WATER;

/// A way to a connection's write side.
pub(crate) trait WriteAccess {
    /// The stream written to.
    type W: Write;

    /// Runs `f` on the write side (held for the length of the call).
    fn write_side<T>(&mut self, f: impl FnOnce(&mut WriteSide<'_, Self::W>) -> T) -> T;

    /// The closing handshake's state, read without holding the write side.
    fn close_state(&self) -> &CloseState;

    /// Gives up a streamed message whose writer was dropped unfinished. Runs in `Drop`: no
    /// I/O, and no lock that can block.
    fn abandon(&mut self);
}

/// What the read side needs besides the write side.
pub(crate) trait Link: WriteAccess {
    /// The stream read from.
    type R: Read;

    /// The stream to read, and how to set its timeout (`None`: it cannot time out).
    fn source(&mut self) -> (&mut Self::R, Option<StreamOps<Self::R>>);

    /// The reader is about to block: frames batched for sending go out first (or, for a
    /// split half, as soon as the writer lets go). A stall of that flush stops the read.
    fn before_read(&mut self) -> Result<(), ReadError>;

    /// Sends the keepalive's ping (or has it sent). A failure is the pong timeout's to
    /// notice.
    fn keepalive_ping(&mut self);

    /// Answers a ping with a pong carrying `payload` (or has it answered: a split half never
    /// makes its reader wait for the writer).
    fn pong(&mut self, payload: &[u8]) -> crate::Result<()>;
}

/// Every write side is a place a [`MessageWriter`](crate::MessageWriter) can write to.
impl<A: WriteAccess> Sink for A {
    fn stream_write(&mut self, data: &[u8]) -> crate::Result<()> {
        self.write_side(|w| w.stream_write(data))
    }

    fn stream_flush(&mut self) -> crate::Result<()> {
        self.write_side(|w| w.stream_flush())
    }

    fn stream_finish(&mut self) -> crate::Result<()> {
        self.write_side(|w| w.stream_finish())
    }

    fn stream_abandon(&mut self) {
        self.abandon();
    }
}

/// The link of a whole connection: it owns the stream, which it reads and writes itself.
pub(crate) struct Whole<S> {
    pub(crate) out: Output<S>,
    pub(crate) close: CloseState,
}

impl<S: Read + Write> WriteAccess for Whole<S> {
    type W = S;

    fn write_side<T>(&mut self, f: impl FnOnce(&mut WriteSide<'_, S>) -> T) -> T {
        f(&mut WriteSide::new(&mut self.out, &self.close))
    }

    fn close_state(&self) -> &CloseState {
        &self.close
    }

    fn abandon(&mut self) {
        self.out.writer.abandon();
    }
}

impl<S: Read + Write> Link for Whole<S> {
    type R = S;

    fn source(&mut self) -> (&mut S, Option<StreamOps<S>>) {
        (&mut self.out.stream, self.out.ops)
    }

    fn before_read(&mut self) -> Result<(), ReadError> {
        if !self.out.writer.has_pending() && self.out.stream_unsent() == 0 {
            return Ok(());
        }
        // Only a write deadline stops the read. If the write side is dead, the read side may
        // still get the peer's close; if a non-blocking stream would block, the frames stay
        // buffered for the next flush and reading goes on (two peers each waiting to write
        // before reading would wait forever).
        // A non-blocking stream that would not take the queue below its high-water mark
        // stops the read too: reading more would only queue more (the peer sends but does
        // not read our answers).
        match self.write_side(|w| w.flush()) {
            Err(crate::Error::Timeout) => Err(ReadError::WriteTimedOut),
            Err(e) if e.is_would_block() && self.out.queued() > QUEUE_HIGH_WATER => {
                Err(ReadError::WouldBlock(std::io::ErrorKind::WouldBlock.into()))
            }
            _ => Ok(()),
        }
    }

    fn keepalive_ping(&mut self) {
        self.write_side(|w| {
            use crate::handlers::ControlOut;
            let _ = w.send_control(OpCode::Ping, b"");
            let _ = w.flush();
        });
    }

    fn pong(&mut self, payload: &[u8]) -> crate::Result<()> {
        use crate::handlers::ControlOut;
        self.write_side(|w| w.send_control(OpCode::Pong, payload))
    }
}
