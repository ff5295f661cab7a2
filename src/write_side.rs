//! [`WriteSide`]: the one way anything reaches the wire. It puts the [`Output`] and the
//! closing handshake's state together, so that every face (a whole connection, a writer
//! half, a reader half's replies, a handle) follows the same rules: nothing but control
//! replies after our close frame, and those quietly dropped; our close frame at most once,
//! its write bounded by the close timeout; the peer's close answered and recorded.

use std::io::Write;

use crate::close::{CloseState, Phase};
use crate::error::{Error, Result};
use crate::frame;
use crate::handlers::{CloseHandler, ControlOut, Replier};
use crate::output::Output;
use crate::prepared::PreparedMessage;
use crate::proto::{
    CloseCode, CloseFrame, CloseStatus, Initiator, MAX_CONTROL_PAYLOAD, MessageKind, OpCode, Role,
};
use crate::stream::Pace;

/// The write side of one connection, for the length of one operation.
pub(crate) struct WriteSide<'a, W> {
    out: &'a mut Output<W>,
    close: &'a CloseState,
}

impl<'a, W: Write> WriteSide<'a, W> {
    pub(crate) fn new(out: &'a mut Output<W>, close: &'a CloseState) -> WriteSide<'a, W> {
        WriteSide { out, close }
    }

    /// Whether the application may send: the writer has not failed and no close frame has
    /// been sent. This end going away ends the connection here (close 1001).
    fn check_open(&mut self) -> Result<()> {
        self.out.writer.check()?;
        // Going away wins over an earlier close: every face (the other half of a split
        // connection too) says why the connection ended.
        if self.out.is_going_away() {
            if self.close.is_open() {
                self.fail(CloseCode::GOING_AWAY, "going away");
            }
            return Err(Error::GoingAway);
        }
        if !self.close.is_open() {
            return Err(Error::AlreadyClosed);
        }
        Ok(())
    }

    /// Writes a whole message.
    pub(crate) fn write_message(&mut self, kind: MessageKind, data: &[u8]) -> Result<()> {
        self.check_open()?;
        let (writer, mut egress) = self.out.io();
        writer.write_message(&mut egress, kind, data)
    }

    /// Writes a prepared message.
    pub(crate) fn write_prepared(&mut self, prepared: &PreparedMessage) -> Result<()> {
        self.check_open()?;
        let (writer, mut egress) = self.out.io();
        writer.write_prepared(&mut egress, prepared)
    }

    /// Sends a ping or pong the application asked for.
    pub(crate) fn write_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<()> {
        frame::check_control(payload)?;
        self.check_open()?;
        let (writer, mut egress) = self.out.io();
        writer.write_control(&mut egress, opcode, payload)
    }

    /// Sends buffered frames and flushes the stream. After a close frame, what is still
    /// queued (that close frame, on a non-blocking stream) is sent, and the stream is then
    /// shut down if the closing handshake is over.
    pub(crate) fn flush(&mut self) -> Result<()> {
        if self.close.is_open() || !self.out.must_send() {
            self.check_open()?;
        }
        let (writer, mut egress) = self.out.io();
        writer.flush(&mut egress)?;
        self.out.shutdown_when_sent();
        Ok(())
    }

    /// Whether bytes wait to be sent (a non-blocking stream's queue) that can still go.
    pub(crate) fn must_send(&self) -> bool {
        self.out.must_send()
    }

    /// Starts a streamed message.
    pub(crate) fn begin(&mut self, kind: MessageKind) -> Result<()> {
        self.check_open()?;
        self.out.writer.begin(kind)
    }

    /// Adds to the streamed message.
    pub(crate) fn stream_write(&mut self, data: &[u8]) -> Result<()> {
        self.check_open()?;
        let (writer, mut egress) = self.out.io();
        writer.stream_write(&mut egress, data)
    }

    /// Sends the streamed message's partial frame and what is buffered.
    pub(crate) fn stream_flush(&mut self) -> Result<()> {
        self.check_open()?;
        let (writer, mut egress) = self.out.io();
        writer.stream_flush(&mut egress)
    }

    /// Ends the streamed message.
    pub(crate) fn stream_finish(&mut self) -> Result<()> {
        self.check_open()?;
        let (writer, mut egress) = self.out.io();
        writer.stream_finish(&mut egress)
    }

    /// Gives the streamed message up, without I/O.
    pub(crate) fn abandon(&mut self) {
        self.out.writer.abandon();
    }

    /// Whether complete frames wait in the buffer.
    pub(crate) fn has_pending(&self) -> bool {
        self.out.writer.has_pending()
    }

    /// The output itself, for settings (deadline, compression) that need no rules.
    pub(crate) fn output(&mut self) -> &mut Output<W> {
        self.out
    }

    /// The peer's close frame arrived: run the handler and answer (if the peer started),
    /// record the status, and end with `Err(Error::Closed(status))`.
    pub(crate) fn receive_close(
        &mut self,
        frame: Option<CloseFrame>,
        handler: &mut Option<Box<CloseHandler>>,
    ) -> Result<()> {
        let initiator = match self.close.phase() {
            Phase::Open => Initiator::Peer,
            Phase::Sent => Initiator::Local,
            Phase::Closed(_) => return Err(Error::AlreadyClosed),
        };
        let mut handler_result = Ok(());
        if initiator == Initiator::Peer {
            if let Some(handler) = handler {
                handler_result = handler(frame.as_ref(), &mut Replier::new(self));
            }
            let echo = frame.as_ref().map(|f| (f.code, f.reason.as_str()));
            // The peer may already be gone; the handshake is over either way.
            let _ = self.send_close(echo);
        }
        let status = CloseStatus::from_frame(frame.as_ref(), initiator);
        // RFC 6455 7.1.1: the server closes the TCP connection first. A client leaves that
        // to the server unless it started the close itself.
        if self.close.role == Role::Server || initiator == Initiator::Local {
            self.finish(status.clone());
        } else {
            let _ = self.close.finish(status.clone());
        }
        handler_result?;
        Err(Error::Closed(status))
    }

    /// The peer broke a rule (or went silent): send a close frame with `code` and `reason`,
    /// within the close timeout in case the peer no longer reads, and end.
    pub(crate) fn fail(&mut self, code: CloseCode, reason: &str) {
        let _ = self.send_close(Some((code, reason)));
        self.finish(CloseStatus::abnormal(Initiator::Local));
    }

    /// The stream failed or ended without a close frame. If the connection had already
    /// been closed from this side (a handle that gave up waiting shut the stream down,
    /// which is how the reader got here), returns that status.
    pub(crate) fn abort(&mut self) -> Option<CloseStatus> {
        let initiator = match self.close.phase() {
            Phase::Open => Initiator::Peer,
            Phase::Sent => Initiator::Local,
            Phase::Closed(status) => return Some(status.clone()),
        };
        self.finish(CloseStatus::abnormal(initiator));
        None
    }

    /// Records how the connection ended and shuts the stream down, unless it had already
    /// ended (the stream is shut down once: a TLS stream's shutdown sends a message).
    pub(crate) fn finish(&mut self, status: CloseStatus) {
        if self.close.finish(status) {
            self.out.shutdown();
        }
    }
}

impl<W: Write> ControlOut for WriteSide<'_, W> {
    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<()> {
        if !self.close.is_open() {
            return Ok(());
        }
        let (writer, mut egress) = self.out.io();
        writer.write_control(&mut egress, opcode, payload)
    }

    fn send_close(&mut self, frame: Option<(CloseCode, &str)>) -> Result<()> {
        if !self.close.is_open() {
            return Ok(());
        }
        self.close.mark_sent();
        // The closing handshake never outlasts the close timeout, even when the peer has
        // stopped reading and the close frame cannot be written.
        if let Some(timeout) = self.close.timeout {
            self.out.bound_write_deadline(timeout);
        }
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let n = frame::encode_close(frame, &mut payload);
        let (writer, mut egress) = self.out.io();
        writer.write_control(&mut egress, OpCode::Close, &payload[..n])?;
        match writer.flush(&mut egress) {
            // A non-blocking connection: the close frame is queued, for the next flush or
            // read.
            Err(e) if e.is_would_block() && self.out.pace == Pace::NonBlocking => Ok(()),
            flushed => flushed,
        }
    }
}
