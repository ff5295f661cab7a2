//! [`ReadSide`]: everything a connection does on reading, written once for a whole
//! connection and a reader half alike (tungstenite's `WebSocketContext` under `WebSocket<S>`
//! is the model): whole-message and streamed reads, control-frame dispatch to the handlers,
//! the keepalive, read deadlines, and the closing handshake from the reading side.

use std::time::{Duration, Instant};

use crate::close::Phase;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::handlers::{ControlOut, Handlers, Replier};
use crate::link::Link;
use crate::link::Whole;
use crate::message::{Message, MessageReader};
use crate::proto::{CloseCode, CloseStatus, Initiator, MessageKind, OpCode};
use crate::reader::{Control, ReadError, Reader, Wire};
use crate::stream::{Interest, Pace};
use crate::timer::{Attempt, ReadTimer, Skip};
use crate::utf8;
use crate::writer::QUEUE_HIGH_WATER;

/// The read side of a connection: the read state machine, and what it reads through.
pub(crate) struct ReadSide<L> {
    reader: Reader,
    port: Port<L>,
    /// The connection ended (the closing handshake, or a failure that sent a close frame)
    /// while bytes were still queued (a non-blocking stream): reads report the end once
    /// they are sent.
    ending: Option<Error>,
}

/// What the [`Reader`] sees as its [`Wire`]: the link, the handlers and the read timer.
struct Port<L> {
    link: L,
    handlers: Handlers,
    timer: ReadTimer,
    /// Whether reads may time out: the link's stream can.
    can_time_out: bool,
    close_timeout: Option<Duration>,
}

/// A handler's way to answer through the link.
struct LinkControl<'a, L>(&'a mut L);

impl<L: Link> ControlOut for LinkControl<'_, L> {
    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<()> {
        match opcode {
            OpCode::Pong => self.0.pong(payload),
            _ => self.0.write_side(|w| w.send_control(opcode, payload)),
        }
    }

    fn send_close(&mut self, frame: Option<(CloseCode, &str)>) -> Result<()> {
        self.0.write_side(|w| w.send_close(frame))
    }
}

impl<L: Link> Wire for Port<L> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ReadError> {
        if let Err(e) = self.link.before_read() {
            // Not reading (too much is queued), but time goes on: a deadline or the
            // keepalive may be due.
            if let ReadError::WouldBlock(_) = e {
                self.timer.forget_drain();
                match self.timer.check_clock() {
                    Some(Attempt::Done(result)) => return result,
                    Some(Attempt::Ping) => self.link.keepalive_ping(),
                    Some(Attempt::Retry) | None => {}
                }
            }
            return Err(e);
        }
        loop {
            let (stream, ops) = self.link.source();
            // This end going away ends the connection at the next read; a read that brings
            // nothing may be the stream shut down to wake this one up.
            let going_away = |stream: &_| ops.is_some_and(|ops| ops.is_going_away(stream));
            if going_away(stream) {
                return Err(ReadError::GoingAway);
            }
            match self.timer.attempt(stream, ops, buf) {
                Attempt::Done(Ok(0) | Err(ReadError::Io(_))) if going_away(stream) => {
                    return Err(ReadError::GoingAway);
                }
                Attempt::Done(result) => return result,
                Attempt::Retry => {}
                Attempt::Ping => self.link.keepalive_ping(),
            }
        }
    }

    fn control(&mut self, frame: Control<'_>) -> Result<()> {
        match frame {
            Control::Ping(payload) => match &mut self.handlers.ping {
                Some(handler) => {
                    handler(payload, &mut Replier::new(&mut LinkControl(&mut self.link)))
                }
                None => self.link.pong(payload),
            },
            Control::Pong(payload) => match &mut self.handlers.pong {
                Some(handler) => handler(payload),
                None => Ok(()),
            },
            Control::Close(frame) => {
                let handler = &mut self.handlers.close;
                self.link.write_side(|w| w.receive_close(frame, handler))
            }
        }
    }

    fn fail(&mut self, code: CloseCode, reason: &str) {
        self.link.write_side(|w| w.fail(code, reason));
    }

    fn abort(&mut self) -> Option<CloseStatus> {
        self.link.write_side(|w| w.abort())
    }

    fn is_closed(&self) -> bool {
        matches!(self.link.close_state().phase(), Phase::Closed(_))
    }
}

impl<L: Link> ReadSide<L> {
    /// A read side over `link`; `can_time_out`: whether the link's stream can time out
    /// (deadlines need that). The keepalive starts afresh and no read deadline is set.
    pub(crate) fn new(
        reader: Reader,
        link: L,
        handlers: Handlers,
        config: &Config,
        can_time_out: bool,
        pace: Pace,
    ) -> ReadSide<L> {
        ReadSide {
            reader,
            port: Port {
                link,
                handlers,
                timer: ReadTimer::new(
                    config.keepalive(),
                    pace,
                    match config.skip_drained_reads() {
                        true => Skip::DrainedReads,
                        false => Skip::Never,
                    },
                ),
                can_time_out,
                close_timeout: config.close_timeout(),
            },
            ending: None,
        }
    }

    /// Takes the read side apart (to split or reunite the connection).
    pub(crate) fn into_parts(self) -> (Reader, L, Handlers) {
        (self.reader, self.port.link, self.port.handlers)
    }

    pub(crate) fn link(&self) -> &L {
        &self.port.link
    }

    pub(crate) fn link_mut(&mut self) -> &mut L {
        &mut self.port.link
    }

    pub(crate) fn next_reader(&mut self) -> Result<(MessageKind, MessageReader<'_>)> {
        self.resume_ending()?;
        if let Some(kind) = self.reader.take_interrupted() {
            return Ok((kind, MessageReader::new(&mut self.reader, &mut self.port)));
        }
        let kind = self.reader.next_message(&mut self.port);
        let kind = self.hold_ending(kind)?;
        Ok((kind, MessageReader::new(&mut self.reader, &mut self.port)))
    }

    pub(crate) fn read_message(&mut self) -> Result<Message> {
        let mut buf = Vec::new();
        match self.read_message_into(&mut buf)? {
            MessageKind::Binary => Ok(Message::Binary(buf)),
            MessageKind::Text => into_text(buf).map(Message::Text),
        }
    }

    pub(crate) fn read_message_into(&mut self, buf: &mut Vec<u8>) -> Result<MessageKind> {
        self.resume_ending()?;
        let kind = self
            .reader
            .read_whole(&mut self.port, buf, usize::MAX, None);
        self.hold_ending(kind)
    }

    pub(crate) fn read_text(&mut self, max_len: usize) -> Result<String> {
        self.resume_ending()?;
        let mut buf = Vec::new();
        let read =
            self.reader
                .read_whole(&mut self.port, &mut buf, max_len, Some(MessageKind::Text));
        self.hold_ending(read)?;
        into_text(buf)
    }

    pub(crate) fn read_binary(&mut self, buf: &mut [u8]) -> Result<usize> {
        self.resume_ending()?;
        let read = self.reader.read_whole_into(&mut self.port, buf);
        self.hold_ending(read)
    }

    /// The connection is over for reading ([`Error::Closed`], or a failure that sent a
    /// close frame); if bytes are still queued (a non-blocking stream: our close frame),
    /// the end is reported once they are sent (or could not be, within the close timeout),
    /// so that a loop that drops the connection at its end never drops the frame with it.
    fn hold_ending<T>(&mut self, result: Result<T>) -> Result<T> {
        match result {
            Err(e)
                if sent_a_close(&e)
                    && self.reading_over()
                    && self.port.link.write_side(|w| w.must_send()) =>
            {
                Err(self.report_end(e))
            }
            result => result,
        }
    }

    /// Whether nothing more will be read: the reader failed, or the closing handshake is
    /// over.
    fn reading_over(&self) -> bool {
        self.reader.has_failed() || matches!(self.port.link.close_state().phase(), Phase::Closed(_))
    }

    /// A held end: reported once what it waits for is sent.
    fn resume_ending(&mut self) -> Result<()> {
        match self.ending.take() {
            None => Ok(()),
            Some(status) => Err(self.report_end(status)),
        }
    }

    /// Sends what the end of the connection waits for: `WouldBlock` (the end held) until
    /// it is out or can never be, then the end.
    fn report_end(&mut self, end: Error) -> Error {
        match self.port.link.write_side(|w| w.flush()) {
            Err(e) if e.is_would_block() => {
                self.ending = Some(end);
                e
            }
            _ => end,
        }
    }

    pub(crate) fn set_max_message_size(&mut self, bytes: u64) {
        self.reader.set_max_message_size(bytes);
    }

    pub(crate) fn set_read_deadline(&mut self, deadline: Option<Instant>) -> Result<()> {
        if !self.port.can_time_out {
            return Err(unsupported());
        }
        self.port.timer.set_deadline(deadline);
        Ok(())
    }

    /// Closes from the reading side: sends a close frame, reads (discarding data) until the
    /// peer's close frame or the close timeout, shuts the stream down and returns how the
    /// connection ended.
    pub(crate) fn close(&mut self, code: CloseCode, reason: &str) -> Result<CloseStatus> {
        crate::frame::check_close(code, reason)?;
        match self.resume_ending() {
            Err(Error::Closed(status)) => return Ok(status),
            Err(e) if e.is_would_block() => return Err(e),
            // Another end (a failure): what the closing handshake's state says, below.
            Err(_) | Ok(()) => {}
        }
        match self.port.link.close_state().phase() {
            Phase::Closed(status) => return Ok(status.clone()),
            Phase::Sent => {}
            Phase::Open => {
                let sent = self
                    .port
                    .link
                    .write_side(|w| w.send_close(Some((code, reason))));
                if let Err(e) = sent {
                    self.port
                        .link
                        .write_side(|w| w.finish(CloseStatus::abnormal(Initiator::Local)));
                    return Err(e);
                }
            }
        }
        if !self.port.timer.has_close_deadline() {
            // Once: a call resumed after `WouldBlock` keeps the first call's deadline.
            let deadline = self.port.close_timeout.map(|t| Instant::now() + t);
            self.port.timer.set_close_deadline(deadline);
        }
        let status = loop {
            match self.reader.next_message(&mut self.port) {
                Ok(_) => continue,
                Err(e) if e.is_would_block() => return Err(e),
                Err(Error::Closed(status)) => break status,
                Err(_) => match self.port.link.close_state().status() {
                    Some(status) => break status.clone(),
                    None => break CloseStatus::abnormal(Initiator::Local),
                },
            }
        };
        self.port.timer.set_close_deadline(None);
        // The closing handshake is over: the stream goes, whoever closes TCP first.
        self.port.link.write_side(|w| w.finish(status.clone()));
        match self.hold_ending(Err(Error::Closed(status))) {
            Err(Error::Closed(status)) => Ok(status),
            other => other,
        }
    }

    pub(crate) fn set_ping_handler(&mut self, handler: Box<crate::handlers::PingHandler>) {
        self.port.handlers.ping = Some(handler);
    }

    pub(crate) fn set_pong_handler(&mut self, handler: Box<crate::handlers::PongHandler>) {
        self.port.handlers.pong = Some(handler);
    }

    pub(crate) fn set_close_handler(&mut self, handler: Box<crate::handlers::CloseHandler>) {
        self.port.handlers.close = Some(handler);
    }
}

/// Whether a read that ended the connection queued a close frame of ours (the answer to
/// the peer's, or the code of a failure), whose sending is bounded by the close timeout.
fn sent_a_close(e: &Error) -> bool {
    matches!(
        e,
        Error::Closed(_)
            | Error::Protocol(_)
            | Error::Capacity(_)
            | Error::KeepaliveTimeout
            | Error::GoingAway
    )
}

/// The error for a deadline on a stream wsio cannot time out.
pub(crate) fn unsupported() -> Error {
    Error::Io(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "this stream cannot time out (the Conn was made with from_raw)",
    ))
}

/// Text the reader validated as it arrived, as a `String`.
fn into_text(buf: Vec<u8>) -> Result<String> {
    utf8::into_string(buf).map_err(|_| Error::Protocol(crate::error::ProtocolError::InvalidUtf8))
}

impl<S: std::io::Read + std::io::Write> ReadSide<Whole<S>> {
    /// What the connection waits for: to send what is queued, and to read unless it is over
    /// or so much is queued that reading more would only queue more.
    pub(crate) fn interest(&self) -> Interest {
        let out = &self.port.link.out;
        let write = out.must_send();
        let backlog = write && out.queued() > QUEUE_HIGH_WATER;
        let read = self.ending.is_none() && !self.reading_over() && !backlog;
        Interest::of(read, write)
    }

    /// The next moment the connection must be called even if its stream stays quiet: a
    /// read deadline, the keepalive, the closing handshake's deadline, or the write
    /// deadline of queued bytes.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let interest = self.interest();
        let write = interest
            .is_writable()
            .then_some(self.port.link.out.write_deadline)
            .flatten();
        // Reading may wait for the queue to go down; its time goes on meanwhile.
        let reading = self.ending.is_none() && !self.reading_over();
        let read = reading.then(|| self.port.timer.next_deadline()).flatten();
        match (read, write) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the stream is non-blocking.
    pub(crate) fn pace(&self) -> Pace {
        self.port.link.out.pace
    }
}
