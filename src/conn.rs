//! [`Conn`]: a WebSocket connection over any `Read + Write` stream.
//!
//! `Conn` owns the stream, the [`Reader`] and [`Writer`] state machines and the closing
//! handshake, and dispatches control frames to the handlers. Everything but the read state
//! lives in a [`ConnWire`], which is what the reader sees as its [`Wire`].

use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use crate::close::{self, CloseCode, CloseFrame, CloseStatus, Initiator};
use crate::config::Config;
use crate::control::{CloseState, ControlOut, Handlers, Output, Replier};
use crate::deflate::DeflateParams;
use crate::error::{Error, Result};
use crate::frame::OpCode;
use crate::message::{Message, MessageKind, MessageReader, MessageWriter};
use crate::prepared::PreparedMessage;
use crate::reader::{Control, Reader, Wire};
use crate::stream::StreamOps;
use crate::timer::{Attempt, ReadTimer};
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

/// What the reader of a whole [`Conn`] sees: the [`Output`] (through which it reads the
/// stream too), the handlers, and the read-side timer.
pub(crate) struct ConnWire<S> {
    out: Output<S>,
    handlers: Handlers,
    timer: ReadTimer,
}

impl<S: Read + Write> Wire for ConnWire<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.out.writer.has_pending() {
            // About to block: batched frames go out first. If the write side is dead, the
            // read side may still get the peer's close, so only a timeout stops the read.
            if let Err(e) = self.out.flush() {
                if e.is_timeout() {
                    return Err(e.into());
                }
            }
        }
        loop {
            match self.timer.attempt(&mut self.out.stream, self.out.ops, buf) {
                Attempt::Done(result) => return result,
                Attempt::Retry => {}
                Attempt::Ping => {
                    // A keepalive ping; if it cannot be written, the pong timeout decides.
                    let _ = self.out.send_control(OpCode::Ping, b"");
                    let _ = self.out.flush();
                }
            }
        }
    }

    fn control(&mut self, frame: Control<'_>) -> Result<()> {
        match frame {
            Control::Ping(payload) => match &mut self.handlers.ping {
                Some(handler) => handler(payload, &mut Replier::new(&mut self.out)),
                None => self.out.send_control(OpCode::Pong, payload),
            },
            Control::Pong(payload) => match &mut self.handlers.pong {
                Some(handler) => handler(payload),
                None => Ok(()),
            },
            Control::Close(frame) => self.out.receive_close(frame, &mut self.handlers.close),
        }
    }

    fn fail(&mut self, code: CloseCode, reason: &str) {
        self.out.fail(code, reason);
    }

    fn abort(&mut self) -> Option<CloseStatus> {
        self.out.abort()
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
    wire: ConnWire<S>,
    config: Config,
    subprotocol: Option<String>,
    deflate: Option<DeflateParams>,
}

/// What an opening handshake agreed on.
#[derive(Clone, Debug, Default)]
pub(crate) struct Agreed {
    pub(crate) subprotocol: Option<String>,
    pub(crate) deflate: Option<DeflateParams>,
}

fn unsupported() -> Error {
    Error::Io(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "this stream cannot time out (the Conn was made with from_raw)",
    ))
}

/// A connection taken apart, for splitting and reuniting.
pub(crate) struct Parts<S> {
    pub(crate) reader: Reader,
    pub(crate) out: Output<S>,
    pub(crate) handlers: Handlers,
    pub(crate) config: Config,
    pub(crate) agreed: Agreed,
}

/// Text that the reader validated as it arrived. Checked again (the standard library's
/// check is the one `String` trusts); a failure would be a bug in the incremental check, and
/// is reported as the peer's bad UTF-8 rather than a panic.
pub(crate) fn into_text(buf: Vec<u8>) -> Result<String> {
    String::from_utf8(buf).map_err(|_| Error::Protocol(crate::error::ProtocolError::InvalidUtf8))
}

impl<S: Read + Write> Conn<S> {
    /// Wraps a stream on which the opening handshake is already done. `close` then cannot time
    /// out or shut the stream down; prefer the handshake functions, which can.
    pub fn from_raw(stream: S, role: Role, config: Config) -> Conn<S> {
        Conn::from_parts(stream, role, config, &[], Agreed::default(), None)
    }

    /// As [`from_raw`](Self::from_raw), with bytes already read from the stream after the
    /// handshake: they are the start of the first frame.
    pub fn from_partially_read(stream: S, leftover: &[u8], role: Role, config: Config) -> Conn<S> {
        Conn::from_parts(stream, role, config, leftover, Agreed::default(), None)
    }

    pub(crate) fn from_parts(
        stream: S,
        role: Role,
        config: Config,
        leftover: &[u8],
        agreed: Agreed,
        ops: Option<StreamOps<S>>,
    ) -> Conn<S> {
        let Agreed {
            subprotocol,
            deflate,
        } = agreed;
        Conn {
            reader: Reader::new(role, &config, leftover, deflate),
            wire: ConnWire {
                out: Output::new(
                    stream,
                    Writer::new(role, &config, deflate),
                    role,
                    ops,
                    config.close_timeout(),
                ),
                handlers: Handlers::default(),
                timer: ReadTimer::new(config.keepalive()),
            },
            config,
            subprotocol,
            deflate,
        }
    }

    pub(crate) fn into_parts(self) -> Parts<S> {
        Parts {
            reader: self.reader,
            out: self.wire.out,
            handlers: self.wire.handlers,
            config: self.config,
            agreed: Agreed {
                subprotocol: self.subprotocol,
                deflate: self.deflate,
            },
        }
    }

    pub(crate) fn from_parts_of(parts: Parts<S>) -> Conn<S> {
        Conn {
            reader: parts.reader,
            wire: ConnWire {
                out: parts.out,
                handlers: parts.handlers,
                timer: ReadTimer::new(parts.config.keepalive()),
            },
            config: parts.config,
            subprotocol: parts.agreed.subprotocol,
            deflate: parts.agreed.deflate,
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
        let kind = self.reader.next_message(&mut self.wire)?;
        Ok((kind, MessageReader::new(&mut self.reader, &mut self.wire)))
    }

    /// Starts a message whose payload is written through the returned writer, which must be
    /// [`finish`](MessageWriter::finish)ed.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyClosed`] after a close frame was sent; a sticky I/O error.
    pub fn next_writer(&mut self, kind: MessageKind) -> Result<MessageWriter<'_>> {
        self.wire.out.writer.begin(kind)?;
        Ok(MessageWriter::new(&mut self.wire.out))
    }

    /// Reads the next whole data message. If a read deadline passes between the message's
    /// frames, the call returns [`Error::Timeout`] and keeps what it read: call it again to
    /// get the whole message.
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
        self.reader
            .read_whole(&mut self.wire, buf, usize::MAX, None)
    }

    /// Reads the next message, which must be text of at most `max_len` bytes (Voss's
    /// `ReceiveText`).
    ///
    /// # Errors
    ///
    /// [`Error::MessageTooLong`] or [`Error::UnexpectedKind`]: the message was read and
    /// discarded, the connection is usable. Otherwise as [`next_reader`](Self::next_reader).
    pub fn read_text(&mut self, max_len: usize) -> Result<String> {
        let mut buf = Vec::new();
        self.reader
            .read_whole(&mut self.wire, &mut buf, max_len, Some(MessageKind::Text))?;
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
        self.reader.read_whole_into(&mut self.wire, buf)
    }

    /// Writes a whole message as one frame.
    ///
    /// # Errors
    ///
    /// [`InvalidInput::InvalidUtf8`](crate::InvalidInput::InvalidUtf8) for text that is not UTF-8 (nothing is sent);
    /// [`Error::AlreadyClosed`] after a close frame was sent; I/O errors.
    pub fn write_message(&mut self, kind: MessageKind, data: &[u8]) -> Result<()> {
        self.wire.out.write_message(kind, data)
    }

    /// Writes a message prepared once for many connections (see [`PreparedMessage`]).
    ///
    /// # Errors
    ///
    /// As [`write_message`](Self::write_message).
    pub fn write_prepared(&mut self, message: &PreparedMessage) -> Result<()> {
        self.wire.out.write_prepared(message)
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
    /// [`InvalidInput::ControlPayloadTooLong`](crate::InvalidInput::ControlPayloadTooLong) over 125 bytes; [`Error::AlreadyClosed`]; I/O.
    pub fn write_ping(&mut self, payload: &[u8]) -> Result<()> {
        self.wire.out.write_control(OpCode::Ping, payload)
    }

    /// Sends an unsolicited pong (a one-way heartbeat).
    ///
    /// # Errors
    ///
    /// As [`write_ping`](Self::write_ping).
    pub fn write_pong(&mut self, payload: &[u8]) -> Result<()> {
        self.wire.out.write_control(OpCode::Pong, payload)
    }

    /// Sends buffered frames (with [`FlushPolicy::Batched`](crate::FlushPolicy::Batched)) and
    /// flushes the stream.
    ///
    /// # Errors
    ///
    /// I/O errors; a sticky earlier write error.
    pub fn flush(&mut self) -> Result<()> {
        self.wire.out.flush()
    }

    /// Sets a deadline for reads (gorilla's `SetReadDeadline`): a read that would block past
    /// it returns [`Error::Timeout`] (at a frame boundary; the connection stays usable) or
    /// [`Error::Poisoned`] (in the middle of a frame). `None` removes it.
    ///
    /// # Errors
    ///
    /// `Error::Io` with `Unsupported` for a connection made by [`Conn::from_raw`], whose
    /// stream wsio cannot time out.
    pub fn set_read_deadline(&mut self, deadline: Option<Instant>) -> Result<()> {
        if self.wire.out.ops.is_none() {
            return Err(unsupported());
        }
        self.wire.timer.set_deadline(deadline);
        Ok(())
    }

    /// Sets a deadline for writes (gorilla's `SetWriteDeadline`): a write that would block
    /// past it returns [`Error::Timeout`] if nothing of its frames went out (they are
    /// dropped; the call can be repeated), else [`Error::Poisoned`]. A peer that never reads
    /// therefore fails the writer at the deadline instead of blocking it forever. `None`
    /// removes it.
    ///
    /// # Errors
    ///
    /// As [`set_read_deadline`](Self::set_read_deadline).
    pub fn set_write_deadline(&mut self, deadline: Option<Instant>) -> Result<()> {
        if self.wire.out.ops.is_none() {
            return Err(unsupported());
        }
        self.wire.out.write_deadline = deadline;
        Ok(())
    }

    /// Replaces the ping handler. The handler runs inside whichever read call met the ping;
    /// an error it returns is returned by that call.
    pub fn set_ping_handler<F>(&mut self, handler: F)
    where
        F: FnMut(&[u8], &mut Replier<'_>) -> Result<()> + Send + 'static,
    {
        self.wire.handlers.ping = Some(Box::new(handler));
    }

    /// Replaces the pong handler (default: do nothing).
    pub fn set_pong_handler<F>(&mut self, handler: F)
    where
        F: FnMut(&[u8]) -> Result<()> + Send + 'static,
    {
        self.wire.handlers.pong = Some(Box::new(handler));
    }

    /// Replaces the close handler, which runs when the peer starts the closing handshake.
    /// The read call still returns [`Error::Closed`] afterwards.
    pub fn set_close_handler<F>(&mut self, handler: F)
    where
        F: FnMut(Option<&CloseFrame>, &mut Replier<'_>) -> Result<()> + Send + 'static,
    {
        self.wire.handlers.close = Some(Box::new(handler));
    }

    /// Closes the connection gracefully: sends a close frame with `code` and `reason`, reads
    /// (discarding data messages) until the peer's close frame arrives or
    /// [`Config::close_timeout`] passes, then shuts the stream down. Returns how the
    /// connection ended. Calling it on a closed connection returns the recorded status.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::InvalidInput) for a code that may not be sent (1005, 1006, 1015, reserved ranges)
    /// or a reason over 123 bytes; an I/O error while sending the close frame. Not hearing
    /// back from the peer is not an error: the status then has code
    /// [`CloseCode::ABNORMAL`].
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<CloseStatus> {
        close::check_outgoing(code, reason)?;
        match &self.wire.out.close {
            CloseState::Closed(status) => return Ok(status.clone()),
            CloseState::Sent => {}
            CloseState::Open => {
                if let Err(e) = self.wire.out.send_close(Some((code, reason))) {
                    self.wire
                        .out
                        .finish(CloseStatus::abnormal(Initiator::Local));
                    self.reader.set_closed();
                    return Err(e);
                }
            }
        }
        let deadline = self.config.close_timeout().map(|t| Instant::now() + t);
        self.wire.timer.set_close_deadline(deadline);
        let status = loop {
            match self.reader.next_message(&mut self.wire) {
                Ok(_) => continue,
                Err(Error::Closed(status)) => break status,
                Err(_) => match &self.wire.out.close {
                    CloseState::Closed(status) => break status.clone(),
                    _ => break CloseStatus::abnormal(Initiator::Local),
                },
            }
        };
        self.wire.timer.set_close_deadline(None);
        self.reader.set_closed();
        if !matches!(self.wire.out.close, CloseState::Closed(_))
            || self.wire.out.role == Role::Client
        {
            self.wire.out.finish(status.clone());
        }
        Ok(status)
    }

    /// How the connection ended, once it has: the peer's code and reason and who started
    /// (Voss's `GetStatus`). `None` while open or while waiting for the peer's close frame.
    pub fn close_status(&self) -> Option<&CloseStatus> {
        self.wire.out.close.status()
    }

    /// The subprotocol agreed in the opening handshake.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// The permessage-deflate parameters agreed in the opening handshake, if compression
    /// was negotiated.
    pub fn compression(&self) -> Option<DeflateParams> {
        self.deflate
    }

    /// Turns compression of the following messages on or off, when it was negotiated
    /// (gorilla's `EnableWriteCompression`). Incoming compressed messages are always
    /// inflated.
    pub fn set_write_compression(&mut self, enabled: bool) {
        self.wire.out.writer.set_compress_writes(enabled);
    }

    /// Sets the compression level (0-9) of the following messages, when compression was
    /// negotiated (gorilla's `SetCompressionLevel`).
    pub fn set_compression_level(&mut self, level: u32) {
        self.wire.out.writer.set_compression_level(level);
    }

    /// Client or server.
    pub fn role(&self) -> Role {
        self.wire.out.role
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.wire.out.stream
    }

    /// The stream. Reading or writing it directly corrupts the connection.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.wire.out.stream
    }

    /// Gives the stream back. Bytes read from it but not yet processed, and frames buffered
    /// but not yet written, are lost.
    pub fn into_inner(self) -> S {
        self.wire.out.stream
    }
}

impl Conn<TcpStream> {
    /// The local address of the TCP connection.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::local_addr`].
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.wire.out.stream.local_addr()
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        self.wire.out.stream.peer_addr()
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
            .field("stream", &self.wire.out.stream)
            .field("role", &self.wire.out.role)
            .field("close", &self.wire.out.close)
            .field("subprotocol", &self.subprotocol)
            .finish_non_exhaustive()
    }
}
