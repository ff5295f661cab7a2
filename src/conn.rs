//! [`Conn`]: a WebSocket connection over any `Read + Write` stream.
//!
//! `Conn` owns the stream, the [`Reader`] and [`Writer`] state machines and the closing
//! handshake, and dispatches control frames to the handlers. Everything but the read state
//! lives in a [`Link`], which is what the reader sees as its [`Wire`].

use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use crate::close::{self, CloseCode, CloseFrame, CloseStatus, Initiator};
use crate::config::Config;
use crate::error::{Error, InvalidInput, Result};
use crate::frame::{MAX_CONTROL_PAYLOAD, OpCode};
use crate::message::{Message, MessageKind, MessageReader, MessageWriter, Sink};
use crate::reader::{Control, Reader, Wire};
use crate::stream::{self, StreamOps};
use crate::writer::Writer;

/// Which end of the connection this is. Clients mask what they send and expect unmasked
/// frames; servers the opposite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that sent the opening handshake request.
    Client,
    /// The end that accepted it.
    Server,
}

/// Called with each ping's payload. The default answers with a pong carrying the same payload.
pub type PingHandler = dyn FnMut(&[u8], &mut Replier<'_>) -> Result<()> + Send;
/// Called with each pong's payload. The default does nothing.
pub type PongHandler = dyn FnMut(&[u8]) -> Result<()> + Send;
/// Called with the peer's close frame (`None` if it carried no code) when the peer starts the
/// closing handshake. If it does not send a close frame through the [`Replier`], wsio answers
/// with the peer's own code and reason, which is also the default.
pub type CloseHandler = dyn FnMut(Option<&CloseFrame>, &mut Replier<'_>) -> Result<()> + Send;

#[derive(Default)]
pub(crate) struct Handlers {
    ping: Option<Box<PingHandler>>,
    pong: Option<Box<PongHandler>>,
    close: Option<Box<CloseHandler>>,
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
    fn is_open(&self) -> bool {
        matches!(self, CloseState::Open)
    }
}

/// What sends control frames for the handlers: the connection's writer, or a writer half.
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

/// Text that the reader validated as it arrived. Checked again (the standard library's
/// check is the one `String` trusts); a failure would be a bug in the incremental check, and
/// is reported as the peer's bad UTF-8 rather than a panic.
fn into_text(buf: Vec<u8>) -> Result<String> {
    String::from_utf8(buf).map_err(|_| Error::Protocol(crate::error::ProtocolError::InvalidUtf8))
}

fn check_control_payload(payload: &[u8]) -> Result<()> {
    if payload.len() > MAX_CONTROL_PAYLOAD {
        return Err(InvalidInput::ControlPayloadTooLong(payload.len()).into());
    }
    Ok(())
}

/// Everything of a connection except the read state: the stream, the writer, the closing
/// handshake, the handlers. The reader reaches the stream through it.
pub(crate) struct Link<S> {
    stream: S,
    writer: Writer,
    close: CloseState,
    handlers: Handlers,
    role: Role,
    ops: Option<StreamOps<S>>,
    /// While set, reads time out at this instant (streams with `ops` only).
    read_deadline: Option<Instant>,
}

impl<S: Read + Write> Link<S> {
    /// Records the end of the connection and, where the stream can, shuts it down.
    fn finish(&mut self, status: CloseStatus) {
        self.writer.set_closed();
        self.close = CloseState::Closed(status);
        if let Some(ops) = self.ops {
            let _ = self.stream.flush();
            let _ = ops.shutdown(&mut self.stream);
        }
    }
}

impl<S: Read + Write> ControlOut for Link<S> {
    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<()> {
        if !self.close.is_open() {
            return Ok(());
        }
        self.writer.write_control(&mut self.stream, opcode, payload)
    }

    fn send_close(&mut self, frame: Option<(CloseCode, &str)>) -> Result<()> {
        if !self.close.is_open() {
            return Ok(());
        }
        self.close = CloseState::Sent;
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let n = close::encode_payload(frame, &mut payload);
        let result = self
            .writer
            .write_control(&mut self.stream, OpCode::Close, &payload[..n])
            .and_then(|()| self.writer.flush(&mut self.stream));
        self.writer.set_closed();
        result
    }
}

impl<S: Read + Write> Wire for Link<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.writer.has_pending() {
            // About to block: batched frames go out first.
            if let Err(e) = self.writer.flush(&mut self.stream) {
                if e.is_timeout() {
                    return Err(e.into());
                }
                // The write side is dead; the read side may still get the peer's close.
            }
        }
        if let (Some(deadline), Some(ops)) = (self.read_deadline, self.ops) {
            ops.set_read_timeout(&mut self.stream, Some(stream::remaining(deadline)?))?;
        }
        self.stream.read(buf)
    }

    fn control(&mut self, frame: Control<'_>) -> Result<()> {
        match frame {
            Control::Ping(payload) => match self.handlers.ping.take() {
                Some(mut handler) => {
                    let result = handler(payload, &mut Replier::new(self));
                    self.handlers.ping = Some(handler);
                    result
                }
                None => self.send_control(OpCode::Pong, payload),
            },
            Control::Pong(payload) => match &mut self.handlers.pong {
                Some(handler) => handler(payload),
                None => Ok(()),
            },
            Control::Close(frame) => {
                let initiator = match self.close {
                    CloseState::Open => Initiator::Peer,
                    CloseState::Sent => Initiator::Local,
                    CloseState::Closed(_) => return Err(Error::AlreadyClosed),
                };
                let mut handler_result = Ok(());
                if initiator == Initiator::Peer {
                    if let Some(mut handler) = self.handlers.close.take() {
                        handler_result = handler(frame.as_ref(), &mut Replier::new(self));
                        self.handlers.close = Some(handler);
                    }
                    let echo = frame.as_ref().map(|f| (f.code, f.reason.as_str()));
                    // The peer may already be gone; the handshake is over either way.
                    let _ = self.send_close(echo);
                }
                let status = CloseStatus::from_frame(frame.as_ref(), initiator);
                // RFC 6455 7.1.1: the server closes the TCP connection first. A client
                // leaves that to the server unless it started the close itself.
                if self.role == Role::Server || initiator == Initiator::Local {
                    self.finish(status.clone());
                } else {
                    self.writer.set_closed();
                    self.close = CloseState::Closed(status.clone());
                }
                handler_result?;
                Err(Error::Closed(status))
            }
        }
    }

    fn fail(&mut self, code: CloseCode, reason: &str) {
        let _ = self.send_close(Some((code, reason)));
        if !matches!(self.close, CloseState::Closed(_)) {
            self.finish(CloseStatus::abnormal(Initiator::Local));
        }
    }

    fn abort(&mut self) {
        if !matches!(self.close, CloseState::Closed(_)) {
            let initiator = match self.close {
                CloseState::Sent => Initiator::Local,
                _ => Initiator::Peer,
            };
            self.finish(CloseStatus::abnormal(initiator));
        }
    }
}

impl<S: Read + Write> Sink for Link<S> {
    fn stream_write(&mut self, data: &[u8]) -> Result<()> {
        self.writer.stream_write(&mut self.stream, data)
    }

    fn stream_flush(&mut self) -> Result<()> {
        self.writer.stream_flush(&mut self.stream)
    }

    fn stream_finish(&mut self) -> Result<()> {
        self.writer.stream_finish(&mut self.stream)
    }

    fn stream_abandon(&mut self) {
        self.writer.abandon();
    }
}

/// A WebSocket connection over a stream `S`, after the opening handshake.
///
/// Get one from [`Upgrader::upgrade`](crate::Upgrader::upgrade) (server),
/// [`Dialer::dial`](crate::Dialer::dial) or [`Dialer::handshake`](crate::Dialer::handshake)
/// (client), or wrap a stream whose handshake is done with [`Conn::from_raw`].
///
/// All methods take `&mut self`: one thread reads and writes at a time, checked by the
/// compiler. Reading handles control frames on the way (pings are answered, a close is
/// answered and reported as [`Error::Closed`]).
pub struct Conn<S> {
    reader: Reader,
    link: Link<S>,
    config: Config,
    subprotocol: Option<String>,
}

impl<S: Read + Write> Conn<S> {
    /// Wraps a stream on which the opening handshake is already done. `close` then cannot time
    /// out or shut the stream down; prefer the handshake functions, which can.
    pub fn from_raw(stream: S, role: Role, config: Config) -> Conn<S> {
        Conn::from_parts(stream, role, config, &[], None, None)
    }

    /// As [`from_raw`](Self::from_raw), with bytes already read from the stream after the
    /// handshake: they are the start of the first frame.
    pub fn from_partially_read(stream: S, leftover: &[u8], role: Role, config: Config) -> Conn<S> {
        Conn::from_parts(stream, role, config, leftover, None, None)
    }

    pub(crate) fn from_parts(
        stream: S,
        role: Role,
        config: Config,
        leftover: &[u8],
        subprotocol: Option<String>,
        ops: Option<StreamOps<S>>,
    ) -> Conn<S> {
        Conn {
            reader: Reader::new(role, &config, leftover),
            link: Link {
                stream,
                writer: Writer::new(role, &config),
                close: CloseState::Open,
                handlers: Handlers::default(),
                role,
                ops,
                read_deadline: None,
            },
            config,
            subprotocol,
        }
    }

    /// Waits for the next data message and returns its kind and a reader for its payload.
    /// An unfinished previous message is skipped first. Control frames that arrive meanwhile
    /// are handled.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] when the peer closed (wsio has answered); [`Error::Protocol`] or
    /// [`Error::Capacity`] when the peer broke a rule (wsio sent the close frame);
    /// [`Error::Io`]; [`Error::AlreadyClosed`].
    pub fn next_reader(&mut self) -> Result<(MessageKind, MessageReader<'_>)> {
        let kind = self.reader.next_message(&mut self.link)?;
        Ok((kind, MessageReader::new(&mut self.reader, &mut self.link)))
    }

    /// Starts a message whose payload is written through the returned writer, which must be
    /// [`finish`](MessageWriter::finish)ed.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyClosed`] after a close frame was sent; a sticky I/O error.
    pub fn next_writer(&mut self, kind: MessageKind) -> Result<MessageWriter<'_>> {
        self.link.writer.begin(kind)?;
        Ok(MessageWriter::new(&mut self.link))
    }

    /// Reads the next whole data message.
    ///
    /// # Errors
    ///
    /// As [`next_reader`](Self::next_reader).
    pub fn read_message(&mut self) -> Result<Message> {
        let mut buf = Vec::new();
        match self.read_message_into(&mut buf)? {
            MessageKind::Binary => Ok(Message::Binary(buf)),
            MessageKind::Text => into_text(buf).map(Message::Text),
        }
    }

    /// Reads the next whole data message into `buf` (cleared first, capacity kept) and
    /// returns its kind. Text in `buf` is valid UTF-8.
    ///
    /// # Errors
    ///
    /// As [`next_reader`](Self::next_reader).
    pub fn read_message_into(&mut self, buf: &mut Vec<u8>) -> Result<MessageKind> {
        buf.clear();
        let kind = self.reader.next_message(&mut self.link)?;
        self.reader.read_to_end(&mut self.link, buf, usize::MAX)?;
        Ok(kind)
    }

    /// Reads the next message, which must be text of at most `max_len` bytes (Voss's
    /// `ReceiveText`).
    ///
    /// # Errors
    ///
    /// [`Error::MessageTooLong`] or [`Error::UnexpectedKind`]: the message was read and
    /// discarded, the connection is usable. Otherwise as [`next_reader`](Self::next_reader).
    pub fn read_text(&mut self, max_len: usize) -> Result<String> {
        let kind = self.reader.next_message(&mut self.link)?;
        if kind != MessageKind::Text {
            self.reader.discard(&mut self.link)?;
            return Err(Error::UnexpectedKind(kind));
        }
        let mut buf = Vec::new();
        self.reader.read_to_end(&mut self.link, &mut buf, max_len)?;
        into_text(buf)
    }

    /// Reads the next message, which must be binary, into `buf` and returns its length
    /// (Voss's `ReceiveBinary`).
    ///
    /// # Errors
    ///
    /// [`Error::MessageTooLong`] if it does not fit, or [`Error::UnexpectedKind`]: the message
    /// was read and discarded, the connection is usable. Otherwise as
    /// [`next_reader`](Self::next_reader).
    pub fn read_binary(&mut self, buf: &mut [u8]) -> Result<usize> {
        let kind = self.reader.next_message(&mut self.link)?;
        if kind != MessageKind::Binary {
            self.reader.discard(&mut self.link)?;
            return Err(Error::UnexpectedKind(kind));
        }
        let mut filled = 0;
        loop {
            if filled == buf.len() {
                if self.reader.in_message() && self.reader.read(&mut self.link, &mut [0; 1])? > 0 {
                    self.reader.discard(&mut self.link)?;
                    return Err(Error::MessageTooLong { limit: buf.len() });
                }
                return Ok(filled);
            }
            match self.reader.read(&mut self.link, &mut buf[filled..])? {
                0 => return Ok(filled),
                n => filled += n,
            }
        }
    }

    /// Writes a whole message as one frame.
    ///
    /// # Errors
    ///
    /// [`InvalidInput::InvalidUtf8`] for text that is not UTF-8 (nothing is sent);
    /// [`Error::AlreadyClosed`] after a close frame was sent; I/O errors.
    pub fn write_message(&mut self, kind: MessageKind, data: &[u8]) -> Result<()> {
        self.link
            .writer
            .write_message(&mut self.link.stream, kind, data)
    }

    /// Writes a text message.
    ///
    /// # Errors
    ///
    /// As [`write_message`](Self::write_message).
    pub fn write_text(&mut self, text: &str) -> Result<()> {
        self.write_message(MessageKind::Text, text.as_bytes())
    }

    /// Writes a binary message.
    ///
    /// # Errors
    ///
    /// As [`write_message`](Self::write_message).
    pub fn write_binary(&mut self, data: &[u8]) -> Result<()> {
        self.write_message(MessageKind::Binary, data)
    }

    /// Sends a ping. The pong comes back through a read (see
    /// [`set_pong_handler`](Self::set_pong_handler)).
    ///
    /// # Errors
    ///
    /// [`InvalidInput::ControlPayloadTooLong`] over 125 bytes; [`Error::AlreadyClosed`]; I/O.
    pub fn write_ping(&mut self, payload: &[u8]) -> Result<()> {
        self.write_control(OpCode::Ping, payload)
    }

    /// Sends an unsolicited pong (a one-way heartbeat).
    ///
    /// # Errors
    ///
    /// As [`write_ping`](Self::write_ping).
    pub fn write_pong(&mut self, payload: &[u8]) -> Result<()> {
        self.write_control(OpCode::Pong, payload)
    }

    fn write_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<()> {
        check_control_payload(payload)?;
        if !self.link.close.is_open() {
            return Err(Error::AlreadyClosed);
        }
        self.link.send_control(opcode, payload)
    }

    /// Sends buffered frames (with [`FlushPolicy::Batched`](crate::FlushPolicy::Batched)) and
    /// flushes the stream.
    ///
    /// # Errors
    ///
    /// I/O errors; a sticky earlier write error.
    pub fn flush(&mut self) -> Result<()> {
        self.link.writer.flush(&mut self.link.stream)
    }

    /// Replaces the ping handler. The handler runs inside whichever read call met the ping;
    /// an error it returns is returned by that call.
    pub fn set_ping_handler<F>(&mut self, handler: F)
    where
        F: FnMut(&[u8], &mut Replier<'_>) -> Result<()> + Send + 'static,
    {
        self.link.handlers.ping = Some(Box::new(handler));
    }

    /// Replaces the pong handler (default: do nothing).
    pub fn set_pong_handler<F>(&mut self, handler: F)
    where
        F: FnMut(&[u8]) -> Result<()> + Send + 'static,
    {
        self.link.handlers.pong = Some(Box::new(handler));
    }

    /// Replaces the close handler, which runs when the peer starts the closing handshake.
    /// The read call still returns [`Error::Closed`] afterwards.
    pub fn set_close_handler<F>(&mut self, handler: F)
    where
        F: FnMut(Option<&CloseFrame>, &mut Replier<'_>) -> Result<()> + Send + 'static,
    {
        self.link.handlers.close = Some(Box::new(handler));
    }

    /// Closes the connection gracefully: sends a close frame with `code` and `reason`, reads
    /// (discarding data messages) until the peer's close frame arrives or
    /// [`Config::close_timeout`] passes, then shuts the stream down. Returns how the
    /// connection ended. Calling it on a closed connection returns the recorded status.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`] for a code that may not be sent (1005, 1006, 1015, reserved ranges)
    /// or a reason over 123 bytes; an I/O error while sending the close frame. Not hearing
    /// back from the peer is not an error: the status then has code
    /// [`CloseCode::ABNORMAL`].
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<CloseStatus> {
        close::check_outgoing(code, reason)?;
        match &self.link.close {
            CloseState::Closed(status) => return Ok(status.clone()),
            CloseState::Sent => {}
            CloseState::Open => {
                if let Err(e) = self.link.send_close(Some((code, reason))) {
                    self.link.finish(CloseStatus::abnormal(Initiator::Local));
                    self.reader.set_closed();
                    return Err(e);
                }
            }
        }
        self.link.read_deadline = self.config.close_timeout().map(|t| Instant::now() + t);
        let status = loop {
            match self.reader.next_message(&mut self.link) {
                Ok(_) => continue,
                Err(Error::Closed(status)) => break status,
                Err(_) => match &self.link.close {
                    CloseState::Closed(status) => break status.clone(),
                    _ => break CloseStatus::abnormal(Initiator::Local),
                },
            }
        };
        self.link.read_deadline = None;
        self.reader.set_closed();
        if !matches!(self.link.close, CloseState::Closed(_)) || self.link.role == Role::Client {
            self.link.finish(status.clone());
        }
        Ok(status)
    }

    /// How the connection ended, once it has: the peer's code and reason and who started
    /// (Voss's `GetStatus`). `None` while open or while waiting for the peer's close frame.
    pub fn close_status(&self) -> Option<&CloseStatus> {
        match &self.link.close {
            CloseState::Closed(status) => Some(status),
            _ => None,
        }
    }

    /// The subprotocol agreed in the opening handshake.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// Client or server.
    pub fn role(&self) -> Role {
        self.link.role
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.link.stream
    }

    /// The stream. Reading or writing it directly corrupts the connection.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.link.stream
    }

    /// Gives the stream back. Bytes read from it but not yet processed, and frames buffered
    /// but not yet written, are lost.
    pub fn into_inner(self) -> S {
        self.link.stream
    }
}

impl Conn<TcpStream> {
    /// The local address of the TCP connection.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::local_addr`].
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.link.stream.local_addr()
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        self.link.stream.peer_addr()
    }
}

#[cfg(feature = "serde")]
impl<S: Read + Write> Conn<S> {
    /// Writes `value` as a JSON text message, serialized straight into the frame buffer.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] if serialization fails (no final frame is sent; a partial message is
    /// ended early), else as [`write_message`](Self::write_message).
    pub fn write_json<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let mut writer = self.next_writer(MessageKind::Text)?;
        match serde_json::to_writer(&mut writer, value) {
            Ok(()) => writer.finish(),
            Err(e) if e.is_io() => Err(Error::from(std::io::Error::from(e))),
            Err(e) => Err(Error::Json(e)),
        }
    }

    /// Reads the next message (text or binary) and parses it as JSON.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] if it is not valid JSON for `T` (the connection stays usable), else as
    /// [`read_message`](Self::read_message).
    pub fn read_json<T: serde::de::DeserializeOwned>(&mut self) -> Result<T> {
        let mut buf = Vec::new();
        self.read_message_into(&mut buf)?;
        serde_json::from_slice(&buf).map_err(Error::Json)
    }
}

impl<S: fmt::Debug> fmt::Debug for Conn<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("stream", &self.link.stream)
            .field("role", &self.link.role)
            .field("close", &self.link.close)
            .field("subprotocol", &self.subprotocol)
            .finish_non_exhaustive()
    }
}
