//! Limits, buffer sizes and timeouts, with defaults safe for a server on the internet.
//!
//! A [`Config`] is built once with [`Config::builder`] and read-only after that; every
//! [`Conn`](crate::Conn), [`Upgrader`](crate::Upgrader) and [`Dialer`](crate::Dialer) holds one.

use std::time::Duration;

use crate::deflate::DeflateConfig;
use crate::frame::MAX_HEADER_LEN;
use crate::proto::MAX_CONTROL_PAYLOAD;

/// The smallest read or write buffer: a frame header and a whole control frame must fit.
pub const MIN_BUFFER_SIZE: usize = 256;

// A frame header and a whole control frame must fit in the smallest read buffer.
const _: () = assert!(MIN_BUFFER_SIZE >= MAX_HEADER_LEN + MAX_CONTROL_PAYLOAD);

/// Detecting a dead peer while the application blocks reading: after `ping_interval` with
/// nothing heard from the peer, wsio sends a ping; if still nothing has been heard when
/// `timeout` has passed since the peer was last heard, the peer is taken for dead: wsio
/// sends close 1001, drops the connection, and the read returns
/// [`Error::KeepaliveTimeout`](crate::Error::KeepaliveTimeout). Any frame counts as being
/// heard. Works for streams that can time out ([`Stream`](crate::Stream)), with or
/// without [`split`](crate::Conn::split).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Keepalive {
    ping_interval: Duration,
    timeout: Duration,
}

impl Default for Keepalive {
    /// iris's defaults: a ping after 54 seconds of silence, dead after 60.
    fn default() -> Keepalive {
        Keepalive::new(Duration::from_secs(54), Duration::from_secs(60))
    }
}

impl Keepalive {
    /// Ping after `ping_interval` of silence; dead after `timeout` of silence. The interval
    /// is at least 1 ms; the timeout is raised to at least the interval plus 10 ms, to give
    /// the pong a chance.
    pub fn new(ping_interval: Duration, timeout: Duration) -> Keepalive {
        let ping_interval = ping_interval.max(Duration::from_millis(1));
        Keepalive {
            ping_interval,
            timeout: timeout.max(ping_interval + Duration::from_millis(10)),
        }
    }

    /// The silence after which a ping is sent.
    pub fn ping_interval(&self) -> Duration {
        self.ping_interval
    }

    /// The silence after which the peer is taken for dead.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// When buffered outgoing frames reach the stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FlushPolicy {
    /// Every message and control frame is written to the stream before the call that wrote
    /// it returns (gorilla's promise: a written message is sent). The default.
    #[default]
    Immediate,
    /// Frames collect in the write buffer and go out in one write when the buffer fills,
    /// when [`Conn::flush`](crate::Conn::flush) is called, or when the connection is about to
    /// block waiting to read. An echo or request/response loop then costs one write per
    /// batch instead of one per message. A program that writes without reading must call
    /// `flush`.
    Batched,
}

/// Connection limits and buffers. Build with [`Config::builder`]; `Config::default()` is the
/// same as `Config::builder().build()`.
///
/// ```
/// use std::time::Duration;
/// let config = wsio::Config::builder()
///     .max_message_size(1 << 20)
///     .handshake_timeout(Some(Duration::from_secs(5)))
///     .build();
/// assert_eq!(config.max_message_size(), 1 << 20);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    max_frame_size: u64,
    max_message_size: u64,
    max_outgoing_frame_size: usize,
    read_buffer_size: usize,
    write_buffer_size: usize,
    max_handshake_size: usize,
    max_headers: usize,
    handshake_timeout: Option<Duration>,
    close_timeout: Option<Duration>,
    flush_policy: FlushPolicy,
    deflate: Option<DeflateConfig>,
    keepalive: Option<Keepalive>,
    skip_drained_reads: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_outgoing_frame_size: 1 << 20,
            read_buffer_size: 4096,
            write_buffer_size: 4096,
            max_handshake_size: 16 << 10,
            max_headers: 64,
            handshake_timeout: Some(Duration::from_secs(10)),
            close_timeout: Some(Duration::from_secs(5)),
            flush_policy: FlushPolicy::Immediate,
            deflate: None,
            keepalive: Some(Keepalive::default()),
            skip_drained_reads: false,
        }
    }
}

impl Config {
    /// A builder that starts from the defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder(Config::default())
    }

    /// The largest frame payload accepted from the peer. See [`ConfigBuilder::max_frame_size`].
    pub fn max_frame_size(&self) -> u64 {
        self.max_frame_size
    }

    /// The largest message accepted from the peer. See [`ConfigBuilder::max_message_size`].
    pub fn max_message_size(&self) -> u64 {
        self.max_message_size
    }

    /// The largest frame payload sent. See [`ConfigBuilder::max_outgoing_frame_size`].
    pub fn max_outgoing_frame_size(&self) -> usize {
        self.max_outgoing_frame_size
    }

    /// The read buffer's size. See [`ConfigBuilder::read_buffer_size`].
    pub fn read_buffer_size(&self) -> usize {
        self.read_buffer_size
    }

    /// The write buffer's size. See [`ConfigBuilder::write_buffer_size`].
    pub fn write_buffer_size(&self) -> usize {
        self.write_buffer_size
    }

    /// The largest HTTP head of the opening handshake. See [`ConfigBuilder::max_handshake_size`].
    pub fn max_handshake_size(&self) -> usize {
        self.max_handshake_size
    }

    /// The most headers in the opening handshake. See [`ConfigBuilder::max_headers`].
    pub fn max_headers(&self) -> usize {
        self.max_headers
    }

    /// The opening handshake's time limit. See [`ConfigBuilder::handshake_timeout`].
    pub fn handshake_timeout(&self) -> Option<Duration> {
        self.handshake_timeout
    }

    /// The closing handshake's time limit. See [`ConfigBuilder::close_timeout`].
    pub fn close_timeout(&self) -> Option<Duration> {
        self.close_timeout
    }

    /// When written frames reach the stream. See [`ConfigBuilder::flush_policy`].
    pub fn flush_policy(&self) -> FlushPolicy {
        self.flush_policy
    }

    /// permessage-deflate, if enabled. See [`ConfigBuilder::deflate`].
    pub fn deflate(&self) -> Option<&DeflateConfig> {
        self.deflate.as_ref()
    }

    /// Dead-peer detection. See [`ConfigBuilder::keepalive`].
    pub fn keepalive(&self) -> Option<Keepalive> {
        self.keepalive
    }

    /// Whether reads the socket cannot answer are skipped. See
    /// [`ConfigBuilder::skip_drained_reads`].
    pub fn skip_drained_reads(&self) -> bool {
        self.skip_drained_reads
    }
}

/// Builds a [`Config`]; every setter says its default.
#[derive(Clone, Debug)]
#[must_use]
pub struct ConfigBuilder(Config);

impl ConfigBuilder {
    /// The largest payload a single frame from the peer may declare. A larger declaration
    /// fails the connection with close 1009 before any of its payload is read or buffered.
    ///
    /// Defaults to 16 MiB.
    pub fn max_frame_size(mut self, bytes: u64) -> Self {
        self.0.max_frame_size = bytes;
        self
    }

    /// The largest message from the peer, counted on the payload delivered to the
    /// application (gorilla's read limit), across all its frames. A message that would grow
    /// past it fails the connection with close 1009 as soon as a frame header declares it.
    /// It applies to streaming reads too; raise it (up to `u64::MAX`) to stream huge messages.
    ///
    /// Defaults to 64 MiB.
    pub fn max_message_size(mut self, bytes: u64) -> Self {
        self.0.max_message_size = bytes;
        self
    }

    /// The largest frame payload wsio sends: a longer message goes out as fragments of at
    /// most this size, so that a peer's frame limit never refuses a message its message
    /// limit would take (two peers with default settings exchange messages up to their
    /// 64 MiB message limit; raising both message limits is enough for bigger ones). Values
    /// below [`MIN_BUFFER_SIZE`] are raised to it.
    ///
    /// Defaults to 1 MiB: well under the 16 MiB frame limits of wsio and tungstenite, and
    /// large enough that the header per fragment costs nothing.
    pub fn max_outgoing_frame_size(mut self, bytes: usize) -> Self {
        self.0.max_outgoing_frame_size = bytes.max(MIN_BUFFER_SIZE);
        self
    }

    /// The read buffer: how much is asked of the stream per read when frames are small.
    /// Payload reads into a caller's buffer at least this large bypass it. Allocated on the
    /// first read. While reads fill it (the peer sends faster than the application reads)
    /// it doubles, up to 64 KiB (or this size, if larger), and it drops back to this size
    /// after a read that brings in less than an eighth of it. Values below
    /// [`MIN_BUFFER_SIZE`] are raised to it.
    ///
    /// Defaults to 4 KiB, so an idle connection costs a few KiB, not tungstenite's 128 KiB.
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.0.read_buffer_size = bytes.max(MIN_BUFFER_SIZE);
        self
    }

    /// The write buffer: small frames are built in it so that header and payload leave in
    /// one write, and a streamed message is cut into frames of about this size. Large
    /// payloads are written from the caller's memory without a copy (server) or masked
    /// through it in chunks (client). Allocated on the first write. With
    /// [`FlushPolicy::Batched`] it doubles while batches fill it, up to 64 KiB (or this
    /// size, if larger), and drops back to this size after a small batch. Values below
    /// [`MIN_BUFFER_SIZE`] are raised to it.
    ///
    /// Defaults to 4 KiB.
    pub fn write_buffer_size(mut self, bytes: usize) -> Self {
        self.0.write_buffer_size = bytes.max(MIN_BUFFER_SIZE);
        self
    }

    /// The largest HTTP request (server) or response (client) head, up to and including the
    /// blank line. A larger request is answered with 431.
    ///
    /// Defaults to 16 KiB: room for browsers' cookies, small enough that a slow client
    /// trickling a long header costs little.
    pub fn max_handshake_size(mut self, bytes: usize) -> Self {
        self.0.max_handshake_size = bytes.max(MIN_BUFFER_SIZE);
        self
    }

    /// The most header lines in the opening handshake. More is answered with 431.
    ///
    /// Defaults to 64.
    pub fn max_headers(mut self, count: usize) -> Self {
        self.0.max_headers = count.max(8);
        self
    }

    /// The time limit for the whole opening handshake (reading the request and writing the
    /// response, or the client's round trip), for streams that can time out
    /// ([`Stream`](crate::Stream)). It is a deadline, not a per-read timeout, so a client
    /// trickling one byte at a time cannot hold a thread longer. `None` waits forever.
    ///
    /// Defaults to 10 seconds.
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.0.handshake_timeout = timeout;
        self
    }

    /// How long [`Conn::close`](crate::Conn::close) waits for the peer's close frame after
    /// sending its own, for streams that can time out. `None` waits forever.
    ///
    /// Defaults to 5 seconds.
    pub fn close_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.0.close_timeout = timeout;
        self
    }

    /// When written frames reach the stream: after every message, or batched.
    ///
    /// Defaults to [`FlushPolicy::Immediate`].
    pub fn flush_policy(mut self, policy: FlushPolicy) -> Self {
        self.0.flush_policy = policy;
        self
    }

    /// Enables permessage-deflate (RFC 7692): the [`Upgrader`](crate::Upgrader) accepts a
    /// client's offer, the [`Dialer`](crate::Dialer) makes one. See [`DeflateConfig`] for the
    /// parameters and why compression is off by default.
    ///
    /// Defaults to off.
    pub fn deflate(mut self, deflate: DeflateConfig) -> Self {
        self.0.deflate = Some(deflate);
        self
    }

    /// Dead-peer detection while reading: see [`Keepalive`]. `None` turns it off. It needs
    /// a stream that can time out (connections from the handshakes over a
    /// [`Stream`](crate::Stream)); it sets that stream's read timeout.
    ///
    /// Defaults to on, with iris's timings: a ping after 54 seconds of silence, the peer
    /// taken for dead after 60, so that a vanished peer cannot hold a server thread forever.
    pub fn keepalive(mut self, keepalive: Option<Keepalive>) -> Self {
        self.0.keepalive = keepalive;
        self
    }

    /// Over a non-blocking socket, answers the read that follows one which brought fewer
    /// bytes than asked with `WouldBlock` without asking the socket: a short read of a
    /// stream socket means it was drained (epoll(7)), so the read that follows would only
    /// say so. Saves a system call per message.
    ///
    /// Safe only for an event loop that, after a read that returns a message, goes on
    /// reading until a read says `WouldBlock` before it waits on its poller again (as
    /// edge-triggered pollers such as mio require anyway): the socket's next bytes then
    /// raise a new event. A loop that waits between a message and that `WouldBlock` could
    /// wait for bytes already there. Streams that buffer (TLS) are never skipped
    /// ([`Stream::short_read_drains`](crate::Stream::short_read_drains)). Blocking
    /// connections ignore it.
    ///
    /// Defaults to off.
    pub fn skip_drained_reads(mut self, on: bool) -> Self {
        self.0.skip_drained_reads = on;
        self
    }

    /// The finished configuration.
    pub fn build(self) -> Config {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_never_smaller_than_a_control_frame() {
        let config = Config::builder()
            .read_buffer_size(1)
            .write_buffer_size(0)
            .build();
        assert_eq!(config.read_buffer_size(), MIN_BUFFER_SIZE);
        assert_eq!(config.write_buffer_size(), MIN_BUFFER_SIZE);
    }

    #[test]
    fn builder_default_is_default() {
        assert_eq!(Config::builder().build(), Config::default());
    }
}
