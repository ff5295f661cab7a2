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
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};
use std::time::Instant;

use crate::close::{self, CloseCode, CloseFrame, CloseStatus, Initiator};
use crate::config::Config;
use crate::conn::{Agreed, Conn, Parts};
use crate::control::{ControlOut, Handlers, Output, Replier};
use crate::deflate::DeflateParams;
use crate::error::{Error, Result};
use crate::frame::{MAX_CONTROL_PAYLOAD, OpCode};
use crate::message::{Message, MessageKind, MessageReader, MessageWriter, Sink};
use crate::prepared::PreparedMessage;
use crate::reader::{Control, Reader, Wire};
use crate::stream::{Stream, StreamOps};
use crate::timer::{Attempt, ReadTimer};

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
const WANT_PING: u8 = 4;

/// The write side shared by the halves and the handles.
struct Shared<W> {
    out: Mutex<Output<W>>,
    /// Signalled when the connection becomes closed, for those waiting in `close`.
    closed: Condvar,
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
        // Replies asked for earlier go first (a pong before our close frame, say).
        self.serve(&mut out);
        let result = f(&mut out);
        self.serve(&mut out);
        if out.close.status().is_some() {
            self.closed.notify_all();
        }
        drop(out);
        self.serve_if_free();
        result
    }

    /// Leaves a request in the mailbox and serves it now if nobody holds the output;
    /// whoever does will serve it before letting go.
    fn post(&self, want: u8) {
        self.wants.fetch_or(want, Ordering::SeqCst);
        self.serve_if_free();
    }

    /// Asks for a pong to be sent, without waiting for a writer that holds the mutex.
    fn post_pong(&self, payload: &[u8]) {
        let mut slot = [0u8; MAX_CONTROL_PAYLOAD];
        slot[..payload.len()].copy_from_slice(payload);
        *self.pong.lock().unwrap_or_else(|p| p.into_inner()) = Some((slot, payload.len() as u8));
        self.post(WANT_PONG);
    }

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
        if wants == 0 {
            return;
        }
        // Errors here are the writer's to report on its next call.
        if wants & WANT_PONG != 0 {
            let pong = self.pong.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some((payload, len)) = pong {
                let _ = out.send_control(OpCode::Pong, &payload[..usize::from(len)]);
            }
        }
        if wants & WANT_PING != 0 {
            let _ = out.send_control(OpCode::Ping, b"");
        }
        if out.writer.has_pending() {
            let _ = out.flush();
        }
    }

    /// Sends a close frame and waits, up to the close timeout, for the reader half to see
    /// the peer's; then (or at once, if it was already closed) returns the status. When
    /// time runs out the stream is shut down, which also wakes a reader blocked on it.
    fn close(&self, code: CloseCode, reason: &str) -> Result<CloseStatus> {
        close::check_outgoing(code, reason)?;
        let mut out = self.lock();
        if let Some(status) = out.close.status() {
            return Ok(status.clone());
        }
        if let Err(e) = out.send_close(Some((code, reason))) {
            out.finish(CloseStatus::abnormal(Initiator::Local));
            self.closed.notify_all();
            return Err(e);
        }
        let deadline = out.close_timeout.map(|t| Instant::now() + t);
        while out.close.status().is_none() {
            out = match deadline {
                None => self.closed.wait(out).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    self.closed
                        .wait_timeout(out, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
        if out.close.status().is_none() {
            out.finish(CloseStatus::abnormal(Initiator::Local));
            self.closed.notify_all();
        }
        Ok(out
            .close
            .status()
            .cloned()
            .unwrap_or_else(|| CloseStatus::abnormal(Initiator::Local)))
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
    timer: ReadTimer,
}

impl<S: Split> Wire for HalfWire<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // About to block: batched frames go out first (or as soon as the writer is done).
        self.shared.post(WANT_FLUSH);
        loop {
            match self.timer.attempt(&mut self.stream, Some(self.ops), buf) {
                Attempt::Done(result) => return result,
                Attempt::Retry => {}
                // Through the mailbox: the reader never waits for a busy writer.
                Attempt::Ping => self.shared.post(WANT_PING),
            }
        }
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

    fn abort(&mut self) -> Option<CloseStatus> {
        self.shared.with(Output::abort)
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

/// A cloneable, `Send + Sync` handle to a split connection's write side: sends control
/// frames and closes the connection from any thread (gorilla's `WriteControl` and `Close`,
/// which are safe to call concurrently). Closing through a handle is the way to stop a
/// reader blocked on a silent peer: the stream is shut down at the close timeout.
pub struct Handle<S: Split> {
    shared: Arc<Shared<S::Writer>>,
}

impl<S: Split> Clone for Handle<S> {
    fn clone(&self) -> Handle<S> {
        Handle {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: Read + Write + Split> Conn<S> {
    /// Splits the connection into a reader half and a writer half, which may be used from
    /// two threads at once (each is `Send` when the stream's halves are). Buffered bytes,
    /// handlers and the closing handshake's state carry over; a read deadline does not.
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
        let (whole, out) = parts.out.replace_stream((), None);
        let (read_stream, write_stream) = whole.split().map_err(Error::Io)?;
        let (_, out) = out.replace_stream(write_stream, Some(StreamOps::of()));
        let shared = Arc::new(Shared {
            out: Mutex::new(out),
            closed: Condvar::new(),
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
                timer: ReadTimer::new(parts.config.keepalive()),
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
        self.reader
            .read_whole(&mut self.wire, buf, usize::MAX, None)
    }

    /// As [`Conn::set_read_deadline`].
    pub fn set_read_deadline(&mut self, deadline: Option<Instant>) {
        self.wire.timer.set_deadline(deadline);
    }

    /// Closes the connection from the reading side: sends a close frame, reads (discarding
    /// data) until the peer's close frame or the close timeout, shuts the stream down, and
    /// returns how it ended. As [`Conn::close`].
    ///
    /// # Errors
    ///
    /// As [`Conn::close`].
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<CloseStatus> {
        close::check_outgoing(code, reason)?;
        if let Some(status) = self.close_status() {
            return Ok(status);
        }
        self.wire
            .shared
            .with(|out| out.send_close(Some((code, reason))))?;
        let deadline = self.config.close_timeout().map(|t| Instant::now() + t);
        self.wire.timer.set_close_deadline(deadline);
        let status = loop {
            match self.reader.next_message(&mut self.wire) {
                Ok(_) => continue,
                Err(Error::Closed(status)) => break Some(status),
                Err(_) => break None,
            }
        };
        self.wire.timer.set_close_deadline(None);
        self.reader.set_closed();
        Ok(self.wire.shared.with(|out| {
            let status = status
                .or_else(|| out.close.status().cloned())
                .unwrap_or_else(|| CloseStatus::abnormal(Initiator::Local));
            out.finish(status.clone());
            status
        }))
    }

    /// A handle for sending control frames and closing from other threads.
    pub fn handle(&self) -> Handle<S> {
        Handle {
            shared: Arc::clone(&self.wire.shared),
        }
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

    /// The permessage-deflate parameters agreed in the opening handshake.
    pub fn compression(&self) -> Option<DeflateParams> {
        self.agreed.deflate
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
    /// connections or a [`Handle`] of theirs is still alive.
    pub fn reunite(self, write: WriteHalf<S>) -> Result<Conn<S>, Box<ReuniteError<S>>> {
        if !Arc::ptr_eq(&self.wire.shared, &write.shared) || Arc::strong_count(&write.shared) != 2 {
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
        let Ok(shared) = Arc::try_unwrap(shared) else {
            unreachable!("checked above that the halves hold the only references");
        };
        let out = shared.out.into_inner().unwrap_or_else(|p| p.into_inner());
        let (write_stream, out) = out.replace_stream((), None);
        let (_, out) = out.replace_stream(S::reunite(read_stream, write_stream), whole_ops);
        Ok(Conn::from_parts_of(Parts {
            reader,
            out,
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
        self.shared.with(|out| out.write_message(kind, data))
    }

    /// As [`Conn::write_prepared`].
    ///
    /// # Errors
    ///
    /// As [`Conn::write_message`].
    pub fn write_prepared(&mut self, message: &PreparedMessage) -> Result<()> {
        self.shared.with(|out| out.write_prepared(message))
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
        self.shared.with(|out| out.flush())
    }

    /// As [`Conn::set_write_deadline`].
    pub fn set_write_deadline(&mut self, deadline: Option<Instant>) {
        self.shared.with(|out| out.write_deadline = deadline);
    }

    /// Starts the closing handshake without waiting: sends a close frame. The reader half
    /// then reads until the peer's close frame and returns [`Error::Closed`].
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::InvalidInput) for a code that may not be sent or a reason over
    /// 123 bytes; I/O errors.
    pub fn send_close(&mut self, code: CloseCode, reason: &str) -> Result<()> {
        close::check_outgoing(code, reason)?;
        self.shared.with(|out| out.send_close(Some((code, reason))))
    }

    /// Closes the connection and waits, up to [`Config::close_timeout`], for the reader
    /// half (on another thread) to receive the peer's close frame; at the timeout the stream
    /// is shut down, which wakes the reader. Returns how the connection ended.
    ///
    /// # Errors
    ///
    /// As [`send_close`](Self::send_close).
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<CloseStatus> {
        self.shared.close(code, reason)
    }

    /// A handle for sending control frames and closing from other threads.
    pub fn handle(&self) -> Handle<S> {
        Handle {
            shared: Arc::clone(&self.shared),
        }
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

impl<S: Split> Handle<S> {
    /// Sends a ping, between the writer's frames.
    ///
    /// # Errors
    ///
    /// As [`Conn::write_ping`].
    pub fn write_ping(&self, payload: &[u8]) -> Result<()> {
        self.shared
            .with(|out| out.write_control(OpCode::Ping, payload))
    }

    /// Sends a pong, between the writer's frames.
    ///
    /// # Errors
    ///
    /// As [`Conn::write_ping`].
    pub fn write_pong(&self, payload: &[u8]) -> Result<()> {
        self.shared
            .with(|out| out.write_control(OpCode::Pong, payload))
    }

    /// As [`WriteHalf::send_close`].
    ///
    /// # Errors
    ///
    /// As [`WriteHalf::send_close`].
    pub fn send_close(&self, code: CloseCode, reason: &str) -> Result<()> {
        close::check_outgoing(code, reason)?;
        self.shared.with(|out| out.send_close(Some((code, reason))))
    }

    /// As [`WriteHalf::close`]: never blocks longer than the close timeout, and stops a
    /// reader blocked on a silent peer.
    ///
    /// # Errors
    ///
    /// As [`WriteHalf::send_close`].
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<CloseStatus> {
        self.shared.close(code, reason)
    }

    /// How the connection ended, once it has.
    pub fn close_status(&self) -> Option<CloseStatus> {
        self.shared.lock().close.status().cloned()
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

impl<S: Split> fmt::Debug for Handle<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

impl<S: Split> fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}
