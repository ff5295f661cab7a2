//! Close codes, close frames and the status a closed connection reports (RFC 6455 section 7).
//!
//! No I/O here: parsing and encoding of close-frame payloads, and the rules for which codes
//! may travel on the wire.

use std::fmt;

use crate::error::{InvalidInput, ProtocolError};
use crate::frame::MAX_CONTROL_PAYLOAD;

/// The longest close reason: a close payload is at most 125 bytes, 2 of them the code.
pub const MAX_REASON_LEN: usize = MAX_CONTROL_PAYLOAD - 2;

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
    /// 1005: reported locally when a close frame had no code. Never sent.
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

/// Parses a received close payload: `None` for an empty payload.
pub(crate) fn parse_payload(payload: &[u8]) -> Result<Option<CloseFrame>, ProtocolError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ProtocolError::InvalidClosePayload),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_sendable() {
                return Err(ProtocolError::InvalidCloseCode(code.0));
            }
            let reason =
                std::str::from_utf8(reason).map_err(|_| ProtocolError::InvalidCloseReason)?;
            Ok(Some(CloseFrame {
                code,
                reason: reason.to_owned(),
            }))
        }
    }
}

/// Checks a close code and reason the application wants to send.
pub(crate) fn check_outgoing(code: CloseCode, reason: &str) -> Result<(), InvalidInput> {
    if !code.is_sendable() {
        return Err(InvalidInput::CloseCode(code.0));
    }
    if reason.len() > MAX_REASON_LEN {
        return Err(InvalidInput::CloseReasonTooLong(reason.len()));
    }
    Ok(())
}

/// Encodes a close payload already checked by [`check_outgoing`]; returns its length.
pub(crate) fn encode_payload(
    frame: Option<(CloseCode, &str)>,
    out: &mut [u8; MAX_CONTROL_PAYLOAD],
) -> usize {
    match frame {
        None => 0,
        Some((code, reason)) => {
            let reason = &reason.as_bytes()[..reason.len().min(MAX_REASON_LEN)];
            out[..2].copy_from_slice(&code.0.to_be_bytes());
            out[2..2 + reason.len()].copy_from_slice(reason);
            2 + reason.len()
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
    fn parse_empty_one_byte_and_code_only() {
        assert_eq!(parse_payload(&[]), Ok(None));
        assert_eq!(parse_payload(&[3]), Err(ProtocolError::InvalidClosePayload));
        assert_eq!(
            parse_payload(&[0x03, 0xE8]),
            Ok(Some(CloseFrame {
                code: CloseCode::NORMAL,
                reason: String::new()
            }))
        );
    }

    #[test]
    fn parse_rejects_unsendable_codes_and_bad_reasons() {
        for code in [
            0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000,
        ] {
            let payload = code.to_be_bytes();
            assert_eq!(
                parse_payload(&payload),
                Err(ProtocolError::InvalidCloseCode(code))
            );
        }
        assert_eq!(
            parse_payload(&[0x03, 0xE8, 0xff]),
            Err(ProtocolError::InvalidCloseReason)
        );
    }

    #[test]
    fn encode_round_trips_with_a_full_length_reason() {
        let reason = "r".repeat(MAX_REASON_LEN);
        check_outgoing(CloseCode(4000), &reason).unwrap();
        let mut out = [0u8; MAX_CONTROL_PAYLOAD];
        let n = encode_payload(Some((CloseCode(4000), &reason)), &mut out);
        assert_eq!(n, MAX_CONTROL_PAYLOAD);
        let frame = parse_payload(&out[..n]).unwrap().unwrap();
        assert_eq!((frame.code, frame.reason), (CloseCode(4000), reason));
    }

    #[test]
    fn outgoing_checks() {
        assert_eq!(
            check_outgoing(CloseCode::NO_STATUS, ""),
            Err(InvalidInput::CloseCode(1005))
        );
        assert_eq!(
            check_outgoing(CloseCode::NORMAL, &"x".repeat(124)),
            Err(InvalidInput::CloseReasonTooLong(124))
        );
    }
}
