//! Messages: whole ([`Message`]) and streamed ([`MessageReader`], [`MessageWriter`]).

use std::fmt;
use std::io::{self, Read, Write};

use crate::error::{Error, InvalidInput, Result};
use crate::proto::MessageKind;
use crate::reader::{Reader, Wire};

/// A whole data message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

impl Message {
    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Text(_) => MessageKind::Text,
            Message::Binary(_) => MessageKind::Binary,
        }
    }

    /// The payload.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }

    /// The payload, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Message::Text(text) => text.into_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }

    /// The text, if this is a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
        }
    }

    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Message {
        Message::Text(text.to_owned())
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Message {
        Message::Binary(bytes)
    }
}

impl From<&[u8]> for Message {
    fn from(bytes: &[u8]) -> Message {
        Message::Binary(bytes.to_vec())
    }
}

/// Reads one message's payload as it arrives, from [`Conn::next_reader`](crate::Conn::next_reader).
///
/// `read` returns `Ok(0)` at the end of the message. Payload is delivered as soon as it is
/// read from the stream, without waiting for whole frames, so a message of any size streams
/// through a fixed buffer. Text is checked as it arrives: invalid UTF-8 is an error (and
/// close 1007) as soon as the bad byte is read. Control frames between the message's frames
/// are handled along the way.
///
/// Dropping the reader early is fine: the next `next_reader` skips the rest of the message.
/// Errors surface as `io::Error`; `wsio::Error::from(io_error)` recovers the typed error.
pub struct MessageReader<'a> {
    reader: &'a mut Reader,
    wire: &'a mut dyn Wire,
}

impl<'a> MessageReader<'a> {
    pub(crate) fn new(reader: &'a mut Reader, wire: &'a mut dyn Wire) -> MessageReader<'a> {
        MessageReader { reader, wire }
    }
}

impl Read for MessageReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.reader.read(self.wire, buf);
        // Over a non-blocking stream, the reader may be dropped at `WouldBlock`: the next
        // `next_reader` then continues this message.
        self.reader
            .set_interrupted(read.as_ref().is_err_and(Error::is_would_block));
        read.map_err(io::Error::from)
    }
}

impl fmt::Debug for MessageReader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageReader").finish_non_exhaustive()
    }
}

/// What a [`MessageWriter`] writes into: a connection's write side, or a writer half's.
pub(crate) trait Sink {
    fn stream_write(&mut self, data: &[u8]) -> Result<()>;
    fn stream_flush(&mut self) -> Result<()>;
    fn stream_finish(&mut self) -> Result<()>;
    /// Gives the message up. Runs in `Drop`: no I/O, no lock that can block.
    fn stream_abandon(&mut self);
}

/// Writes one message as it is produced, from [`Conn::next_writer`](crate::Conn::next_writer).
///
/// Writes collect in the connection's write buffer and leave as a frame whenever it fills;
/// a write at least as large as the buffer leaves as frames of their own without being
/// copied (server) or is masked in chunks (client). [`finish`](Self::finish) sends the final
/// frame. `flush` sends what is buffered as a frame now.
///
/// The writer's state after each outcome:
/// - A write or flush that fails gives the message up: nothing more of it is sent, what
///   was sent of it is ended with a final frame (the peer sees a shorter message, never a
///   broken stream), and every later call on this writer returns
///   [`InvalidInput::MessageGivenUp`](crate::InvalidInput::MessageGivenUp). Whether the
///   connection is still usable depends on the error: after
///   [`InvalidInput::InvalidUtf8`](crate::InvalidInput::InvalidUtf8) (text that is not
///   UTF-8: nothing of it was sent) it is; after an I/O error or
///   [`Error::Poisoned`](crate::Error::Poisoned) it is not.
/// - Over a non-blocking stream, writes and `finish` never block: what the stream does not
///   take is queued (see [`Conn::interest`](crate::Conn::interest)); `flush` returns
///   `WouldBlock` until the queue is out, and the writer stays usable.
/// - Dropping the writer without `finish` does no I/O and takes no lock that can block: if
///   no frame of the message was sent, the message is forgotten; otherwise it is ended
///   early with what was written, and the end goes out with the next write.
///
/// Errors surface as `io::Error`; `wsio::Error::from(io_error)` recovers the typed error.
pub struct MessageWriter<'a> {
    sink: &'a mut dyn Sink,
    state: Writing,
}

/// Whether a [`MessageWriter`] still writes its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Writing {
    /// Writes go to the message.
    Open,
    /// A write or flush failed and the message was given up.
    GivenUp,
    /// `finish` is ending it.
    Finished,
}

impl<'a> MessageWriter<'a> {
    pub(crate) fn new(sink: &'a mut dyn Sink) -> MessageWriter<'a> {
        MessageWriter {
            sink,
            state: Writing::Open,
        }
    }

    /// Sends the final frame of the message (and, by default, flushes the stream).
    ///
    /// # Errors
    ///
    /// [`InvalidInput::InvalidUtf8`](crate::InvalidInput::InvalidUtf8) if a text message ended
    /// inside a UTF-8 character (the message is given up, ended early);
    /// [`InvalidInput::MessageGivenUp`](crate::InvalidInput::MessageGivenUp) after a failed
    /// write; I/O errors; [`Error::AlreadyClosed`](crate::Error::AlreadyClosed) after a close
    /// frame was sent.
    pub fn finish(mut self) -> Result<()> {
        self.check()?;
        self.state = Writing::Finished;
        let result = self.sink.stream_finish();
        if result.is_err() {
            self.sink.stream_abandon();
        }
        result
    }

    fn check(&self) -> Result<()> {
        match self.state {
            Writing::Open => Ok(()),
            Writing::GivenUp | Writing::Finished => Err(InvalidInput::MessageGivenUp.into()),
        }
    }

    /// Runs one write or flush; gives the message up if it fails (a flush of a
    /// non-blocking stream that would block fails nothing: the frames stay queued).
    fn attempt(&mut self, op: impl FnOnce(&mut dyn Sink) -> Result<()>) -> Result<()> {
        self.check()?;
        let result = op(self.sink);
        if result.as_ref().is_err_and(|e| !e.is_would_block()) {
            self.state = Writing::GivenUp;
            self.sink.stream_abandon();
        }
        result
    }
}

impl Write for MessageWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.attempt(|sink| sink.stream_write(buf))?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        Ok(self.attempt(|sink| sink.stream_write(buf))?)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(self.attempt(|sink| sink.stream_flush())?)
    }
}

impl Drop for MessageWriter<'_> {
    fn drop(&mut self) {
        if self.state == Writing::Open {
            self.sink.stream_abandon();
        }
    }
}

impl fmt::Debug for MessageWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageWriter").finish_non_exhaustive()
    }
}
