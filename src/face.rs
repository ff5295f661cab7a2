//! The public methods that more than one face offers, written once.
//!
//! [`Conn`](crate::Conn) reads and writes; [`ReadHalf`](crate::ReadHalf) reads;
//! [`WriteHalf`](crate::WriteHalf) writes. Each macro below expands, inside a face's `impl`
//! block, to the methods of one capability with the same signatures and docs on every face,
//! so the faces cannot drift apart. The bodies only delegate: reading to the face's `side`
//! field (a [`ReadSide`](crate::read_side::ReadSide)), writing to the
//! [`WriteAccess`](crate::link::WriteAccess) its `write_access()` returns, what the
//! handshake agreed to its `info` field, and the closing handshake's state to
//! `close_state()`.

/// Reading: for [`Conn`](crate::Conn) and [`ReadHalf`](crate::ReadHalf).
macro_rules! read_api {
    () => {
        /// Waits for the next data message and returns its kind and a reader for its
        /// payload. An unfinished previous message is skipped first. Control frames that
        /// arrive meanwhile are handled.
        ///
        /// Echoing a message as it streams in (this reader into a
        /// [`next_writer`](crate::Conn::next_writer)) needs [`split`](crate::Conn::split):
        /// the reader borrows the connection. And it deadlocks with a peer that writes a
        /// large message whole before it reads anything (a single-threaded client): that
        /// peer stops reading while the echo is still being written, so both sides' socket
        /// buffers fill and both block. Echo whole messages
        /// ([`read_message`](Self::read_message), then
        /// [`write_message`](crate::Conn::write_message)) to such peers, or give the writer
        /// a write deadline.
        ///
        /// # Errors
        ///
        /// [`Error::Closed`](crate::Error::Closed) when the peer closed (wsio has answered);
        /// [`Error::Protocol`](crate::Error::Protocol) or
        /// [`Error::Capacity`](crate::Error::Capacity) when the peer broke a rule (wsio sent
        /// the close frame); [`Error::Timeout`](crate::Error::Timeout) at a read deadline;
        /// [`Error::Io`](crate::Error::Io); [`Error::AlreadyClosed`](crate::Error::AlreadyClosed).
        pub fn next_reader(
            &mut self,
        ) -> crate::Result<(crate::MessageKind, crate::MessageReader<'_>)> {
            self.side.next_reader()
        }

        /// Reads the next whole data message. If the read stops without losing anything (a
        /// read deadline passes between the message's frames, or a non-blocking stream would
        /// block), the call returns that error and keeps what it read: call it again to get
        /// the whole message.
        ///
        /// # Errors
        ///
        /// As [`next_reader`](Self::next_reader).
        pub fn read_message(&mut self) -> crate::Result<crate::Message> {
            self.side.read_message()
        }

        /// Reads the next whole data message into `buf` (cleared first, capacity kept) and
        /// returns its kind. Text in `buf` is valid UTF-8.
        ///
        /// # Errors
        ///
        /// As [`next_reader`](Self::next_reader).
        pub fn read_message_into(
            &mut self,
            buf: &mut Vec<u8>,
        ) -> crate::Result<crate::MessageKind> {
            self.side.read_message_into(buf)
        }

        /// Reads the next message, which must be text of at most `max_len` bytes (Voss's
        /// `ReceiveText`).
        ///
        /// # Errors
        ///
        /// [`Error::MessageTooLong`](crate::Error::MessageTooLong) or
        /// [`Error::UnexpectedKind`](crate::Error::UnexpectedKind): the message was read and
        /// discarded, the connection is usable. Otherwise as
        /// [`next_reader`](Self::next_reader).
        pub fn read_text(&mut self, max_len: usize) -> crate::Result<String> {
            self.side.read_text(max_len)
        }

        /// Reads the next message, which must be binary, into `buf` and returns its length
        /// (Voss's `ReceiveBinary`).
        ///
        /// # Errors
        ///
        /// [`Error::MessageTooLong`](crate::Error::MessageTooLong) if it does not fit, or
        /// [`Error::UnexpectedKind`](crate::Error::UnexpectedKind): the message was read and
        /// discarded, the connection is usable. Otherwise as
        /// [`next_reader`](Self::next_reader).
        pub fn read_binary(&mut self, buf: &mut [u8]) -> crate::Result<usize> {
            self.side.read_binary(buf)
        }

        /// Changes the largest message accepted from the peer, from the next frame on
        /// (gorilla's `SetReadLimit`); see
        /// [`ConfigBuilder::max_message_size`](crate::ConfigBuilder::max_message_size).
        pub fn set_max_message_size(&mut self, bytes: u64) {
            self.side.set_max_message_size(bytes);
        }

        /// Reads the next message (text or binary) and parses it as JSON.
        ///
        /// # Errors
        ///
        /// [`Error::Json`](crate::Error::Json) if it is not valid JSON for `T` (the
        /// connection stays usable), else as [`read_message`](Self::read_message).
        #[cfg(feature = "serde")]
        pub fn read_json<T: serde::de::DeserializeOwned>(&mut self) -> crate::Result<T> {
            let mut buf = Vec::new();
            self.side.read_message_into(&mut buf)?;
            serde_json::from_slice(&buf).map_err(crate::Error::Json)
        }

        /// Sets a deadline for reads (gorilla's `SetReadDeadline`): a read that would block
        /// past it returns [`Error::Timeout`](crate::Error::Timeout) (at a frame boundary; the
        /// connection stays usable) or [`Error::Poisoned`](crate::Error::Poisoned) (in the
        /// middle of a frame). `None` removes it.
        ///
        /// # Errors
        ///
        /// `Error::Io` with `Unsupported` for a connection made by
        /// [`Conn::from_raw`](crate::Conn::from_raw), whose stream wsio cannot time out.
        pub fn set_read_deadline(
            &mut self,
            deadline: Option<std::time::Instant>,
        ) -> crate::Result<()> {
            self.side.set_read_deadline(deadline)
        }

        /// Replaces the ping handler (default: answer with a pong carrying the ping's
        /// payload). The handler runs inside whichever read call met the ping, on the reading
        /// thread; an error it returns is returned by that call.
        pub fn set_ping_handler<F>(&mut self, handler: F)
        where
            F: FnMut(&[u8], &mut crate::Replier<'_>) -> crate::Result<()> + Send + 'static,
        {
            self.side.set_ping_handler(Box::new(handler));
        }

        /// Replaces the pong handler (default: do nothing). It runs on the reading thread.
        pub fn set_pong_handler<F>(&mut self, handler: F)
        where
            F: FnMut(&[u8]) -> crate::Result<()> + Send + 'static,
        {
            self.side.set_pong_handler(Box::new(handler));
        }

        /// Replaces the close handler, which runs (on the reading thread) when the peer
        /// starts the closing handshake. If it sends no close frame through the
        /// [`Replier`](crate::Replier), wsio answers with the peer's own code and reason. The
        /// read call still returns [`Error::Closed`](crate::Error::Closed) afterwards.
        pub fn set_close_handler<F>(&mut self, handler: F)
        where
            F: FnMut(Option<&crate::CloseFrame>, &mut crate::Replier<'_>) -> crate::Result<()>
                + Send
                + 'static,
        {
            self.side.set_close_handler(Box::new(handler));
        }

        /// Closes the connection gracefully from the reading side: sends a close frame with
        /// `code` and `reason`, reads (discarding data messages) until the peer's close frame
        /// arrives or [`Config::close_timeout`](crate::Config::close_timeout) passes, then
        /// shuts the stream down. Returns how the connection ended. Calling it on a closed
        /// connection returns the recorded status.
        ///
        /// [`CloseCode::NO_STATUS`](crate::CloseCode::NO_STATUS) sends a close frame without
        /// a code (Voss's `StatusNotSent`). Unlike gorilla's, there is no need to keep
        /// reading until the peer's close frame: this call does it, within the close
        /// timeout.
        ///
        /// # Errors
        ///
        /// Nothing is sent, and the connection stays open, for
        /// [`InvalidInput::CloseCode`](crate::InvalidInput::CloseCode) (1006, 1015 or a
        /// reserved range), [`InvalidInput::CloseReasonTooLong`](crate::InvalidInput::CloseReasonTooLong)
        /// (over 123 bytes) and [`InvalidInput::ReasonWithoutCode`](crate::InvalidInput::ReasonWithoutCode)
        /// (a reason with 1005). If the close frame cannot be sent, the connection is over
        /// (its status is abnormal) and the error says why:
        /// [`Error::Io`](crate::Error::Io), [`Error::Timeout`](crate::Error::Timeout) (the
        /// close timeout passed before the frame went out) or
        /// [`Error::Poisoned`](crate::Error::Poisoned) (an earlier write stopped in the
        /// middle of a frame). Not hearing back from the peer is not an error: the status
        /// then has code [`CloseCode::ABNORMAL`](crate::CloseCode::ABNORMAL).
        pub fn close(
            &mut self,
            code: crate::CloseCode,
            reason: &str,
        ) -> crate::Result<crate::CloseStatus> {
            self.side.close(code, reason)
        }
    };
}

/// Writing: for [`Conn`](crate::Conn) and [`WriteHalf`](crate::WriteHalf).
macro_rules! write_api {
    () => {
        /// Starts a message whose payload is written through the returned writer, which must
        /// be [`finish`](crate::MessageWriter::finish)ed. Writing a message while another
        /// streams in needs [`split`](crate::Conn::split), and blocks with a peer that does
        /// not read while it writes; see [`next_reader`](crate::Conn::next_reader).
        ///
        /// # Errors
        ///
        /// [`Error::AlreadyClosed`](crate::Error::AlreadyClosed) after a close frame was sent;
        /// a sticky I/O error.
        pub fn next_writer(
            &mut self,
            kind: crate::MessageKind,
        ) -> crate::Result<crate::MessageWriter<'_>> {
            let access = self.write_access();
            crate::link::WriteAccess::write_side(access, |w| w.begin(kind))?;
            Ok(crate::MessageWriter::new(access))
        }

        /// Writes a whole message as one frame.
        ///
        /// # Errors
        ///
        /// [`InvalidInput::InvalidUtf8`](crate::InvalidInput::InvalidUtf8) for text that is not
        /// UTF-8 (nothing is sent); [`Error::AlreadyClosed`](crate::Error::AlreadyClosed) after
        /// a close frame was sent; [`Error::Timeout`](crate::Error::Timeout) at a write
        /// deadline before anything was sent; I/O errors.
        pub fn write_message(
            &mut self,
            kind: crate::MessageKind,
            data: &[u8],
        ) -> crate::Result<()> {
            crate::link::WriteAccess::write_side(self.write_access(), |w| {
                w.write_message(kind, data)
            })
        }

        /// Writes a message prepared once for many connections (see
        /// [`PreparedMessage`](crate::PreparedMessage)).
        ///
        /// # Errors
        ///
        /// As [`write_message`](Self::write_message).
        pub fn write_prepared(&mut self, message: &crate::PreparedMessage) -> crate::Result<()> {
            crate::link::WriteAccess::write_side(self.write_access(), |w| w.write_prepared(message))
        }

        /// Writes a text message.
        ///
        /// # Errors
        ///
        /// As [`write_message`](Self::write_message).
        pub fn write_text(&mut self, text: &str) -> crate::Result<()> {
            self.write_message(crate::MessageKind::Text, text.as_bytes())
        }

        /// Writes a binary message.
        ///
        /// # Errors
        ///
        /// As [`write_message`](Self::write_message).
        pub fn write_binary(&mut self, data: &[u8]) -> crate::Result<()> {
            self.write_message(crate::MessageKind::Binary, data)
        }

        /// Writes `value` as a JSON text message, serialized straight into the frame buffer.
        ///
        /// # Errors
        ///
        /// [`Error::Json`](crate::Error::Json) if serialization fails (no final frame is sent;
        /// a partial message is ended early), else as [`write_message`](Self::write_message).
        #[cfg(feature = "serde")]
        pub fn write_json<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> crate::Result<()> {
            let mut writer = self.next_writer(crate::MessageKind::Text)?;
            match serde_json::to_writer(&mut writer, value) {
                Ok(()) => writer.finish(),
                Err(e) if e.is_io() => Err(crate::Error::from(std::io::Error::from(e))),
                Err(e) => Err(crate::Error::Json(e)),
            }
        }

        /// Sends a ping. The pong comes back through a read (see
        /// [`set_pong_handler`](crate::Conn::set_pong_handler)).
        ///
        /// # Errors
        ///
        /// [`InvalidInput::ControlPayloadTooLong`](crate::InvalidInput::ControlPayloadTooLong)
        /// over 125 bytes; [`Error::AlreadyClosed`](crate::Error::AlreadyClosed); I/O errors.
        pub fn write_ping(&mut self, payload: &[u8]) -> crate::Result<()> {
            crate::link::WriteAccess::write_side(self.write_access(), |w| {
                w.write_control(crate::frame::OpCode::Ping, payload)
            })
        }

        /// Sends an unsolicited pong (a one-way heartbeat).
        ///
        /// # Errors
        ///
        /// As [`write_ping`](Self::write_ping).
        pub fn write_pong(&mut self, payload: &[u8]) -> crate::Result<()> {
            crate::link::WriteAccess::write_side(self.write_access(), |w| {
                w.write_control(crate::frame::OpCode::Pong, payload)
            })
        }

        /// Sends buffered frames (with [`FlushPolicy::Batched`](crate::FlushPolicy::Batched))
        /// and flushes the stream.
        ///
        /// # Errors
        ///
        /// I/O errors; a sticky earlier write error;
        /// [`Error::AlreadyClosed`](crate::Error::AlreadyClosed) after a close frame was sent.
        pub fn flush(&mut self) -> crate::Result<()> {
            crate::link::WriteAccess::write_side(self.write_access(), |w| w.flush())
        }

        /// Sets a deadline for writes (gorilla's `SetWriteDeadline`): a write that would block
        /// past it returns [`Error::Timeout`](crate::Error::Timeout) if nothing of its frames
        /// went out (they are dropped; the call can be repeated), else
        /// [`Error::Poisoned`](crate::Error::Poisoned). A peer that never reads therefore
        /// fails the writer at the deadline instead of blocking it forever. `None` removes
        /// it.
        ///
        /// # Errors
        ///
        /// `Error::Io` with `Unsupported` for a connection made by
        /// [`Conn::from_raw`](crate::Conn::from_raw), whose stream wsio cannot time out.
        pub fn set_write_deadline(
            &mut self,
            deadline: Option<std::time::Instant>,
        ) -> crate::Result<()> {
            crate::link::WriteAccess::write_side(self.write_access(), |w| {
                let out = w.output();
                if out.ops.is_none() {
                    return Err(crate::read_side::unsupported());
                }
                out.write_deadline = deadline;
                Ok(())
            })
        }

        /// Starts the closing handshake without waiting (gorilla's
        /// `WriteControl(CloseMessage, ..)`): sends a close frame, unless one was sent. The
        /// reading side then reads until the peer's close frame and returns
        /// [`Error::Closed`](crate::Error::Closed).
        ///
        /// # Errors
        ///
        /// [`InvalidInput`](crate::InvalidInput) for a code that may not be sent or a reason
        /// over 123 bytes; I/O errors.
        pub fn send_close(&mut self, code: crate::CloseCode, reason: &str) -> crate::Result<()> {
            crate::frame::check_close(code, reason)?;
            crate::link::WriteAccess::write_side(self.write_access(), |w| {
                crate::handlers::ControlOut::send_close(w, Some((code, reason)))
            })
        }

        /// Turns compression of the following messages on or off, when it was negotiated
        /// (gorilla's `EnableWriteCompression`). Incoming compressed messages are always
        /// inflated.
        pub fn set_write_compression(&mut self, enabled: bool) {
            crate::link::WriteAccess::write_side(self.write_access(), |w| {
                w.output().writer.set_compress_writes(enabled)
            });
        }

        /// Sets the compression level (0-9) of the following messages, when compression was
        /// negotiated (gorilla's `SetCompressionLevel`).
        pub fn set_compression_level(&mut self, level: u32) {
            crate::link::WriteAccess::write_side(self.write_access(), |w| {
                w.output().writer.set_compression_level(level)
            });
        }
    };
}

/// What the handshake agreed and how the connection ended: for every face but
/// [`Handle`](crate::Handle).
macro_rules! info_api {
    () => {
        /// How the connection ended, once it has: the peer's code and reason and who started
        /// (Voss's `GetStatus`). `None` while open or while waiting for the peer's close
        /// frame.
        pub fn close_status(&self) -> Option<crate::CloseStatus> {
            crate::link::WriteAccess::close_state(self.access())
                .status()
                .cloned()
        }

        /// The subprotocol agreed in the opening handshake.
        pub fn subprotocol(&self) -> Option<&str> {
            self.info.subprotocol.as_deref()
        }

        /// The permessage-deflate parameters agreed in the opening handshake, if compression
        /// was negotiated.
        pub fn compression(&self) -> Option<crate::DeflateParams> {
            self.info.deflate
        }

        /// Client or server.
        pub fn role(&self) -> crate::Role {
            self.info.role
        }

        /// The configuration.
        pub fn config(&self) -> &crate::Config {
            &self.info.config
        }

        /// What the server kept of the request that opened the connection (Voss's
        /// `ResourceName` and `Origin`): its target, `Origin`, and the headers named in
        /// [`Upgrader::keep_headers`](crate::Upgrader::keep_headers). `None` on a client
        /// connection and one made by [`Conn::from_raw`](crate::Conn::from_raw).
        pub fn request(&self) -> Option<&crate::RequestInfo> {
            self.info.request.as_deref()
        }

        /// The value the request callback attached with
        /// [`Accept::set_value`](crate::Accept::set_value), if there is one and it is a `T`:
        /// the authenticated user, say.
        pub fn value<T: std::any::Any>(&self) -> Option<&T> {
            self.info.value()
        }
    };
}

pub(crate) use {info_api, read_api, write_api};
