//! TLS with rustls (the `rustls` feature): [`TlsStream`], a stream that is both [`Stream`] and [`Split`], so that a
//! `wss://` connection splits into a reader half and a writer half like a plain one;
//! [`TlsAcceptor`] for servers; the client's root certificates.
//!
//! The session is shared by the stream's handles and locked only to move bytes in and out of
//! it, never across a blocking read or write of the transport: a reader blocked waiting for
//! the peer never holds up the writer, and a writer blocked on a full socket never holds up
//! the reader's decryption. Records leave in the order the session made them: whoever takes
//! them out of the session holds the send lock until they are written. Reading never writes:
//! what decryption makes the session want to send (an alert, a refused renegotiation) goes
//! out with the next write, flush or shutdown; during the handshake, the handshake sends.
//!
//! Each read, write or flush call is bounded as a whole by the transport's timeout as set
//! through the stream, however many transport calls it takes: a peer that trickles a record
//! a byte at a time cannot stretch a read (or, draining slowly, a write) past it.
//!
//! Every TLS config wsio builds names its crypto provider (`ring`), so no process-wide
//! default provider is needed.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, TryLockError};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{
    ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig, ServerConnection,
};

use crate::error::{Error, HandshakeError, TlsError};
use crate::split::Split;
use crate::stream::{self, Stall, Stream};

/// The most plaintext taken into the session per write: one write never queues more than
/// this much ciphertext.
const MAX_PLAINTEXT_PER_WRITE: usize = 64 << 10;

/// The read buffer's smallest and largest sizes: it doubles while reads fill it and halves
/// while they come in small, so that bursts take few reads and an idle stream holds little.
const MIN_READ: usize = 4 << 10;
const MAX_READ: usize = 64 << 10;

/// The crypto provider of every config wsio builds.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS session shared by a stream's handles.
struct Session {
    conn: Mutex<Connection>,
    /// Held while records are taken out of the session and written, so that they leave in
    /// order. Holds the ciphertext a stalled write left unsent.
    sending: Mutex<Vec<u8>>,
}

impl Session {
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sending(&self) -> MutexGuard<'_, Vec<u8>> {
        self.sending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes every record the session queued onto `unsent`.
    fn take_records(&self, unsent: &mut Vec<u8>) -> io::Result<()> {
        let mut conn = self.conn();
        while conn.wants_write() {
            conn.write_tls(unsent)?;
        }
        Ok(())
    }
}

/// Writes `unsent` out within `bound`, keeping what a stall or an error leaves.
fn send<S: Stream>(unsent: &mut Vec<u8>, io: &mut S, bound: &mut CallBound) -> io::Result<()> {
    let mut written = 0;
    let result = loop {
        if written == unsent.len() {
            break Ok(());
        }
        if let Err(e) = bound.before(|t| io.set_write_timeout(t)) {
            break Err(e);
        }
        match io.write(&unsent[written..]) {
            Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    unsent.drain(..written);
    if unsent.is_empty() && unsent.capacity() > MAX_PLAINTEXT_PER_WRITE * 2 {
        *unsent = Vec::new();
    }
    result
}

/// One call's time bound on the transport: a timeout spread over every read (or write) the
/// call makes, so that a peer that trickles bytes, each just before the timeout, cannot
/// stretch one call past it. Each transport call runs with what is left (the first with
/// the timeout as the transport has it, unless told otherwise); the transport's timeout is
/// put back when the call ends.
struct CallBound {
    /// The transport's timeout before the call.
    restore: Option<Duration>,
    deadline: Option<Instant>,
    /// Whether the next transport call needs the timeout set first.
    arm_next: bool,
    /// Whether the transport's timeout was changed.
    changed: bool,
}

impl CallBound {
    /// A bound of the transport's own timeout, `current`.
    fn of(current: Option<Duration>) -> CallBound {
        CallBound {
            restore: current,
            deadline: current.map(|t| Instant::now() + t),
            arm_next: false,
            changed: false,
        }
    }

    /// A bound of `limit`, though the transport's timeout is `current`.
    fn within(current: Option<Duration>, limit: Duration) -> CallBound {
        CallBound {
            restore: current,
            deadline: Some(Instant::now() + limit),
            arm_next: true,
            changed: false,
        }
    }

    /// Before a transport call: sets what is left of the time with `set`, or fails as a
    /// timed-out socket does (`WouldBlock`) when nothing is left.
    fn before(&mut self, set: impl FnOnce(Option<Duration>) -> io::Result<()>) -> io::Result<()> {
        let Some(deadline) = self.deadline else {
            return Ok(());
        };
        let arm = std::mem::replace(&mut self.arm_next, true);
        if !arm {
            return Ok(());
        }
        let left = stream::remaining(deadline).ok_or(io::ErrorKind::WouldBlock)?;
        self.changed = true;
        set(Some(left))
    }

    /// After the call: the transport's timeout as it was.
    fn end(self, set: impl FnOnce(Option<Duration>) -> io::Result<()>) {
        if self.changed {
            let _ = set(self.restore);
        }
    }
}

/// How long `shutdown` tries to send `close_notify` at most.
const CLOSE_NOTIFY_WAIT: Duration = Duration::from_secs(1);

/// Whether `e` leaves the transport usable: a timeout, or a stream that would block.
fn is_stall(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Ciphertext read from the transport that the session has not taken yet:
/// `buf[start..end]`.
#[derive(Default)]
struct Incoming {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The size the buffer takes the next time it is empty.
    want: usize,
}

impl Incoming {
    fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn is_empty(&self) -> bool {
        self.start == self.end
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads from `io` into the free space: `Ok(0)` at its end.
    fn fill(&mut self, io: &mut impl Read) -> io::Result<usize> {
        let want = self.want.clamp(MIN_READ, MAX_READ);
        if self.is_empty() && self.buf.len() != want {
            self.buf.resize(want, 0);
            self.buf.shrink_to_fit();
        } else if self.end == self.buf.len() {
            // Room at the end: move what is pending to the front, or grow.
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if self.buf.len() < 2 * MAX_READ {
                self.buf.resize(self.buf.len() + MIN_READ, 0);
            } else {
                // The session takes a record as soon as it is whole (at most about 17 KiB):
                // this much pending means a peer the session cannot keep up with.
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "TLS: ciphertext piles up unprocessed",
                ));
            }
        }
        let room = self.buf.len() - self.end;
        let n = io.read(&mut self.buf[self.end..])?;
        self.end += n;
        if n == room {
            self.want = want * 2;
        } else if n < want / 4 {
            self.want = want / 2;
        }
        Ok(n)
    }
}

/// A TLS stream over a transport `S` (a `TcpStream`, or another `TlsStream` for `wss://`
/// through an `https://` proxy).
///
/// It implements [`Stream`] (its timeouts and shutdown are the transport's; shutting down
/// sends `close_notify` first) and, over a transport that splits, [`Split`]: the halves are
/// `TlsStream`s over the transport's halves that share the session, so
/// [`Conn::split`](crate::Conn::split) works over TLS as over TCP.
pub struct TlsStream<S> {
    io: S,
    session: Arc<Session>,
    /// Ciphertext read from `io` that the session has not taken yet.
    incoming: Incoming,
    /// `io`'s timeouts, as set through this stream: each read or write call is bounded by
    /// them as a whole, however many transport calls it takes.
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    opening: Opening,
}

/// Who drives the TLS handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Opening {
    /// It is over (done by `accept` or `connect` before the stream was returned).
    Done,
    /// The stream's reads and writes carry it (a non-blocking transport): a read sends
    /// what the session wants to send until the handshake is over and sent.
    ByIo,
}

impl<S: Stream> TlsStream<S> {
    fn new(io: S, conn: Connection, opening: Opening) -> TlsStream<S> {
        let mut stream = TlsStream::with_session(
            io,
            Arc::new(Session {
                conn: Mutex::new(conn),
                sending: Mutex::new(Vec::new()),
            }),
            Incoming::default(),
        );
        stream.opening = opening;
        stream
    }

    fn with_session(io: S, session: Arc<Session>, incoming: Incoming) -> TlsStream<S> {
        let read_timeout = io.read_timeout().unwrap_or(None);
        let write_timeout = io.write_timeout().unwrap_or(None);
        TlsStream {
            io,
            session,
            incoming,
            read_timeout,
            write_timeout,
            opening: Opening::Done,
        }
    }
}

impl<S> TlsStream<S> {
    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The transport, for its settings. Reading or writing it directly corrupts the TLS
    /// session; set its timeouts through the `TlsStream`, which bounds each call by them.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// The protocol the handshake agreed through ALPN, if any.
    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        self.session.conn().alpn_protocol().map(<[u8]>::to_vec)
    }
}

impl<S: Stream> TlsStream<S> {
    /// Sends what was left unsent and what the session queued, within `bound`, until the
    /// session wants to send nothing more (a reader may queue records meanwhile).
    fn send_all(&mut self, bound: &mut CallBound) -> io::Result<()> {
        loop {
            {
                let mut unsent = self.session.sending();
                self.session.take_records(&mut unsent)?;
                send(&mut unsent, &mut self.io, bound)?;
            }
            if !self.session.conn().wants_write() {
                return Ok(());
            }
        }
    }

    /// Feeds the pending ciphertext to the session and processes it; `Ok(false)` when the
    /// session took none (its buffer is full of plaintext to read first). Never writes:
    /// what reading makes the session want to send (an alert, a key update's answer) goes
    /// out with the next write, flush or shutdown, so a reader never waits on the transport's
    /// write side.
    fn feed(&mut self) -> io::Result<bool> {
        let mut conn = self.session.conn();
        let pending = self.incoming.pending();
        let mut taken = 0;
        let mut processed = Ok(());
        while taken < pending.len() {
            let mut rest = &pending[taken..];
            match conn.read_tls(&mut rest) {
                Ok(0) => break,
                Ok(n) => taken += n,
                // Its plaintext buffer is full: the rest waits for a read.
                Err(e) if e.kind() == io::ErrorKind::Other => break,
                Err(e) => return Err(e),
            }
            processed = conn.process_new_packets().map(drop);
            if processed.is_err() {
                break;
            }
        }
        drop(conn);
        self.incoming.consume(taken);
        processed.map_err(tls_io_error)?;
        Ok(taken > 0)
    }

    /// Reads ciphertext from the transport: `Ok(0)` at its end.
    fn fill(&mut self) -> io::Result<usize> {
        self.incoming.fill(&mut self.io)
    }
}

impl<S: Stream> TlsStream<S> {
    /// Connects TLS as a client over `io` (a stream you opened: a `TcpStream`, a Unix
    /// socket, ...) to `host`, a name or an IP address, which is sent as SNI and checked
    /// against the server's certificate. Then [`Dialer::handshake`](crate::Dialer::handshake)
    /// upgrades it to WebSocket. The handshake is bounded by the timeouts `io` has.
    ///
    /// ```no_run
    /// use std::net::TcpStream;
    /// use std::time::Duration;
    /// use wsio::{Dialer, TlsStream};
    ///
    /// let tcp = TcpStream::connect("example.com:443")?;
    /// tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    /// let config = wsio::tls::client_config([])?;
    /// let tls = TlsStream::connect(tcp, config, "example.com")?;
    /// let (mut conn, _) = Dialer::new().handshake(tls, "wss://example.com/feed")?;
    /// conn.write_text("hello")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Tls`] when the handshake fails (the server's certificate, an alert), an
    /// I/O error from the stream, [`HandshakeError::Eof`] when it ends first.
    pub fn connect(io: S, config: Arc<ClientConfig>, host: &str) -> Result<TlsStream<S>, Error> {
        connect(io, config, host, None)
    }

    /// As [`connect`](Self::connect), over a non-blocking transport: returns at once, and
    /// the TLS handshake goes on in the stream's reads and writes, which return
    /// `WouldBlock` while it waits (for [`Dialer::start`](crate::Dialer::start), whose
    /// handshake timeout then covers TLS too).
    ///
    /// # Errors
    ///
    /// [`Error::Tls`] for a `host` that is not a valid server name.
    pub fn connect_nonblocking(
        io: S,
        config: Arc<ClientConfig>,
        host: &str,
    ) -> Result<TlsStream<S>, Error> {
        Ok(TlsStream::new(
            io,
            client_session(config, host)?,
            Opening::ByIo,
        ))
    }

    /// Drives the handshake to its end, before `deadline` (which sets the transport's
    /// timeouts; without one they are left as they are). A failure says what went wrong.
    fn handshake(&mut self, deadline: Option<Instant>) -> Result<(), Error> {
        let timed_out = || Error::Handshake(HandshakeError::Timeout);
        let io_error = |e: io::Error, armed: bool| match stream::stall(&e, armed) {
            Some(Stall::TimedOut) => timed_out(),
            _ => Error::from(e),
        };
        loop {
            let (handshaking, wants_write) = {
                let conn = self.session.conn();
                (conn.is_handshaking(), conn.wants_write())
            };
            // Both directions armed: reading a flight can make the session send the next.
            let armed = self.arm(deadline)?;
            if wants_write {
                let mut bound = CallBound::of(self.write_timeout);
                let sent = self.send_all(&mut bound);
                bound.end(|t| self.io.set_write_timeout(t));
                sent.map_err(|e| io_error(e, armed))?;
            }
            if !handshaking {
                return Ok(());
            }
            if !self.incoming.is_empty() && self.feed_handshake()? {
                continue;
            }
            match self.fill() {
                Ok(0) => {
                    // Tell the session, which may have an alert to report.
                    let _ = self.session.conn().read_tls(&mut &[][..]);
                    self.feed_handshake()?;
                    return Err(HandshakeError::Eof.into());
                }
                Ok(_) => {
                    self.feed_handshake()?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(e, armed)),
            }
        }
    }

    /// [`feed`](Self::feed) during the handshake: a failure sends the peer the session's
    /// alert (best effort, within the armed timeout), so that it learns why.
    fn feed_handshake(&mut self) -> Result<bool, Error> {
        self.feed().map_err(|e| {
            let mut bound = CallBound::of(self.write_timeout);
            let _ = self.send_all(&mut bound);
            bound.end(|t| self.io.set_write_timeout(t));
            Error::from(e)
        })
    }

    /// Sets the transport's timeouts to what is left before `deadline`, if there is one:
    /// whether they were armed.
    fn arm(&mut self, deadline: Option<Instant>) -> Result<bool, Error> {
        let Some(deadline) = deadline else {
            return Ok(false);
        };
        let left = stream::remaining(deadline).ok_or(Error::Handshake(HandshakeError::Timeout))?;
        self.set_read_timeout(Some(left)).map_err(Error::Io)?;
        self.set_write_timeout(Some(left)).map_err(Error::Io)?;
        Ok(true)
    }
}

impl<S: Stream> Read for TlsStream<S> {
    /// Reads plaintext, reading and decrypting records as needed; the whole call is bounded
    /// by the read timeout, however many transport reads a record takes.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut bound = CallBound::of(self.read_timeout);
        let result = self.read_within(buf, &mut bound);
        bound.end(|t| self.io.set_read_timeout(t));
        result
    }
}

impl<S: Stream> TlsStream<S> {
    fn read_within(&mut self, buf: &mut [u8], bound: &mut CallBound) -> io::Result<usize> {
        loop {
            if self.opening == Opening::ByIo {
                self.open(bound)?;
            }
            match self.session.conn().reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            if !self.incoming.is_empty() && self.feed_opening(bound)? {
                continue;
            }
            bound.before(|t| self.io.set_read_timeout(t))?;
            if self.fill()? == 0 {
                // The transport ended: the session says whether cleanly (close_notify).
                let mut conn = self.session.conn();
                let _ = conn.read_tls(&mut &[][..]);
                conn.process_new_packets().map_err(tls_io_error)?;
                return conn.reader().read(buf);
            }
        }
    }

    /// The handshake carried by reads: sends what the session wants to send (a transport
    /// that would block keeps it for the next call), until the handshake is over and
    /// nothing of it is left to send.
    fn open(&mut self, bound: &mut CallBound) -> io::Result<()> {
        match self.send_all(bound) {
            Err(e) if is_stall(&e) => return Ok(()),
            sent => sent?,
        }
        let conn = self.session.conn();
        if !conn.is_handshaking() && !conn.wants_write() {
            self.opening = Opening::Done;
        }
        Ok(())
    }

    /// [`feed`](Self::feed); while reads carry the handshake, a failure sends the peer the
    /// session's alert first (best effort), so that it learns why.
    fn feed_opening(&mut self, bound: &mut CallBound) -> io::Result<bool> {
        self.feed().inspect_err(|_| {
            if self.opening == Opening::ByIo {
                let _ = self.send_all(bound);
            }
        })
    }

    /// Puts plaintext into the session with `put` (which takes at most 64 KiB) and sends the
    /// records, the whole call bounded by the write timeout. A write that stalls (times out,
    /// would block) after the session took the plaintext keeps the records and reports the
    /// plaintext taken: the next write or flush sends them first, or reports the stall. One
    /// that stalls before takes nothing. Any other error is reported at once.
    fn write_with(
        &mut self,
        put: impl FnOnce(&mut rustls::Writer<'_>) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let mut bound = CallBound::of(self.write_timeout);
        let result = self.write_within(put, &mut bound);
        bound.end(|t| self.io.set_write_timeout(t));
        result
    }

    fn write_within(
        &mut self,
        put: impl FnOnce(&mut rustls::Writer<'_>) -> io::Result<usize>,
        bound: &mut CallBound,
    ) -> io::Result<usize> {
        let mut unsent = self.session.sending();
        send(&mut unsent, &mut self.io, bound)?;
        let taken = {
            let mut conn = self.session.conn();
            let n = put(&mut conn.writer())?;
            while conn.wants_write() {
                conn.write_tls(&mut *unsent)?;
            }
            n
        };
        let sent = send(&mut unsent, &mut self.io, bound);
        drop(unsent);
        let more = self.session.conn().wants_write();
        let sent = sent.and_then(|()| if more { self.send_all(bound) } else { Ok(()) });
        match sent {
            // The records wait for the next write or flush, which reports the stall.
            Err(e) if is_stall(&e) => Ok(taken),
            // A broken transport: the session is of no more use.
            Err(e) => Err(e),
            Ok(()) => Ok(taken),
        }
    }
}

impl<S: Stream> Write for TlsStream<S> {
    /// Takes up to 64 KiB of `buf` into the session and sends the records; see
    /// `write_with` for what a stall does.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_with(|w| w.write(&buf[..buf.len().min(MAX_PLAINTEXT_PER_WRITE)]))
    }

    /// As `write`, the buffers together in the same records (a frame's header and its
    /// payload, say), up to 64 KiB in all.
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let mut limited: [io::IoSlice<'_>; 4] = [io::IoSlice::new(&[]); 4];
        let mut count = 0;
        let mut total = 0;
        for buf in bufs.iter().filter(|b| !b.is_empty()) {
            if count == limited.len() || total == MAX_PLAINTEXT_PER_WRITE {
                break;
            }
            let take = buf.len().min(MAX_PLAINTEXT_PER_WRITE - total);
            limited[count] = io::IoSlice::new(&buf[..take]);
            count += 1;
            total += take;
        }
        if count == 0 {
            return Ok(0);
        }
        self.write_with(|w| w.write_vectored(&limited[..count]))
    }

    /// Sends what earlier writes left unsent, within the write timeout.
    fn flush(&mut self) -> io::Result<()> {
        let mut bound = CallBound::of(self.write_timeout);
        let sent = self.send_all(&mut bound);
        bound.end(|t| self.io.set_write_timeout(t));
        sent?;
        self.io.flush()
    }
}

impl<S: Stream> Stream for TlsStream<S> {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.io.set_read_timeout(timeout)?;
        self.read_timeout = timeout;
        Ok(())
    }
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        self.io.read_timeout()
    }
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.io.set_write_timeout(timeout)?;
        self.write_timeout = timeout;
        Ok(())
    }
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        self.io.write_timeout()
    }
    /// Sends `close_notify` (best effort: within the write timeout and at most a second,
    /// and not while a writer is in the middle of sending), then shuts the transport down.
    fn shutdown(&mut self) -> io::Result<()> {
        let sending = match self.session.sending.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        if let Some(mut unsent) = sending {
            self.session.conn().send_close_notify();
            let limit = self
                .write_timeout
                .map_or(CLOSE_NOTIFY_WAIT, |t| t.min(CLOSE_NOTIFY_WAIT));
            let mut bound = CallBound::within(self.write_timeout, limit);
            if self.session.take_records(&mut unsent).is_ok() {
                let _ = send(&mut unsent, &mut self.io, &mut bound);
            }
            bound.end(|t| self.io.set_write_timeout(t));
        }
        self.io.shutdown()
    }
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.peer_addr()
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }
    fn is_going_away(&self) -> bool {
        self.io.is_going_away()
    }
    /// The records the transport has not taken, and one more byte's worth when the session
    /// has records to make (an alert, the end of a handshake, plaintext written during it).
    fn unsent(&self) -> usize {
        let records = self.session.sending().len();
        records + usize::from(self.session.conn().wants_write()) + self.io.unsent()
    }
}

impl<S: Split + Stream> Split for TlsStream<S> {
    type Reader = TlsStream<S::Reader>;
    type Writer = TlsStream<S::Writer>;

    /// Two streams over the transport's halves that share the session.
    fn split(self) -> io::Result<(TlsStream<S::Reader>, TlsStream<S::Writer>)> {
        let (reader, writer) = self.io.split()?;
        Ok((
            TlsStream::with_session(reader, Arc::clone(&self.session), self.incoming),
            TlsStream::with_session(writer, self.session, Incoming::default()),
        ))
    }

    fn reunite(reader: TlsStream<S::Reader>, writer: TlsStream<S::Writer>) -> TlsStream<S> {
        TlsStream::with_session(
            S::reunite(reader.io, writer.io),
            reader.session,
            reader.incoming,
        )
    }
}

impl<S: fmt::Debug> fmt::Debug for TlsStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream")
            .field("io", &self.io)
            .finish_non_exhaustive()
    }
}

/// A client session for `host` (a name or an IP address, for SNI and the certificate check).
fn client_session(config: Arc<ClientConfig>, host: &str) -> Result<Connection, Error> {
    let name = ServerName::try_from(crate::http::unbracket(host))
        .map_err(|_| TlsError::Other(format!("{host:?} is not a valid TLS server name")))?
        .to_owned();
    Ok(ClientConnection::new(config, name)
        .map_err(tls_error)?
        .into())
}

/// Connects TLS as a client over `io` to `host` (a name or an IP address, for SNI and the
/// certificate check), within `deadline`.
pub(crate) fn connect<S: Stream>(
    io: S,
    config: Arc<ClientConfig>,
    host: &str,
    deadline: Option<Instant>,
) -> Result<TlsStream<S>, Error> {
    let mut stream = TlsStream::new(io, client_session(config, host)?, Opening::Done);
    match stream.handshake(deadline) {
        Ok(()) => Ok(stream),
        // rustls does not always say which name it expected: the one dialed.
        Err(Error::Tls(TlsError::NameMismatch { expected })) if expected.is_empty() => {
            Err(TlsError::NameMismatch {
                expected: crate::http::unbracket(host).to_owned(),
            }
            .into())
        }
        Err(e) => Err(e),
    }
}

/// A client config that trusts the roots of the build's features (the platform's with
/// `rustls-tls-native-roots`, Mozilla's with `rustls-tls-webpki-roots`) and `extra_roots`
/// (a private CA's certificate, say), with wsio's crypto provider: for
/// [`Dialer::tls_config`](crate::Dialer::tls_config).
///
/// ```no_run
/// let ca = wsio::tls::certificates_from_pem_file("ca.pem")?;
/// let dialer = wsio::Dialer::new().tls_config(wsio::tls::client_config(ca)?);
/// # Ok::<(), wsio::Error>(())
/// ```
///
/// # Errors
///
/// [`TlsError::NoRootCertificates`] when there are no roots at all.
pub fn client_config(
    extra_roots: impl IntoIterator<Item = CertificateDer<'static>>,
) -> Result<Arc<ClientConfig>, Error> {
    let mut roots = root_certificates();
    roots.add_parsable_certificates(extra_roots);
    if roots.is_empty() {
        return Err(TlsError::NoRootCertificates.into());
    }
    Ok(Arc::new(client_config_for(roots)?))
}

/// The certificates in a PEM file (a CA's, or a chain).
///
/// # Errors
///
/// [`TlsError::Load`] when the file cannot be read or holds no certificate.
pub fn certificates_from_pem_file(
    path: impl AsRef<Path>,
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let path = path.as_ref();
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Load(format!("certificates from {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(
            TlsError::Load(format!("certificates from {}: none found", path.display())).into(),
        );
    }
    Ok(certs)
}

/// The client config a [`Dialer`](crate::Dialer) uses when it was given none: the platform's
/// roots and Mozilla's, as the build's features provide, with wsio's crypto provider. Made
/// once.
pub(crate) fn default_client_config() -> Result<Arc<ClientConfig>, Error> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, TlsError>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = root_certificates();
            if roots.is_empty() {
                return Err(TlsError::NoRootCertificates);
            }
            client_config_for(roots).map(Arc::new)
        })
        .clone()
        .map_err(Error::Tls)
}

/// A client config that trusts `roots`, with wsio's crypto provider.
fn client_config_for(roots: RootCertStore) -> Result<ClientConfig, TlsError> {
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Other(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The roots the build's features provide.
fn root_certificates() -> RootCertStore {
    #[allow(unused_mut)]
    let mut roots = RootCertStore::empty();
    #[cfg(feature = "rustls-tls-native-roots")]
    {
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
    }
    #[cfg(feature = "rustls-tls-webpki-roots")]
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    roots
}

/// Accepts TLS connections for a server, with a `rustls::ServerConfig`; hand its streams to
/// an [`Upgrader`](crate::Upgrader) with
/// [`Upgrader::upgrade_tls`](crate::Upgrader::upgrade_tls), which bounds the TLS handshake
/// and the HTTP upgrade together by the handshake timeout.
///
/// ```no_run
/// use std::net::TcpListener;
/// use wsio::{TlsAcceptor, Upgrader};
///
/// let acceptor = TlsAcceptor::from_pem_files("cert.pem", "key.pem")?;
/// let upgrader = Upgrader::new();
/// let listener = TcpListener::bind("127.0.0.1:9443")?;
/// let (tcp, _) = listener.accept()?;
/// let mut conn = upgrader.upgrade_tls(tcp, &acceptor)?;
/// conn.write_text("hello over wss://")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TlsAcceptor {
    config: Arc<ServerConfig>,
}

impl TlsAcceptor {
    /// An acceptor with your own config (client certificates, several names, ...). Build it
    /// with a crypto provider named (`ServerConfig::builder_with_provider`) unless your
    /// program installs a process-wide default. If it offers ALPN, offer `http/1.1` and
    /// never `h2`: a WebSocket upgrade is HTTP/1.1.
    pub fn new(config: Arc<ServerConfig>) -> TlsAcceptor {
        TlsAcceptor { config }
    }

    /// An acceptor for one certificate chain and its private key, read from PEM files
    /// (the chain's first certificate is the server's own), with wsio's crypto provider and
    /// ALPN `http/1.1`.
    ///
    /// # Errors
    ///
    /// [`TlsError::Load`] when a file cannot be read or holds no certificate or key, or the
    /// key does not match.
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        private_key: impl AsRef<Path>,
    ) -> Result<TlsAcceptor, Error> {
        let (cert_chain, private_key) = (cert_chain.as_ref(), private_key.as_ref());
        let certs = certificates_from_pem_file(cert_chain)?;
        let key = PrivateKeyDer::from_pem_file(private_key).map_err(|e| {
            TlsError::Load(format!("a private key from {}: {e}", private_key.display()))
        })?;
        TlsAcceptor::from_der(certs, key)
    }

    /// As [`from_pem_files`](Self::from_pem_files), from DER values in memory.
    ///
    /// # Errors
    ///
    /// [`TlsError::Load`] when the key does not match the certificate or is not supported.
    pub fn from_der(
        cert_chain: Vec<CertificateDer<'static>>,
        private_key: PrivateKeyDer<'static>,
    ) -> Result<TlsAcceptor, Error> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Other(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(cert_chain, private_key)
            .map_err(|e| TlsError::Load(format!("the certificate and key: {e}")))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::new(Arc::new(config)))
    }

    /// The TLS handshake as a server over `io`, bounded by the timeouts `io` has. Most
    /// servers want [`Upgrader::upgrade_tls`](crate::Upgrader::upgrade_tls) instead, which
    /// bounds it and the HTTP upgrade together by the handshake timeout.
    ///
    /// # Errors
    ///
    /// [`Error::Tls`] when the handshake fails, an I/O error from the stream,
    /// [`HandshakeError::Eof`] when it ends first.
    pub fn accept<S: Stream>(&self, io: S) -> Result<TlsStream<S>, Error> {
        self.accept_before(io, None)
    }

    /// As [`accept`](Self::accept), over a non-blocking transport: returns at once, and the
    /// TLS handshake goes on in the stream's reads and writes, which return `WouldBlock`
    /// while it waits (for [`Upgrader::start`](crate::Upgrader::start), whose handshake
    /// timeout then covers TLS too).
    ///
    /// # Errors
    ///
    /// [`Error::Tls`] if the server configuration is unusable.
    pub fn accept_nonblocking<S: Stream>(&self, io: S) -> Result<TlsStream<S>, Error> {
        Ok(TlsStream::new(io, self.session()?, Opening::ByIo))
    }

    /// A server session with this acceptor's configuration.
    fn session(&self) -> Result<Connection, Error> {
        Ok(ServerConnection::new(Arc::clone(&self.config))
            .map_err(tls_error)?
            .into())
    }

    /// The TLS handshake as a server over `io`, before `deadline`.
    pub(crate) fn accept_before<S: Stream>(
        &self,
        io: S,
        deadline: Option<Instant>,
    ) -> Result<TlsStream<S>, Error> {
        let mut stream = TlsStream::new(io, self.session()?, Opening::Done);
        stream.handshake(deadline)?;
        Ok(stream)
    }
}

impl fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsAcceptor").finish_non_exhaustive()
    }
}

/// What a rustls error means for wsio's user.
pub(crate) fn tls_error(e: rustls::Error) -> TlsError {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => TlsError::UnknownIssuer,
            C::NotValidForName => TlsError::NameMismatch {
                expected: String::new(),
            },
            C::NotValidForNameContext { expected, .. } => TlsError::NameMismatch {
                expected: expected.to_str().into_owned(),
            },
            C::Expired | C::ExpiredContext { .. } => TlsError::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => TlsError::NotYetValid,
            C::Revoked => TlsError::Revoked,
            other => TlsError::BadCertificate(format!("{other:?}")),
        },
        rustls::Error::AlertReceived(alert) => TlsError::AlertReceived(format!("{alert:?}")),
        other => TlsError::Other(other.to_string()),
    }
}

/// A rustls error carried through `io::Error` as wsio's typed error, which
/// `wsio::Error::from` recovers.
fn tls_io_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, Error::Tls(tls_error(e)))
}
