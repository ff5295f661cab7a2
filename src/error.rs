//! Errors: one type for every operation, with a variant per cause and a sub-enum per family.
//!
//! An [`Error`] can travel through [`std::io::Error`] and back (what the `Read`/`Write`
//! adapters [`MessageReader`](crate::MessageReader) and [`MessageWriter`](crate::MessageWriter)
//! need): `io::Error::from(err)` wraps it, and `Error::from(io_err)` unwraps it again.

use std::{error, fmt, io};

use crate::http::{BadHeader, HeadError, Response};
use crate::proto::{CloseCode, CloseStatus, MessageKind};

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, by cause.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The closing handshake completed: the peer sent a close frame and wsio answered it, or
    /// the peer answered ours. Carries the peer's code and reason and who started.
    /// Further reads and writes return [`Error::AlreadyClosed`].
    Closed(CloseStatus),
    /// The connection was already closed or failed; the operation did nothing.
    AlreadyClosed,
    /// The transport failed. `UnexpectedEof` means the peer went away without a close frame.
    /// `WouldBlock` comes from a non-blocking stream (or one whose own timeout wsio did not
    /// set, as Unix sockets report it): nothing was lost and the read can be repeated; a
    /// write that had sent part of a frame is [`Error::Poisoned`] instead.
    Io(io::Error),
    /// A read or write deadline passed, or the stream's own timeout fired, at a frame
    /// boundary: nothing was lost, the connection is usable, and the call can be repeated.
    Timeout,
    /// A deadline passed (or, for a write, a non-blocking stream would block) with part of
    /// a frame read or written, so the stream is no longer at a frame boundary: the
    /// connection is unusable, and every later call returns this.
    Poisoned(Poison),
    /// The keepalive found the peer silent past its timeout: wsio sent close 1001 and
    /// dropped the connection (status 1006).
    KeepaliveTimeout,
    /// This end is going away (the [`Server`](crate::Server) is shutting down; see
    /// [`Stream::is_going_away`](crate::Stream::is_going_away)): wsio sent close 1001 and
    /// ended the connection without waiting for the peer's answer (status 1006).
    GoingAway,
    /// The peer broke RFC 6455. wsio sent a close frame with [`ProtocolError::close_code`]
    /// (1002, or 1007 for a payload that is not what it claims) and the connection is
    /// failed: this error repeats on every later call.
    Protocol(ProtocolError),
    /// The peer exceeded a configured limit. wsio sent close 1009 and the connection is
    /// failed: this error repeats on every later call.
    Capacity(CapacityError),
    /// The application asked for something wsio will not send; nothing was sent.
    InvalidInput(InvalidInput),
    /// [`Conn::read_binary`](crate::Conn::read_binary) or
    /// [`Conn::read_text`](crate::Conn::read_text): the message was longer than `limit`.
    /// The rest of it was read and discarded; the connection is still usable.
    MessageTooLong {
        /// The caller's limit in bytes.
        limit: usize,
    },
    /// [`Conn::read_binary`](crate::Conn::read_binary) or
    /// [`Conn::read_text`](crate::Conn::read_text): the message was of the other kind. It was
    /// read and discarded; the connection is still usable.
    UnexpectedKind(MessageKind),
    /// The opening handshake failed.
    Handshake(HandshakeError),
    /// The URL given to the [`Dialer`](crate::Dialer) cannot be dialed.
    Url(UrlError),
    /// TLS failed: the peer's certificate, an alert from the peer, or the configuration.
    Tls(TlsError),
    /// The proxy refused to connect, or does not speak its protocol.
    Proxy(ProxyError),
    /// JSON (de)serialization failed. The connection is still usable.
    #[cfg(feature = "serde")]
    Json(serde_json::Error),
}

impl Error {
    /// The close code wsio sent because of this error, if it sent one: the protocol
    /// error's code, 1009 for a limit, 1001 when the keepalive gave up on the peer or this
    /// end went away.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Error::Protocol(e) => Some(e.close_code()),
            Error::Capacity(_) => Some(CloseCode::MESSAGE_TOO_BIG),
            Error::KeepaliveTimeout | Error::GoingAway => Some(CloseCode::GOING_AWAY),
            _ => None,
        }
    }

    /// Whether the connection ended in a way not in `expected` (gorilla's
    /// `IsUnexpectedCloseError`): [`Error::Closed`] with another code, or the peer gone
    /// without a close frame (a reset or end of stream, or the keepalive giving up: code
    /// [`CloseCode::ABNORMAL`]). Errors that are not an end of the connection are not.
    ///
    /// ```
    /// # fn handle(conn: &mut wsio::Conn<std::net::TcpStream>) {
    /// use wsio::CloseCode;
    /// if let Err(e) = conn.read_message() {
    ///     if e.is_unexpected_close(&[CloseCode::NORMAL, CloseCode::GOING_AWAY]) {
    ///         eprintln!("connection lost: {e}");
    ///     }
    /// }
    /// # }
    /// ```
    pub fn is_unexpected_close(&self, expected: &[CloseCode]) -> bool {
        let code = match self {
            Error::Closed(status) => status.code,
            Error::KeepaliveTimeout => CloseCode::ABNORMAL,
            Error::Io(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::UnexpectedEof
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::BrokenPipe
                ) =>
            {
                CloseCode::ABNORMAL
            }
            _ => return false,
        };
        !expected.contains(&code)
    }

    /// Whether this is [`Error::Timeout`]: a deadline passed at a frame boundary, the
    /// connection is usable and the call can be repeated.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout)
    }

    /// Whether a non-blocking stream would block (`Error::Io` of kind `WouldBlock`): nothing
    /// was lost, and the same call, made again once the stream is ready (see
    /// [`Conn::interest`](crate::Conn::interest)), resumes where this one stopped. See the
    /// crate's "Non-blocking" topic.
    pub fn is_would_block(&self) -> bool {
        matches!(self, Error::Io(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Whether the call stopped without losing anything and can simply be repeated: a
    /// timeout at a frame boundary, or a stream that would block.
    pub(crate) fn is_resumable(&self) -> bool {
        match self {
            Error::Timeout => true,
            Error::Io(e) => e.kind() == io::ErrorKind::WouldBlock,
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Closed(status) => write!(f, "connection closed ({status})"),
            Error::AlreadyClosed => f.write_str("connection already closed"),
            Error::Io(e) => write!(f, "i/o error: {e}"),
            Error::Timeout => f.write_str("timed out between frames; the connection is usable"),
            Error::Poisoned(p) => write!(f, "connection unusable: {p}"),
            Error::KeepaliveTimeout => f.write_str("the peer stopped answering keepalive pings"),
            Error::GoingAway => {
                f.write_str("going away: this end is shutting down (close 1001 sent)")
            }
            Error::Protocol(e) => write!(f, "protocol error: {e}"),
            Error::Capacity(e) => write!(f, "limit exceeded: {e}"),
            Error::InvalidInput(e) => write!(f, "invalid input: {e}"),
            Error::MessageTooLong { limit } => {
                write!(f, "message longer than the {limit}-byte limit; discarded")
            }
            Error::UnexpectedKind(kind) => write!(f, "unexpected {kind} message; discarded"),
            Error::Handshake(e) => write!(f, "handshake failed: {e}"),
            Error::Url(e) => write!(f, "bad url: {e}"),
            Error::Tls(e) => write!(f, "tls: {e}"),
            Error::Proxy(e) => write!(f, "{e}"),
            #[cfg(feature = "serde")]
            Error::Json(e) => write!(f, "json: {e}"),
        }
    }
}

impl error::Error for Error {
    fn source(&self) -> Option<&(dyn error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Protocol(e) => Some(e),
            Error::Capacity(e) => Some(e),
            Error::InvalidInput(e) => Some(e),
            Error::Handshake(e) => Some(e),
            Error::Url(e) => Some(e),
            Error::Tls(e) => Some(e),
            Error::Proxy(e) => Some(e),
            #[cfg(feature = "serde")]
            Error::Json(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    /// Unwraps an [`Error`] that travelled inside an `io::Error`; wraps any other.
    fn from(e: io::Error) -> Error {
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            if let Some(inner) = e.into_inner() {
                if let Ok(err) = inner.downcast::<Error>() {
                    return *err;
                }
            }
            unreachable!("checked above that the io::Error wraps an Error");
        }
        Error::Io(e)
    }
}

impl From<Error> for io::Error {
    /// `Error::Io` gives back the inner error; any other is wrapped so that `Error::from`
    /// recovers it.
    fn from(e: Error) -> io::Error {
        let kind = match &e {
            Error::Io(_) => {
                let Error::Io(inner) = e else { unreachable!() };
                return inner;
            }
            Error::Closed(_) | Error::AlreadyClosed | Error::Poisoned(_) | Error::GoingAway => {
                io::ErrorKind::ConnectionAborted
            }
            Error::Timeout | Error::KeepaliveTimeout => io::ErrorKind::TimedOut,
            Error::Protocol(_) | Error::Capacity(_) => io::ErrorKind::InvalidData,
            Error::InvalidInput(_) => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Error {
        Error::Protocol(e)
    }
}

impl From<CapacityError> for Error {
    fn from(e: CapacityError) -> Error {
        Error::Capacity(e)
    }
}

impl From<InvalidInput> for Error {
    fn from(e: InvalidInput) -> Error {
        Error::InvalidInput(e)
    }
}

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Error {
        Error::Handshake(e)
    }
}

impl From<UrlError> for Error {
    fn from(e: UrlError) -> Error {
        Error::Url(e)
    }
}

impl From<TlsError> for Error {
    fn from(e: TlsError) -> Error {
        Error::Tls(e)
    }
}

impl From<ProxyError> for Error {
    fn from(e: ProxyError) -> Error {
        Error::Proxy(e)
    }
}

impl From<HeadError> for Error {
    fn from(e: HeadError) -> Error {
        match e {
            HeadError::TooLarge => HandshakeError::TooLarge.into(),
            HeadError::TooManyHeaders => HandshakeError::TooManyHeaders.into(),
            HeadError::Malformed => HandshakeError::Malformed.into(),
            HeadError::Timeout => HandshakeError::Timeout.into(),
            HeadError::Eof => HandshakeError::Eof.into(),
            // Unwraps an error of ours carried by the stream (a TLS failure, say).
            HeadError::Io(e) => Error::from(e),
        }
    }
}

/// Why a connection became unusable: the stream stopped in the middle of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Poison {
    /// A read deadline (or the stream's own timeout) passed with part of a frame read.
    ReadTimeoutMidFrame,
    /// A write deadline (or the stream's own timeout) passed with part of a frame written.
    WriteTimeoutMidFrame,
    /// A non-blocking stream would block with part of a frame written.
    WriteWouldBlockMidFrame,
}

impl fmt::Display for Poison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Poison::ReadTimeoutMidFrame => "a read timed out in the middle of a frame",
            Poison::WriteTimeoutMidFrame => "a write timed out in the middle of a frame",
            Poison::WriteWouldBlockMidFrame => {
                "a non-blocking write would block in the middle of a frame"
            }
        })
    }
}

/// A rule of RFC 6455 the peer broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A frame used a reserved opcode (3-7, 0xB-0xF).
    ReservedOpcode(u8),
    /// A frame set RSV1, RSV2 or RSV3 without an extension that defines it.
    ReservedBits,
    /// A control frame did not have FIN set.
    FragmentedControlFrame,
    /// A control frame's payload was longer than 125 bytes.
    ControlFrameTooLong,
    /// A 64-bit payload length had its most significant bit set.
    InvalidPayloadLength,
    /// A client sent a frame without a masking key.
    UnmaskedFrame,
    /// A server sent a frame with a masking key.
    MaskedFrame,
    /// A continuation frame arrived with no fragmented message in progress.
    UnexpectedContinuation,
    /// A text or binary frame arrived while a fragmented message was in progress.
    ExpectedContinuation,
    /// A text message was not valid UTF-8 (detected as soon as the bad byte arrived).
    InvalidUtf8,
    /// A close frame's payload was one byte long.
    InvalidClosePayload,
    /// A close frame carried a code that may not be sent (e.g. 1005, 1006, 999, 5000).
    InvalidCloseCode(u16),
    /// A close frame's reason was not valid UTF-8.
    InvalidCloseReason,
    /// RSV1 (compressed) was set on a control frame or a continuation frame.
    MisplacedCompressionBit,
    /// A compressed message did not inflate (close 1007).
    InvalidDeflateData,
}

impl ProtocolError {
    /// The close code wsio sends for this error: 1007 (invalid payload) for a payload that
    /// is not what it claims (text or a close reason that is not UTF-8, compressed data that
    /// does not inflate), 1002 (protocol error) for the rest.
    pub fn close_code(&self) -> CloseCode {
        match self {
            ProtocolError::InvalidUtf8
            | ProtocolError::InvalidCloseReason
            | ProtocolError::InvalidDeflateData => CloseCode::INVALID_PAYLOAD,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }

    /// A short reason for the close frame and for `Display`.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            ProtocolError::ReservedOpcode(_) => "reserved opcode",
            ProtocolError::ReservedBits => "reserved bits set",
            ProtocolError::FragmentedControlFrame => "fragmented control frame",
            ProtocolError::ControlFrameTooLong => "control frame payload over 125 bytes",
            ProtocolError::InvalidPayloadLength => "payload length has its top bit set",
            ProtocolError::UnmaskedFrame => "client frame not masked",
            ProtocolError::MaskedFrame => "server frame masked",
            ProtocolError::UnexpectedContinuation => "continuation frame outside a message",
            ProtocolError::ExpectedContinuation => "new message inside a fragmented message",
            ProtocolError::InvalidUtf8 => "text is not valid UTF-8",
            ProtocolError::InvalidClosePayload => "close payload of one byte",
            ProtocolError::InvalidCloseCode(_) => "invalid close code",
            ProtocolError::InvalidCloseReason => "close reason is not valid UTF-8",
            ProtocolError::MisplacedCompressionBit => "RSV1 on a control or continuation frame",
            ProtocolError::InvalidDeflateData => "compressed data does not inflate",
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            ProtocolError::InvalidCloseCode(code) => write!(f, "invalid close code {code}"),
            other => f.write_str(other.reason()),
        }
    }
}

impl error::Error for ProtocolError {}

/// A configured limit the peer exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CapacityError {
    /// A frame declared a payload longer than [`Config::max_frame_size`](crate::Config::max_frame_size).
    FrameTooLarge {
        /// The declared payload length.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// A message grew past [`Config::max_message_size`](crate::Config::max_message_size).
    MessageTooLarge {
        /// The limit.
        limit: u64,
    },
}

impl CapacityError {
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            CapacityError::FrameTooLarge { .. } => "frame too large",
            CapacityError::MessageTooLarge { .. } => "message too large",
        }
    }
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapacityError::FrameTooLarge { len, limit } => {
                write!(f, "frame of {len} bytes exceeds the {limit}-byte limit")
            }
            CapacityError::MessageTooLarge { limit } => {
                write!(f, "message exceeds the {limit}-byte limit")
            }
        }
    }
}

impl error::Error for CapacityError {}

/// Something the application asked for that wsio will not send (or do).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidInput {
    /// A close code that may not be sent (1005, 1006, 1015, or outside 1000-4999's valid ranges).
    CloseCode(u16),
    /// A close reason longer than 123 bytes (its length is given).
    CloseReasonTooLong(usize),
    /// A close reason without a code: [`CloseCode::NO_STATUS`] sends an empty close frame,
    /// which has room for neither.
    ReasonWithoutCode,
    /// A ping or pong payload longer than 125 bytes (its length is given).
    ControlPayloadTooLong(usize),
    /// Text that is not valid UTF-8 was written to a text message.
    InvalidUtf8,
    /// A header name that is not an HTTP token (the name is given).
    HeaderName(String),
    /// A header value with a control character, CR, LF or NUL among them (the header's name
    /// is given): written, it could inject headers of its own.
    HeaderValue(String),
    /// A header the opening handshake sets itself (`Upgrade`, `Connection`,
    /// `Sec-WebSocket-*`), which a callback may not set (the name is given).
    HandshakeHeader(String),
    /// A subprotocol name that is not an HTTP token (it is given).
    Subprotocol(String),
    /// A subprotocol the client did not offer, chosen by a request callback (it is given).
    UnofferedSubprotocol(String),
    /// A write to a streamed message after a write to it failed: the message was given up
    /// (see [`MessageWriter`](crate::MessageWriter)); start a new one.
    MessageGivenUp,
    /// An HTTP response status outside 200-599, from a server's plain-HTTP callback (it is
    /// given).
    HttpStatus(u16),
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidInput::CloseCode(code) => write!(f, "close code {code} may not be sent"),
            InvalidInput::CloseReasonTooLong(len) => {
                write!(f, "close reason of {len} bytes is over the 123-byte limit")
            }
            InvalidInput::ReasonWithoutCode => {
                f.write_str("a close reason needs a close code (1005 sends none)")
            }
            InvalidInput::ControlPayloadTooLong(len) => {
                write!(
                    f,
                    "control payload of {len} bytes is over the 125-byte limit"
                )
            }
            InvalidInput::InvalidUtf8 => f.write_str("text message is not valid UTF-8"),
            InvalidInput::HeaderName(name) => {
                write!(f, "header name {name:?} is not a token")
            }
            InvalidInput::HeaderValue(name) => write!(
                f,
                "the value of header {name:?} holds a control character (CR, LF, NUL, ...)"
            ),
            InvalidInput::HttpStatus(status) => {
                write!(
                    f,
                    "HTTP status {status} is not one a response may have (200-599)"
                )
            }
            InvalidInput::HandshakeHeader(name) => {
                write!(
                    f,
                    "header {name:?} is one wsio sets itself (the handshake's, or a response's framing) and may not be set"
                )
            }
            InvalidInput::Subprotocol(name) => {
                write!(f, "subprotocol {name:?} is not a token")
            }
            InvalidInput::UnofferedSubprotocol(name) => {
                write!(f, "subprotocol {name:?} was not offered by the client")
            }
            InvalidInput::MessageGivenUp => f.write_str(
                "the message was given up after an earlier write to it failed; start a new one",
            ),
        }
    }
}

impl From<BadHeader> for InvalidInput {
    fn from(e: BadHeader) -> InvalidInput {
        match e {
            BadHeader::Name(name) => InvalidInput::HeaderName(name),
            BadHeader::Value(name) => InvalidInput::HeaderValue(name),
        }
    }
}

impl error::Error for InvalidInput {}

/// Why an opening handshake failed.
///
/// On the server, wsio has already answered the request with [`status`](Self::status).
#[derive(Debug)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The request's method was not GET (answered 405).
    MethodNotAllowed,
    /// The request was not HTTP/1.1 or later (answered 400).
    HttpVersion,
    /// `Upgrade: websocket` or `Connection: Upgrade` was missing (answered 400 on the server).
    NotUpgrade,
    /// `Sec-WebSocket-Version` was not 13 (answered 426 with `Sec-WebSocket-Version: 13`).
    UnsupportedVersion,
    /// `Sec-WebSocket-Key` was missing, repeated, or not 16 bytes in base64 (answered 400).
    InvalidKey,
    /// The `Host` header was missing (answered 400).
    MissingHost,
    /// The origin check rejected the request's `Origin` (answered 403).
    OriginRejected,
    /// The request callback rejected the request with this status.
    Rejected(u16),
    /// The request or response head was larger than
    /// [`Config::max_handshake_size`](crate::Config::max_handshake_size) (answered 431).
    TooLarge,
    /// The head had more headers than [`Config::max_headers`](crate::Config::max_headers)
    /// (answered 431).
    TooManyHeaders,
    /// The head was not valid HTTP (answered 400 on the server).
    Malformed,
    /// The handshake did not finish within [`Config::handshake_timeout`](crate::Config::handshake_timeout).
    Timeout,
    /// The connection ended before the head was complete.
    Eof,
    /// Client: the server answered with a status other than 101. The response (status, headers
    /// and up to 1 KiB of body) is attached.
    Status(Box<Response>),
    /// Client: the `Sec-WebSocket-Accept` header did not match the key.
    InvalidAccept,
    /// Client: the server chose a subprotocol the client did not offer.
    UnofferedSubprotocol(String),
    /// Client: the server named more than one subprotocol (they are given).
    SeveralSubprotocols(String),
    /// Client: the server answered with an extension the client did not offer.
    UnofferedExtension(String),
    /// Client: the server's permessage-deflate answer is invalid or asks for parameters
    /// the client did not offer (what is wrong is attached).
    InvalidExtension(String),
}

impl HandshakeError {
    /// The HTTP status a server sends (or sent) for this error, if it is a request error.
    pub fn status(&self) -> Option<u16> {
        Some(match self {
            HandshakeError::MethodNotAllowed => 405,
            HandshakeError::HttpVersion
            | HandshakeError::InvalidKey
            | HandshakeError::MissingHost
            | HandshakeError::Malformed => 400,
            HandshakeError::UnsupportedVersion | HandshakeError::NotUpgrade => 426,
            HandshakeError::OriginRejected => 403,
            HandshakeError::Rejected(status) => *status,
            HandshakeError::TooLarge | HandshakeError::TooManyHeaders => 431,
            HandshakeError::Status(response) => response.status(),
            _ => return None,
        })
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::MethodNotAllowed => f.write_str("method is not GET"),
            HandshakeError::HttpVersion => f.write_str("HTTP/1.1 or later is required"),
            HandshakeError::NotUpgrade => {
                f.write_str("not a websocket upgrade (Upgrade or Connection header missing)")
            }
            HandshakeError::UnsupportedVersion => f.write_str("Sec-WebSocket-Version is not 13"),
            HandshakeError::InvalidKey => f.write_str("Sec-WebSocket-Key missing or invalid"),
            HandshakeError::MissingHost => f.write_str("Host header missing"),
            HandshakeError::OriginRejected => f.write_str("origin not allowed"),
            HandshakeError::Rejected(status) => write!(f, "request rejected with status {status}"),
            HandshakeError::TooLarge => f.write_str("head too large"),
            HandshakeError::TooManyHeaders => f.write_str("too many headers"),
            HandshakeError::Malformed => f.write_str("malformed HTTP head"),
            HandshakeError::Timeout => f.write_str("timed out"),
            HandshakeError::Eof => f.write_str("connection closed during the handshake"),
            HandshakeError::Status(r) => write!(f, "server answered {} {}", r.status(), r.reason()),
            HandshakeError::InvalidAccept => f.write_str("Sec-WebSocket-Accept does not match"),
            HandshakeError::UnofferedSubprotocol(p) => {
                write!(f, "server chose subprotocol {p:?}, which was not offered")
            }
            HandshakeError::SeveralSubprotocols(p) => {
                write!(f, "server named more than one subprotocol: {p:?}")
            }
            HandshakeError::UnofferedExtension(e) => {
                write!(f, "server answered extension {e:?}, which was not offered")
            }
            HandshakeError::InvalidExtension(why) => {
                write!(f, "invalid permessage-deflate answer: {why}")
            }
        }
    }
}

impl error::Error for HandshakeError {}

/// Why TLS failed. Certificate problems are told apart, so that an application can say
/// what is wrong ("the server's certificate has expired").
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsError {
    /// The peer's certificate is not signed by a root this end trusts (a self-signed or
    /// private CA's certificate, say: trust it with your own `rustls` config).
    UnknownIssuer,
    /// The server's certificate is not valid for the name (or address) dialed.
    NameMismatch {
        /// The name the certificate should have covered.
        expected: String,
    },
    /// The peer's certificate has expired.
    Expired,
    /// The peer's certificate is not valid yet.
    NotYetValid,
    /// The peer's certificate was revoked.
    Revoked,
    /// Another problem with the peer's certificate (described).
    BadCertificate(String),
    /// The peer ended the TLS session with an alert (its description, e.g.
    /// `BadCertificate` when it refused ours).
    AlertReceived(String),
    /// No root certificate to verify the server against: this build has neither
    /// `rustls-tls-native-roots` nor `rustls-tls-webpki-roots`, or the platform has none;
    /// give the [`Dialer`](crate::Dialer) a `rustls::ClientConfig`.
    NoRootCertificates,
    /// A certificate or key could not be loaded (what and why).
    Load(String),
    /// Another TLS failure (described).
    Other(String),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::UnknownIssuer => {
                f.write_str("the certificate is signed by an unknown authority")
            }
            TlsError::NameMismatch { expected } => {
                write!(f, "the certificate is not valid for {expected:?}")
            }
            TlsError::Expired => f.write_str("the certificate has expired"),
            TlsError::NotYetValid => f.write_str("the certificate is not valid yet"),
            TlsError::Revoked => f.write_str("the certificate was revoked"),
            TlsError::BadCertificate(why) => write!(f, "bad certificate: {why}"),
            TlsError::AlertReceived(alert) => write!(f, "the peer sent the alert {alert}"),
            TlsError::NoRootCertificates => f.write_str(
                "no root certificates to verify the server with: turn on wsio's \
                 rustls-tls-native-roots or rustls-tls-webpki-roots feature, or give the \
                 Dialer a rustls ClientConfig",
            ),
            TlsError::Load(why) => write!(f, "cannot load {why}"),
            TlsError::Other(why) => f.write_str(why),
        }
    }
}

impl error::Error for TlsError {}

/// Why a proxy did not connect. Never carries the proxy's credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyError {
    /// An HTTP proxy answered `CONNECT` with this status (407: the credentials were refused
    /// or missing; 403: not allowed; 502: it could not reach the server).
    Refused {
        /// The status.
        status: u16,
    },
    /// A SOCKS5 proxy answered the connect request with this reply code (2: not allowed by
    /// its rules, 4: host unreachable, 5: connection refused, ...).
    SocksRefused(u8),
    /// A SOCKS5 proxy refused the username and password.
    SocksAuthFailed,
    /// A SOCKS5 proxy accepts none of the authentication methods offered (it wants
    /// credentials the proxy URL does not have, say).
    SocksNoAcceptableMethod,
    /// The proxy's answer is not its protocol (what was wrong).
    Malformed(&'static str),
    /// The proxy URL cannot be used (why).
    Url(String),
    /// The proxy could not be reached: connecting to it failed this way.
    Unreachable(std::io::ErrorKind),
    /// TLS to an `https://` proxy failed (its certificate, say).
    Tls(TlsError),
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::Refused { status } => {
                let why = match status {
                    401 | 407 => " (credentials missing or refused)",
                    403 => " (not allowed)",
                    502..=504 => " (it could not reach the server)",
                    _ => "",
                };
                write!(f, "the proxy refused with status {status}{why}")
            }
            ProxyError::SocksRefused(code) => {
                let why = match code {
                    1 => "general failure",
                    2 => "not allowed by its rules",
                    3 => "network unreachable",
                    4 => "host unreachable",
                    5 => "connection refused",
                    6 => "TTL expired",
                    7 => "command not supported",
                    8 => "address type not supported",
                    _ => "unknown reply",
                };
                write!(f, "the SOCKS5 proxy refused: {why} ({code})")
            }
            ProxyError::SocksAuthFailed => {
                f.write_str("the SOCKS5 proxy refused the username and password")
            }
            ProxyError::SocksNoAcceptableMethod => {
                f.write_str("the SOCKS5 proxy accepts none of the offered authentication methods")
            }
            ProxyError::Malformed(what) => write!(f, "malformed answer from the proxy: {what}"),
            ProxyError::Url(why) => write!(f, "bad proxy URL: {why}"),
            ProxyError::Unreachable(kind) => write!(f, "cannot reach the proxy: {kind}"),
            ProxyError::Tls(e) => write!(f, "TLS to the proxy: {e}"),
        }
    }
}

impl error::Error for ProxyError {}

/// Why a URL cannot be dialed.
#[derive(Debug)]
#[non_exhaustive]
pub enum UrlError {
    /// The URL does not parse.
    Parse(url::ParseError),
    /// The scheme is neither `ws` nor `wss`.
    UnsupportedScheme(String),
    /// `wss://` (or an `https://` proxy) needs TLS, which this build of wsio does not have:
    /// turn on the `rustls-tls-native-roots` or `rustls-tls-webpki-roots` feature (or
    /// `rustls`, with your own `rustls::ClientConfig`), or connect a TLS stream yourself
    /// and use [`Dialer::handshake`](crate::Dialer::handshake).
    TlsUnsupported,
    /// The URL has no host.
    MissingHost,
    /// The URL has a fragment, which RFC 6455 forbids.
    Fragment,
    /// The host resolved to no address.
    NoAddress,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Parse(e) => write!(f, "{e}"),
            UrlError::UnsupportedScheme(s) => write!(f, "scheme {s:?} is not ws or wss"),
            UrlError::TlsUnsupported => f.write_str(
                "wss:// needs TLS, which this build lacks: turn on wsio's rustls-tls-native-roots or rustls-tls-webpki-roots feature",
            ),
            UrlError::MissingHost => f.write_str("no host"),
            UrlError::Fragment => f.write_str("websocket URLs may not have a fragment"),
            UrlError::NoAddress => f.write_str("host resolved to no address"),
        }
    }
}

impl error::Error for UrlError {
    fn source(&self) -> Option<&(dyn error::Error + 'static)> {
        match self {
            UrlError::Parse(e) => Some(e),
            _ => None,
        }
    }
}

/// A failure of one direction that repeats on every later call because the stream state is
/// corrupt (gorilla's sticky `readErr`). How the connection ended is not kept here: that is
/// the closing handshake's state.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Sticky {
    Protocol(ProtocolError),
    Capacity(CapacityError),
    Io(io::ErrorKind, &'static str),
    Poisoned(Poison),
    Keepalive,
    GoingAway,
}

impl Sticky {
    pub(crate) fn to_error(self) -> Error {
        match self {
            Sticky::Protocol(e) => Error::Protocol(e),
            Sticky::Capacity(e) => Error::Capacity(e),
            Sticky::Io(kind, what) => Error::Io(io::Error::new(kind, what)),
            Sticky::Poisoned(p) => Error::Poisoned(p),
            Sticky::Keepalive => Error::KeepaliveTimeout,
            Sticky::GoingAway => Error::GoingAway,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        assert!(
            std::mem::size_of::<Error>() <= 40,
            "{}",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn errors_round_trip_through_io_error() {
        let io_err = io::Error::from(Error::Protocol(ProtocolError::InvalidUtf8));
        assert_eq!(io_err.kind(), io::ErrorKind::InvalidData);
        assert!(matches!(
            Error::from(io_err),
            Error::Protocol(ProtocolError::InvalidUtf8)
        ));

        let plain = io::Error::new(io::ErrorKind::BrokenPipe, "gone");
        let back = io::Error::from(Error::from(plain));
        assert_eq!(back.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn close_codes_for_errors() {
        assert_eq!(
            Error::Protocol(ProtocolError::InvalidUtf8).close_code(),
            Some(CloseCode::INVALID_PAYLOAD)
        );
        assert_eq!(
            Error::Protocol(ProtocolError::ReservedBits).close_code(),
            Some(CloseCode::PROTOCOL_ERROR)
        );
        assert_eq!(
            Error::Capacity(CapacityError::MessageTooLarge { limit: 1 }).close_code(),
            Some(CloseCode::MESSAGE_TOO_BIG)
        );
        assert_eq!(
            Error::KeepaliveTimeout.close_code(),
            Some(CloseCode::GOING_AWAY)
        );
        for e in [
            ProtocolError::InvalidCloseReason,
            ProtocolError::InvalidDeflateData,
        ] {
            assert_eq!(e.close_code(), CloseCode::INVALID_PAYLOAD, "{e}");
        }
    }

    #[test]
    fn would_block_is_not_a_timeout() {
        let would_block = Error::Io(io::ErrorKind::WouldBlock.into());
        assert!(!would_block.is_timeout());
        assert!(would_block.is_resumable());
        assert!(Error::Timeout.is_timeout() && Error::Timeout.is_resumable());
    }
}
