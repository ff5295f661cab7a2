//! The sockets of a server: the [`Listener`]s it accepts on, and the [`ServerStream`] it hands
//! its handler, over TCP or a Unix socket, with or without TLS; the [`Socket`] under it, shared
//! (not duplicated) by the connection and its [`Lifeline`], through which the server makes the
//! connection go away.

use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
#[cfg(unix)]
use std::os::unix::net::{UnixListener, UnixStream};
#[cfg(unix)]
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::split::Split;
use crate::stream::Stream;
#[cfg(feature = "rustls")]
use crate::transport::tls::TlsStream;

/// A socket the server accepts on. A Unix socket's file is removed when it is dropped.
pub(super) enum Listener {
    Tcp(TcpListener),
    #[cfg(unix)]
    Unix(UnixListener, PathBuf),
}

impl Listener {
    /// The next connection, with Nagle's algorithm off on TCP.
    pub(super) fn accept(&self) -> io::Result<Socket> {
        match self {
            Listener::Tcp(l) => l.accept().map(|(s, _)| {
                let _ = s.set_nodelay(true);
                Socket::Tcp(Arc::new(s))
            }),
            #[cfg(unix)]
            Listener::Unix(l, _) => l.accept().map(|(s, _)| Socket::Unix(Arc::new(s))),
        }
    }
}

#[cfg(unix)]
impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// An accepted socket, shared by the handles that use it: the connection (and its halves
/// once split) and the server's lifeline. Sharing rather than duplicating keeps one file
/// descriptor per connection.
#[derive(Clone)]
pub(crate) enum Socket {
    Tcp(Arc<TcpStream>),
    #[cfg(unix)]
    Unix(Arc<UnixStream>),
}

macro_rules! each_socket {
    ($socket:expr, $s:ident => $e:expr) => {
        match $socket {
            Socket::Tcp($s) => $e,
            #[cfg(unix)]
            Socket::Unix($s) => $e,
        }
    };
}

impl Socket {
    pub(crate) fn shutdown_how(&self, how: Shutdown) {
        // Already shut down, or the peer is gone: either way, done.
        let _ = each_socket!(self, s => s.shutdown(how));
    }

    pub(crate) fn peer(&self) -> Option<SocketAddr> {
        match self {
            Socket::Tcp(s) => s.peer_addr().ok(),
            #[cfg(unix)]
            Socket::Unix(_) => None,
        }
    }

    /// Sets both timeouts (for the refusing thread).
    pub(crate) fn set_timeouts(&self, timeout: Option<Duration>) {
        let _ = each_socket!(self, s => s
            .set_read_timeout(timeout)
            .and_then(|()| s.set_write_timeout(timeout)));
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        each_socket!(self, s => (&**s).read(buf))
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        each_socket!(self, s => (&**s).write(buf))
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        each_socket!(self, s => (&**s).write_vectored(bufs))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Stream for Socket {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        // A zero timeout is an error for sockets: the shortest real one instead.
        let timeout = timeout.map(|t| t.max(Duration::from_millis(1)));
        each_socket!(self, s => s.set_read_timeout(timeout))
    }
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        each_socket!(self, s => s.read_timeout())
    }
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let timeout = timeout.map(|t| t.max(Duration::from_millis(1)));
        each_socket!(self, s => s.set_write_timeout(timeout))
    }
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        each_socket!(self, s => s.write_timeout())
    }
    fn shutdown(&mut self) -> io::Result<()> {
        each_socket!(self, s => s.shutdown(Shutdown::Both))
    }
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        match self {
            Socket::Tcp(s) => s.peer_addr(),
            #[cfg(unix)]
            Socket::Unix(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a Unix socket has no socket address",
            )),
        }
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        match self {
            Socket::Tcp(s) => s.local_addr(),
            #[cfg(unix)]
            Socket::Unix(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a Unix socket has no socket address",
            )),
        }
    }
    fn short_read_drains(&self) -> bool {
        true
    }
}

impl Split for Socket {
    type Reader = Socket;
    type Writer = Socket;

    /// Two handles of the one socket, without duplicating it.
    fn split(self) -> io::Result<(Socket, Socket)> {
        Ok((self.clone(), self))
    }

    fn reunite(reader: Socket, writer: Socket) -> Socket {
        drop(reader);
        writer
    }
}

/// How the server reaches a live connection from outside its thread: a flag that says the
/// server is going away, and the socket, to wake the connection's reader with.
pub(crate) struct Lifeline {
    going_away: AtomicBool,
    socket: Socket,
}

impl Lifeline {
    pub(crate) fn new(socket: Socket) -> Lifeline {
        Lifeline {
            going_away: AtomicBool::new(false),
            socket,
        }
    }

    /// Tells the connection to go away (close 1001), waking a reader blocked on it by
    /// shutting the socket's read direction down; the write direction stays open for the
    /// close frame. The flag is set first: the woken reader sees it.
    pub(crate) fn go_away(&self) {
        self.going_away.store(true, Ordering::Release);
        self.socket.shutdown_how(Shutdown::Read);
    }

    pub(crate) fn is_going_away(&self) -> bool {
        self.going_away.load(Ordering::Acquire)
    }

    /// Ends the connection now: both directions shut down.
    pub(crate) fn cut(&self) {
        self.socket.shutdown_how(Shutdown::Both);
    }
}

/// Ends a server's connection from another thread ([`ServerStream::cutter`]): both
/// directions of its socket are shut down, so that a read or write blocked on it returns at
/// once with an error and the peer sees the connection end, without a close frame. For a
/// slow or dead peer that a close frame cannot reach; prefer a close frame otherwise.
#[derive(Clone)]
pub struct Cutter {
    lifeline: Arc<Lifeline>,
}

impl Cutter {
    /// Shuts the connection's socket down in both directions. Later calls do nothing more.
    pub fn cut(&self) {
        self.lifeline.cut();
    }
}

impl fmt::Debug for Cutter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cutter").finish_non_exhaustive()
    }
}

/// The transport under a [`ServerStream`].
enum Io {
    Plain(Socket),
    #[cfg(feature = "rustls")]
    Tls(TlsStream<Socket>),
}

macro_rules! each {
    ($io:expr, $s:ident => $e:expr) => {
        match $io {
            Io::Plain($s) => $e,
            #[cfg(feature = "rustls")]
            Io::Tls($s) => $e,
        }
    };
}

/// The stream of a connection a [`Server`](super::Server) accepted: TCP or a Unix socket,
/// with TLS when the server has an acceptor. It says it is going away when the server shuts
/// down ([`Stream::is_going_away`]), so that the connection ends with close 1001.
pub struct ServerStream {
    io: Io,
    lifeline: Arc<Lifeline>,
}

impl ServerStream {
    /// The stream over an accepted socket (TLS added by [`tls`](Self::tls)).
    pub(crate) fn new(socket: Socket, lifeline: Arc<Lifeline>) -> ServerStream {
        ServerStream {
            io: Io::Plain(socket),
            lifeline,
        }
    }

    /// The TLS handshake as a server, before `deadline`.
    #[cfg(feature = "rustls")]
    pub(crate) fn tls(
        self,
        acceptor: &crate::TlsAcceptor,
        deadline: Option<std::time::Instant>,
    ) -> crate::Result<ServerStream> {
        let io = match self.io {
            Io::Plain(socket) => Io::Tls(acceptor.accept_before(socket, deadline)?),
            tls => tls,
        };
        Ok(ServerStream {
            io,
            lifeline: self.lifeline,
        })
    }

    /// The socket under the stream, under TLS if there is TLS.
    // Without TLS the match has one arm, which clippy would have be a `let`.
    #[allow(clippy::infallible_destructuring_match)]
    fn socket(&self) -> &Socket {
        match &self.io {
            Io::Plain(socket) => socket,
            #[cfg(feature = "rustls")]
            Io::Tls(tls) => tls.get_ref(),
        }
    }

    /// Shuts the write direction of the socket down (after an HTTP answer).
    pub(crate) fn shutdown_write(&mut self) -> io::Result<()> {
        self.socket().shutdown_how(Shutdown::Write);
        Ok(())
    }

    /// A handle that ends this connection from any thread: see [`Cutter`].
    pub fn cutter(&self) -> Cutter {
        Cutter {
            lifeline: Arc::clone(&self.lifeline),
        }
    }

    /// Whether the connection is over TLS.
    pub fn is_tls(&self) -> bool {
        match self.io {
            Io::Plain(_) => false,
            #[cfg(feature = "rustls")]
            Io::Tls(_) => true,
        }
    }

    /// Whether the connection is over a Unix socket.
    pub fn is_unix(&self) -> bool {
        match self.socket() {
            Socket::Tcp(_) => false,
            #[cfg(unix)]
            Socket::Unix(_) => true,
        }
    }
}

impl Read for ServerStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        each!(&mut self.io, s => s.read(buf))
    }
}

impl Write for ServerStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        each!(&mut self.io, s => s.write(buf))
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        each!(&mut self.io, s => s.write_vectored(bufs))
    }
    fn flush(&mut self) -> io::Result<()> {
        each!(&mut self.io, s => s.flush())
    }
}

impl Stream for ServerStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        each!(&mut self.io, s => Stream::set_read_timeout(s, timeout))
    }
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        each!(&self.io, s => Stream::read_timeout(s))
    }
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        each!(&mut self.io, s => Stream::set_write_timeout(s, timeout))
    }
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        each!(&self.io, s => Stream::write_timeout(s))
    }
    fn shutdown(&mut self) -> io::Result<()> {
        each!(&mut self.io, s => Stream::shutdown(s))
    }
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        each!(&self.io, s => Stream::peer_addr(s))
    }
    fn local_addr(&self) -> io::Result<SocketAddr> {
        each!(&self.io, s => Stream::local_addr(s))
    }
    fn is_going_away(&self) -> bool {
        self.lifeline.is_going_away()
    }
    fn unsent(&self) -> usize {
        each!(&self.io, s => Stream::unsent(s))
    }
    fn short_read_drains(&self) -> bool {
        each!(&self.io, s => Stream::short_read_drains(s))
    }
}

impl Split for ServerStream {
    type Reader = ServerStream;
    type Writer = ServerStream;

    /// Two handles of the connection, each saying it is going away when the server does.
    fn split(self) -> io::Result<(ServerStream, ServerStream)> {
        let (reader, writer) = match self.io {
            Io::Plain(s) => {
                let (r, w) = Split::split(s)?;
                (Io::Plain(r), Io::Plain(w))
            }
            #[cfg(feature = "rustls")]
            Io::Tls(s) => {
                let (r, w) = Split::split(s)?;
                (Io::Tls(r), Io::Tls(w))
            }
        };
        Ok((
            ServerStream {
                io: reader,
                lifeline: Arc::clone(&self.lifeline),
            },
            ServerStream {
                io: writer,
                lifeline: self.lifeline,
            },
        ))
    }

    fn reunite(reader: ServerStream, writer: ServerStream) -> ServerStream {
        let io = match (reader.io, writer.io) {
            (Io::Plain(r), Io::Plain(w)) => Io::Plain(Split::reunite(r, w)),
            #[cfg(feature = "rustls")]
            (Io::Tls(r), Io::Tls(w)) => Io::Tls(Split::reunite(r, w)),
            // Halves of one split are of one kind; keep the reader's.
            #[cfg(feature = "rustls")]
            (io, _) => io,
        };
        ServerStream {
            io,
            lifeline: reader.lifeline,
        }
    }
}

impl fmt::Debug for ServerStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match (self.is_unix(), self.is_tls()) {
            (false, false) => "tcp",
            (false, true) => "tcp+tls",
            (true, false) => "unix",
            (true, true) => "unix+tls",
        };
        f.debug_struct("ServerStream")
            .field("kind", &kind)
            .field("peer", &self.peer_addr().ok())
            .finish_non_exhaustive()
    }
}
