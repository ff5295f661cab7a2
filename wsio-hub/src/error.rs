//! What can go wrong in a hub: [`HubError`], and why a connection ended: [`Disconnected`].

use std::fmt;

use wsio::CloseStatus;

pub use crate::protocol::Malformed;

/// A hub operation failed, or a connection did something the hub refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum HubError {
    /// The WebSocket connection failed.
    Ws(wsio::Error),
    /// A value could not be encoded as JSON (a `Serialize` implementation failed, or a map
    /// has keys that are not strings).
    Encode(serde_json::Error),
    /// The peer sent a hub frame that breaks the protocol; the hub closed the connection with
    /// 1007.
    Malformed(Malformed),
    /// The payload of `event` did not decode as the type its handler takes; the hub closed
    /// the connection with 1007.
    BadData {
        /// The event.
        event: String,
        /// What the decoder said.
        error: serde_json::Error,
    },
    /// The connection is closing or gone: nothing was sent, or a request was not answered
    /// before it ended.
    Disconnected,
    /// A request was not answered in time.
    Timeout,
    /// The peer answered a request with an error: no handler for the event, or the handler
    /// refused.
    Refused(String),
    /// [`Connection::ask`](crate::Connection::ask) on the connection's own reading thread
    /// (inside one of its handlers), where the reply could never be read: ask from another
    /// thread.
    AskOnOwnThread,
    /// A room name is empty or longer than 256 bytes, or names a connection: every
    /// connection is alone in the room of its id.
    RoomName(String),
    /// The id generator gave an id that is taken (by a connection or a room), or empty; the
    /// connection was refused with close 1011.
    DuplicateId(String),
    /// A handler of this connection panicked; the hub closed the connection with 1011.
    Panicked(String),
    /// The exchange between processes could not be set up (a Redis URL it does not take).
    Exchange(String),
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HubError::Ws(e) => write!(f, "websocket: {e}"),
            HubError::Encode(e) => write!(f, "cannot encode as JSON: {e}"),
            HubError::Malformed(m) => write!(f, "malformed hub frame: {m}"),
            HubError::BadData { event, error } => {
                write!(
                    f,
                    "the data of event {event:?} does not fit its handler: {error}"
                )
            }
            HubError::Disconnected => f.write_str("the connection is closed"),
            HubError::Timeout => f.write_str("no answer in time"),
            HubError::Refused(why) => write!(f, "the peer refused: {why}"),
            HubError::AskOnOwnThread => {
                f.write_str("ask on the connection's own reading thread could never be answered")
            }
            HubError::RoomName(room) => write!(f, "cannot use {room:?} as a room name"),
            HubError::DuplicateId(id) => write!(f, "the connection id {id:?} is taken"),
            HubError::Panicked(what) => write!(f, "a handler panicked: {what}"),
            HubError::Exchange(why) => write!(f, "exchange: {why}"),
        }
    }
}

impl std::error::Error for HubError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HubError::Ws(e) => Some(e),
            HubError::Encode(e) | HubError::BadData { error: e, .. } => Some(e),
            _ => None,
        }
    }
}

impl From<wsio::Error> for HubError {
    fn from(e: wsio::Error) -> HubError {
        HubError::Ws(e)
    }
}

impl From<Malformed> for HubError {
    fn from(m: Malformed) -> HubError {
        HubError::Malformed(m)
    }
}

/// Why a connection ended, as its disconnect callback hears it. Whatever ended it, the
/// callback runs exactly once.
#[derive(Debug)]
#[non_exhaustive]
pub enum Disconnected {
    /// The client closed the connection (the closing handshake completed): its code and
    /// reason.
    ByClient(CloseStatus),
    /// The application disconnected it ([`Connection::disconnect`](crate::Connection::disconnect)
    /// or [`Hub::disconnect`](crate::Hub::disconnect)).
    ByServer,
    /// Its queue filled up: the client read slower than the hub sent to it. Closed with 1008.
    TooSlow,
    /// The server is shutting down (close 1001).
    ShuttingDown,
    /// The connection failed: a network error, a keepalive timeout, a protocol violation
    /// of the client's, a malformed hub frame, a panicking handler.
    Failed(HubError),
}

impl fmt::Display for Disconnected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Disconnected::ByClient(status) => {
                write!(f, "closed by the client ({})", status.code.as_u16())
            }
            Disconnected::ByServer => f.write_str("disconnected by the server"),
            Disconnected::TooSlow => f.write_str("too slow: its queue filled up"),
            Disconnected::ShuttingDown => f.write_str("the server is shutting down"),
            Disconnected::Failed(e) => write!(f, "failed: {e}"),
        }
    }
}
