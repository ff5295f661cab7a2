//! Control frames and the closing handshake: the handlers, the [`Replier`] they answer
//! through, and [`Output`], the write side of a connection (stream, writer, close state),
//! which a whole [`Conn`](crate::Conn) owns and split halves share.

use std::fmt;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use crate::close::{self, CloseCode, CloseFrame, CloseStatus, Initiator};
use crate::conn::Role;
use crate::error::{Error, InvalidInput, Result};
use crate::frame::{MAX_CONTROL_PAYLOAD, OpCode};
use crate::message::{MessageKind, Sink};
use crate::prepared::PreparedMessage;
use crate::stream::{self, StreamOps};
use crate::writer::Writer;

/// Called with each ping's payload. The default answers with a pong carrying the same payload.
pub type PingHandler = dyn FnMut(&[u8], &mut Replier<'_>) -> Result<()> + Send;
/// Called with each pong's payload. The default does nothing.
pub type PongHandler = dyn FnMut(&[u8]) -> Result<()> + Send;
/// Called with the peer's close frame (`None` if it carried no code) when the peer starts the
/// closing handshake. If it does not send a close frame through the [`Replier`], wsio answers
/// with the peer's own code and reason, which is also the default.
pub type CloseHandler = dyn FnMut(Option<&CloseFrame>, &mut Replier<'_>) -> Result<()> + Send;

/// The application's replacements for the default control-frame behaviour.
#[derive(Default)]
pub(crate) struct Handlers {
    pub(crate) ping: Option<Box<PingHandler>>,
    pub(crate) pong: Option<Box<PongHandler>>,
    pub(crate) close: Option<Box<CloseHandler>>,
}

impl fmt::Debug for Handlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handlers")
            .field("ping", &self.ping.is_some())
            .field("pong", &self.pong.is_some())
            .field("close", &self.close.is_some())
            .finish()
    }
}

/// What sends control frames for the handlers: a connection's [`Output`], or a reader half's
/// route to the shared one.
pub(crate) trait ControlOut {
    /// Sends a ping or pong; does nothing once a close frame was sent.
    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<()>;
    /// Sends a close frame unless one was sent already.
    fn send_close(&mut self, frame: Option<(CloseCode, &str)>) -> Result<()>;
}

/// Lets a control-frame handler answer: send a pong, a ping, or (from the close handler) the
/// close frame of its choice.
pub struct Replier<'a> {
    out: &'a mut dyn ControlOut,
}

impl<'a> Replier<'a> {
    pub(crate) fn new(out: &'a mut dyn ControlOut) -> Replier<'a> {
        Replier { out }
    }

    /// Sends a pong. Does nothing once a close frame was sent.
    ///
    /// # Errors
    ///
    /// [`InvalidInput::ControlPayloadTooLong`] over 125 bytes; I/O errors.
    pub fn pong(&mut self, payload: &[u8]) -> Result<()> {
        check_control_payload(payload)?;
        self.out.send_control(OpCode::Pong, payload)
    }

    /// Sends a ping. Does nothing once a close frame was sent.
    ///
    /// # Errors
    ///
    /// As [`pong`](Self::pong).
    pub fn ping(&mut self, payload: &[u8]) -> Result<()> {
        check_control_payload(payload)?;
        self.out.send_control(OpCode::Ping, payload)
    }

    /// Sends a close frame with this code and reason (once; later calls do nothing).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`] for a code that may not be sent or a reason over 123 bytes; I/O errors.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<()> {
        close::check_outgoing(code, reason)?;
        self.out.send_close(Some((code, reason)))
    }
}

impl fmt::Debug for Replier<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replier").finish_non_exhaustive()
    }
}

/// Checks a ping or pong payload the application wants to send.
pub(crate) fn check_control_payload(payload: &[u8]) -> Result<()> {
    if payload.len() > MAX_CONTROL_PAYLOAD {
        return Err(InvalidInput::ControlPayloadTooLong(payload.len()).into());
    }
    Ok(())
}

/// Where the closing handshake stands.
#[derive(Clone, Debug)]
pub(crate) enum CloseState {
    /// No close frame sent or received.
    Open,
    /// We sent a close frame and wait for the peer's.
    Sent,
    /// Done: both close frames exchanged, or the connection failed or dropped.
    Closed(CloseStatus),
}

impl CloseState {
    pub(crate) fn is_open(&self) -> bool {
        matches!(self, CloseState::Open)
    }

    pub(crate) fn status(&self) -> Option<&CloseStatus> {
        match self {
            CloseState::Closed(status) => Some(status),
            _ => None,
        }
    }
}

/// The write side of a connection: the stream (or its writing half), the [`Writer`], and the
/// closing handshake's state, which both directions consult.
pub(crate) struct Output<W> {
    pub(crate) stream: W,
    pub(crate) writer: Writer,
    pub(crate) close: CloseState,
    pub(crate) role: Role,
    pub(crate) ops: Option<StreamOps<W>>,
    /// The application's write deadline.
    pub(crate) write_deadline: Option<Instant>,
    /// How long a close frame may take to write when the peer may be gone.
    pub(crate) close_timeout: Option<Duration>,
    /// The write timeout last set on the stream by us; `None` if we never set one.
    applied: Option<Option<Duration>>,
}

/// A stream whose writes honour a deadline (by setting its write timeout before each one).
pub(crate) struct Timed<'a, W> {
    stream: &'a mut W,
    ops: Option<StreamOps<W>>,
    deadline: Option<Instant>,
    applied: &'a mut Option<Option<Duration>>,
}

impl<W: Write> Timed<'_, W> {
    fn prepare(&mut self) -> io::Result<()> {
        let Some(ops) = self.ops else {
            return Ok(());
        };
        let wanted = match self.deadline {
            Some(deadline) => Some(stream::remaining(deadline)?),
            None => None,
        };
        if (wanted.is_some() || self.applied.is_some()) && *self.applied != Some(wanted) {
            ops.set_write_timeout(self.stream, wanted)?;
            *self.applied = wanted.map(Some);
        }
        Ok(())
    }
}

impl<W: Write> Write for Timed<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.prepare()?;
        self.stream.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.prepare()?;
        self.stream.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl<W> Output<W> {
    pub(crate) fn new(
        stream: W,
        writer: Writer,
        role: Role,
        ops: Option<StreamOps<W>>,
        close_timeout: Option<Duration>,
    ) -> Output<W> {
        Output {
            stream,
            writer,
            close: CloseState::Open,
            role,
            ops,
            write_deadline: None,
            close_timeout,
            applied: None,
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
            close,
            role,
            write_deadline,
            close_timeout,
            applied,
            ..
        } = self;
        let out = Output {
            stream,
            writer,
            close,
            role,
            ops,
            write_deadline,
            close_timeout,
            applied,
        };
        (old, out)
    }

    /// The writer, and the stream with the write deadline applied.
    pub(crate) fn io(&mut self) -> (&mut Writer, Timed<'_, W>) {
        (
            &mut self.writer,
            Timed {
                stream: &mut self.stream,
                ops: self.ops,
                deadline: self.write_deadline,
                applied: &mut self.applied,
            },
        )
    }
}

impl<W: Write> Output<W> {
    /// Writes a whole message.
    pub(crate) fn write_message(&mut self, kind: MessageKind, data: &[u8]) -> Result<()> {
        let (writer, mut stream) = self.io();
        writer.write_message(&mut stream, kind, data)
    }

    /// Writes a prepared message.
    pub(crate) fn write_prepared(&mut self, prepared: &PreparedMessage) -> Result<()> {
        let (writer, mut stream) = self.io();
        writer.write_prepared(&mut stream, prepared)
    }

    /// Sends buffered frames and flushes the stream.
    pub(crate) fn flush(&mut self) -> Result<()> {
        let (writer, mut stream) = self.io();
        writer.flush(&mut stream)
    }
    /// Records the end of the connection and, where the stream can, shuts it down.
    pub(crate) fn finish(&mut self, status: CloseStatus) {
        self.writer.set_closed();
        self.close = CloseState::Closed(status);
        if let Some(ops) = self.ops {
            let _ = self.stream.flush();
            let _ = ops.shutdown(&mut self.stream);
        }
    }

    /// The peer's close frame arrived: run the handler and answer (if the peer started), record
    /// the status, and end with `Err(Error::Closed(status))`.
    pub(crate) fn receive_close(
        &mut self,
        frame: Option<CloseFrame>,
        handler: &mut Option<Box<CloseHandler>>,
    ) -> Result<()> {
        let initiator = match self.close {
            CloseState::Open => Initiator::Peer,
            CloseState::Sent => Initiator::Local,
            CloseState::Closed(_) => return Err(Error::AlreadyClosed),
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
        if self.role == Role::Server || initiator == Initiator::Local {
            self.finish(status.clone());
        } else {
            self.writer.set_closed();
            self.close = CloseState::Closed(status.clone());
        }
        handler_result?;
        Err(Error::Closed(status))
    }

    /// The peer broke a rule (or went silent): send a close frame with `code` and `reason`,
    /// within the close timeout in case the peer no longer reads, and end.
    pub(crate) fn fail(&mut self, code: CloseCode, reason: &str) {
        let _ = self.send_close(Some((code, reason)));
        if self.close.status().is_none() {
            self.finish(CloseStatus::abnormal(Initiator::Local));
        }
    }

    /// The stream failed or ended without a close frame. If the connection had already
    /// been closed from this side (a handle that gave up waiting shut the stream down, which
    /// is how the reader got here), returns that status.
    pub(crate) fn abort(&mut self) -> Option<CloseStatus> {
        let initiator = match &self.close {
            CloseState::Open => Initiator::Peer,
            CloseState::Sent => Initiator::Local,
            CloseState::Closed(status) => return Some(status.clone()),
        };
        self.finish(CloseStatus::abnormal(initiator));
        None
    }

    /// Sends a ping or pong the application asked for.
    pub(crate) fn write_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<()> {
        check_control_payload(payload)?;
        if !self.close.is_open() {
            return Err(Error::AlreadyClosed);
        }
        self.send_control(opcode, payload)
    }
}

impl<W: Write> ControlOut for Output<W> {
    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<()> {
        if !self.close.is_open() {
            return Ok(());
        }
        let (writer, mut stream) = self.io();
        writer.write_control(&mut stream, opcode, payload)
    }

    fn send_close(&mut self, frame: Option<(CloseCode, &str)>) -> Result<()> {
        if !self.close.is_open() {
            return Ok(());
        }
        self.close = CloseState::Sent;
        // The closing handshake never outlasts the close timeout, even when the peer has
        // stopped reading and the close frame cannot be written.
        if let Some(timeout) = self.close_timeout {
            let bound = Instant::now() + timeout;
            self.write_deadline = Some(self.write_deadline.map_or(bound, |d| d.min(bound)));
        }
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let n = close::encode_payload(frame, &mut payload);
        let (writer, mut stream) = self.io();
        let result = writer
            .write_control(&mut stream, OpCode::Close, &payload[..n])
            .and_then(|()| writer.flush(&mut stream));
        self.writer.set_closed();
        result
    }
}

impl<W: Write> Sink for Output<W> {
    fn stream_write(&mut self, data: &[u8]) -> Result<()> {
        let (writer, mut stream) = self.io();
        writer.stream_write(&mut stream, data)
    }

    fn stream_flush(&mut self) -> Result<()> {
        let (writer, mut stream) = self.io();
        writer.stream_flush(&mut stream)
    }

    fn stream_finish(&mut self) -> Result<()> {
        let (writer, mut stream) = self.io();
        writer.stream_finish(&mut stream)
    }

    fn stream_abandon(&mut self) {
        self.writer.abandon();
    }
}
