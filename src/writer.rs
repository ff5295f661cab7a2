//! The write state machine: messages in, frames out.
//!
//! [`Writer`] owns the write buffer. Small frames are built in it, header and payload side by
//! side, so that they leave in one write (and, with [`FlushPolicy::Batched`], many frames in
//! one write). A large payload is not copied: the server writes buffered bytes, header and
//! payload with one vectored write; the client, which must mask, masks through the buffer in
//! chunks. A streamed message accumulates in the buffer behind a reserved header slot
//! (gorilla's trick) and is cut into a frame whenever the buffer fills.
//!
//! The writer does no I/O of its own choosing: bytes go to an [`Egress`], which applies the
//! write deadline and says how a write that moved nothing stalled.
//!
//! A stream that would block (a non-blocking socket) loses nothing: the writer stops
//! writing for the rest of the operation, which completes in the buffer (it is *queued*),
//! and [`Writer::flush`] sends the queue later, resuming wherever the stream stopped,
//! inside a frame too. Only a flush reports `WouldBlock`.

use std::io::{self, IoSlice};

use crate::config::{Config, FlushPolicy};
use crate::deflate::DeflateParams;
use crate::deflate::codec::{self, Deflater, Flush, Part, TAIL};
use crate::error::{Error, InvalidInput, Poison, Result, Sticky};
use crate::frame::{FrameHeader, MAX_HEADER_LEN};
use crate::mask::{apply_mask, random_key};
use crate::prepared::PreparedMessage;
use crate::proto::{MessageKind, OpCode, Role};
use crate::stream::Stall;
use crate::utf8::{self, Utf8Validator};

/// The largest chunk a client masks at a time when writing a large payload.
const MAX_MASK_CHUNK: usize = 64 << 10;

/// The most the write buffer grows to while batches fill it.
const MAX_WRITE_BUFFER: usize = 64 << 10;

/// Above this many queued bytes a connection stops reading (non-blocking streams): a peer
/// that sends without reading what we answer cannot make the queue grow without bound.
pub(crate) const QUEUE_HIGH_WATER: usize = MAX_WRITE_BUFFER;

/// Why a write to the stream moved no bytes.
#[derive(Debug)]
pub(crate) enum WriteError {
    /// A deadline passed, or a non-blocking stream would block.
    Stalled(Stall),
    /// The stream failed.
    Io(io::Error),
}

/// Where the writer's bytes go: the stream, with the write deadline applied. Interrupted
/// calls are retried inside; every other failure is classified.
pub(crate) trait Egress {
    /// Writes some of `buf`; `Ok(0)` means the stream accepts nothing more.
    fn write(&mut self, buf: &[u8]) -> Result<usize, WriteError>;
    /// Writes some of `bufs`, in order.
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> Result<usize, WriteError>;
    /// Flushes the stream.
    fn flush(&mut self) -> Result<(), WriteError>;
}

/// How an internal step stopped: a stall, which the operation settles (see
/// [`Writer::settle`]), or an error to report as is.
#[derive(Debug)]
enum Stop {
    Stalled(Stall),
    Failed(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Failed(e)
    }
}

type Step<T = ()> = std::result::Result<T, Stop>;

/// What an operation that stalled before sending a byte leaves behind.
#[derive(Clone, Copy, Debug)]
enum Undo {
    /// The operation's frames start at this offset of the buffer: they are dropped, so the
    /// call can be repeated.
    DropFrom(usize),
    /// The operation added no frames: what is buffered stays, to go out later.
    Nothing,
    /// A streamed message is under way: part of it is out or buffered, so any stall leaves
    /// the stream in the middle of a message for good.
    Impossible,
}

/// Whether a frame ends its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fin {
    /// The last frame of the message (FIN set).
    Last,
    /// More frames follow.
    More,
}

/// How a message's payload is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coding {
    Plain,
    /// Compressed with permessage-deflate: the first frame has RSV1.
    Deflated,
}

/// Whether a streamed message's text still needs checking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TextCheck {
    /// Check each piece as it is written.
    Incremental,
    /// The whole payload was checked before streaming started.
    Done,
}

/// Which frames of a streamed message have gone into the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Emitted {
    /// None: the next frame is the first, with the message's opcode.
    Nothing,
    /// Some: the next frame is a continuation.
    Frames,
}

/// The least room a compressor's final flush is given in a frame.
const MIN_FLUSH_ROOM: usize = 64;

/// How large the frame being filled behind the slot may grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Growth {
    /// Up to the configured buffer size.
    Bounded,
    /// Up to the largest frame (a writer dropped unfinished does no I/O).
    Unbounded,
}

/// Whether the writer's connection is driven by an event loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// A blocking connection. A stream that would block anyway (its own timeout, as Unix
    /// sockets report it, or a non-blocking stream under `Conn::from_raw`) stops the
    /// operation: harmless before any byte went out, poisoning after. The buffer is kept
    /// while empty: the connection's thread writes again soon.
    Blocking,
    /// A non-blocking connection. A stream that would block queues the rest of the
    /// operation; the buffer is given back once empty (most of thousands of connections are
    /// idle); a write deadline that passes with bytes queued fails the writer.
    NonBlocking,
}

/// Whether the stream takes bytes during the current operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    /// Write when the buffer fills.
    Open,
    /// The stream would block: the rest of the operation is queued in the buffer.
    Blocked,
}

/// Where a compressed message's last frames go when it is ended.
enum Ending<'a, E> {
    /// To the stream, sending the buffer whenever it fills.
    Stream(&'a mut E),
    /// Into the buffer only, however large it grows (a writer dropped unfinished does no
    /// I/O).
    BufferOnly,
}

/// The message being streamed by a [`MessageWriter`](crate::MessageWriter).
#[derive(Clone, Copy, Debug)]
enum OutMessage {
    Idle,
    Streaming {
        kind: MessageKind,
        coding: Coding,
        emitted: Emitted,
        /// Where the reserved header slot of the frame being filled starts in the buffer;
        /// the frame's payload so far follows the slot.
        slot: Option<usize>,
        utf8: Option<Utf8Validator>,
    },
}

/// The write half of a connection's protocol state.
pub(crate) struct Writer {
    /// Bytes ready to send, then possibly a reserved slot and a partial frame payload.
    buf: Vec<u8>,
    /// The buffer's working size: the configured size, doubled (up to
    /// [`MAX_WRITE_BUFFER`]) while batches fill it, back to `base` when they are small.
    size: usize,
    /// The configured size.
    base: usize,
    /// The largest frame payload sent: longer messages go out in fragments.
    max_frame: usize,
    role: Role,
    policy: FlushPolicy,
    message: OutMessage,
    /// Present when permessage-deflate was negotiated.
    deflater: Option<Deflater>,
    /// `write_message` payloads shorter than this go uncompressed.
    threshold: usize,
    /// The application's per-message switch (gorilla's `EnableWriteCompression`).
    compress_writes: bool,
    /// Bytes written to the stream by the current operation, to tell a stall before
    /// anything went out (harmless) from one in the middle of a frame (fatal).
    progress: usize,
    /// Set once the stream state is unusable: every later call returns it.
    failed: Option<Sticky>,
    /// Whether the current operation may still write to the stream.
    flow: Flow,
    mode: Mode,
    /// The stream itself holds bytes (a TLS stream's records) that a flush that would have
    /// blocked did not get out.
    stream_unflushed: bool,
}

impl Writer {
    pub(crate) fn new(role: Role, config: &Config, deflate: Option<DeflateParams>) -> Writer {
        let deflate_config = config.deflate().cloned().unwrap_or_default();
        Writer {
            buf: Vec::new(),
            size: config.write_buffer_size(),
            base: config.write_buffer_size(),
            max_frame: config.max_outgoing_frame_size(),
            role,
            policy: config.flush_policy(),
            message: OutMessage::Idle,
            deflater: deflate.map(|params| params.deflater(role, &deflate_config)),
            threshold: deflate_config.threshold_bytes(),
            compress_writes: true,
            progress: 0,
            failed: None,
            flow: Flow::Open,
            mode: Mode::Blocking,
            stream_unflushed: false,
        }
    }

    /// Makes this the writer of a non-blocking connection (see [`Mode::NonBlocking`]).
    pub(crate) fn set_nonblocking(&mut self) {
        self.mode = Mode::NonBlocking;
    }

    /// The start of an operation: the stream is tried again.
    fn reopen(&mut self) {
        self.flow = Flow::Open;
    }

    /// Ends an operation. A stall before any byte went out is harmless when the operation
    /// can be undone (`undo`): [`Error::Timeout`], and the call can be repeated. After some
    /// bytes went out, the frame boundary is lost: [`Error::Poisoned`], for good. A stream
    /// that would block loses nothing (the operation is queued): only a flush returns it.
    fn settle<T>(&mut self, result: Step<T>, undo: Undo) -> Result<T> {
        let progress = std::mem::take(&mut self.progress);
        let stall = match result {
            Ok(value) => return Ok(value),
            Err(Stop::Failed(e)) => return Err(e),
            Err(Stop::Stalled(stall)) => stall,
        };
        if stall == Stall::WouldBlock && self.mode == Mode::NonBlocking {
            // Only a flush stops for a stream that would block; what it did not send stays
            // queued, nothing is lost.
            return Err(Error::Io(io::ErrorKind::WouldBlock.into()));
        }
        // Non-blocking, a deadline that passes with bytes queued fails the writer: they were
        // accepted, and cannot all go out in time.
        let queue_missed =
            self.mode == Mode::NonBlocking && (self.complete_end() > 0 || self.stream_unflushed);
        let harmless = progress == 0
            && !queue_missed
            && match undo {
                Undo::DropFrom(mark) => {
                    self.buf.truncate(mark);
                    true
                }
                Undo::Nothing => true,
                Undo::Impossible => false,
            };
        match (harmless, stall) {
            (true, Stall::TimedOut) => Err(Error::Timeout),
            (true, Stall::WouldBlock) => Err(Error::Io(io::ErrorKind::WouldBlock.into())),
            (false, stall) => {
                let poison = match stall {
                    Stall::TimedOut => Poison::WriteTimeoutMidFrame,
                    Stall::WouldBlock => Poison::WriteWouldBlockMidFrame,
                };
                self.failed = Some(Sticky::Poisoned(poison));
                Err(Error::Poisoned(poison))
            }
        }
    }

    /// Turns compression of the following messages on or off (when negotiated).
    pub(crate) fn set_compress_writes(&mut self, on: bool) {
        self.compress_writes = on;
    }

    /// Sets the compression level of the following messages.
    pub(crate) fn set_compression_level(&mut self, level: u32) {
        if let Some(deflater) = &mut self.deflater {
            deflater.set_level(level);
        }
    }

    /// Whether the next message would be compressed.
    fn compressing(&self) -> bool {
        self.compress_writes && self.deflater.as_ref().is_some_and(Deflater::can_compress)
    }

    /// A failure of this writer repeats.
    pub(crate) fn check(&self) -> Result<()> {
        match self.failed {
            Some(sticky) => Err(sticky.to_error()),
            None => Ok(()),
        }
    }

    /// Whether complete frames are waiting in the buffer (or in the stream, which a flush
    /// that would have blocked left there).
    pub(crate) fn has_pending(&self) -> bool {
        self.complete_end() > 0 || self.stream_unflushed
    }

    /// How many bytes of complete frames wait in the buffer.
    pub(crate) fn queued(&self) -> usize {
        self.complete_end()
    }

    /// The end of the complete frames in the buffer.
    fn complete_end(&self) -> usize {
        match self.message {
            OutMessage::Streaming { slot: Some(s), .. } => s,
            _ => self.buf.len(),
        }
    }

    /// Writes one whole message as a single frame (compressed: as a streamed message).
    pub(crate) fn write_message<E: Egress>(
        &mut self,
        w: &mut E,
        kind: MessageKind,
        data: &[u8],
    ) -> Result<()> {
        self.check()?;
        self.reopen();
        if kind == MessageKind::Text && utf8::check(data).is_err() {
            return Err(InvalidInput::InvalidUtf8.into());
        }
        debug_assert!(matches!(self.message, OutMessage::Idle));
        let undo = Undo::DropFrom(self.buf.len());
        let result = if self.compressing() && data.len() >= self.threshold {
            self.start(kind, Coding::Deflated, TextCheck::Done);
            let result = self
                .stream_write_inner(w, data)
                .and_then(|()| self.stream_finish_inner(w));
            if result.is_err() && self.progress == 0 {
                // Undone below (or poisoned): the compressor took input the peer never saw.
                self.message = OutMessage::Idle;
                if let Some(deflater) = &mut self.deflater {
                    deflater.reset();
                }
            }
            result
        } else {
            self.fragments(w, FrameHeader::new(kind.opcode(), true, 0), data)
                .and_then(|()| self.end_of_message(w))
        };
        self.settle(result, undo)
    }

    /// Writes a prepared message: compressed (with its shared compressed payload) when
    /// this message would be, else as `write_message` does.
    pub(crate) fn write_prepared<E: Egress>(
        &mut self,
        w: &mut E,
        prepared: &PreparedMessage,
    ) -> Result<()> {
        self.check()?;
        self.reopen();
        debug_assert!(matches!(self.message, OutMessage::Idle));
        let undo = Undo::DropFrom(self.buf.len());
        let kind = prepared.kind();
        let data = prepared.data();
        let window = match &self.deflater {
            Some(deflater) if self.compressing() && data.len() >= self.threshold => {
                Some(deflater.window_bits())
            }
            _ => None,
        };
        let mut header = FrameHeader::new(kind.opcode(), true, 0);
        let result = match window {
            Some(bits) => {
                header.rsv1 = true;
                let result = self.fragments(w, header, prepared.compressed(bits));
                // The peer's window now holds this message, ours does not: start afresh,
                // so that no later message refers to history the two sides disagree on.
                if let Some(deflater) = &mut self.deflater {
                    deflater.reset();
                }
                result
            }
            None => self.fragments(w, header, data),
        };
        let result = result.and_then(|()| self.end_of_message(w));
        self.settle(result, undo)
    }

    /// Writes a control frame (payload already checked to be at most 125 bytes). If a
    /// streamed message has a partial frame, that frame is emitted first: control frames may
    /// come between the frames of a message, never inside one.
    pub(crate) fn write_control<E: Egress>(
        &mut self,
        w: &mut E,
        opcode: OpCode,
        payload: &[u8],
    ) -> Result<()> {
        self.check()?;
        self.reopen();
        // A compressed message's last (up to) four bytes wait in the slot for the next frame
        // (they may be the tail to strip): they are lifted out while the control frame goes
        // in, and put back behind it.
        let mut held = [0u8; TAIL.len()];
        let mut held_len = 0;
        if let OutMessage::Streaming {
            slot: Some(s),
            coding,
            ..
        } = self.message
        {
            let keep = match coding {
                Coding::Deflated => held.len(),
                Coding::Plain => 0,
            };
            if self.buf.len() > s + MAX_HEADER_LEN + keep {
                self.emit(Fin::More);
            }
            if let Some(s) = self.slot() {
                let from = s + MAX_HEADER_LEN;
                held_len = self.buf.len() - from;
                held[..held_len].copy_from_slice(&self.buf[from..]);
                self.buf.truncate(s);
                self.set_slot(None);
            }
        }
        let undo = Undo::DropFrom(self.buf.len());
        let result = self
            .frame(w, FrameHeader::new(opcode, true, 0), payload)
            .and_then(|()| self.end_of_message(w));
        let result = self.settle(result, undo);
        if held_len > 0 {
            let slot = self.buf.len();
            self.buf.resize(slot + MAX_HEADER_LEN, 0);
            self.buf.extend_from_slice(&held[..held_len]);
            self.set_slot(Some(slot));
        }
        result
    }

    /// Sends the complete frames in the buffer and flushes the stream.
    pub(crate) fn flush<E: Egress>(&mut self, w: &mut E) -> Result<()> {
        self.check()?;
        self.reopen();
        let result = self.flush_inner(w);
        // Unsent frames stay buffered: a stall before any byte went out can be retried.
        self.settle(result, Undo::Nothing)
    }

    fn flush_inner<E: Egress>(&mut self, w: &mut E) -> Step {
        if self.complete_end() < self.size / 8 {
            // A small batch: the buffer need not stay large.
            self.size = self.base;
        }
        self.send_buffered(w)?;
        if self.flow == Flow::Blocked {
            return Err(Stop::Stalled(Stall::WouldBlock));
        }
        match w.flush() {
            Ok(()) => {
                self.stream_unflushed = false;
                Ok(())
            }
            Err(WriteError::Stalled(stall)) if self.mode == Mode::NonBlocking => {
                // The stream holds bytes it could not send (a TLS stream's records).
                self.stream_unflushed = true;
                self.flow = Flow::Blocked;
                Err(Stop::Stalled(stall))
            }
            Err(e) => Err(self.io_failed(e)),
        }
    }

    /// The buffer is full in the middle of a batch: send it, and let the next batch be
    /// bigger, so that a busy connection makes fewer, larger writes.
    fn send_full<E: Egress>(&mut self, w: &mut E) -> Step {
        if self.policy == FlushPolicy::Batched {
            self.size = (self.size * 2).min(MAX_WRITE_BUFFER.max(self.base));
        }
        self.send_buffered(w)
    }

    /// Starts streaming a message.
    pub(crate) fn begin(&mut self, kind: MessageKind) -> Result<()> {
        self.check()?;
        debug_assert!(matches!(self.message, OutMessage::Idle));
        let coding = if self.compressing() {
            Coding::Deflated
        } else {
            Coding::Plain
        };
        self.start(kind, coding, TextCheck::Incremental);
        Ok(())
    }

    fn start(&mut self, kind: MessageKind, coding: Coding, check: TextCheck) {
        let check_text = check == TextCheck::Incremental && kind == MessageKind::Text;
        self.message = OutMessage::Streaming {
            kind,
            coding,
            emitted: Emitted::Nothing,
            slot: None,
            utf8: check_text.then(Utf8Validator::default),
        };
    }

    /// Adds payload to the streamed message, emitting frames as the buffer fills.
    pub(crate) fn stream_write<E: Egress>(&mut self, w: &mut E, data: &[u8]) -> Result<()> {
        self.check()?;
        self.reopen();
        let result = self.stream_write_inner(w, data);
        self.settle(result, Undo::Impossible)
    }

    fn stream_write_inner<E: Egress>(&mut self, w: &mut E, mut data: &[u8]) -> Step {
        let OutMessage::Streaming { utf8, coding, .. } = &mut self.message else {
            return Err(Error::AlreadyClosed.into());
        };
        let coding = *coding;
        if let Some(v) = utf8 {
            if v.feed(data).is_err() {
                self.abandon();
                return Err(Error::from(InvalidInput::InvalidUtf8).into());
            }
        }
        if coding == Coding::Deflated {
            return self.stream_compress(w, data);
        }
        while !data.is_empty() {
            if self.slot().is_none() {
                if data.len() >= self.base {
                    // A large write and no partial frame: frames straight from `data`.
                    let header = FrameHeader::new(self.next_opcode(), false, 0);
                    self.fragments(w, header, data)?;
                    self.set_emitted();
                    return Ok(());
                }
                if self.buf.len() + MAX_HEADER_LEN >= self.size {
                    self.send_buffered(w)?;
                }
                let slot = self.buf.len();
                self.alloc();
                self.buf.resize(slot + MAX_HEADER_LEN, 0);
                self.set_slot(Some(slot));
            }
            let take = self.slot_room(Growth::Bounded).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.slot_room(Growth::Bounded) == 0 {
                self.emit(Fin::More);
                self.send_buffered(w)?;
            }
        }
        Ok(())
    }

    /// Emits the streamed message's partial frame, if any, and sends what is buffered.
    pub(crate) fn stream_flush<E: Egress>(&mut self, w: &mut E) -> Result<()> {
        self.check()?;
        self.reopen();
        if self
            .slot()
            .is_some_and(|s| self.buf.len() > s + MAX_HEADER_LEN)
        {
            self.emit(Fin::More);
        }
        let result = self.flush_inner(w);
        self.settle(result, Undo::Impossible)
    }

    /// Ends the streamed message with a final frame.
    pub(crate) fn stream_finish<E: Egress>(&mut self, w: &mut E) -> Result<()> {
        self.check()?;
        self.reopen();
        let result = self.stream_finish_inner(w);
        self.settle(result, Undo::Impossible)
    }

    fn stream_finish_inner<E: Egress>(&mut self, w: &mut E) -> Step {
        let OutMessage::Streaming { utf8, coding, .. } = self.message else {
            return Err(Error::AlreadyClosed.into());
        };
        if utf8.is_some_and(|v| v.finish().is_err()) {
            self.abandon();
            return Err(Error::from(InvalidInput::InvalidUtf8).into());
        }
        match coding {
            Coding::Deflated => self.finish_compressed(Ending::Stream(w))?,
            Coding::Plain if self.slot().is_some() => self.emit(Fin::Last),
            Coding::Plain => {
                let header = FrameHeader::new(self.next_opcode(), true, 0);
                self.frame(w, header, &[])?;
            }
        }
        self.message = OutMessage::Idle;
        self.end_of_message(w)
    }

    /// The application gave its writer up without finishing. Does no I/O (it runs in
    /// `Drop`): if nothing of the message has been emitted, it is forgotten; otherwise a
    /// final frame with what is buffered ends it early, to be sent with the next write or
    /// flush.
    pub(crate) fn abandon(&mut self) {
        let OutMessage::Streaming {
            emitted,
            slot,
            coding,
            ..
        } = self.message
        else {
            return;
        };
        match (coding, emitted, slot) {
            // The peer has part of the message: end it properly, in the buffer only.
            (Coding::Deflated, Emitted::Frames, _) => {
                let _ = self.finish_compressed::<NoEgress>(Ending::BufferOnly);
            }
            // Nothing left: forget it, and the input the compressor already took.
            (Coding::Deflated, Emitted::Nothing, _) => {
                if let Some(s) = slot {
                    self.buf.truncate(s);
                }
                if let Some(deflater) = &mut self.deflater {
                    deflater.reset();
                }
            }
            (Coding::Plain, Emitted::Nothing, Some(s)) => self.buf.truncate(s),
            (Coding::Plain, Emitted::Nothing, None) => {}
            (Coding::Plain, Emitted::Frames, Some(_)) => self.emit(Fin::Last),
            (Coding::Plain, Emitted::Frames, None) => {
                let mut header = FrameHeader::new(OpCode::Continuation, true, 0);
                if self.role == Role::Client {
                    header.masking_key = Some(random_key());
                }
                let mut bytes = [0u8; MAX_HEADER_LEN];
                let n = header.encode(&mut bytes);
                self.buf.extend_from_slice(&bytes[..n]);
            }
        }
        self.message = OutMessage::Idle;
    }

    fn slot(&self) -> Option<usize> {
        match self.message {
            OutMessage::Streaming { slot, .. } => slot,
            OutMessage::Idle => None,
        }
    }

    fn set_slot(&mut self, new: Option<usize>) {
        if let OutMessage::Streaming { slot, .. } = &mut self.message {
            *slot = new;
        }
    }

    fn set_emitted(&mut self) {
        if let OutMessage::Streaming { emitted, .. } = &mut self.message {
            *emitted = Emitted::Frames;
        }
    }

    fn next_opcode(&self) -> OpCode {
        match self.message {
            OutMessage::Streaming {
                emitted: Emitted::Frames,
                ..
            } => OpCode::Continuation,
            OutMessage::Streaming { kind, .. } => kind.opcode(),
            OutMessage::Idle => unreachable!("no message is being streamed"),
        }
    }

    /// Payload bytes the frame being filled behind the slot may still take: bounded by the
    /// largest frame we send and, unless the buffer may grow, by the buffer's size.
    fn slot_room(&self, growth: Growth) -> usize {
        let Some(slot) = self.slot() else {
            return 0;
        };
        let frame = self.buf.len() - slot;
        let frame_room = self.max_frame.saturating_sub(frame - MAX_HEADER_LEN);
        match growth {
            // The frame, not the buffer, is bounded (by the configured size, not the
            // working one): where a streamed message is cut into frames depends only on
            // its writes and flushes, never on what the stream took so far.
            Growth::Bounded => frame_room.min(self.base.saturating_sub(frame)),
            Growth::Unbounded => frame_room,
        }
    }

    /// Writes `payload` as one frame with this header, or, when it is longer than the
    /// largest frame we send, as fragments: the first with the header's opcode and RSV1,
    /// the rest continuations, FIN only on the last (and only if the header has it).
    fn fragments<E: Egress>(&mut self, w: &mut E, first: FrameHeader, payload: &[u8]) -> Step {
        if payload.len() <= self.max_frame {
            return self.frame(w, first, payload);
        }
        let last = (payload.len() - 1) / self.max_frame;
        for (i, chunk) in payload.chunks(self.max_frame).enumerate() {
            let mut header = first;
            if i > 0 {
                header = FrameHeader::new(OpCode::Continuation, first.fin, 0);
            }
            header.fin = first.fin && i == last;
            self.frame(w, header, chunk)?;
        }
        Ok(())
    }

    /// Turns the slot and the payload behind it into a frame, in place. No I/O.
    fn emit(&mut self, fin: Fin) {
        let OutMessage::Streaming {
            coding,
            emitted,
            slot: Some(slot),
            ..
        } = self.message
        else {
            return;
        };
        let payload_start = slot + MAX_HEADER_LEN;
        // A compressed message ends with the sync flush's four-byte tail, which is stripped.
        // The last four bytes of a frame that is not the last may be the start of it, so
        // they move on to the next frame.
        let mut carry = [0u8; TAIL.len()];
        let mut carry_len = 0;
        match (coding, fin) {
            (Coding::Plain, _) => {}
            (Coding::Deflated, Fin::Last) => {
                let part = match emitted {
                    Emitted::Nothing => Part::Whole,
                    Emitted::Frames => Part::LastFrame,
                };
                codec::end_payload(&mut self.buf, payload_start, part);
            }
            (Coding::Deflated, Fin::More) => {
                carry_len = (self.buf.len() - payload_start).min(carry.len());
                let from = self.buf.len() - carry_len;
                carry[..carry_len].copy_from_slice(&self.buf[from..]);
                self.buf.truncate(from);
            }
        }
        let mut header = FrameHeader::new(
            self.next_opcode(),
            fin == Fin::Last,
            (self.buf.len() - payload_start) as u64,
        );
        header.rsv1 = coding == Coding::Deflated && emitted == Emitted::Nothing;
        if self.role == Role::Client {
            let key = random_key();
            header.masking_key = Some(key);
            apply_mask(&mut self.buf[payload_start..], key, 0);
        }
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut bytes);
        let header_start = payload_start - n;
        self.buf[header_start..payload_start].copy_from_slice(&bytes[..n]);
        if header_start > slot {
            // Close the gap the unused part of the slot left.
            let gap = header_start - slot;
            self.buf.copy_within(header_start.., slot);
            self.buf.truncate(self.buf.len() - gap);
        }
        self.set_slot(None);
        self.set_emitted();
        if carry_len > 0 {
            let slot = self.buf.len();
            self.buf.resize(slot + MAX_HEADER_LEN, 0);
            self.buf.extend_from_slice(&carry[..carry_len]);
            self.set_slot(Some(slot));
        }
    }

    /// Reserves a header slot at the end of the buffer if none is, sending what is buffered
    /// first if there is no room for a slot and some payload.
    fn reserve_slot<E: Egress>(&mut self, ending: &mut Ending<'_, E>) -> Step {
        if self.slot().is_some() {
            return Ok(());
        }
        if let Ending::Stream(w) = ending {
            if self.buf.len() + MAX_HEADER_LEN + 64 > self.size {
                self.send_buffered(*w)?;
            }
        }
        self.alloc();
        let slot = self.buf.len();
        self.buf.resize(slot + MAX_HEADER_LEN, 0);
        self.set_slot(Some(slot));
        Ok(())
    }

    /// Compresses `data` into the message, emitting frames as the buffer fills.
    fn stream_compress<E: Egress>(&mut self, w: &mut E, mut data: &[u8]) -> Step {
        while !data.is_empty() {
            self.reserve_slot(&mut Ending::Stream(&mut *w))?;
            let room = self.slot_room(Growth::Bounded);
            let before = self.buf.len();
            let taken = match &mut self.deflater {
                Some(deflater) if room > 0 => {
                    deflater.compress(data, &mut self.buf, room, Flush::More)
                }
                _ => 0,
            };
            data = &data[taken..];
            let full = self.slot_room(Growth::Bounded) == 0;
            if full || (taken == 0 && self.buf.len() == before) {
                self.emit(Fin::More);
                self.send_buffered(w)?;
            }
        }
        Ok(())
    }

    /// Flushes the compressor and emits the final frame.
    fn finish_compressed<E: Egress>(&mut self, mut ending: Ending<'_, E>) -> Step {
        let bounded = match ending {
            Ending::Stream(_) => true,
            Ending::BufferOnly => false,
        };
        loop {
            self.reserve_slot(&mut ending)?;
            let growth = if bounded {
                Growth::Bounded
            } else {
                Growth::Unbounded
            };
            let room = self.slot_room(growth);
            if room < MIN_FLUSH_ROOM {
                // Too little room left in this frame for the flush: the next frame takes it.
                self.emit(Fin::More);
                if let Ending::Stream(w) = &mut ending {
                    self.send_buffered(*w)?;
                }
                continue;
            }
            let before = self.buf.len();
            if let Some(deflater) = &mut self.deflater {
                deflater.compress(&[], &mut self.buf, room, Flush::EndOfMessage);
            }
            if self.buf.len() - before < room {
                break;
            }
            // The flush filled the room: more output is pending, for the next frame.
        }
        self.emit(Fin::Last);
        if let Some(deflater) = &mut self.deflater {
            deflater.end_message();
        }
        Ok(())
    }

    /// Writes one frame with this header (its payload length and masking key are set
    /// here): into the buffer when it fits, else straight out.
    fn frame<E: Egress>(&mut self, w: &mut E, mut header: FrameHeader, payload: &[u8]) -> Step {
        debug_assert!(self.slot().is_none());
        header.payload_len = payload.len() as u64;
        let key = (self.role == Role::Client).then(random_key);
        header.masking_key = key;
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut bytes);
        let header = &bytes[..n];
        self.alloc();

        let total = n + payload.len();
        if self.buf.len() + total > self.size && !self.buf.is_empty() && total <= self.size {
            // It fits once the buffer is empty.
            self.send_full(w)?;
        }
        if self.buf.len() + total <= self.size || self.flow == Flow::Blocked {
            self.buf.extend_from_slice(header);
            let start = self.buf.len();
            self.buf.extend_from_slice(payload);
            if let Some(key) = key {
                apply_mask(&mut self.buf[start..], key, 0);
            }
            return Ok(());
        }
        match key {
            None => {
                // Server: buffered frames, header and payload in one vectored write, no copy.
                let mut parts = [
                    IoSlice::new(&self.buf),
                    IoSlice::new(header),
                    IoSlice::new(payload),
                ];
                let mut written = 0;
                let result = write_all_vectored(w, &mut parts, &mut written);
                self.progress += written;
                match result {
                    Ok(()) => {
                        self.buf.clear();
                        Ok(())
                    }
                    Err(WriteError::Stalled(Stall::WouldBlock))
                        if self.mode == Mode::NonBlocking =>
                    {
                        // Queue what did not go out: the rest of the buffer, then of the
                        // header, then of the payload.
                        let mut skip = written;
                        let sent = skip.min(self.buf.len());
                        self.buf.drain(..sent);
                        skip -= sent;
                        let from_header = skip.min(header.len());
                        self.buf.extend_from_slice(&header[from_header..]);
                        self.buf.extend_from_slice(&payload[skip - from_header..]);
                        self.flow = Flow::Blocked;
                        Ok(())
                    }
                    // Nothing went out: the buffered frames are still whole.
                    Err(WriteError::Stalled(stall)) if written == 0 => Err(Stop::Stalled(stall)),
                    Err(WriteError::Stalled(stall)) => {
                        self.buf.clear();
                        Err(Stop::Stalled(stall))
                    }
                    Err(e) => {
                        self.buf.clear();
                        Err(self.io_failed(e))
                    }
                }
            }
            Some(key) => {
                // Client: mask through the buffer, in chunks larger than it when it pays.
                let mut cap = self.size.max(payload.len().min(MAX_MASK_CHUNK));
                if self.buf.len() + n > cap {
                    self.send_buffered(w)?;
                }
                self.buf.extend_from_slice(header);
                let mut offset = 0;
                while offset < payload.len() {
                    if self.buf.len() >= cap {
                        self.send_buffered(w)?;
                    }
                    if self.flow == Flow::Blocked {
                        // Nothing more goes out now: the rest is masked into the queue.
                        cap = usize::MAX;
                    }
                    let take = (cap - self.buf.len()).min(payload.len() - offset);
                    let start = self.buf.len();
                    self.buf.extend_from_slice(&payload[offset..offset + take]);
                    apply_mask(&mut self.buf[start..], key, offset);
                    offset += take;
                }
                Ok(())
            }
        }
    }

    /// After a whole message or control frame: send it now unless batching, and never keep
    /// more than a buffer's worth.
    fn end_of_message<E: Egress>(&mut self, w: &mut E) -> Step {
        if self.policy == FlushPolicy::Immediate {
            match self.flush_inner(w) {
                // Queued: the next flush sends it.
                Err(Stop::Stalled(Stall::WouldBlock)) if self.mode == Mode::NonBlocking => {}
                other => other?,
            }
        } else if self.buf.len() >= self.size {
            self.send_full(w)?;
        }
        Ok(())
    }

    /// Writes the complete frames in the buffer. Unsent bytes stay buffered, so after a
    /// stall the write can be retried.
    fn send_buffered<E: Egress>(&mut self, w: &mut E) -> Step {
        if self.flow == Flow::Blocked {
            return Ok(());
        }
        let end = self.complete_end();
        let mut written = 0;
        let result = loop {
            if written == end {
                break Ok(());
            }
            match w.write(&self.buf[written..end]) {
                Ok(0) => break Err(WriteError::Io(io::ErrorKind::WriteZero.into())),
                Ok(n) => written += n,
                Err(e) => break Err(e),
            }
        };
        self.buf.drain(..written);
        self.progress += written;
        if let Some(s) = self.slot() {
            self.set_slot(Some(s - written));
        }
        if self.buf.is_empty()
            && (self.buf.capacity() > 2 * self.size || self.mode == Mode::NonBlocking)
        {
            self.buf = Vec::new();
        }
        match result {
            Ok(()) => Ok(()),
            Err(WriteError::Stalled(Stall::WouldBlock)) if self.mode == Mode::NonBlocking => {
                self.flow = Flow::Blocked;
                Ok(())
            }
            Err(WriteError::Stalled(stall)) => Err(Stop::Stalled(stall)),
            Err(e) => Err(self.io_failed(e)),
        }
    }

    fn alloc(&mut self) {
        if self.buf.capacity() == 0 {
            self.buf.reserve_exact(self.size);
        }
    }

    /// A write error: a stall is the operation's to settle; any other error leaves the
    /// stream in an unknown state: fail for good.
    fn io_failed(&mut self, e: WriteError) -> Stop {
        match e {
            WriteError::Stalled(stall) => Stop::Stalled(stall),
            WriteError::Io(e) => {
                self.failed = Some(Sticky::Io(e.kind(), "an earlier write failed"));
                Stop::Failed(Error::Io(e))
            }
        }
    }
}

/// `write_all` for several slices.
fn write_all_vectored<E: Egress>(
    w: &mut E,
    mut parts: &mut [IoSlice<'_>],
    written: &mut usize,
) -> Result<(), WriteError> {
    IoSlice::advance_slices(&mut parts, 0);
    while !parts.is_empty() {
        match w.write_vectored(parts)? {
            0 => return Err(WriteError::Io(io::ErrorKind::WriteZero.into())),
            n => {
                *written += n;
                IoSlice::advance_slices(&mut parts, n);
            }
        }
    }
    Ok(())
}

/// The egress of an ending that writes nothing (only its type is needed).
enum NoEgress {}

impl Egress for NoEgress {
    fn write(&mut self, _: &[u8]) -> Result<usize, WriteError> {
        match *self {}
    }
    fn write_vectored(&mut self, _: &[IoSlice<'_>]) -> Result<usize, WriteError> {
        match *self {}
    }
    fn flush(&mut self) -> Result<(), WriteError> {
        match *self {}
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::deflate::codec::{Context, Finished, Inflater};

    /// An egress into memory: at most `max_write` bytes per write, with stalls injected at
    /// offsets of what was written.
    struct Memory {
        out: Vec<u8>,
        max_write: usize,
        stalls: VecDeque<(usize, Stall)>,
    }

    impl Memory {
        fn new(max_write: usize) -> Memory {
            Memory {
                out: Vec::new(),
                max_write,
                stalls: VecDeque::new(),
            }
        }

        fn allowed(&mut self) -> Result<usize, WriteError> {
            match self.stalls.front() {
                Some(&(at, stall)) if at <= self.out.len() => {
                    self.stalls.pop_front();
                    Err(WriteError::Stalled(stall))
                }
                Some(&(at, _)) => Ok(self.max_write.min(at - self.out.len())),
                None => Ok(self.max_write),
            }
        }
    }

    impl Egress for Memory {
        fn write(&mut self, buf: &[u8]) -> Result<usize, WriteError> {
            let n = self.allowed()?.min(buf.len());
            self.out.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> Result<usize, WriteError> {
            let mut left = self.allowed()?;
            let mut n = 0;
            for buf in bufs {
                let take = buf.len().min(left);
                self.out.extend_from_slice(&buf[..take]);
                left -= take;
                n += take;
            }
            Ok(n)
        }

        fn flush(&mut self) -> Result<(), WriteError> {
            Ok(())
        }
    }

    /// The frames in `bytes`: (header, unmasked payload).
    fn frames(mut bytes: &[u8]) -> Vec<(FrameHeader, Vec<u8>)> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let (header, n) = FrameHeader::parse(bytes).unwrap().unwrap();
            let len = header.payload_len as usize;
            let mut payload = bytes[n..n + len].to_vec();
            if let Some(key) = header.masking_key {
                apply_mask(&mut payload, key, 0);
            }
            out.push((header, payload));
            bytes = &bytes[n + len..];
        }
        out
    }

    fn writer(role: Role, config: &Config) -> Writer {
        Writer::new(role, config, None)
    }

    #[test]
    fn whole_messages_of_every_boundary_length_are_one_frame_each() {
        for role in [Role::Server, Role::Client] {
            for len in [0usize, 125, 126, 4095, 4096, 65535, 65536, 200_000] {
                let data: Vec<u8> = (0..len).map(|i| (i * 13) as u8).collect();
                let mut w = writer(role, &Config::default());
                let mut egress = Memory::new(1000);
                w.write_message(&mut egress, MessageKind::Binary, &data)
                    .unwrap();
                let got = frames(&egress.out);
                assert_eq!(got.len(), 1, "{role:?} {len}");
                let (header, payload) = &got[0];
                assert!(header.fin && header.opcode == OpCode::Binary);
                assert_eq!(header.masking_key.is_some(), role == Role::Client);
                assert_eq!(payload, &data, "{role:?} {len}");
            }
        }
    }

    #[test]
    fn a_streamed_message_is_cut_into_frames_and_a_control_frame_goes_between_them() {
        let config = Config::builder().write_buffer_size(256).build();
        let mut w = writer(Role::Server, &config);
        let mut egress = Memory::new(usize::MAX);
        w.begin(MessageKind::Text).unwrap();
        w.stream_write(&mut egress, &[b'a'; 300]).unwrap();
        w.write_control(&mut egress, OpCode::Ping, b"p").unwrap();
        w.stream_write(&mut egress, &[b'b'; 100]).unwrap();
        w.stream_finish(&mut egress).unwrap();
        let got = frames(&egress.out);
        let opcodes: Vec<(OpCode, bool)> = got.iter().map(|(h, _)| (h.opcode, h.fin)).collect();
        let ping = opcodes
            .iter()
            .position(|&o| o == (OpCode::Ping, true))
            .unwrap();
        assert!(ping > 0 && ping < got.len() - 1, "{opcodes:?}");
        assert_eq!(opcodes[0], (OpCode::Text, false));
        assert_eq!(opcodes.last(), Some(&(OpCode::Continuation, true)));
        let text: Vec<u8> = got
            .iter()
            .filter(|(h, _)| !h.opcode.is_control())
            .flat_map(|(_, p)| p.clone())
            .collect();
        assert_eq!(text, [vec![b'a'; 300], vec![b'b'; 100]].concat());
    }

    #[test]
    fn a_timeout_before_any_byte_drops_the_frame_and_the_call_can_be_repeated() {
        let mut w = writer(Role::Server, &Config::default());
        let mut egress = Memory::new(usize::MAX);
        egress.stalls.push_back((0, Stall::TimedOut));
        let err = w
            .write_message(&mut egress, MessageKind::Text, b"once")
            .unwrap_err();
        assert!(matches!(err, Error::Timeout), "{err}");
        w.write_message(&mut egress, MessageKind::Text, b"once")
            .unwrap();
        assert_eq!(frames(&egress.out).len(), 1, "sent exactly once");
    }

    #[test]
    fn blocking_a_stream_that_would_block_before_any_byte_drops_the_frame() {
        let mut w = writer(Role::Server, &Config::default());
        let mut egress = Memory::new(usize::MAX);
        egress.stalls.push_back((0, Stall::WouldBlock));
        let err = w
            .write_message(&mut egress, MessageKind::Text, b"once")
            .unwrap_err();
        assert!(err.is_would_block(), "{err}");
        assert!(!w.has_pending());
        w.write_message(&mut egress, MessageKind::Text, b"once")
            .unwrap();
        assert_eq!(frames(&egress.out).len(), 1, "sent exactly once");
    }

    #[test]
    fn nonblocking_a_stream_that_would_block_queues_the_message_and_a_flush_sends_it() {
        for at in [0, 1, 3] {
            let mut w = writer(Role::Server, &Config::default());
            w.set_nonblocking();
            let mut egress = Memory::new(usize::MAX);
            egress.stalls.push_back((at, Stall::WouldBlock));
            w.write_message(&mut egress, MessageKind::Text, b"once")
                .unwrap();
            assert!(w.has_pending(), "at {at}");
            assert_eq!(w.queued(), 6 - at);
            w.flush(&mut egress).unwrap();
            assert!(!w.has_pending());
            assert_eq!(frames(&egress.out).len(), 1, "at {at}: sent exactly once");
        }
    }

    #[test]
    fn a_stall_inside_a_frame_poisons_for_good() {
        let mut w = writer(Role::Server, &Config::default());
        let mut egress = Memory::new(usize::MAX);
        egress.stalls.push_back((3, Stall::TimedOut));
        let err = w
            .write_message(&mut egress, MessageKind::Binary, &[1; 100])
            .unwrap_err();
        assert!(
            matches!(err, Error::Poisoned(Poison::WriteTimeoutMidFrame)),
            "{err}"
        );
        let again = w
            .write_message(&mut egress, MessageKind::Binary, b"x")
            .unwrap_err();
        assert!(matches!(again, Error::Poisoned(_)));
    }

    #[test]
    fn a_message_given_up_ends_with_a_final_frame_or_is_forgotten() {
        let config = Config::builder().write_buffer_size(256).build();
        // Nothing emitted yet: forgotten.
        let mut w = writer(Role::Client, &config);
        let mut egress = Memory::new(usize::MAX);
        w.begin(MessageKind::Binary).unwrap();
        w.stream_write(&mut egress, b"small").unwrap();
        w.abandon();
        w.flush(&mut egress).unwrap();
        assert!(egress.out.is_empty());
        // Frames emitted: the message is ended, in the buffer, with no I/O.
        let mut w = writer(Role::Client, &config);
        w.begin(MessageKind::Binary).unwrap();
        w.stream_write(&mut egress, &[7; 600]).unwrap();
        let before = egress.out.len();
        w.abandon();
        assert_eq!(egress.out.len(), before, "abandon did I/O");
        w.flush(&mut egress).unwrap();
        let got = frames(&egress.out);
        assert!(got.last().unwrap().0.fin);
        assert!(
            got[1..]
                .iter()
                .all(|(h, _)| h.opcode == OpCode::Continuation)
        );
    }

    #[test]
    fn invalid_text_is_refused_before_anything_is_sent() {
        let mut w = writer(Role::Server, &Config::default());
        let mut egress = Memory::new(usize::MAX);
        let err = w
            .write_message(&mut egress, MessageKind::Text, b"\xff")
            .unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidInput(InvalidInput::InvalidUtf8)
        ));
        assert!(egress.out.is_empty());
    }

    #[test]
    fn a_compressed_stream_with_a_ping_inside_inflates_back() {
        let params = DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        };
        let config = Config::builder()
            .write_buffer_size(256)
            .deflate(crate::DeflateConfig::new())
            .build();
        let mut w = Writer::new(Role::Server, &config, Some(params));
        let mut egress = Memory::new(usize::MAX);
        let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        w.begin(MessageKind::Binary).unwrap();
        for (i, piece) in data.chunks(700).enumerate() {
            w.stream_write(&mut egress, piece).unwrap();
            if i == 3 {
                w.write_control(&mut egress, OpCode::Pong, b"x").unwrap();
            }
        }
        w.stream_finish(&mut egress).unwrap();
        let got = frames(&egress.out);
        assert!(got[0].0.rsv1 && got[1..].iter().all(|(h, _)| !h.rsv1));
        let compressed: Vec<u8> = got
            .iter()
            .filter(|(h, _)| !h.opcode.is_control())
            .flat_map(|(_, p)| p.clone())
            .collect();
        let mut inflater = Inflater::new(15, Context::Kept);
        let mut out = vec![0u8; 8192];
        let step = inflater.inflate(&compressed, &mut out).unwrap();
        let mut inflated = out[..step.written].to_vec();
        while let Finished::Output(n) = inflater.finish(&mut out).unwrap() {
            inflated.extend_from_slice(&out[..n]);
        }
        assert_eq!(inflated, data);
    }
}
