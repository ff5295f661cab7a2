//! The write state machine: messages in, frames out.
//!
//! [`Writer`] owns the write buffer. Small frames are built in it, header and payload side by
//! side, so that they leave in one write (and, with [`FlushPolicy::Batched`], many frames in
//! one write). A large payload is not copied: the server writes buffered bytes, header and
//! payload with one vectored write; the client, which must mask, masks through the buffer in
//! chunks. A streamed message accumulates in the buffer behind a reserved header slot
//! (gorilla's trick) and is cut into a frame whenever the buffer fills.

use std::io::{self, IoSlice, Write};

use crate::config::{Config, FlushPolicy};
use crate::conn::Role;
use crate::deflate::{DeflateParams, Deflater, TAIL};
use crate::error::{Error, InvalidInput, Poison, Result, Sticky};
use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use crate::mask::{apply_mask, random_key};
use crate::message::MessageKind;
use crate::prepared::PreparedMessage;
use crate::utf8::Utf8Validator;

/// The largest chunk a client masks at a time when writing a large payload.
const MAX_MASK_CHUNK: usize = 64 << 10;

/// The most the write buffer grows to while batches fill it.
const MAX_WRITE_BUFFER: usize = 64 << 10;

/// The message being streamed by a [`MessageWriter`](crate::MessageWriter).
#[derive(Clone, Copy, Debug)]
enum OutMessage {
    Idle,
    Streaming {
        kind: MessageKind,
        /// A frame of this message has been emitted: the next one is a continuation.
        started: bool,
        /// Where the reserved header slot of the frame being filled starts in the buffer;
        /// the frame's payload so far follows the slot.
        slot: Option<usize>,
        utf8: Option<Utf8Validator>,
        /// The message is compressed (its first frame has RSV1).
        compressed: bool,
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
    role: Role,
    policy: FlushPolicy,
    message: OutMessage,
    /// Present when permessage-deflate was negotiated.
    deflater: Option<Deflater>,
    /// `write_message` payloads shorter than this go uncompressed.
    threshold: usize,
    /// The application's per-message switch (gorilla's `EnableWriteCompression`).
    compress_writes: bool,
    /// Bytes written to the stream by the current operation, to tell a timeout before
    /// anything went out (harmless) from one in the middle of a frame (fatal).
    progress: usize,
    /// Set once the stream state is unusable: every later call returns it.
    failed: Option<Sticky>,
}

impl Writer {
    pub(crate) fn new(role: Role, config: &Config, deflate: Option<DeflateParams>) -> Writer {
        let deflate_config = config.deflate().cloned().unwrap_or_default();
        Writer {
            buf: Vec::new(),
            size: config.write_buffer_size(),
            base: config.write_buffer_size(),
            role,
            policy: config.flush_policy(),
            message: OutMessage::Idle,
            deflater: deflate.map(|params| params.deflater(role, &deflate_config)),
            threshold: deflate_config.threshold_bytes(),
            compress_writes: true,
            progress: 0,
            failed: None,
        }
    }

    /// Ends an operation. A write timeout before any byte went out undoes the operation's
    /// frames (from `rollback`, when it can be undone) and is [`Error::Timeout`]: nothing
    /// was sent, the call can be repeated. After some bytes went out, the frame boundary is
    /// lost: [`Error::Poisoned`], for good.
    fn settle<T>(&mut self, result: Result<T>, rollback: Option<usize>) -> Result<T> {
        let progress = std::mem::take(&mut self.progress);
        match result {
            Err(Error::Io(e)) if crate::stream::is_timeout(&e) => {
                if progress == 0 && (rollback.is_some() || self.slot().is_none()) {
                    if let Some(mark) = rollback {
                        self.buf.truncate(mark);
                    }
                    Err(Error::Timeout)
                } else {
                    self.failed = Some(Sticky::Poisoned(Poison::WriteTimeoutMidFrame));
                    Err(Error::Poisoned(Poison::WriteTimeoutMidFrame))
                }
            }
            other => other,
        }
    }

    /// Where this operation's frames will start, if they can be undone: with no message
    /// being streamed, everything after the current end of the buffer.
    fn mark(&self) -> Option<usize> {
        matches!(self.message, OutMessage::Idle).then_some(self.buf.len())
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

    fn check(&self) -> Result<()> {
        match &self.failed {
            Some(sticky) => Err(sticky.to_error()),
            None => Ok(()),
        }
    }

    /// Whether complete frames are waiting in the buffer.
    pub(crate) fn has_pending(&self) -> bool {
        self.complete_end() > 0
    }

    /// The end of the complete frames in the buffer.
    fn complete_end(&self) -> usize {
        match self.message {
            OutMessage::Streaming { slot: Some(s), .. } => s,
            _ => self.buf.len(),
        }
    }

    /// Writes one whole message as a single frame.
    pub(crate) fn write_message<W: Write>(
        &mut self,
        w: &mut W,
        kind: MessageKind,
        data: &[u8],
    ) -> Result<()> {
        self.check()?;
        if kind == MessageKind::Text && simdutf8::basic::from_utf8(data).is_err() {
            return Err(InvalidInput::InvalidUtf8.into());
        }
        let mark = self.mark();
        let result = if self.compressing() && data.len() >= self.threshold {
            self.start(kind, true, false);
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
            self.frame(w, kind.opcode(), true, data)
                .and_then(|()| self.end_of_message(w))
        };
        self.settle(result, mark)
    }

    /// Writes a prepared message: compressed (with its shared compressed payload) when
    /// this message would be, else as `write_message` does.
    pub(crate) fn write_prepared<W: Write>(
        &mut self,
        w: &mut W,
        prepared: &PreparedMessage,
    ) -> Result<()> {
        self.check()?;
        let mark = self.mark();
        let kind = prepared.kind();
        let data = prepared.data();
        let window = match &self.deflater {
            Some(deflater) if self.compressing() && data.len() >= self.threshold => {
                Some(deflater.window_bits())
            }
            _ => None,
        };
        let result = match window {
            Some(bits) => {
                let result =
                    self.frame_with(w, kind.opcode(), true, true, prepared.compressed(bits));
                // The peer's window now holds this message, ours does not: start afresh,
                // so that no later message refers to history the two sides disagree on.
                if let Some(deflater) = &mut self.deflater {
                    deflater.reset();
                }
                result
            }
            None => self.frame(w, kind.opcode(), true, data),
        };
        let result = result.and_then(|()| self.end_of_message(w));
        self.settle(result, mark)
    }

    /// Writes a control frame (payload already checked to be at most 125 bytes). If a
    /// streamed message has a partial frame, that frame is emitted first: control frames may
    /// come between the frames of a message, never inside one.
    pub(crate) fn write_control<W: Write>(
        &mut self,
        w: &mut W,
        opcode: OpCode,
        payload: &[u8],
    ) -> Result<()> {
        self.check()?;
        let mark = self.mark();
        // A compressed message's last (up to) four bytes wait in the slot for the next frame
        // (they may be the tail to strip): they are lifted out while the control frame goes
        // in, and put back behind it.
        let mut held = [0u8; 4];
        let mut held_len = 0;
        if let OutMessage::Streaming {
            slot: Some(s),
            compressed,
            ..
        } = self.message
        {
            let keep = if compressed { held.len() } else { 0 };
            if self.buf.len() > s + MAX_HEADER_LEN + keep {
                self.emit(false);
            }
            if let Some(s) = self.slot() {
                let from = s + MAX_HEADER_LEN;
                held_len = self.buf.len() - from;
                held[..held_len].copy_from_slice(&self.buf[from..]);
                self.buf.truncate(s);
                self.set_slot(None);
            }
        }
        let result = self
            .frame(w, opcode, true, payload)
            .and_then(|()| self.end_of_message(w));
        let result = self.settle(result, mark);
        if held_len > 0 {
            let slot = self.buf.len();
            self.buf.resize(slot + MAX_HEADER_LEN, 0);
            self.buf.extend_from_slice(&held[..held_len]);
            self.set_slot(Some(slot));
        }
        result
    }

    /// Sends the complete frames in the buffer and flushes the stream.
    pub(crate) fn flush<W: Write>(&mut self, w: &mut W) -> Result<()> {
        self.check()?;
        let result = self.flush_inner(w);
        // Unsent frames stay buffered: a timeout before any byte went out can be retried.
        self.settle(result, None)
    }

    fn flush_inner<W: Write>(&mut self, w: &mut W) -> Result<()> {
        if self.complete_end() < self.size / 8 {
            // A small batch: the buffer need not stay large.
            self.size = self.base;
        }
        self.send_buffered(w)?;
        w.flush().map_err(|e| self.io_failed(e))
    }

    /// The buffer is full in the middle of a batch: send it, and let the next batch be
    /// bigger, so that a busy connection makes fewer, larger writes.
    fn send_full<W: Write>(&mut self, w: &mut W) -> Result<()> {
        if self.policy == FlushPolicy::Batched {
            self.size = (self.size * 2).min(MAX_WRITE_BUFFER.max(self.base));
        }
        self.send_buffered(w)
    }

    /// Starts streaming a message.
    pub(crate) fn begin(&mut self, kind: MessageKind) -> Result<()> {
        self.check()?;
        debug_assert!(matches!(self.message, OutMessage::Idle));
        let compressed = self.compressing();
        self.start(kind, compressed, true);
        Ok(())
    }

    fn start(&mut self, kind: MessageKind, compressed: bool, check_text: bool) {
        self.message = OutMessage::Streaming {
            kind,
            started: false,
            slot: None,
            utf8: (check_text && kind == MessageKind::Text).then(Utf8Validator::default),
            compressed,
        };
    }

    /// Adds payload to the streamed message, emitting frames as the buffer fills.
    pub(crate) fn stream_write<W: Write>(&mut self, w: &mut W, data: &[u8]) -> Result<()> {
        self.check()?;
        let result = self.stream_write_inner(w, data);
        self.stream_settle(result)
    }

    /// A timeout while streaming is always fatal: part of the message is out or buffered.
    fn stream_settle(&mut self, result: Result<()>) -> Result<()> {
        self.progress = 1;
        self.settle(result, None)
    }

    fn stream_write_inner<W: Write>(&mut self, w: &mut W, mut data: &[u8]) -> Result<()> {
        let OutMessage::Streaming {
            utf8, compressed, ..
        } = &mut self.message
        else {
            return Err(Error::AlreadyClosed);
        };
        let compressed = *compressed;
        if let Some(v) = utf8 {
            if v.feed(data).is_err() {
                self.abandon();
                return Err(InvalidInput::InvalidUtf8.into());
            }
        }
        if compressed {
            return self.stream_compress(w, data);
        }
        while !data.is_empty() {
            if self.slot().is_none() {
                if data.len() >= self.size {
                    // A large write and no partial frame: one frame straight from `data`.
                    let opcode = self.next_opcode();
                    self.frame(w, opcode, false, data)?;
                    self.set_started();
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
            let take = (self.size - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() >= self.size {
                self.emit(false);
                self.send_buffered(w)?;
            }
        }
        Ok(())
    }

    /// Emits the streamed message's partial frame, if any, and sends what is buffered.
    pub(crate) fn stream_flush<W: Write>(&mut self, w: &mut W) -> Result<()> {
        self.check()?;
        if self
            .slot()
            .is_some_and(|s| self.buf.len() > s + MAX_HEADER_LEN)
        {
            self.emit(false);
        }
        let result = self.flush_inner(w);
        self.stream_settle(result)
    }

    /// Ends the streamed message with a final frame.
    pub(crate) fn stream_finish<W: Write>(&mut self, w: &mut W) -> Result<()> {
        self.check()?;
        let result = self.stream_finish_inner(w);
        self.stream_settle(result)
    }

    fn stream_finish_inner<W: Write>(&mut self, w: &mut W) -> Result<()> {
        let OutMessage::Streaming {
            utf8, compressed, ..
        } = self.message
        else {
            return Err(Error::AlreadyClosed);
        };
        if utf8.is_some_and(|v| v.finish().is_err()) {
            self.abandon();
            return Err(InvalidInput::InvalidUtf8.into());
        }
        if compressed {
            self.finish_compressed(Some(w))?;
            self.message = OutMessage::Idle;
            return self.end_of_message(w);
        }
        if self.slot().is_some() {
            self.emit(true);
        } else {
            let opcode = self.next_opcode();
            self.frame(w, opcode, true, &[])?;
        }
        self.message = OutMessage::Idle;
        self.end_of_message(w)
    }

    /// The application dropped its writer without finishing. Does no I/O (it runs in `Drop`):
    /// if nothing of the message has been emitted, it is forgotten; otherwise a final frame
    /// with what is buffered ends it early, to be sent with the next write or flush.
    pub(crate) fn abandon(&mut self) {
        let OutMessage::Streaming {
            started,
            slot,
            compressed,
            ..
        } = self.message
        else {
            return;
        };
        if compressed {
            if started {
                // The peer has part of the message: end it properly, in the buffer only.
                let _ = self.finish_compressed::<io::Sink>(None);
            } else {
                // Nothing left: forget it, and the input the compressor already took.
                if let Some(s) = slot {
                    self.buf.truncate(s);
                }
                if let Some(deflater) = &mut self.deflater {
                    deflater.reset();
                }
            }
            self.message = OutMessage::Idle;
            return;
        }
        match (started, slot) {
            (false, Some(s)) => self.buf.truncate(s),
            (false, None) => {}
            (true, Some(_)) => self.emit(true),
            (true, None) => {
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

    fn set_started(&mut self) {
        if let OutMessage::Streaming { started, .. } = &mut self.message {
            *started = true;
        }
    }

    fn next_opcode(&self) -> OpCode {
        match self.message {
            OutMessage::Streaming { started: true, .. } => OpCode::Continuation,
            OutMessage::Streaming { kind, .. } => kind.opcode(),
            OutMessage::Idle => unreachable!("no message is being streamed"),
        }
    }

    /// Turns the slot and the payload behind it into a frame, in place. No I/O.
    fn emit(&mut self, fin: bool) {
        let Some(slot) = self.slot() else {
            return;
        };
        let (compressed, started) = match self.message {
            OutMessage::Streaming {
                compressed,
                started,
                ..
            } => (compressed, started),
            OutMessage::Idle => (false, false),
        };
        let payload_start = slot + MAX_HEADER_LEN;
        // A compressed message ends with the sync flush's four-byte tail, which is stripped
        // (RFC 7692 7.2.1). The last four bytes of a frame that is not the last may be the
        // start of it, so they move on to the next frame.
        let mut carry = [0u8; 4];
        let mut carry_len = 0;
        if compressed {
            if fin {
                if self.buf[payload_start..].ends_with(&TAIL) {
                    self.buf.truncate(self.buf.len() - TAIL.len());
                }
                if !started && self.buf.len() == payload_start {
                    // Nothing came out (an empty message right after a flush): one empty
                    // stored-block header, which the receiver's appended tail completes.
                    self.buf.push(0x00);
                }
            } else {
                carry_len = (self.buf.len() - payload_start).min(4);
                let from = self.buf.len() - carry_len;
                carry[..carry_len].copy_from_slice(&self.buf[from..]);
                self.buf.truncate(from);
            }
        }
        let mut header = FrameHeader::new(
            self.next_opcode(),
            fin,
            (self.buf.len() - payload_start) as u64,
        );
        header.rsv1 = compressed && !started;
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
        self.set_started();
        if carry_len > 0 {
            let slot = self.buf.len();
            self.buf.resize(slot + MAX_HEADER_LEN, 0);
            self.buf.extend_from_slice(&carry[..carry_len]);
            self.set_slot(Some(slot));
        }
    }

    /// Reserves a header slot at the end of the buffer if none is, sending what is buffered
    /// first if there is no room for a slot and some payload.
    fn reserve_slot<W: Write>(&mut self, w: &mut W) -> Result<()> {
        if self.slot().is_some() {
            return Ok(());
        }
        if self.buf.len() + MAX_HEADER_LEN + 64 > self.size {
            self.send_buffered(w)?;
        }
        self.alloc();
        let slot = self.buf.len();
        self.buf.resize(slot + MAX_HEADER_LEN, 0);
        self.set_slot(Some(slot));
        Ok(())
    }

    /// Compresses `data` into the message, emitting frames as the buffer fills.
    fn stream_compress<W: Write>(&mut self, w: &mut W, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            self.reserve_slot(w)?;
            let room = self.size.saturating_sub(self.buf.len());
            let before = self.buf.len();
            let taken = match &mut self.deflater {
                Some(deflater) if room > 0 => deflater.compress(data, &mut self.buf, room, false),
                _ => 0,
            };
            data = &data[taken..];
            if self.buf.len() >= self.size || (taken == 0 && self.buf.len() == before) {
                self.emit(false);
                self.send_buffered(w)?;
            }
        }
        Ok(())
    }

    /// Flushes the compressor and emits the final frame. With no stream (from `abandon`),
    /// does no I/O and lets the buffer grow instead.
    fn finish_compressed<W: Write>(&mut self, mut w: Option<&mut W>) -> Result<()> {
        loop {
            match w.as_deref_mut() {
                Some(w) => self.reserve_slot(w)?,
                None if self.slot().is_none() => {
                    let slot = self.buf.len();
                    self.buf.resize(slot + MAX_HEADER_LEN, 0);
                    self.set_slot(Some(slot));
                }
                None => {}
            }
            let room = match w {
                Some(_) => self.size.saturating_sub(self.buf.len()).max(64),
                None => self.size,
            };
            let before = self.buf.len();
            if let Some(deflater) = &mut self.deflater {
                deflater.compress(&[], &mut self.buf, room, true);
            }
            if self.buf.len() - before < room {
                break;
            }
            // The flush filled the room: more output is pending.
            if let Some(w) = w.as_deref_mut() {
                self.emit(false);
                self.send_buffered(w)?;
            }
        }
        self.emit(true);
        if let Some(deflater) = &mut self.deflater {
            deflater.end_message();
        }
        Ok(())
    }

    /// Writes one frame: into the buffer when it fits, else straight out.
    fn frame<W: Write>(
        &mut self,
        w: &mut W,
        opcode: OpCode,
        fin: bool,
        payload: &[u8],
    ) -> Result<()> {
        self.frame_with(w, opcode, fin, false, payload)
    }

    fn frame_with<W: Write>(
        &mut self,
        w: &mut W,
        opcode: OpCode,
        fin: bool,
        rsv1: bool,
        payload: &[u8],
    ) -> Result<()> {
        debug_assert!(self.slot().is_none());
        let mut header = FrameHeader::new(opcode, fin, payload.len() as u64);
        header.rsv1 = rsv1;
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
        if self.buf.len() + total <= self.size {
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
                    // Nothing went out: the buffered frames are still whole.
                    Err(e) if written == 0 && crate::stream::is_timeout(&e) => Err(Error::Io(e)),
                    Err(e) if crate::stream::is_timeout(&e) => {
                        self.buf.clear();
                        Err(Error::Io(e))
                    }
                    Err(e) => {
                        self.buf.clear();
                        Err(self.io_failed(e))
                    }
                }
            }
            Some(key) => {
                // Client: mask through the buffer, in chunks larger than it when it pays.
                let cap = self.size.max(payload.len().min(MAX_MASK_CHUNK));
                if self.buf.len() + n > cap {
                    self.send_buffered(w)?;
                }
                self.buf.extend_from_slice(header);
                let mut offset = 0;
                while offset < payload.len() {
                    if self.buf.len() == cap {
                        self.send_buffered(w)?;
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
    fn end_of_message<W: Write>(&mut self, w: &mut W) -> Result<()> {
        if self.policy == FlushPolicy::Immediate {
            self.flush_inner(w)?;
        } else if self.buf.len() >= self.size {
            self.send_full(w)?;
        }
        Ok(())
    }

    /// Writes the complete frames in the buffer. Unsent bytes stay buffered, so after a
    /// timeout the write can be retried.
    fn send_buffered<W: Write>(&mut self, w: &mut W) -> Result<()> {
        let end = self.complete_end();
        let mut written = 0;
        let result = loop {
            if written == end {
                break Ok(());
            }
            match w.write(&self.buf[written..end]) {
                Ok(0) => break Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        self.buf.drain(..written);
        self.progress += written;
        if let Some(s) = self.slot() {
            self.set_slot(Some(s - written));
        }
        if self.buf.is_empty() && self.buf.capacity() > 2 * self.size {
            self.buf = Vec::new();
        }
        result.map_err(|e| {
            if crate::stream::is_timeout(&e) {
                Error::Io(e)
            } else {
                self.io_failed(e)
            }
        })
    }

    fn alloc(&mut self) {
        if self.buf.capacity() == 0 {
            self.buf.reserve_exact(self.size);
        }
    }

    /// A write error that leaves the stream in an unknown state: fail for good.
    fn io_failed(&mut self, e: io::Error) -> Error {
        self.failed = Some(Sticky::Io(e.kind(), "an earlier write failed"));
        Error::Io(e)
    }

    /// Marks the writer finished (a close frame was sent): later writes return
    /// `AlreadyClosed`.
    pub(crate) fn set_closed(&mut self) {
        if self.failed.is_none() {
            self.failed = Some(Sticky::Closed);
        }
    }
}

/// `write_all` for several slices.
fn write_all_vectored<W: Write>(
    w: &mut W,
    mut parts: &mut [IoSlice<'_>],
    written: &mut usize,
) -> io::Result<()> {
    IoSlice::advance_slices(&mut parts, 0);
    while !parts.is_empty() {
        match w.write_vectored(parts) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => {
                *written += n;
                IoSlice::advance_slices(&mut parts, n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
