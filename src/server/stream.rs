//! [`ServerStream`]: the stream a [`Server`](super::Server) hands its handler, over TCP or a
//! Unix socket, with or without TLS, and the [`Lifeline`] through which the server makes a
//! connection go away.

use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::split::Split;
use crate::stream::Stream;
#[cfg(feature = "rustls")]
use crate::transport::tls::TlsStream;

/// An accepted socket, before TLS and the handshake.
pub(crate) enum Socket {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Socket {
    pub(crate) fn try_clone(&self) -> io::Result<Socket> {
        Ok(match self {
            Socket::Tcp(s) => Socket::Tcp(s.try_clone()?),
            #[cfg(unix)]
            Socket::Unix(s) => Socket::Unix(s.try_clone()?),
        })
    }

    pub(crate) fn shutdown(&self, how: Shutdown) {
        // Already shut down, or the peer is gone: either way, done.
        let _ = match self {
            Socket::Tcp(s) => s.shutdown(how),
            #[cfg(unix)]
            Socket::Unix(s) => s.shutdown(how),
        };
    }

    pub(crate) fn peer_addr(&self) -> Option<SocketAddr> {
        match self {
            Socket::Tcp(s) => s.peer_addr().ok(),
            #[cfg(unix)]
            Socket::Unix(_) => None,
        }
    }

    pub(crate) fn set_timeouts(&self, timeout: Option<Duration>) {
        let _ = match self {
            Socket::Tcp(s) => s
                .set_read_timeout(timeout)
                .and_then(|()| s.set_write_timeout(timeout)),
            #[cfg(unix)]
            Socket::Unix(s) => s
                .set_read_timeout(timeout)
                .and_then(|()| s.set_write_timeout(timeout)),
        };
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.read(buf),
            #[cfg(unix)]
            Socket::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.write(buf),
            #[cfg(unix)]
            Socket::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How the server reaches a live connection from outside its thread: a flag that says the
/// server is going away, and a handle of the socket to wake the connection's reader with.
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
    /// close frame.
    pub(crate) fn go_away(&self) {
        self.going_away.store(true, Ordering::SeqCst);
        self.socket.shutdown(Shutdown::Read);
    }

    /// Ends the connection now: both directions shut down.
    pub(crate) fn cut(&self) {
        self.socket.shutdown(Shutdown::Both);
    }
}

/// The transport under a [`ServerStream`].
enum Io {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
    #[cfg(feature = "rustls")]
    Tls(TlsStream<TcpStream>),
    #[cfg(all(unix, feature = "rustls"))]
    UnixTls(TlsStream<UnixStream>),
}

macro_rules! each {
    ($io:expr, $s:ident => $e:expr) => {
        match $io {
            Io::Tcp($s) => $e,
            #[cfg(unix)]
            Io::Unix($s) => $e,
            #[cfg(feature = "rustls")]
            Io::Tls($s) => $e,
            #[cfg(all(unix, feature = "rustls"))]
            Io::UnixTls($s) => $e,
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
        let io = match socket {
            Socket::Tcp(s) => Io::Tcp(s),
            #[cfg(unix)]
            Socket::Unix(s) => Io::Unix(s),
        };
        ServerStream { io, lifeline }
    }

    /// The TLS handshake as a server, before `deadline`.
    #[cfg(feature = "rustls")]
    pub(crate) fn tls(
        self,
        acceptor: &crate::TlsAcceptor,
        deadline: Option<std::time::Instant>,
    ) -> crate::Result<ServerStream> {
        let io = match self.io {
            Io::Tcp(s) => Io::Tls(acceptor.accept_before(s, deadline)?),
            #[cfg(unix)]
            Io::Unix(s) => Io::UnixTls(acceptor.accept_before(s, deadline)?),
            tls => tls,
        };
        Ok(ServerStream {
            io,
            lifeline: self.lifeline,
        })
    }

    /// Whether the connection is over TLS.
    pub fn is_tls(&self) -> bool {
        match self.io {
            #[cfg(feature = "rustls")]
            Io::Tls(_) => true,
            #[cfg(all(unix, feature = "rustls"))]
            Io::UnixTls(_) => true,
            _ => false,
        }
    }

    /// Whether the connection is over a Unix socket.
    pub fn is_unix(&self) -> bool {
        match self.io {
            #[cfg(unix)]
            Io::Unix(_) => true,
            #[cfg(all(unix, feature = "rustls"))]
            Io::UnixTls(_) => true,
            _ => false,
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
        self.lifeline.going_away.load(Ordering::Relaxed)
    }
}

impl Split for ServerStream {
    type Reader = ServerStream;
    type Writer = ServerStream;

    /// Two handles of the connection, each saying it is going away when the server does.
    fn split(self) -> io::Result<(ServerStream, ServerStream)> {
        let (reader, writer) = match self.io {
            Io::Tcp(s) => {
                let (r, w) = Split::split(s)?;
                (Io::Tcp(r), Io::Tcp(w))
            }
            #[cfg(unix)]
            Io::Unix(s) => {
                let (r, w) = Split::split(s)?;
                (Io::Unix(r), Io::Unix(w))
            }
            #[cfg(feature = "rustls")]
            Io::Tls(s) => {
                let (r, w) = Split::split(s)?;
                (Io::Tls(r), Io::Tls(w))
            }
            #[cfg(all(unix, feature = "rustls"))]
            Io::UnixTls(s) => {
                let (r, w) = Split::split(s)?;
                (Io::UnixTls(r), Io::UnixTls(w))
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
            (Io::Tcp(r), Io::Tcp(w)) => Io::Tcp(Split::reunite(r, w)),
            #[cfg(unix)]
            (Io::Unix(r), Io::Unix(w)) => Io::Unix(Split::reunite(r, w)),
            #[cfg(feature = "rustls")]
            (Io::Tls(r), Io::Tls(w)) => Io::Tls(Split::reunite(r, w)),
            #[cfg(all(unix, feature = "rustls"))]
            (Io::UnixTls(r), Io::UnixTls(w)) => Io::UnixTls(Split::reunite(r, w)),
            // Halves of one split are of one kind; keep the reader's.
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
