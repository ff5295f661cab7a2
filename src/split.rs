//! A connection split into a [`ReadHalf`] and a [`WriteHalf`], usable from two threads, and
//! [`Handle`]s that send control frames and close from any thread.
//!
//! Faces only: the write side the halves share, and its mailbox for the reader's replies,
//! are in `shared.rs`; the methods the halves have in common with [`Conn`] are written once
//! in `face.rs`.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use crate::conn::Conn;
use crate::error::{Error, Result};
use crate::face::{info_api, read_api, write_api};
use crate::info::Info;
use crate::link::Whole;
use crate::proto::{CloseCode, CloseStatus, OpCode};
use crate::read_side::ReadSide;
use crate::shared::{HalfLink, Shared, SharedWriter};
use crate::stream::{Pace, Stream, StreamOps};

/// A stream that can be divided into a reading handle and a writing handle, each usable on
/// its own thread.
///
/// Implemented for `TcpStream` and `UnixStream` (with `try_clone`). A TLS stream cannot be
/// split by cloning the socket, since both directions share the TLS session state;
/// implement this trait for a type whose two handles share that state (for example the
/// socket cloned, plus the session in an `Arc<Mutex<_>>` that each handle locks only around
/// encrypting or decrypting a record, never across a blocking socket read).
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

/// The addresses of a split stream, taken when it was split (the writer half's stream is
/// behind a lock that a blocked write may hold).
#[derive(Clone, Copy, Debug)]
struct Addresses {
    peer: std::result::Result<SocketAddr, io::ErrorKind>,
    local: std::result::Result<SocketAddr, io::ErrorKind>,
}

impl Addresses {
    fn of(stream: &impl Stream) -> Addresses {
        Addresses {
            peer: stream.peer_addr().map_err(|e| e.kind()),
            local: stream.local_addr().map_err(|e| e.kind()),
        }
    }
}

/// What both halves and their handles know about the connection.
#[derive(Debug)]
struct HalfInfo {
    info: Info,
    addresses: Addresses,
}

impl std::ops::Deref for HalfInfo {
    type Target = Info;

    fn deref(&self) -> &Info {
        &self.info
    }
}

/// The reading half of a split [`Conn`]: reads messages and handles control frames (pongs
/// and close replies go out through the writer half's stream without waiting for it).
pub struct ReadHalf<S: Split> {
    side: ReadSide<HalfLink<S::Reader, S::Writer>>,
    info: Arc<HalfInfo>,
    /// The whole stream's operations, for [`reunite`](Self::reunite).
    whole_ops: Option<StreamOps<S>>,
}

/// The writing half of a split [`Conn`]. Its write calls hold the write side only while
/// they write, so the reader's pongs can go out between a streamed message's frames. The
/// reader half never waits for it: a pong due while a whole message is being written goes
/// out right after that message. To keep pongs flowing during a very long send (a peer with
/// a short pong timeout on a slow link), stream it with [`next_writer`](Self::next_writer):
/// pongs go out between its writes.
pub struct WriteHalf<S: Split> {
    writer: SharedWriter<S::Writer>,
    info: Arc<HalfInfo>,
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
    /// handlers, the write deadline and the closing handshake's state carry over; a read
    /// deadline does not, and the keepalive starts afresh.
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
    /// [`Error::Io`] if the stream cannot be split; `Unsupported` for a connection over a
    /// non-blocking stream (see the crate's "Non-blocking" topic), which is dropped.
    pub fn split(self) -> Result<(ReadHalf<S>, WriteHalf<S>)> {
        if self.is_nonblocking() {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "a connection over a non-blocking stream cannot be split",
            )));
        }
        let (side, info) = self.into_parts();
        let (reader, Whole { out, close }, handlers) = side.into_parts();
        let whole_ops = out.ops;
        let (whole, out) = out.replace_stream((), None);
        let (read_stream, write_stream) = whole.split().map_err(Error::Io)?;
        let addresses = Addresses::of(&write_stream);
        let (_, out) = out.replace_stream(write_stream, Some(StreamOps::of()));
        let shared = Arc::new(Shared::new(out, close));
        let link = HalfLink {
            stream: read_stream,
            shared: Arc::clone(&shared),
        };
        let read = ReadSide::new(reader, link, handlers, &info.config, true, Pace::Blocking);
        let info = Arc::new(HalfInfo { info, addresses });
        let write = WriteHalf {
            writer: SharedWriter(shared),
            info: Arc::clone(&info),
        };
        Ok((
            ReadHalf {
                side: read,
                info,
                whole_ops,
            },
            write,
        ))
    }
}

/// The addresses for the halves' `peer_addr` and `local_addr`.
macro_rules! address_api {
    () => {
        /// The peer's address, as it was when the connection was split.
        ///
        /// # Errors
        ///
        /// As [`Stream::peer_addr`]: `Unsupported` for a stream without one.
        pub fn peer_addr(&self) -> io::Result<SocketAddr> {
            self.info.addresses.peer.map_err(io::Error::from)
        }

        /// This end's address, as it was when the connection was split.
        ///
        /// # Errors
        ///
        /// As [`Stream::local_addr`].
        pub fn local_addr(&self) -> io::Result<SocketAddr> {
            self.info.addresses.local.map_err(io::Error::from)
        }
    };
}

impl<S: Split> ReadHalf<S> {
    fn access(&self) -> &HalfLink<S::Reader, S::Writer> {
        self.side.link()
    }

    read_api!();
    info_api!();
    address_api!();

    /// A handle for sending control frames and closing from other threads.
    pub fn handle(&self) -> Handle<S> {
        Handle {
            shared: Arc::clone(&self.side.link().shared),
        }
    }

    /// The reading handle of the stream.
    pub fn get_ref(&self) -> &S::Reader {
        &self.side.link().stream
    }
}

impl<S: Split + Read + Write> ReadHalf<S> {
    /// Joins the halves back into a connection.
    ///
    /// # Errors
    ///
    /// Gives both halves back, in a [`ReuniteError`] that says why, if they come from
    /// different connections or a [`Handle`] of theirs is still alive.
    pub fn reunite(self, write: WriteHalf<S>) -> Result<Conn<S>, Box<ReuniteError<S>>> {
        let shared = &self.side.link().shared;
        if !Arc::ptr_eq(shared, &write.writer.0) {
            return Err(Box::new(ReuniteError {
                reason: ReuniteReason::DifferentConnections,
                read: self,
                write,
            }));
        }
        if Arc::strong_count(shared) != 2 {
            return Err(Box::new(ReuniteError {
                reason: ReuniteReason::HandleAlive,
                read: self,
                write,
            }));
        }
        drop(write);
        let ReadHalf {
            side, whole_ops, ..
        } = self;
        let info = Arc::try_unwrap(self.info);
        let (reader, link, handlers) = side.into_parts();
        let HalfLink {
            stream: read_stream,
            shared,
        } = link;
        let (Ok(shared), Ok(info)) = (Arc::try_unwrap(shared), info) else {
            unreachable!("checked above that the halves hold the only references");
        };
        let (out, close) = shared.into_parts();
        let (write_stream, out) = out.replace_stream((), None);
        let (_, out) = out.replace_stream(S::reunite(read_stream, write_stream), whole_ops);
        let can_time_out = whole_ops.is_some();
        let side = ReadSide::new(
            reader,
            Whole { out, close },
            handlers,
            &info.info.config,
            can_time_out,
            Pace::Blocking,
        );
        Ok(Conn::from_parts(side, info.info))
    }
}

impl<S: Split> WriteHalf<S> {
    fn access(&self) -> &SharedWriter<S::Writer> {
        &self.writer
    }

    fn write_access(&mut self) -> &mut SharedWriter<S::Writer> {
        &mut self.writer
    }

    write_api!();
    info_api!();
    address_api!();

    /// Closes the connection and waits, up to [`Config::close_timeout`](crate::Config::close_timeout),
    /// for the reader half (on another thread) to receive the peer's close frame; at the
    /// timeout the stream is shut down, which wakes the reader. Returns how the connection
    /// ended.
    ///
    /// # Errors
    ///
    /// As [`send_close`](Self::send_close).
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<CloseStatus> {
        self.writer.0.close(code, reason)
    }

    /// A handle for sending control frames and closing from other threads.
    pub fn handle(&self) -> Handle<S> {
        Handle {
            shared: Arc::clone(&self.writer.0),
        }
    }
}

impl<S: Split> Handle<S> {
    /// Sends a ping, between the writer's frames.
    ///
    /// # Errors
    ///
    /// As [`Conn::write_ping`].
    pub fn write_ping(&self, payload: &[u8]) -> Result<()> {
        self.shared.with(|w| w.write_control(OpCode::Ping, payload))
    }

    /// Sends a pong, between the writer's frames.
    ///
    /// # Errors
    ///
    /// As [`Conn::write_ping`].
    pub fn write_pong(&self, payload: &[u8]) -> Result<()> {
        self.shared.with(|w| w.write_control(OpCode::Pong, payload))
    }

    /// As [`WriteHalf::send_close`].
    ///
    /// # Errors
    ///
    /// As [`WriteHalf::send_close`].
    pub fn send_close(&self, code: CloseCode, reason: &str) -> Result<()> {
        crate::frame::check_close(code, reason)?;
        self.shared
            .with(|w| crate::handlers::ControlOut::send_close(w, Some((code, reason))))
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
        self.shared.close_state().status().cloned()
    }
}

/// Why [`ReadHalf::reunite`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReuniteReason {
    /// The halves come from two different connections.
    DifferentConnections,
    /// A [`Handle`] of the connection is still alive.
    HandleAlive,
}

/// [`ReadHalf::reunite`] refused; here are both halves back, and why.
pub struct ReuniteError<S: Split> {
    /// Why.
    pub reason: ReuniteReason,
    /// The reader half given.
    pub read: ReadHalf<S>,
    /// The writer half given.
    pub write: WriteHalf<S>,
}

impl<S: Split> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReuniteError")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl<S: Split> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.reason {
            ReuniteReason::DifferentConnections => "the halves come from different connections",
            ReuniteReason::HandleAlive => "a handle of the connection is still alive",
        })
    }
}

impl<S: Split> std::error::Error for ReuniteError<S> {}

impl<S: Split> fmt::Debug for ReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHalf")
            .field("role", &self.info.role)
            .finish_non_exhaustive()
    }
}

impl<S: Split> fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf")
            .field("role", &self.info.role)
            .finish_non_exhaustive()
    }
}

impl<S: Split> fmt::Debug for Handle<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}
