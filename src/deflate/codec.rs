//! The compressor and decompressor a connection uses, and the one owner of the four bytes a
//! sync flush ends with (RFC 7692 section 7.2.1): stripped from every compressed message we
//! send, fed back after every compressed message we inflate.
//!
//! The zlib states are made on first use and, without context takeover, dropped at the end
//! of every message, so an idle connection holds none.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The four bytes a sync flush ends with.
pub(crate) const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The smallest window zlib can compress with: asked for 8 bits, it uses 9.
pub(crate) const MIN_ZLIB_WINDOW_BITS: u8 = 9;

/// Whether a compressor or decompressor keeps its window from one message to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Context {
    /// Context takeover: later messages may refer to earlier ones.
    Kept,
    /// No context takeover: every message starts with an empty window.
    Reset,
}

/// How much of the compressor's output a call must produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flush {
    /// More input follows: output what is ready.
    More,
    /// The message ends: output everything (a sync flush, which ends with [`TAIL`]).
    EndOfMessage,
}

/// What `buf[from..]` holds when a compressed message's payload is ended with
/// [`end_payload`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// The whole message.
    Whole,
    /// The message's last frame; earlier frames carried the rest.
    LastFrame,
}

/// Ends a compressed message's payload, `buf[from..]`, as it goes on the wire: without the
/// tail of the final sync flush, and never empty (an empty message is one byte, the header
/// of an empty stored block that the receiver's appended tail completes; RFC 7692 7.2.3.6).
pub(crate) fn end_payload(buf: &mut Vec<u8>, from: usize, part: Part) {
    if buf[from..].ends_with(&TAIL) {
        buf.truncate(buf.len() - TAIL.len());
    }
    if part == Part::Whole && buf.len() == from {
        buf.push(0x00);
    }
}

/// Compresses a whole message with a fresh compressor, ended as it goes on the wire (for
/// prepared messages, which suit every connection with this window).
pub(crate) fn compress_whole(data: &[u8], level: u32, window_bits: u8) -> Vec<u8> {
    let mut deflater = Deflater::new(level, window_bits, Context::Reset);
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    let mut input = data;
    loop {
        // Room grows with the output, so a large message costs amortized linear time.
        let room = out.len().max(1024);
        let before = out.len();
        let taken = deflater.compress(input, &mut out, room, Flush::EndOfMessage);
        input = &input[taken..];
        if input.is_empty() && out.len() - before < room {
            break;
        }
    }
    end_payload(&mut out, 0, Part::Whole);
    out.shrink_to_fit();
    out
}

/// Compresses outgoing messages.
pub(crate) struct Deflater {
    state: Option<Compress>,
    level: u32,
    window_bits: u8,
    context: Context,
}

impl Deflater {
    pub(crate) fn new(level: u32, window_bits: u8, context: Context) -> Deflater {
        Deflater {
            state: None,
            level: level.min(9),
            window_bits,
            context,
        }
    }

    /// Whether this endpoint may compress at all: zlib cannot honour an 8-bit window, so
    /// when the peer limits us to one, our messages go uncompressed.
    pub(crate) fn can_compress(&self) -> bool {
        self.window_bits >= MIN_ZLIB_WINDOW_BITS
    }

    /// The window this endpoint compresses with.
    pub(crate) fn window_bits(&self) -> u8 {
        self.window_bits
    }

    pub(crate) fn set_level(&mut self, level: u32) {
        self.level = level.min(9);
        if let Some(state) = &mut self.state {
            // Between messages all output has been flushed, so this cannot fail; if it did,
            // the old level simply stays.
            let _ = state.set_level(Compression::new(self.level));
        }
    }

    fn state(&mut self) -> &mut Compress {
        let (level, bits) = (self.level, self.window_bits);
        self.state.get_or_insert_with(|| {
            Compress::new_with_window_bits(Compression::new(level), false, bits)
        })
    }

    /// Compresses from `input` onto the end of `out`, at most `room` bytes; returns how much
    /// input was taken. With [`Flush::EndOfMessage`], flushes everything once the input is
    /// taken (a call that fills `room` has more to give: call again with no input).
    pub(crate) fn compress(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        room: usize,
        flush: Flush,
    ) -> usize {
        let state = self.state();
        let start = out.len();
        out.resize(start + room, 0);
        let before = (state.total_in(), state.total_out());
        let flush = match flush {
            Flush::More => FlushCompress::None,
            Flush::EndOfMessage => FlushCompress::Sync,
        };
        // Raw deflate into a buffer with room cannot fail; a zlib error here would be a bug.
        let _ = state.compress(input, &mut out[start..], flush);
        let taken = (state.total_in() - before.0) as usize;
        let written = (state.total_out() - before.1) as usize;
        out.truncate(start + written);
        taken
    }

    /// The message is complete: without context takeover, the state goes.
    pub(crate) fn end_message(&mut self) {
        if self.context == Context::Reset {
            self.state = None;
        }
    }

    /// Forgets the context, so that the next message does not refer to earlier ones.
    pub(crate) fn reset(&mut self) {
        if let Some(state) = &mut self.state {
            state.reset();
        }
    }
}

/// The peer sent data that does not inflate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CorruptData;

/// What one call to [`Inflater::inflate`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Inflated {
    /// Input bytes taken.
    pub(crate) taken: usize,
    /// Output bytes written.
    pub(crate) written: usize,
    /// A final block (BFINAL) ended the deflate stream.
    pub(crate) ended: bool,
}

/// What [`Inflater::finish`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Finished {
    /// Wrote this many bytes (possibly none, with the tail taken further): call again.
    Output(usize),
    /// The message is complete: nothing more comes out.
    Done,
}

/// Decompresses incoming messages.
#[derive(Debug)]
pub(crate) struct Inflater {
    state: Option<Decompress>,
    window_bits: u8,
    context: Context,
    /// A final block (BFINAL) ended the deflate stream and nothing has been fed since.
    just_ended: bool,
    /// How much of [`TAIL`] has been fed at the end of the current message.
    tail_fed: usize,
}

impl Inflater {
    pub(crate) fn new(window_bits: u8, context: Context) -> Inflater {
        Inflater {
            state: None,
            window_bits: window_bits.max(MIN_ZLIB_WINDOW_BITS),
            context,
            just_ended: false,
            tail_fed: 0,
        }
    }

    /// Inflates the message's payload from `input` into `output`.
    pub(crate) fn inflate(
        &mut self,
        input: &[u8],
        output: &mut [u8],
    ) -> Result<Inflated, CorruptData> {
        let bits = self.window_bits;
        let state = self
            .state
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
        let before = (state.total_in(), state.total_out());
        let status = state
            .decompress(input, output, FlushDecompress::Sync)
            .map_err(|_| CorruptData)?;
        let taken = (state.total_in() - before.0) as usize;
        let written = (state.total_out() - before.1) as usize;
        let ended = status == Status::StreamEnd;
        if taken > 0 {
            self.just_ended = false;
        }
        if ended {
            // A final block ends this deflate stream; a peer that sets BFINAL starts the
            // next message (or the rest of this one) with a fresh one.
            state.reset(false);
            self.just_ended = true;
        }
        Ok(Inflated {
            taken,
            written,
            ended,
        })
    }

    /// After the message's last payload byte: feeds the tail the sender stripped and drains
    /// what it releases into `output`. A message whose data ended with a final block (RFC
    /// 7692 7.2.3.4) gets no tail: it was never part of it, and must not be fed to the
    /// fresh stream that follows.
    pub(crate) fn finish(&mut self, output: &mut [u8]) -> Result<Finished, CorruptData> {
        if self.tail_fed == 0 && self.just_ended {
            return Ok(Finished::Done);
        }
        let fed = self.tail_fed;
        let step = self.inflate(&TAIL[fed..], output)?;
        self.tail_fed += step.taken;
        match step {
            Inflated { written: 0, .. } if self.tail_fed == TAIL.len() => Ok(Finished::Done),
            // Room for output and input left, yet no progress: the stream is broken.
            Inflated {
                taken: 0,
                written: 0,
                ..
            } => Err(CorruptData),
            Inflated { written, .. } => Ok(Finished::Output(written)),
        }
    }

    /// The message is complete: without context takeover, the state goes.
    pub(crate) fn end_message(&mut self) {
        self.just_ended = false;
        self.tail_fed = 0;
        if self.context == Context::Reset {
            self.state = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compresses one message as the writer does: everything, then the tail stripped.
    fn compress(deflater: &mut Deflater, message: &[u8]) -> Vec<u8> {
        let mut wire = Vec::new();
        let mut input = message;
        loop {
            let taken = deflater.compress(input, &mut wire, 1024, Flush::EndOfMessage);
            input = &input[taken..];
            if input.is_empty() {
                break;
            }
        }
        end_payload(&mut wire, 0, Part::Whole);
        deflater.end_message();
        wire
    }

    /// Inflates one message as the reader does: the payload, then `finish`.
    fn inflate(inflater: &mut Inflater, wire: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; 4096];
        let step = inflater.inflate(wire, &mut out).unwrap();
        assert_eq!(step.taken, wire.len());
        let mut got = out[..step.written].to_vec();
        while let Finished::Output(n) = inflater.finish(&mut out).unwrap() {
            got.extend_from_slice(&out[..n]);
        }
        inflater.end_message();
        got
    }

    #[test]
    fn messages_round_trip_with_and_without_context() {
        for context in [Context::Kept, Context::Reset] {
            let mut deflater = Deflater::new(1, 15, context);
            let mut inflater = Inflater::new(15, context);
            for message in [&b"hello hello hello hello"[..], b"", b"hello again, hello"] {
                let wire = compress(&mut deflater, message);
                assert!(!wire.is_empty() && !wire.ends_with(&TAIL));
                assert_eq!(inflate(&mut inflater, &wire), message);
            }
        }
    }

    #[test]
    fn a_whole_message_suits_a_fresh_inflater_every_time() {
        let data = b"prepared once, sent to many, prepared once, sent to many".repeat(50);
        let wire = compress_whole(&data, 6, 12);
        for _ in 0..2 {
            let mut inflater = Inflater::new(12, Context::Kept);
            assert_eq!(inflate(&mut inflater, &wire), data);
        }
        assert_eq!(compress_whole(b"", 6, 15), [0x00]);
    }

    #[test]
    fn end_payload_strips_the_tail_and_keeps_a_byte() {
        let mut buf = b"hdr\x01\x02\x00\x00\xff\xff".to_vec();
        end_payload(&mut buf, 3, Part::LastFrame);
        assert_eq!(buf, b"hdr\x01\x02");
        let mut empty = b"hdr\x00\x00\xff\xff".to_vec();
        end_payload(&mut empty, 3, Part::LastFrame);
        assert_eq!(empty, b"hdr");
        let mut whole = b"hdr\x00\x00\xff\xff".to_vec();
        end_payload(&mut whole, 3, Part::Whole);
        assert_eq!(whole, b"hdr\x00");
    }

    #[test]
    fn garbage_does_not_inflate() {
        let mut inflater = Inflater::new(15, Context::Kept);
        let mut out = [0u8; 64];
        assert_eq!(inflater.inflate(&[0xff; 16], &mut out), Err(CorruptData));
    }
}
