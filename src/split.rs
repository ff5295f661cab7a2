//! A connection split into a [`ReadHalf`] and a [`WriteHalf`], usable from two threads.
//!
//! The halves share the write side ([`Output`]) behind a mutex that is held only while
//! frames are being written, never while reading. The reader's automatic replies go through
//! it without ever making the reader wait for the writer: a pong is left in a one-slot
//! mailbox (a newer ping's pong replaces an older unsent one, so a ping flood costs no
//! memory) and sent by whichever side holds the mutex next; the holder checks the mailbox
//! before and after releasing the mutex, so a pong is never stranded. Replies go out
//! between frames, never inside one: a message being streamed by the writer is cut into a
//! fragment first.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Instant;

use crate::close::{self, CloseCode, CloseFrame, CloseStatus};
use crate::config::Config;
use crate::conn::{Agreed, Conn, Parts};
use crate::control::{ControlOut, Handlers, Output, Replier};
use crate::error::{Error, Result};
use crate::frame::{MAX_CONTROL_PAYLOAD, OpCode};
use crate::message::{Message, MessageKind, MessageReader, MessageWriter, Sink};
use crate::reader::{Control, Reader, Wire};
use crate::stream::{self, Stream, StreamOps};

/// A stream that can be divided into a reading handle and a writing handle, each usable on
/// its own thread.
///
/// Implemented for `TcpStream` and `UnixStream` (with `try_clone`) and for
/// [`testing::PipeEnd`](crate::testing::PipeEnd). A TLS stream cannot be split by cloning the
/// socket, since both directions share the TLS session state; implement this trait for a type
/// whose two handles share that state (for example the socket cloned, plus the session in an
/// `Arc<Mutex<_>>` that each handle locks only around encrypting or decrypting a record, never
/// across a blocking socket read).
pub trait Split: Sized {
    /// The handle the reader half reads from.
    type Reader: Stream;
    /// The handle the writer half writes to.
    type Writer: Stream;

    /// Divides the stream.
    ///
    /// # Errors
    ///
    /// Whatever duplicating the handle can fail with (e.g. running out of file descriptors).
    fn split(self) -> io::Result<(Self::Reader, Self::Writer)>;

    /// Joins two handles from the same [`split`](Self::split) again.
    fn reunite(reader: Self::Reader, writer: Self::Writer) -> Self;
}

impl Split for TcpStream {
    type Reader = TcpStream;
    type Writer = TcpStream;

    fn split(self) -> io::Result<(TcpStream, TcpStream)> {
        Ok((self.try_clone()?, self))
    }

    fn reunite(reader: TcpStream, writer: TcpStream) -> TcpStream {
        drop(reader);
        writer
    }
}

#[cfg(unix)]
impl Split for std::os::unix::net::UnixStream {
    type Reader = std::os::unix::net::UnixStream;
    type Writer = std::os::unix::net::UnixStream;

    fn split(self) -> io::Result<(Self::Reader, Self::Writer)> {
        Ok((self.try_clone()?, self))
    }

    fn reunite(reader: Self::Reader, writer: Self::Writer) -> Self {
        drop(reader);
        writer
    }
}

/// The mailbox flags: what the next holder of the output mutex must do.
const WANT_PONG: u8 = 1;
const WANT_FLUSH: u8 = 2;

/// The write side shared by the halves.
struct Shared<W> {
    out: Mutex<Output<W>>,
    /// The payload of the newest ping not answered yet.
    pong: Mutex<Option<([u8; MAX_CONTROL_PAYLOAD], u8)>>,
    wants: AtomicU8,
}

impl<W: Write> Shared<W> {
    fn lock(&self) -> MutexGuard<'_, Output<W>> {
        self.out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the output, then serves the mailbox; see the module docs.
    fn with<R>(&self, f: impl FnOnce(&mut Output<W>) -> R) -> R {
        let mut out = self.lock();
        let result = f(&mut out);
        self.serve(&mut out);
        drop(out);
        self.serve_if_free();
        result
    }

    /// Asks for a pong to be sent, without waiting for a writer that holds the mutex.
    fn post_pong(&self, payload: &[u8]) {
        let mut slot = [0u8; MAX_CONTROL_PAYLOAD];
        slot[..payload.len()].copy_from_slice(payload);
        *self.pong.lock().unwrap_or_else(|p| p.into_inner()) = Some((slot, payload.len() as u8));
        self.wants.fetch_or(WANT_PONG, Ordering::SeqCst);
        self.serve_if_free();
    }

    /// Asks for batched frames to be sent, without waiting for a writer that holds the mutex.
    fn post_flush(&self) {
        self.wants.fetch_or(WANT_FLUSH, Ordering::SeqCst);
        self.serve_if_free();
    }

    /// Serves the mailbox if nobody holds the mutex; whoever does will serve it.
    fn serve_if_free(&self) {
        while self.wants.load(Ordering::SeqCst) != 0 {
            let mut out = match self.out.try_lock() {
                Ok(out) => out,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => return,
            };
            self.serve(&mut out);
        }
    }

    fn serve(&self, out: &mut Output<W>) {
        let wants = self.wants.swap(0, Ordering::SeqCst);
        if wants & WANT_PONG != 0 {
            let pong = self.pong.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some((payload, len)) = pong {
                // An error here is the writer's to report on its next call.
                let _ = out.send_control(OpCode::Pong, &payload[..usize::from(len)]);
            }
        }
        if wants & WANT_FLUSH != 0 || (wants & WANT_PONG != 0 && out.writer.has_pending()) {
            let _ = out.writer.flush(&mut out.stream);
        }
    }
}

/// The reader half's way to the shared output, for handlers' replies.
struct HalfControl<'a, W> {
    shared: &'a Shared<W>,
}

impl<W: Write> ControlOut for HalfControl<'_, W> {
    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<()> {
        if opcode == OpCode::Pong {
            self.shared.post_pong(payload);
            Ok(())
        } else {
            self.shared.with(|out| out.send_control(opcode, payload))
        }
    }

    fn send_close(&mut self, frame: Option<(CloseCode, &str)>) -> Result<()> {
        self.shared.with(|out| out.send_close(frame))
    }
}

/// What the reader half's [`Reader`] sees.
struct HalfWire<S: Split> {
    stream: S::Reader,
    shared: Arc<Shared<S::Writer>>,
    handlers: Handlers,
    ops: StreamOps<S::Reader>,
    read_deadline: Option<Instant>,
}

impl<S: Split> Wire for HalfWire<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // About to block: batched frames go out first (or as soon as the writer is done).
        self.shared.post_flush();
        if let Some(deadline) = self.read_deadline {
            self.ops
                .set_read_timeout(&mut self.stream, Some(stream::remaining(deadline)?))?;
        }
        self.stream.read(buf)
    }

    fn control(&mut self, frame: Control<'_>) -> Result<()> {
        match frame {
            Control::Ping(payload) => match &mut self.handlers.ping {
                Some(handler) => handler(
                    payload,
                    &mut Replier::new(&mut HalfControl {
                        shared: &self.shared,
                    }),
                ),
                None => {
                    self.shared.post_pong(payload);
                    Ok(())
                }
            },
            Control::Pong(payload) => match &mut self.handlers.pong {
                Some(handler) => handler(payload),
                None => Ok(()),
            },
            Control::Close(frame) => {
                let handler = &mut self.handlers.close;
                self.shared.with(|out| out.receive_close(frame, handler))
            }
        }
    }

    fn fail(&mut self, code: CloseCode, reason: &str) {
        self.shared.with(|out| out.fail(code, reason));
    }

    fn abort(&mut self) {
        self.shared.with(Output::abort);
    }
}

/// The reading half of a split [`Conn`]: reads messages and handles control frames (pongs
/// and close replies go out through the writer half's stream without waiting for it).
pub struct ReadHalf<S: Split> {
    reader: Reader,
    wire: HalfWire<S>,
    config: Config,
    agreed: Agreed,
    /// The whole stream's operations, for [`reunite`](Self::reunite).
    whole_ops: Option<StreamOps<S>>,
}

/// The writing half of a split [`Conn`].
pub struct WriteHalf<S: Split> {
    shared: Arc<Shared<S::Writer>>,
}

impl<S: Read + Write + Split> Conn<S> {
    /// Splits the connection into a reader half and a writer half, which may be used from
    /// two threads at once (each is `Send` when the stream's halves are). Buffered bytes,
    /// handlers and the closing handshake's state carry over.
    ///
    /// ```no_run
    /// let (conn, _) = wsio::dial("ws://127.0.0.1:9001/")?;
    /// let (mut rx, mut tx) = conn.split()?;
    /// let writer = std::thread::spawn(move || -> wsio::Result<()> {
    ///     for i in 0..10 {
    ///         tx.write_text(&format!("message {i}"))?;
    ///     }
    ///     Ok(())
    /// });
    /// for _ in 0..10 {
    ///     println!("{:?}", rx.read_message()?);
    /// }
    /// writer.join().unwrap()?;
    /// # Ok::<(), wsio::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the stream cannot be split.
    pub fn split(self) -> Result<(ReadHalf<S>, WriteHalf<S>)> {
        let parts = self.into_parts();
        let whole_ops = parts.out.ops;
        let (read_stream, write_stream) = parts.out.stream.split().map_err(Error::Io)?;
        let shared = Arc::new(Shared {
            out: Mutex::new(Output {
                stream: write_stream,
                writer: parts.out.writer,
                close: parts.out.close,
                role: parts.out.role,
                ops: Some(StreamOps::of()),
            }),
            pong: Mutex::new(None),
            wants: AtomicU8::new(0),
        });
        let read = ReadHalf {
            reader: parts.reader,
            wire: HalfWire {
                stream: read_stream,
                shared: Arc::clone(&shared),
                handlers: parts.handlers,
                ops: StreamOps::of(),
                read_deadline: None,
            },
            config: parts.config,
            agreed: parts.agreed,
            whole_ops,
        };
        Ok((read, WriteHalf { shared }))
    }
}

impl<S: Split> ReadHalf<S> {
    /// As [`Conn::next_reader`].
    ///
    /// # Errors
    ///
    /// As [`Conn::next_reader`].
    pub fn next_reader(&mut self) -> Result<(MessageKind, MessageReader<'_>)> {
        let kind = self.reader.next_message(&mut self.wire)?;
        Ok((kind, MessageReader::new(&mut self.reader, &mut self.wire)))
    }

    /// As [`Conn::read_message`].
    ///
    /// # Errors
    ///
    /// As [`Conn::read_message`].
    pub fn read_message(&mut self) -> Result<Message> {
        let mut buf = Vec::new();
        match self.read_message_into(&mut buf)? {
            MessageKind::Binary => Ok(Message::Binary(buf)),
            MessageKind::Text => crate::conn::into_text(buf).map(Message::Text),
        }
    }

    /// As [`Conn::read_message_into`].
    ///
    /// # Errors
    ///
    /// As [`Conn::read_message`].
    pub fn read_message_into(&mut self, buf: &mut Vec<u8>) -> Result<MessageKind> {
        buf.clear();
        let kind = self.reader.next_message(&mut self.wire)?;
        self.reader.read_to_end(&mut self.wire, buf, usize::MAX)?;
        Ok(kind)
    }

    /// As [`Conn::set_ping_handler`]; the handler runs on the reading thread.
    pub fn set_ping_handler<F>(&mut self, handler: F)
    where
        F: FnMut(&[u8], &mut Replier<'_>) -> Result<()> + Send + 'static,
    {
        self.wire.handlers.ping = Some(Box::new(handler));
    }

    /// As [`Conn::set_pong_handler`]; the handler runs on the reading thread.
    pub fn set_pong_handler<F>(&mut self, handler: F)
    where
        F: FnMut(&[u8]) -> Result<()> + Send + 'static,
    {
        self.wire.handlers.pong = Some(Box::new(handler));
    }

    /// As [`Conn::set_close_handler`]; the handler runs on the reading thread.
    pub fn set_close_handler<F>(&mut self, handler: F)
    where
        F: FnMut(Option<&CloseFrame>, &mut Replier<'_>) -> Result<()> + Send + 'static,
    {
        self.wire.handlers.close = Some(Box::new(handler));
    }

    /// How the connection ended, once it has.
    pub fn close_status(&self) -> Option<CloseStatus> {
        self.wire.shared.lock().close.status().cloned()
    }

    /// The subprotocol agreed in the opening handshake.
    pub fn subprotocol(&self) -> Option<&str> {
        self.agreed.subprotocol.as_deref()
    }

    /// The reading handle of the stream.
    pub fn get_ref(&self) -> &S::Reader {
        &self.wire.stream
    }
}

impl<S: Split + Read + Write> ReadHalf<S> {
    /// Joins the halves back into a connection.
    ///
    /// # Errors
    ///
    /// Gives both halves back, in a [`ReuniteError`], if they come from different
    /// connections.
    pub fn reunite(self, write: WriteHalf<S>) -> Result<Conn<S>, Box<ReuniteError<S>>> {
        if !Arc::ptr_eq(&self.wire.shared, &write.shared) {
            return Err(Box::new(ReuniteError(self, write)));
        }
        drop(write);
        let ReadHalf {
            reader,
            wire,
            config,
            agreed,
            whole_ops,
        } = self;
        let HalfWire {
            stream: read_stream,
            shared,
            handlers,
            ..
        } = wire;
        let shared = match Arc::try_unwrap(shared) {
            Ok(shared) => shared,
            Err(_) => unreachable!("the halves hold the only references"),
        };
        let out = shared.out.into_inner().unwrap_or_else(|p| p.into_inner());
        let stream = S::reunite(read_stream, out.stream);
        Ok(Conn::from_parts_of(Parts {
            reader,
            out: Output {
                stream,
                writer: out.writer,
                close: out.close,
                role: out.role,
                ops: whole_ops,
            },
            handlers,
            config,
            agreed,
        }))
    }
}

impl<S: Split> WriteHalf<S> {
    /// As [`Conn::next_writer`]. The output is locked only during each write call, so the
    /// reader's pongs can go out between this message's frames.
    ///
    /// # Errors
    ///
    /// As [`Conn::next_writer`].
    pub fn next_writer(&mut self, kind: MessageKind) -> Result<MessageWriter<'_>> {
        self.shared.with(|out| out.writer.begin(kind))?;
        Ok(MessageWriter::new(self))
    }

    /// As [`Conn::write_message`].
    ///
    /// # Errors
    ///
    /// As [`Conn::write_message`].
    pub fn write_message(&mut self, kind: MessageKind, data: &[u8]) -> Result<()> {
        self.shared
            .with(|out| out.writer.write_message(&mut out.stream, kind, data))
    }

    /// As [`Conn::write_text`].
    ///
    /// # Errors
    ///
    /// As [`Conn::write_message`].
    pub fn write_text(&mut self, text: &str) -> Result<()> {
        self.write_message(MessageKind::Text, text.as_bytes())
    }

    /// As [`Conn::write_binary`].
    ///
    /// # Errors
    ///
    /// As [`Conn::write_message`].
    pub fn write_binary(&mut self, data: &[u8]) -> Result<()> {
        self.write_message(MessageKind::Binary, data)
    }

    /// As [`Conn::write_ping`].
    ///
    /// # Errors
    ///
    /// As [`Conn::write_ping`].
    pub fn write_ping(&mut self, payload: &[u8]) -> Result<()> {
        self.shared
            .with(|out| out.write_control(OpCode::Ping, payload))
    }

    /// As [`Conn::write_pong`].
    ///
    /// # Errors
    ///
    /// As [`Conn::write_ping`].
    pub fn write_pong(&mut self, payload: &[u8]) -> Result<()> {
        self.shared
            .with(|out| out.write_control(OpCode::Pong, payload))
    }

    /// As [`Conn::flush`].
    ///
    /// # Errors
    ///
    /// As [`Conn::flush`].
    pub fn flush(&mut self) -> Result<()> {
        self.shared.with(|out| out.writer.flush(&mut out.stream))
    }

    /// Starts the closing handshake: sends a close frame. The reader half then reads until
    /// the peer's close frame and returns [`Error::Closed`] with the status.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::InvalidInput) for a code that may not be sent or a reason over
    /// 123 bytes; I/O errors.
    pub fn send_close(&mut self, code: CloseCode, reason: &str) -> Result<()> {
        close::check_outgoing(code, reason)?;
        self.shared.with(|out| out.send_close(Some((code, reason))))
    }

    /// How the connection ended, once it has.
    pub fn close_status(&self) -> Option<CloseStatus> {
        self.shared.lock().close.status().cloned()
    }

    /// As [`Conn::set_write_compression`].
    pub fn set_write_compression(&mut self, enabled: bool) {
        self.shared
            .with(|out| out.writer.set_compress_writes(enabled));
    }

    /// As [`Conn::set_compression_level`].
    pub fn set_compression_level(&mut self, level: u32) {
        self.shared
            .with(|out| out.writer.set_compression_level(level));
    }
}

impl<S: Split> Sink for WriteHalf<S> {
    fn stream_write(&mut self, data: &[u8]) -> Result<()> {
        self.shared.with(|out| out.stream_write(data))
    }

    fn stream_flush(&mut self) -> Result<()> {
        self.shared.with(|out| out.stream_flush())
    }

    fn stream_finish(&mut self) -> Result<()> {
        self.shared.with(|out| out.stream_finish())
    }

    fn stream_abandon(&mut self) {
        self.shared.with(|out| out.stream_abandon());
    }
}

/// [`ReadHalf::reunite`] was given halves of two different connections; here they are back.
pub struct ReuniteError<S: Split>(pub ReadHalf<S>, pub WriteHalf<S>);

impl<S: Split> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S: Split> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the halves come from different connections")
    }
}

impl<S: Split> std::error::Error for ReuniteError<S> {}

impl<S: Split> fmt::Debug for ReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl<S: Split> fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}
