//! [`Conn`]: a WebSocket connection over any `Read + Write` stream.
//!
//! A face with no logic of its own: reading goes to a [`ReadSide`], writing to the write
//! side its [`Whole`] link owns; the methods themselves are written once in `face.rs`.

use std::fmt;
use std::io::{Read, Write};
use std::net::SocketAddr;

use crate::close::CloseState;
use crate::config::Config;
use crate::face::{info_api, read_api, write_api};
use crate::handlers::Handlers;
use crate::info::Info;
use crate::link::Whole;
use crate::output::Output;
use crate::proto::Role;
use crate::read_side::ReadSide;
use crate::reader::Reader;
use crate::stream::{Interest, Pace, Stream, StreamOps};
use crate::writer::Writer;

/// A WebSocket connection over a stream `S`, after the opening handshake.
///
/// Get one from [`Upgrader::upgrade`](crate::Upgrader::upgrade) (server),
/// [`Dialer::dial`](crate::Dialer::dial) or [`Dialer::handshake`](crate::Dialer::handshake)
/// (client), or wrap a stream whose handshake is done with [`Conn::from_raw`].
///
/// All methods take `&mut self`: one thread reads and writes at a time, checked by the
/// compiler. Reading handles control frames on the way (pings are answered, a close is
/// answered and reported as [`Error::Closed`](crate::Error::Closed)). For a reader and a
/// writer on two threads, [`split`](Conn::split) it.
pub struct Conn<S> {
    side: ReadSide<Whole<S>>,
    info: Info,
}

impl<S: Read + Write> Conn<S> {
    /// Wraps a stream on which the opening handshake is already done. `close` then cannot time out
    /// or shut the stream down, and deadlines and the keepalive are unavailable; prefer the
    /// handshake functions, which can.
    pub fn from_raw(stream: S, role: Role, config: Config) -> Conn<S> {
        Conn::from_partially_read(stream, &[], role, config)
    }

    /// As [`from_raw`](Self::from_raw), with bytes already read from the stream after the
    /// handshake: they are the start of the first frame.
    pub fn from_partially_read(stream: S, leftover: &[u8], role: Role, config: Config) -> Conn<S> {
        Conn::new(
            stream,
            leftover,
            Info::raw(role, config),
            None,
            Pace::Blocking,
        )
    }

    /// A connection after a handshake that agreed `info`; `ops` when the stream can time out
    /// and shut down.
    pub(crate) fn new(
        stream: S,
        leftover: &[u8],
        info: Info,
        ops: Option<StreamOps<S>>,
        pace: Pace,
    ) -> Conn<S> {
        let Info {
            role,
            ref config,
            deflate,
            ..
        } = info;
        let reader = Reader::new(role, config, leftover, deflate);
        let mut writer = Writer::new(role, config, deflate);
        if pace == Pace::NonBlocking {
            writer.set_nonblocking();
        }
        let out = Output::new(stream, writer, ops, pace);
        let link = Whole {
            out,
            close: CloseState::new(role, config.close_timeout()),
        };
        let side = ReadSide::new(
            reader,
            link,
            Handlers::default(),
            config,
            ops.is_some(),
            pace,
        );
        Conn { side, info }
    }

    /// Takes the connection apart (to split it).
    pub(crate) fn into_parts(self) -> (ReadSide<Whole<S>>, Info) {
        (self.side, self.info)
    }

    /// Puts a connection together again (reunited halves).
    pub(crate) fn from_parts(side: ReadSide<Whole<S>>, info: Info) -> Conn<S> {
        Conn { side, info }
    }

    fn access(&self) -> &Whole<S> {
        self.side.link()
    }

    fn write_access(&mut self) -> &mut Whole<S> {
        self.side.link_mut()
    }

    read_api!();
    write_api!();
    info_api!();

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.side.link().out.stream
    }

    /// The stream. Reading or writing it directly corrupts the connection.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.side.link_mut().out.stream
    }

    /// Gives the stream back. Bytes read from it but not yet processed, and frames buffered
    /// but not yet written, are lost.
    pub fn into_inner(self) -> S {
        self.side.into_parts().1.out.stream
    }

    /// What the connection waits for, over a non-blocking stream: an event loop polls the
    /// stream with this interest (and [`next_deadline`](Self::next_deadline) as the
    /// timeout). [`Interest::Write`](crate::Interest::Write) while bytes are queued
    /// ([`flush`](Self::flush) sends them); reading is wanted until the connection is over,
    /// except while more than 64 KiB are queued (a peer that does not read our answers is
    /// not read either); [`Interest::Nothing`](crate::Interest::Nothing) once it is over.
    /// See the crate's "Non-blocking" topic.
    pub fn interest(&self) -> Interest {
        self.side.interest()
    }

    /// The next moment this connection must be called even if its stream stays quiet,
    /// over a non-blocking stream: the keepalive's ping or pong timeout, a read deadline,
    /// the closing handshake's deadline, or the write deadline of queued bytes. At that
    /// moment, call a read ([`read_message`](Self::read_message) or
    /// [`close`](Self::close) if closing) and [`flush`](Self::flush) as usual: they act
    /// on the clock (send the keepalive's ping, fail a silent peer, end a close that timed
    /// out). `None`: nothing is due.
    pub fn next_deadline(&self) -> Option<std::time::Instant> {
        self.side.next_deadline()
    }

    /// Bytes queued for sending: over a non-blocking stream, writes are queued when the
    /// stream would block and [`flush`](Self::flush) sends them (the `bufferedAmount` of a
    /// browser's WebSocket). An application that writes more than it reads (a broadcast)
    /// checks it to find peers too slow to keep up.
    pub fn queued(&self) -> usize {
        self.side.link().out.queued()
    }

    /// Whether the connection runs over a non-blocking stream (made by
    /// [`ServerHandshake`](crate::ServerHandshake) or
    /// [`ClientHandshake`](crate::ClientHandshake)).
    pub fn is_nonblocking(&self) -> bool {
        self.side.pace() == Pace::NonBlocking
    }

    /// Takes what the server kept of the opening request, with the value the request
    /// callback attached, to keep it elsewhere (a registry of connections that other threads
    /// read, say). [`request`](Self::request) and [`value`](Self::value) return `None`
    /// afterwards. `None` on a client, or when taken already.
    pub fn take_request(&mut self) -> Option<crate::RequestInfo> {
        self.info.request.take().map(|request| *request)
    }
}

impl<S: Stream> Conn<S> {
    /// The peer's address.
    ///
    /// # Errors
    ///
    /// As [`Stream::peer_addr`]: `Unsupported` for a stream without one.
    pub fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        self.get_ref().peer_addr()
    }

    /// This end's address.
    ///
    /// # Errors
    ///
    /// As [`Stream::local_addr`].
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.get_ref().local_addr()
    }
}

impl<S: Read + Write + fmt::Debug> fmt::Debug for Conn<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let link = self.side.link();
        f.debug_struct("Conn")
            .field("stream", &link.out.stream)
            .field("role", &self.info.role)
            .field("close", &link.close.phase())
            .field("subprotocol", &self.info.subprotocol)
            .finish_non_exhaustive()
    }
}
