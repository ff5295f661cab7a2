//! The read state machine: frames in, message payload out.
//!
//! [`Reader`] owns the read buffer and the state of the frame and message being read. It does
//! no I/O of its own: bytes come from, and control frames go to, a [`Wire`], which the
//! connection (or a reader half) implements. Every state change happens after the I/O it
//! depends on succeeded, so a read that times out or would block can simply be retried.
//!
//! One frame: bytes -> read buffer -> [`FrameHeader::parse`] -> checks against role, message
//! state and limits -> control frames are handed whole to [`Wire::control`]; data payload is
//! copied (or read directly) into the caller's buffer -> unmasked -> UTF-8 checked.

use std::io;

use crate::config::Config;
use crate::deflate::DeflateParams;
use crate::deflate::codec::{Finished, Inflater};
use crate::error::{CapacityError, Error, Poison, ProtocolError, Result, Sticky};
use crate::frame::{self, FrameHeader};
use crate::mask::apply_mask;
use crate::proto::{
    CloseCode, CloseFrame, CloseStatus, MAX_CONTROL_PAYLOAD, MessageKind, OpCode, Role,
};
use crate::utf8::Utf8Validator;

/// A control frame that arrived, handed to the connection.
#[derive(Debug)]
pub(crate) enum Control<'a> {
    Ping(&'a [u8]),
    Pong(&'a [u8]),
    Close(Option<CloseFrame>),
}

/// Why a read from the stream brought no bytes.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// A deadline passed (the application's or the closing handshake's), or the stream's
    /// own timeout fired.
    TimedOut,
    /// Frames batched for sending could not go out before the write deadline, so the read
    /// did not start: nothing was read.
    WriteTimedOut,
    /// The keepalive found the peer silent past its timeout.
    PeerSilent,
    /// A non-blocking stream has nothing to give now (the stream's own error).
    WouldBlock(io::Error),
    /// The stream says this end is going away (a server shutting down).
    GoingAway,
    /// The stream failed.
    Io(io::Error),
}

/// What the read state machine needs from the rest of the connection.
pub(crate) trait Wire {
    /// Reads from the stream. Flushes batched writes first: the connection is about to block.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ReadError>;

    /// Handles a control frame: answer pings, run handlers, take part in the closing
    /// handshake. A close frame ends with `Err(Error::Closed(status))`.
    fn control(&mut self, frame: Control<'_>) -> Result<()>;

    /// The peer broke the protocol or a limit: send a close frame with `code` and `reason`
    /// (best effort) and end the connection.
    fn fail(&mut self, code: CloseCode, reason: &str);

    /// The stream failed or ended without a close frame. Returns the status if the
    /// connection had already been closed from this side.
    fn abort(&mut self) -> Option<CloseStatus>;

    /// Whether the closing handshake is over: nothing more is read.
    fn is_closed(&self) -> bool;
}

/// Buffered bytes from the stream: `data[pos..end]` is unread.
///
/// The buffer adapts: it starts at the configured size, doubles (up to [`MAX_READ_BUFFER`])
/// while reads fill it, which happens only when the peer sends faster than we process, and
/// drops back to the configured size after a read that brings in less than an eighth of
/// it. A burst that ends with a large read leaves the buffer large (at most
/// [`MAX_READ_BUFFER`]) until the next small read.
struct ReadBuf {
    data: Vec<u8>,
    pos: usize,
    end: usize,
    /// The configured size.
    base: usize,
    /// The size to use the next time the buffer is empty.
    size: usize,
}

/// The most the read buffer grows to under load.
const MAX_READ_BUFFER: usize = 64 << 10;

impl ReadBuf {
    fn new(size: usize, leftover: &[u8]) -> ReadBuf {
        let mut buf = ReadBuf {
            data: Vec::new(),
            pos: 0,
            end: 0,
            base: size,
            size,
        };
        if !leftover.is_empty() {
            buf.data = vec![0; size.max(leftover.len())];
            buf.data[..leftover.len()].copy_from_slice(leftover);
            buf.end = leftover.len();
        }
        buf
    }

    fn filled(&self) -> &[u8] {
        &self.data[self.pos..self.end]
    }

    fn len(&self) -> usize {
        self.end - self.pos
    }

    fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.len());
        self.pos += n;
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        }
    }

    /// Moves `n` buffered bytes into `dst`.
    fn take_into(&mut self, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.len());
        dst[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.consume(n);
        n
    }

    /// One read from the wire into the free space. Only called when fewer bytes are buffered
    /// than a header plus control payload, so compacting first copies little.
    fn fill(&mut self, wire: &mut (impl Wire + ?Sized)) -> Result<usize, ReadError> {
        if self.end == 0 && self.data.len() != self.size {
            self.data = vec![0; self.size];
        }
        if self.pos > 0 {
            self.data.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        debug_assert!(self.end < self.data.len());
        let space = self.data.len() - self.end;
        let n = match wire.read(&mut self.data[self.end..]) {
            Ok(n) => n,
            Err(e @ ReadError::WouldBlock(_)) => {
                // A non-blocking connection waits between reads for as long as its peer is
                // quiet: an empty buffer is given back meanwhile (thousands of idle
                // connections then hold none).
                if self.end == 0 {
                    self.data = Vec::new();
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        self.end += n;
        if n == space {
            self.size = (self.size * 2).min(MAX_READ_BUFFER.max(self.base));
        } else if n < self.data.len() / 8 {
            self.size = self.base;
        }
        Ok(n)
    }
}

/// A whole-message read that stopped without losing anything: the message's kind, its
/// buffer and how much of it is payload (the rest is room already zeroed for the next
/// read, kept so that a message arriving a little per call is not zeroed again each time).
struct Partial {
    kind: MessageKind,
    data: Vec<u8>,
    filled: usize,
}

/// Where in the current frame the reader is.
#[derive(Clone, Copy, Debug)]
enum FramePhase {
    /// Between frames: the next bytes are a header.
    Header,
    /// Inside a data frame's payload.
    Payload {
        remaining: u64,
        masking_key: Option<[u8; 4]>,
        /// Payload bytes already read, modulo 4: the masking key's phase.
        offset: usize,
    },
}

/// How a message's payload is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coding {
    /// As is.
    Plain,
    /// Compressed with permessage-deflate (its first frame had RSV1).
    Deflated,
}

/// The data message being read.
#[derive(Clone, Copy, Debug)]
struct InMessage {
    kind: MessageKind,
    coding: Coding,
    /// The current frame has FIN set: the message ends with it.
    last_frame: bool,
    /// Payload bytes declared so far, as on the wire.
    size: u64,
    /// Payload bytes delivered so far (after inflating, for a compressed message).
    delivered: u64,
    /// Present for text messages.
    utf8: Option<Utf8Validator>,
}

/// The read half of a connection's protocol state.
pub(crate) struct Reader {
    buf: ReadBuf,
    role: Role,
    max_frame_size: u64,
    max_message_size: u64,
    frame: FramePhase,
    message: Option<InMessage>,
    /// Present when permessage-deflate was negotiated.
    inflater: Option<Inflater>,
    /// For a compressed frame: how many bytes at the front of the buffer are already
    /// unmasked (inflating may leave input behind for the next call).
    unmasked: usize,
    /// A whole-message read that stopped and can be repeated (a timeout between frames, a
    /// stream that would block): the message's kind and what was read of it, for the next
    /// whole-message read to continue.
    pending: Option<Partial>,
    /// A streamed read ([`MessageReader`](crate::MessageReader)) stopped in the middle of
    /// its message at a stream that would block: the next `next_reader` continues it.
    interrupted: bool,
    /// Set once the stream state is unusable: every later call returns it.
    failed: Option<Sticky>,
    /// Bytes zeroed to make room for whole-message reads: the tests count work with it.
    #[cfg(test)]
    zeroed: usize,
}

impl Reader {
    pub(crate) fn new(
        role: Role,
        config: &Config,
        leftover: &[u8],
        deflate: Option<DeflateParams>,
    ) -> Reader {
        Reader {
            buf: ReadBuf::new(config.read_buffer_size(), leftover),
            role,
            max_frame_size: config.max_frame_size(),
            max_message_size: config.max_message_size(),
            frame: FramePhase::Header,
            message: None,
            inflater: deflate.map(|params| params.inflater(role)),
            unmasked: 0,
            pending: None,
            interrupted: false,
            #[cfg(test)]
            zeroed: 0,
            failed: None,
        }
    }

    /// Reads a whole message onto `out` (cleared first), continuing one a stopped call left
    /// behind. With `expect`, a message of the other kind is skipped and reported; over
    /// `limit` bytes it is skipped and reported too. A stop that loses nothing (a timeout
    /// between frames, a stream that would block) keeps what was read, so that the same
    /// call, repeated, returns the whole message.
    pub(crate) fn read_whole<W: Wire + ?Sized>(
        &mut self,
        wire: &mut W,
        out: &mut Vec<u8>,
        limit: usize,
        expect: Option<MessageKind>,
    ) -> Result<MessageKind> {
        let (kind, mut filled) = match self.pending.take() {
            // Moved, not copied: a message that arrives a little at a time over a
            // non-blocking stream costs linear work however often the read would block.
            Some(Partial { kind, data, filled }) => {
                *out = data;
                (kind, filled)
            }
            // `out`'s old contents are scratch space, overwritten and then cut off.
            None => match self.next_message(wire) {
                Ok(kind) => (kind, 0),
                Err(e) => {
                    out.clear();
                    return Err(e);
                }
            },
        };
        if expect.is_some_and(|k| k != kind) {
            out.clear();
            self.discard(wire)?;
            return Err(Error::UnexpectedKind(kind));
        }
        let result = self.read_to_end(wire, out, &mut filled, limit);
        match result {
            Err(e) if e.is_resumable() && self.message.is_some() => {
                let data = std::mem::take(out);
                self.pending = Some(Partial { kind, data, filled });
                Err(e)
            }
            result => {
                out.truncate(filled);
                result.map(|()| kind)
            }
        }
    }

    /// Reads a whole binary message into `dst`, as [`read_whole`](Self::read_whole) does.
    pub(crate) fn read_whole_into<W: Wire + ?Sized>(
        &mut self,
        wire: &mut W,
        dst: &mut [u8],
    ) -> Result<usize> {
        let (kind, mut filled) = match &self.pending {
            Some(partial) if partial.filled <= dst.len() => {
                // Resumed: the rest is read as a whole message is (the part read so far is
                // moved, not copied, at each call), then copied once.
                let mut data = Vec::new();
                self.read_whole(wire, &mut data, dst.len(), Some(MessageKind::Binary))?;
                dst[..data.len()].copy_from_slice(&data);
                return Ok(data.len());
            }
            Some(partial) => {
                // Repeated with a smaller buffer than the part already read.
                let limit = dst.len().min(partial.filled);
                self.pending = None;
                self.discard(wire)?;
                return Err(Error::MessageTooLong { limit });
            }
            None => (self.next_message(wire)?, 0),
        };
        if kind != MessageKind::Binary {
            self.discard(wire)?;
            return Err(Error::UnexpectedKind(kind));
        }
        loop {
            let step = if filled == dst.len() {
                if !self.in_message() {
                    return Ok(filled);
                }
                // Full: is there more? One byte decides.
                self.read(wire, &mut [0; 1]).map(|n| (n, true))
            } else {
                self.read(wire, &mut dst[filled..]).map(|n| (n, false))
            };
            match step {
                Ok((0, _)) => return Ok(filled),
                Ok((_, true)) => {
                    self.discard(wire)?;
                    return Err(Error::MessageTooLong { limit: dst.len() });
                }
                Ok((n, false)) => filled += n,
                Err(e) if e.is_resumable() && self.message.is_some() => {
                    let data = dst[..filled].to_vec();
                    self.pending = Some(Partial { kind, data, filled });
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Changes the message limit from the next frame on.
    pub(crate) fn set_max_message_size(&mut self, bytes: u64) {
        self.max_message_size = bytes;
    }

    /// A streamed read of the current message stopped at a stream that would block (or
    /// went on, `false`).
    pub(crate) fn set_interrupted(&mut self, interrupted: bool) {
        self.interrupted = interrupted && self.message.is_some();
    }

    /// The kind of the message a streamed read stopped in, to continue it.
    pub(crate) fn take_interrupted(&mut self) -> Option<MessageKind> {
        if !std::mem::take(&mut self.interrupted) {
            return None;
        }
        self.message.as_ref().map(|m| m.kind)
    }

    /// Whether the reader has failed for good (nothing more can be read).
    pub(crate) fn has_failed(&self) -> bool {
        self.failed.is_some()
    }

    /// Whether a message is partly read.
    pub(crate) fn in_message(&self) -> bool {
        self.message.is_some()
    }

    /// Payload bytes left in the current frame, if inside one.
    pub(crate) fn frame_remaining(&self) -> u64 {
        match self.frame {
            FramePhase::Payload { remaining, .. } => remaining,
            FramePhase::Header => 0,
        }
    }

    /// A failure of this reader repeats; after the closing handshake, nothing is read.
    fn check<W: Wire + ?Sized>(&self, wire: &W) -> Result<()> {
        match self.failed {
            Some(sticky) => Err(sticky.to_error()),
            None if wire.is_closed() => Err(Error::AlreadyClosed),
            None => Ok(()),
        }
    }

    /// Skips the rest of the current message, if any, and reads up to the first frame of the
    /// next data message, handling control frames on the way.
    pub(crate) fn next_message<W: Wire + ?Sized>(&mut self, wire: &mut W) -> Result<MessageKind> {
        self.check(wire)?;
        // A timed-out whole-message read left this behind; the message is being skipped.
        self.pending = None;
        self.interrupted = false;
        while self.message.is_some() {
            self.discard(wire)?;
        }
        self.next_data_frame(wire)?;
        Ok(self
            .message
            .as_ref()
            .map_or(MessageKind::Binary, |m| m.kind))
    }

    /// Reads payload of the current message into `dst`; `Ok(0)` at its end (or when `dst`
    /// is empty, or when no message is in progress).
    pub(crate) fn read<W: Wire + ?Sized>(&mut self, wire: &mut W, dst: &mut [u8]) -> Result<usize> {
        self.check(wire)?;
        loop {
            let Some(message) = self.message else {
                return Ok(0);
            };
            if message.coding == Coding::Deflated {
                return self.read_compressed(wire, dst);
            }
            if self.frame_remaining() > 0 {
                if dst.is_empty() {
                    return Ok(0);
                }
                return self.read_payload(wire, dst);
            }
            if message.last_frame {
                self.message = None;
                self.frame = FramePhase::Header;
                if message.utf8.is_some_and(|v| v.finish().is_err()) {
                    return Err(self.fail(wire, ProtocolError::InvalidUtf8.into()));
                }
                return Ok(0);
            }
            self.next_data_frame(wire)?;
        }
    }

    /// Reads and drops the rest of the current message (still checking its UTF-8).
    pub(crate) fn discard<W: Wire + ?Sized>(&mut self, wire: &mut W) -> Result<()> {
        let mut scratch = [0u8; 2048];
        while self.read(wire, &mut scratch)? > 0 {}
        Ok(())
    }

    /// Reads the rest of the current message into `out`, after the `filled` bytes of it
    /// already there (`filled` counts what arrives); whatever `out` holds beyond them is
    /// overwritten (reusing a buffer this way saves zeroing it again for every message), and
    /// is the caller's to cut off. `out` grows as the payload arrives, never by more than
    /// doubling, and never by a declared length alone. A message over `limit` bytes is read
    /// to its end, dropped, and reported as [`Error::MessageTooLong`]; `out` then holds its
    /// first `limit` bytes.
    pub(crate) fn read_to_end<W: Wire + ?Sized>(
        &mut self,
        wire: &mut W,
        out: &mut Vec<u8>,
        filled: &mut usize,
        limit: usize,
    ) -> Result<()> {
        loop {
            if *filled >= limit {
                break match self.read(wire, &mut [0u8; 1]) {
                    Ok(0) => Ok(()),
                    Ok(_) => self.discard(wire).and(Err(Error::MessageTooLong { limit })),
                    Err(e) => Err(e),
                };
            }
            if *filled == out.len() {
                // Expose room for the next read: up to what the frame still declares, at
                // most 64 KiB (or what has arrived) ahead of the bytes actually here.
                let remaining = self.frame_remaining();
                let mut step = match remaining {
                    0 => 1024,
                    r => r.min((*filled).max(64 << 10) as u64) as usize,
                }
                .min(limit - *filled);
                let spare = out.capacity() - *filled;
                if spare >= step.min(64 << 10) {
                    // Room enough already: read into it. (A message that arrives a little
                    // per call, over a non-blocking stream, would otherwise grow the buffer
                    // a little per call.)
                    step = step.min(spare);
                } else {
                    // Grow geometrically in what has arrived (amortized, so a message of
                    // many tiny fragments is linear), never past the current frame's end.
                    let frame_end = usize::try_from(remaining).unwrap_or(usize::MAX).max(step);
                    let extra = step.max((*filled).min(frame_end)).min(limit - *filled);
                    out.reserve_exact(extra);
                }
                #[cfg(test)]
                {
                    self.zeroed += *filled + step - out.len();
                }
                out.resize(*filled + step, 0);
            }
            let end = out.len().min(limit);
            match self.read(wire, &mut out[*filled..end]) {
                Ok(0) => break Ok(()),
                Ok(n) => *filled += n,
                Err(e) => break Err(e),
            }
        }
    }

    /// Reads headers until the next data frame, dispatching control frames, and installs it.
    fn next_data_frame<W: Wire + ?Sized>(&mut self, wire: &mut W) -> Result<()> {
        loop {
            let (header, header_len) = self.peek_header(wire)?;
            if let Err(e) = self.check_header(&header) {
                return Err(self.fail(wire, e));
            }
            if header.opcode.is_control() {
                self.read_control(wire, header, header_len)?;
                continue;
            }
            self.buf.consume(header_len);
            self.unmasked = 0;
            let message = self.message.get_or_insert(InMessage {
                kind: if header.opcode == OpCode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                },
                coding: if header.rsv1 {
                    Coding::Deflated
                } else {
                    Coding::Plain
                },
                last_frame: false,
                size: 0,
                delivered: 0,
                utf8: (header.opcode == OpCode::Text).then(Utf8Validator::default),
            });
            message.last_frame = header.fin;
            message.size += header.payload_len;
            self.frame = FramePhase::Payload {
                remaining: header.payload_len,
                masking_key: header.masking_key,
                offset: 0,
            };
            return Ok(());
        }
    }

    /// Parses the next header from the buffer, reading until it is complete. Consumes nothing.
    fn peek_header<W: Wire + ?Sized>(&mut self, wire: &mut W) -> Result<(FrameHeader, usize)> {
        loop {
            match FrameHeader::parse(self.buf.filled()) {
                Ok(Some(parsed)) => return Ok(parsed),
                Ok(None) => self.fill(wire)?,
                Err(e) => return Err(self.fail(wire, e.into())),
            }
        }
    }

    /// The rules a header breaks given the role, the negotiated extension (RSV1 means
    /// compressed only with permessage-deflate), the message in progress and the limits.
    fn check_header(&self, header: &FrameHeader) -> Result<(), Failure> {
        if header.rsv2 || header.rsv3 || (header.rsv1 && self.inflater.is_none()) {
            return Err(ProtocolError::ReservedBits.into());
        }
        if header.rsv1 && !matches!(header.opcode, OpCode::Text | OpCode::Binary) {
            // RFC 7692 6.1: RSV1 marks the first frame of a compressed message only.
            return Err(ProtocolError::MisplacedCompressionBit.into());
        }
        match (self.role, header.masking_key.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame.into()),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame.into()),
            _ => {}
        }
        if header.opcode.is_control() {
            return Ok(());
        }
        match (header.opcode, &self.message) {
            (OpCode::Continuation, None) => {
                return Err(ProtocolError::UnexpectedContinuation.into());
            }
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation.into());
            }
            _ => {}
        }
        if header.payload_len > self.max_frame_size {
            return Err(CapacityError::FrameTooLarge {
                len: header.payload_len,
                limit: self.max_frame_size,
            }
            .into());
        }
        let size = self.message.map_or(0, |m| m.size);
        let compressed = self
            .message
            .map_or(header.rsv1, |m| m.coding == Coding::Deflated);
        // The limit counts delivered bytes. Uncompressed, that is the declared length; a
        // compressed message is counted as it inflates, and its wire size may only exceed
        // the limit by deflate's worst-case overhead on incompressible data.
        let wire_limit = if compressed {
            let m = self.max_message_size;
            m.saturating_add(m / 1024).saturating_add(1024)
        } else {
            self.max_message_size
        };
        if size.saturating_add(header.payload_len) > wire_limit {
            return Err(CapacityError::MessageTooLarge {
                limit: self.max_message_size,
            }
            .into());
        }
        Ok(())
    }

    /// Reads a whole control frame (header at the start of the buffer) and hands it over.
    fn read_control<W: Wire + ?Sized>(
        &mut self,
        wire: &mut W,
        header: FrameHeader,
        header_len: usize,
    ) -> Result<()> {
        let len = header.payload_len as usize;
        while self.buf.len() < header_len + len {
            self.fill(wire)?;
        }
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let payload = &mut payload[..len];
        payload.copy_from_slice(&self.buf.filled()[header_len..header_len + len]);
        self.buf.consume(header_len + len);
        if let Some(key) = header.masking_key {
            apply_mask(payload, key, 0);
        }
        match header.opcode {
            OpCode::Ping => wire.control(Control::Ping(payload)),
            OpCode::Pong => wire.control(Control::Pong(payload)),
            _ => {
                let frame = match frame::parse_close(payload) {
                    Ok(frame) => frame,
                    Err(e) => return Err(self.fail(wire, e.into())),
                };
                wire.control(Control::Close(frame))
            }
        }
    }

    /// Reads inflated payload of the current compressed message into `dst` (not empty).
    /// Inflating is bounded by `dst` and never goes more than one byte past the message
    /// limit, so a small frame that inflates to gigabytes costs no more memory than `dst`.
    fn read_compressed<W: Wire + ?Sized>(&mut self, wire: &mut W, dst: &mut [u8]) -> Result<usize> {
        if dst.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(message) = self.message else {
                return Ok(0);
            };
            let allowed = self
                .max_message_size
                .saturating_sub(message.delivered)
                .saturating_add(1);
            let out_len = (dst.len() as u64).min(allowed) as usize;
            let out = &mut dst[..out_len];
            let remaining = self.frame_remaining();
            if remaining == 0 && !message.last_frame {
                self.next_data_frame(wire)?;
                continue;
            }
            if remaining > 0 && self.buf.len() == 0 {
                self.fill(wire)?;
            }
            let avail = remaining.min(self.buf.len() as u64) as usize;
            self.unmask_compressed(avail);
            let Some(inflater) = &mut self.inflater else {
                // Unreachable: check_header refuses RSV1 unless deflate was negotiated.
                return Err(self.fail(wire, ProtocolError::ReservedBits.into()));
            };
            let written = if remaining > 0 {
                let Ok(step) = inflater.inflate(&self.buf.filled()[..avail], out) else {
                    return Err(self.fail(wire, ProtocolError::InvalidDeflateData.into()));
                };
                self.buf.consume(step.taken);
                self.unmasked -= step.taken;
                if let FramePhase::Payload {
                    remaining, offset, ..
                } = &mut self.frame
                {
                    *remaining -= step.taken as u64;
                    *offset = (*offset + step.taken) & 3;
                }
                if step.taken == 0 && step.written == 0 && !step.ended {
                    // Input and room, yet no progress: the stream is broken.
                    return Err(self.fail(wire, ProtocolError::InvalidDeflateData.into()));
                }
                step.written
            } else {
                // The payload is all in: the tail the sender stripped, then drain.
                match inflater.finish(out) {
                    Ok(Finished::Output(written)) => written,
                    Ok(Finished::Done) => return self.end_compressed(wire).map(|()| 0),
                    Err(_) => {
                        return Err(self.fail(wire, ProtocolError::InvalidDeflateData.into()));
                    }
                }
            };
            if written > 0 {
                return self.deliver(wire, &dst[..written]).map(|()| written);
            }
        }
    }

    /// Unmasks the buffered bytes of the current compressed frame not yet unmasked, up to
    /// `avail`.
    fn unmask_compressed(&mut self, avail: usize) {
        if self.unmasked >= avail {
            return;
        }
        if let FramePhase::Payload {
            masking_key: Some(key),
            offset,
            ..
        } = self.frame
        {
            let start = self.buf.pos + self.unmasked;
            apply_mask(
                &mut self.buf.data[start..self.buf.pos + avail],
                key,
                offset + self.unmasked,
            );
        }
        self.unmasked = avail;
    }

    /// Counts inflated bytes against the message limit and checks their UTF-8.
    fn deliver<W: Wire + ?Sized>(&mut self, wire: &mut W, bytes: &[u8]) -> Result<()> {
        let Some(message) = &mut self.message else {
            return Ok(());
        };
        message.delivered += bytes.len() as u64;
        if message.delivered > self.max_message_size {
            let limit = self.max_message_size;
            return Err(self.fail(wire, CapacityError::MessageTooLarge { limit }.into()));
        }
        if let Some(utf8) = &mut message.utf8 {
            if utf8.feed(bytes).is_err() {
                return Err(self.fail(wire, ProtocolError::InvalidUtf8.into()));
            }
        }
        Ok(())
    }

    /// A compressed message has been inflated to its end.
    fn end_compressed<W: Wire + ?Sized>(&mut self, wire: &mut W) -> Result<()> {
        let message = self.message.take();
        self.frame = FramePhase::Header;
        if let Some(inflater) = &mut self.inflater {
            inflater.end_message();
        }
        if message
            .and_then(|m| m.utf8)
            .is_some_and(|v| v.finish().is_err())
        {
            return Err(self.fail(wire, ProtocolError::InvalidUtf8.into()));
        }
        Ok(())
    }

    /// Reads payload of the current frame (which has bytes left) into `dst`.
    fn read_payload<W: Wire + ?Sized>(&mut self, wire: &mut W, dst: &mut [u8]) -> Result<usize> {
        let FramePhase::Payload {
            remaining,
            masking_key,
            offset,
        } = self.frame
        else {
            unreachable!("read_payload outside a payload");
        };
        let want = remaining.min(dst.len() as u64) as usize;
        let dst = &mut dst[..want];
        let n = if self.buf.len() > 0 {
            self.buf.take_into(dst)
        } else if want >= self.buf.base {
            // A large read: straight from the stream into the caller's buffer.
            match wire.read(dst) {
                Ok(0) => return Err(self.eof(wire)),
                Ok(n) => n,
                Err(e) => return Err(self.stopped(wire, e)),
            }
        } else {
            self.fill(wire)?;
            self.buf.take_into(dst)
        };
        let got = &mut dst[..n];
        if let Some(key) = masking_key {
            apply_mask(got, key, offset);
        }
        self.frame = FramePhase::Payload {
            remaining: remaining - n as u64,
            masking_key,
            offset: (offset + n) & 3,
        };
        if let Some(message) = &mut self.message {
            if let Some(utf8) = &mut message.utf8 {
                if utf8.feed(got).is_err() {
                    return Err(self.fail(wire, ProtocolError::InvalidUtf8.into()));
                }
            }
        }
        Ok(n)
    }

    /// One read into the buffer; the end of the stream is an error here.
    fn fill<W: Wire + ?Sized>(&mut self, wire: &mut W) -> Result<()> {
        match self.buf.fill(wire) {
            Ok(0) => Err(self.eof(wire)),
            Ok(_) => Ok(()),
            Err(e) => Err(self.stopped(wire, e)),
        }
    }

    fn eof<W: Wire + ?Sized>(&mut self, wire: &mut W) -> Error {
        let what = "the peer closed the connection without a close frame";
        self.end(wire, Sticky::Io(io::ErrorKind::UnexpectedEof, what))
    }

    /// The connection ends without a close frame from the peer; records `sticky`. If it had
    /// been closed from this side already, that is what the read reports (and the closing
    /// handshake's state says it is over).
    fn end<W: Wire + ?Sized>(&mut self, wire: &mut W, sticky: Sticky) -> Error {
        match wire.abort() {
            Some(status) => Error::Closed(status),
            None => {
                self.failed = Some(sticky);
                sticky.to_error()
            }
        }
    }

    /// Whether the stream is in the middle of a frame: part of a header buffered, or payload
    /// still to come.
    fn mid_frame(&self) -> bool {
        match self.frame {
            FramePhase::Payload { remaining, .. } => remaining > 0,
            FramePhase::Header => self.buf.len() > 0,
        }
    }

    /// A read that brought no bytes. A stream that would block changes nothing: the call can
    /// be repeated, in the middle of a frame too. A timeout between frames is
    /// [`Error::Timeout`] and changes nothing either; in the middle of a frame it poisons
    /// the connection, unless it was the write side's (the read never began). A silent
    /// peer (the keepalive's verdict) and any other error end the connection.
    fn stopped<W: Wire + ?Sized>(&mut self, wire: &mut W, e: ReadError) -> Error {
        match e {
            ReadError::WouldBlock(e) => Error::Io(e),
            ReadError::TimedOut | ReadError::WriteTimedOut if !self.mid_frame() => Error::Timeout,
            // Our write side stalled before the read began: the read side lost nothing.
            ReadError::WriteTimedOut => Error::Timeout,
            ReadError::TimedOut => self.end(wire, Sticky::Poisoned(Poison::ReadTimeoutMidFrame)),
            ReadError::PeerSilent => {
                // Tell the peer, in case it still listens, and end.
                wire.fail(CloseCode::GOING_AWAY, "keepalive timeout");
                self.failed = Some(Sticky::Keepalive);
                Error::KeepaliveTimeout
            }
            ReadError::GoingAway => {
                wire.fail(CloseCode::GOING_AWAY, "going away");
                self.failed = Some(Sticky::GoingAway);
                Error::GoingAway
            }
            ReadError::Io(e) => {
                match self.end(wire, Sticky::Io(e.kind(), "an earlier read failed")) {
                    // An error of ours the stream carried (a TLS failure) comes out typed.
                    Error::Io(_) => Error::from(e),
                    closed => closed,
                }
            }
        }
    }

    /// The peer broke a rule: tell the wire to send the close frame, and fail for good.
    fn fail<W: Wire + ?Sized>(&mut self, wire: &mut W, failure: Failure) -> Error {
        let (sticky, code, reason) = match failure {
            Failure::Protocol(e) => (Sticky::Protocol(e), e.close_code(), e.reason()),
            Failure::Capacity(e) => (Sticky::Capacity(e), CloseCode::MESSAGE_TOO_BIG, e.reason()),
        };
        let err = sticky.to_error();
        self.failed = Some(sticky);
        wire.fail(code, reason);
        err
    }
}

/// A rule the peer broke.
#[derive(Clone, Copy, Debug)]
enum Failure {
    Protocol(ProtocolError),
    Capacity(CapacityError),
}

impl From<ProtocolError> for Failure {
    fn from(e: ProtocolError) -> Failure {
        Failure::Protocol(e)
    }
}

impl From<CapacityError> for Failure {
    fn from(e: CapacityError) -> Failure {
        Failure::Capacity(e)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::deflate::codec::{self, Context, Deflater, Flush, Part};
    use crate::frame::MAX_HEADER_LEN;

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    /// A frame as a client sends it (masked), with RSV1 as given.
    fn frame(opcode: OpCode, fin: bool, rsv1: bool, payload: &[u8]) -> Vec<u8> {
        let mut header = FrameHeader::new(opcode, fin, payload.len() as u64);
        header.rsv1 = rsv1;
        header.masking_key = Some(KEY);
        let mut head = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut head);
        let mut out = head[..n].to_vec();
        let start = out.len();
        out.extend_from_slice(payload);
        apply_mask(&mut out[start..], KEY, 0);
        out
    }

    /// A wire over bytes in memory, `chunk` bytes per read, with stops injected at offsets.
    struct TestWire {
        input: Vec<u8>,
        at: usize,
        chunk: usize,
        /// Each stop applies once, to the first read at or past its offset.
        stops: VecDeque<(usize, fn() -> ReadError)>,
        controls: Vec<String>,
        failed: Option<CloseCode>,
        closed: bool,
    }

    impl TestWire {
        fn new(input: Vec<u8>, chunk: usize) -> TestWire {
            TestWire {
                input,
                at: 0,
                chunk,
                stops: VecDeque::new(),
                controls: Vec::new(),
                failed: None,
                closed: false,
            }
        }
    }

    impl Wire for TestWire {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, ReadError> {
            let mut limit = self.chunk;
            if let Some(&(offset, stop)) = self.stops.front() {
                if offset <= self.at {
                    self.stops.pop_front();
                    return Err(stop());
                }
                limit = limit.min(offset - self.at);
            }
            let n = buf.len().min(limit).min(self.input.len() - self.at);
            buf[..n].copy_from_slice(&self.input[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }

        fn control(&mut self, frame: Control<'_>) -> Result<()> {
            match frame {
                Control::Ping(p) => self.controls.push(format!("ping {p:?}")),
                Control::Pong(p) => self.controls.push(format!("pong {p:?}")),
                Control::Close(f) => {
                    self.closed = true;
                    let status = CloseStatus::from_frame(f.as_ref(), crate::Initiator::Peer);
                    return Err(Error::Closed(status));
                }
            }
            Ok(())
        }

        fn fail(&mut self, code: CloseCode, _reason: &str) {
            self.failed = Some(code);
            self.closed = true;
        }

        fn abort(&mut self) -> Option<CloseStatus> {
            self.closed = true;
            None
        }

        fn is_closed(&self) -> bool {
            self.closed
        }
    }

    fn server_reader(config: &Config, deflate: Option<DeflateParams>) -> Reader {
        Reader::new(Role::Server, config, &[], deflate)
    }

    fn read_all(reader: &mut Reader, wire: &mut TestWire) -> Result<(MessageKind, Vec<u8>)> {
        let mut out = Vec::new();
        let kind = reader.read_whole(wire, &mut out, usize::MAX, None)?;
        Ok((kind, out))
    }

    #[test]
    fn every_length_boundary_arrives_whole_through_one_byte_reads() {
        for len in [0usize, 1, 125, 126, 127, 65535, 65536] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let mut wire = TestWire::new(frame(OpCode::Binary, true, false, &payload), 1);
            let mut reader = server_reader(&Config::default(), None);
            let got = read_all(&mut reader, &mut wire).unwrap();
            assert_eq!(got, (MessageKind::Binary, payload), "length {len}");
        }
    }

    #[test]
    fn a_ping_between_fragments_goes_to_the_wire_and_the_message_stays_whole() {
        let mut input = frame(OpCode::Text, false, false, "κό".as_bytes());
        input.extend(frame(OpCode::Ping, true, false, b"hi"));
        input.extend(frame(OpCode::Continuation, true, false, "σμε".as_bytes()));
        let mut wire = TestWire::new(input, 3);
        let mut reader = server_reader(&Config::default(), None);
        let (kind, text) = read_all(&mut reader, &mut wire).unwrap();
        assert_eq!(
            (kind, text),
            (MessageKind::Text, "κόσμε".as_bytes().to_vec())
        );
        assert_eq!(wire.controls, ["ping [104, 105]"]);
    }

    #[test]
    fn a_broken_rule_fails_with_its_close_code_and_the_error_repeats() {
        let mut input = frame(OpCode::Binary, true, false, b"x");
        input[0] = 0x83; // reserved opcode 3
        let mut wire = TestWire::new(input, 64);
        let mut reader = server_reader(&Config::default(), None);
        let first = read_all(&mut reader, &mut wire).unwrap_err();
        assert!(matches!(
            first,
            Error::Protocol(ProtocolError::ReservedOpcode(3))
        ));
        assert_eq!(wire.failed, Some(CloseCode::PROTOCOL_ERROR));
        wire.closed = false;
        let again = read_all(&mut reader, &mut wire).unwrap_err();
        assert!(matches!(
            again,
            Error::Protocol(ProtocolError::ReservedOpcode(3))
        ));
    }

    #[test]
    fn an_unmasked_client_frame_and_bad_text_get_their_codes() {
        let mut unmasked = frame(OpCode::Binary, true, false, b"");
        unmasked[1] &= 0x7f;
        unmasked.truncate(2);
        let mut wire = TestWire::new(unmasked, 64);
        let err = read_all(&mut server_reader(&Config::default(), None), &mut wire).unwrap_err();
        assert!(matches!(err, Error::Protocol(ProtocolError::UnmaskedFrame)));

        let mut wire = TestWire::new(frame(OpCode::Text, true, false, b"ok\xff"), 64);
        let err = read_all(&mut server_reader(&Config::default(), None), &mut wire).unwrap_err();
        assert!(matches!(err, Error::Protocol(ProtocolError::InvalidUtf8)));
        assert_eq!(wire.failed, Some(CloseCode::INVALID_PAYLOAD));
    }

    #[test]
    fn would_block_anywhere_resumes_without_losing_a_byte() {
        let payload: Vec<u8> = (0..300u16).map(|i| i as u8).collect();
        let mut input = frame(OpCode::Binary, false, false, &payload[..100]);
        input.extend(frame(OpCode::Ping, true, false, b"p"));
        input.extend(frame(OpCode::Continuation, true, false, &payload[100..]));
        for offset in 0..input.len() {
            let mut wire = TestWire::new(input.clone(), 7);
            wire.stops.push_back((offset, || {
                ReadError::WouldBlock(io::ErrorKind::WouldBlock.into())
            }));
            let mut reader = server_reader(&Config::default(), None);
            let got = loop {
                match read_all(&mut reader, &mut wire) {
                    Ok(got) => break got,
                    Err(e) => assert!(e.is_resumable(), "offset {offset}: {e}"),
                }
            };
            assert_eq!(
                got,
                (MessageKind::Binary, payload.clone()),
                "offset {offset}"
            );
            assert_eq!(wire.controls, ["ping [112]"], "offset {offset}");
        }
    }

    #[test]
    fn a_whole_message_trickled_over_many_calls_is_zeroed_once() {
        // 1 MiB in one frame, the stream would block every 2 KiB: 513 calls.
        let payload: Vec<u8> = (0..1 << 20).map(|i: u32| i as u8).collect();
        let input = frame(OpCode::Binary, true, false, &payload);
        let mut wire = TestWire::new(input.clone(), usize::MAX);
        for offset in (2048..input.len()).step_by(2048) {
            wire.stops.push_back((offset, || {
                ReadError::WouldBlock(io::ErrorKind::WouldBlock.into())
            }));
        }
        let mut reader = server_reader(&Config::default(), None);
        let mut calls = 0;
        let got = loop {
            calls += 1;
            let mut out = Vec::new();
            match reader.read_whole(&mut wire, &mut out, usize::MAX, None) {
                Ok(_) => break out,
                Err(e) => assert!(e.is_would_block(), "{e}"),
            }
        };
        assert_eq!(got, payload);
        assert!(calls > 500, "{calls} calls");
        // Room is zeroed as the buffer grows, and kept across calls: a small multiple of
        // the message, not a multiple per call.
        assert!(
            reader.zeroed <= 3 * payload.len(),
            "{} bytes zeroed over {calls} calls for a {}-byte message",
            reader.zeroed,
            payload.len()
        );
    }

    #[test]
    fn a_timeout_between_frames_is_harmless_and_inside_one_poisons() {
        let input = frame(OpCode::Binary, true, false, b"hello");
        let mut wire = TestWire::new(input.clone(), 64);
        wire.stops.push_back((0, || ReadError::TimedOut));
        let mut reader = server_reader(&Config::default(), None);
        assert!(matches!(
            read_all(&mut reader, &mut wire),
            Err(Error::Timeout)
        ));
        assert_eq!(read_all(&mut reader, &mut wire).unwrap().1, b"hello");

        let mut wire = TestWire::new(input, 64);
        wire.stops.push_back((3, || ReadError::TimedOut));
        let mut reader = server_reader(&Config::default(), None);
        let err = read_all(&mut reader, &mut wire).unwrap_err();
        assert!(
            matches!(err, Error::Poisoned(Poison::ReadTimeoutMidFrame)),
            "{err}"
        );
    }

    #[test]
    fn a_silent_peer_is_told_going_away() {
        let mut wire = TestWire::new(Vec::new(), 64);
        wire.stops.push_back((0, || ReadError::PeerSilent));
        let mut reader = server_reader(&Config::default(), None);
        assert!(matches!(
            read_all(&mut reader, &mut wire),
            Err(Error::KeepaliveTimeout)
        ));
        assert_eq!(wire.failed, Some(CloseCode::GOING_AWAY));
    }

    fn deflate_params() -> DeflateParams {
        DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }

    fn compress(data: &[u8]) -> Vec<u8> {
        let mut deflater = Deflater::new(6, 15, Context::Reset);
        let mut out = Vec::new();
        let mut input = data;
        loop {
            let room = out.len().max(1024);
            let before = out.len();
            input = &input[deflater.compress(input, &mut out, room, Flush::EndOfMessage)..];
            if input.is_empty() && out.len() - before < room {
                break;
            }
        }
        codec::end_payload(&mut out, 0, Part::Whole);
        out
    }

    #[test]
    fn a_compressed_message_inflates_in_fragments_through_one_byte_reads() {
        let text = "compressible text, compressible text, compressible text".repeat(20);
        let wire_bytes = compress(text.as_bytes());
        let (a, b) = wire_bytes.split_at(wire_bytes.len() / 3);
        let mut input = frame(OpCode::Text, false, true, a);
        input.extend(frame(OpCode::Continuation, true, false, b));
        let mut wire = TestWire::new(input, 1);
        let mut reader = server_reader(&Config::default(), Some(deflate_params()));
        let got = read_all(&mut reader, &mut wire).unwrap();
        assert_eq!(got, (MessageKind::Text, text.into_bytes()));
    }

    #[test]
    fn a_deflate_bomb_stops_at_the_message_limit() {
        let bomb = compress(&vec![0u8; 4 << 20]);
        let mut wire = TestWire::new(frame(OpCode::Binary, true, true, &bomb), 4096);
        let config = Config::builder().max_message_size(1 << 20).build();
        let mut reader = server_reader(&config, Some(deflate_params()));
        let err = read_all(&mut reader, &mut wire).unwrap_err();
        assert!(matches!(
            err,
            Error::Capacity(CapacityError::MessageTooLarge { .. })
        ));
        assert_eq!(wire.failed, Some(CloseCode::MESSAGE_TOO_BIG));
    }

    #[test]
    fn rsv1_without_deflate_is_a_reserved_bit() {
        let mut wire = TestWire::new(frame(OpCode::Binary, true, true, b"x"), 64);
        let err = read_all(&mut server_reader(&Config::default(), None), &mut wire).unwrap_err();
        assert!(matches!(err, Error::Protocol(ProtocolError::ReservedBits)));
    }

    #[test]
    fn nothing_is_read_after_the_close() {
        let mut input = frame(OpCode::Close, true, false, &[0x03, 0xe8]);
        input.extend(frame(OpCode::Text, true, false, b"late"));
        let mut wire = TestWire::new(input, 64);
        let mut reader = server_reader(&Config::default(), None);
        assert!(matches!(
            read_all(&mut reader, &mut wire),
            Err(Error::Closed(_))
        ));
        assert!(matches!(
            read_all(&mut reader, &mut wire),
            Err(Error::AlreadyClosed)
        ));
    }
}
