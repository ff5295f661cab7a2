//! The protocol's vocabulary (RFC 6455): which end a connection is, what kind a message is,
//! opcodes, close codes, and how a connection ended.
//!
//! This module imports nothing of the crate: every other module builds on it.

use std::fmt;

/// The largest payload a control frame may carry (RFC 6455 section 5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// The longest close reason: a close payload is at most 125 bytes, 2 of them the code.
pub const MAX_REASON_LEN: usize = MAX_CONTROL_PAYLOAD - 2;

/// Which end of the connection this is. Clients mask what they send and expect unmasked
/// frames; servers the opposite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that sent the opening handshake request.
    Client,
    /// The end that accepted it.
    Server,
}

impl Role {
    /// The other end.
    pub(crate) const fn peer(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }
}

/// The two kinds of data message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text. wsio checks incoming text as it arrives and refuses to send invalid text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

impl MessageKind {
    /// The opcode of the message's first frame.
    pub(crate) const fn opcode(self) -> OpCode {
        match self {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MessageKind::Text => "text",
            MessageKind::Binary => "binary",
        })
    }
}

/// A frame's opcode (RFC 6455 section 5.2). Reserved opcodes are not representable; parsing one
/// is a [`ProtocolError::ReservedOpcode`](crate::ProtocolError::ReservedOpcode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// `0x0`: continues a fragmented data message.
    Continuation,
    /// `0x1`: the first frame of a text message.
    Text,
    /// `0x2`: the first frame of a binary message.
    Binary,
    /// `0x8`: starts or answers the closing handshake.
    Close,
    /// `0x9`: asks the peer for a pong.
    Ping,
    /// `0xA`: answers a ping, or a one-way heartbeat.
    Pong,
}

impl OpCode {
    /// The opcode for the 4-bit value `bits`, or `None` for a reserved value (3-7, 0xB-0xF).
    pub const fn from_bits(bits: u8) -> Option<OpCode> {
        match bits {
            0x0 => Some(OpCode::Continuation),
            0x1 => Some(OpCode::Text),
            0x2 => Some(OpCode::Binary),
            0x8 => Some(OpCode::Close),
            0x9 => Some(OpCode::Ping),
            0xA => Some(OpCode::Pong),
            _ => None,
        }
    }

    /// The 4-bit wire value.
    pub const fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    /// Whether this is a control opcode (close, ping, pong).
    pub const fn is_control(self) -> bool {
        self.bits() & 0x8 != 0
    }
}

/// A close status code (RFC 6455 section 7.4).
///
/// Any `u16` can be represented, so that codes read off the wire and codes reported locally
/// (1005, 1006) share one type; [`is_sendable`](Self::is_sendable) says which may appear in
/// a close frame. Codes 3000-3999 are registered with IANA by libraries and frameworks,
/// 4000-4999 are for private use between applications.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(u16);

impl CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: the endpoint cannot accept this kind of data.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: reported locally when a close frame had no code. Never on the wire: closing
    /// with it sends a close frame without a code (Voss's `StatusNotSent`).
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: reported locally when the connection ended without a close frame. Never sent.
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: a message's payload was inconsistent with its type (e.g. text that is not UTF-8).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message was too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected the server to negotiate an extension.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1012: the service is restarting.
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later (temporary overload).
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: a gateway received an invalid response upstream.
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);
    /// 1015: reported locally when the TLS handshake failed. Never sent.
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// The code for a number; any number is accepted (see [`is_sendable`](Self::is_sendable)).
    pub const fn from_u16(code: u16) -> CloseCode {
        CloseCode(code)
    }

    /// The number.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// Whether the code may appear in a close frame: 1000-1003, 1007-1014 and 3000-4999.
    /// 1005, 1006 and 1015 are only ever reported locally; the rest are reserved.
    pub const fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1000 => "normal closure",
            1001 => "going away",
            1002 => "protocol error",
            1003 => "unsupported data",
            1005 => "no status received",
            1006 => "abnormal closure",
            1007 => "invalid payload data",
            1008 => "policy violation",
            1009 => "message too big",
            1010 => "mandatory extension",
            1011 => "internal error",
            1012 => "service restart",
            1013 => "try again later",
            1014 => "bad gateway",
            1015 => "TLS handshake failure",
            _ => return None,
        })
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> CloseCode {
        CloseCode(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> u16 {
        code.0
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// The contents of a close frame that carries a code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The close code; always [sendable](CloseCode::is_sendable) in a frame wsio accepted.
    pub code: CloseCode,
    /// The reason: UTF-8, at most [`MAX_REASON_LEN`] bytes.
    pub reason: String,
}

/// Which endpoint sent the first close frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Initiator {
    /// This endpoint: the application called [`Conn::close`](crate::Conn::close), or wsio
    /// failed the connection because the peer broke the protocol or a limit.
    Local,
    /// The peer, or the transport (the connection ended without a close frame).
    Peer,
}

/// How a connection ended: what the peer said and who started it (Voss's `GetStatus`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseStatus {
    /// The peer's close code: [`CloseCode::NO_STATUS`] if its close frame had no code,
    /// [`CloseCode::ABNORMAL`] if no close frame arrived (timeout, reset, protocol failure).
    pub code: CloseCode,
    /// The peer's close reason; empty if none.
    pub reason: String,
    /// Who sent the first close frame.
    pub initiator: Initiator,
}

impl CloseStatus {
    /// The status after the peer's close frame (`None`: a close frame without a code).
    pub(crate) fn from_frame(frame: Option<&CloseFrame>, initiator: Initiator) -> CloseStatus {
        match frame {
            Some(f) => CloseStatus {
                code: f.code,
                reason: f.reason.clone(),
                initiator,
            },
            None => CloseStatus {
                code: CloseCode::NO_STATUS,
                reason: String::new(),
                initiator,
            },
        }
    }

    /// The status of a connection that ended without the peer's close frame.
    pub(crate) fn abnormal(initiator: Initiator) -> CloseStatus {
        CloseStatus {
            code: CloseCode::ABNORMAL,
            reason: String::new(),
            initiator,
        }
    }

    /// Whether the close handshake completed with a close frame from the peer.
    pub fn is_clean(&self) -> bool {
        self.code != CloseCode::ABNORMAL
    }
}

impl fmt::Display for CloseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let by = match self.initiator {
            Initiator::Local => "closed by us",
            Initiator::Peer => "closed by the peer",
        };
        if self.reason.is_empty() {
            write!(f, "{by}: {}", self.code)
        } else {
            write!(f, "{by}: {}: {:?}", self.code, self.reason)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sendable_codes_are_exactly_the_rfc_ranges() {
        for code in 0..=u16::MAX {
            let expected = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            assert_eq!(CloseCode(code).is_sendable(), expected, "{code}");
        }
        for never in [1004, 1005, 1006, 1015, 1016, 2999, 5000] {
            assert!(!CloseCode(never).is_sendable());
        }
    }

    #[test]
    fn opcodes_round_trip_and_reserved_values_are_none() {
        for bits in 0..16u8 {
            match OpCode::from_bits(bits) {
                Some(op) => assert_eq!(op.bits(), bits),
                None => assert!(matches!(bits, 3..=7 | 0xB..=0xF)),
            }
        }
        assert!(OpCode::Ping.is_control() && !OpCode::Continuation.is_control());
    }

    #[test]
    fn roles_and_kinds() {
        assert_eq!(Role::Client.peer(), Role::Server);
        assert_eq!(Role::Server.peer(), Role::Client);
        assert_eq!(MessageKind::Text.opcode(), OpCode::Text);
        assert_eq!(MessageKind::Binary.opcode(), OpCode::Binary);
    }
}
