//! Frame headers (RFC 6455 section 5.2), parsed from and encoded into byte slices, and the
//! payload of close frames (section 5.5.1).
//!
//! This module is sans-IO: it never reads or writes a stream and never allocates. A caller
//! hands [`FrameHeader::parse`] whatever bytes it has; "not enough bytes yet" is the normal
//! answer `Ok(None)`, and nothing is consumed until a whole header is there.
//!
//! ```
//! use wsio::frame::{FrameHeader, OpCode};
//!
//! let header = FrameHeader::new(OpCode::Text, true, 5);
//! let mut out = [0u8; wsio::frame::MAX_HEADER_LEN];
//! let n = header.encode(&mut out);
//! assert_eq!(&out[..n], &[0x81, 0x05]);
//! assert_eq!(FrameHeader::parse(&out[..n]), Ok(Some((header, 2))));
//! assert_eq!(FrameHeader::parse(&out[..1]), Ok(None)); // incomplete
//! ```

use crate::error::{InvalidInput, ProtocolError};
use crate::proto::{CloseCode, CloseFrame, MAX_REASON_LEN};
pub use crate::proto::{MAX_CONTROL_PAYLOAD, OpCode};

/// The longest frame header: 2 bytes, an 8-byte extended payload length and a 4-byte masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// A parsed frame header: everything before the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: this is the last frame of its message.
    pub fin: bool,
    /// RSV1: "per-message compressed" when permessage-deflate is negotiated, else must be clear.
    pub rsv1: bool,
    /// RSV2: must be clear (no extension defines it).
    pub rsv2: bool,
    /// RSV3: must be clear (no extension defines it).
    pub rsv3: bool,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key; every client-to-server frame has one, no server-to-client frame does.
    pub masking_key: Option<[u8; 4]>,
    /// The payload length as declared; at most 2^63 - 1.
    pub payload_len: u64,
}

impl FrameHeader {
    /// A header with FIN as given, no RSV bits and no masking key.
    pub const fn new(opcode: OpCode, fin: bool, payload_len: u64) -> FrameHeader {
        FrameHeader {
            fin,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode,
            masking_key: None,
            payload_len,
        }
    }

    /// Parses a header from the start of `buf`.
    ///
    /// Returns `Ok(Some((header, n)))` with the header's length `n` when `buf` starts with a whole
    /// header, and `Ok(None)` when more bytes are needed; nothing is consumed either way.
    /// Non-minimal length encodings are accepted (RFC 6455 requires senders to be minimal,
    /// not receivers to check).
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`] for the rules a header breaks on its own: a reserved opcode, a
    /// fragmented control frame, a control payload over 125 bytes, or a 64-bit length with its
    /// most significant bit set. Rules that depend on the connection (masking, RSV bits,
    /// fragmentation order, size limits) are the caller's.
    pub fn parse(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        // Step 1: the two fixed bytes.
        let [b0, b1, ..] = *buf else {
            return Ok(None);
        };
        let fin = b0 & 0x80 != 0;
        let opcode =
            OpCode::from_bits(b0 & 0x0F).ok_or(ProtocolError::ReservedOpcode(b0 & 0x0F))?;
        let masked = b1 & 0x80 != 0;
        let len7 = b1 & 0x7F;

        // Step 2: rules a control frame header breaks on its own.
        if opcode.is_control() {
            if !fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if len7 as usize > MAX_CONTROL_PAYLOAD {
                return Err(ProtocolError::ControlFrameTooLong);
            }
        }

        // Step 3: how long the whole header is, and is it all here.
        let len_bytes = match len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let header_len = 2 + len_bytes + if masked { 4 } else { 0 };
        if buf.len() < header_len {
            return Ok(None);
        }

        // Step 4: the extended payload length.
        let payload_len = match len_bytes {
            2 => u64::from(u16::from_be_bytes([buf[2], buf[3]])),
            8 => {
                let mut be = [0u8; 8];
                be.copy_from_slice(&buf[2..10]);
                let len = u64::from_be_bytes(be);
                if len >> 63 != 0 {
                    return Err(ProtocolError::InvalidPayloadLength);
                }
                len
            }
            _ => u64::from(len7),
        };

        // Step 5: the masking key.
        let masking_key = masked.then(|| {
            let at = 2 + len_bytes;
            [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]
        });

        Ok(Some((
            FrameHeader {
                fin,
                rsv1: b0 & 0x40 != 0,
                rsv2: b0 & 0x20 != 0,
                rsv3: b0 & 0x10 != 0,
                opcode,
                masking_key,
                payload_len,
            },
            header_len,
        )))
    }

    /// The number of bytes [`encode`](Self::encode) writes for this header: 2 to 14.
    pub const fn encoded_len(&self) -> usize {
        let len_bytes = if self.payload_len < 126 {
            0
        } else if self.payload_len <= 0xFFFF {
            2
        } else {
            8
        };
        2 + len_bytes + if self.masking_key.is_some() { 4 } else { 0 }
    }

    /// Writes the header, with the minimal length encoding, to the start of `out` and returns
    /// how many bytes it used.
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        out[0] = (u8::from(self.fin) << 7)
            | (u8::from(self.rsv1) << 6)
            | (u8::from(self.rsv2) << 5)
            | (u8::from(self.rsv3) << 4)
            | self.opcode.bits();
        let mask_bit = if self.masking_key.is_some() { 0x80 } else { 0 };
        let mut at = 2;
        if self.payload_len < 126 {
            out[1] = mask_bit | self.payload_len as u8;
        } else if self.payload_len <= 0xFFFF {
            out[1] = mask_bit | 126;
            out[2..4].copy_from_slice(&(self.payload_len as u16).to_be_bytes());
            at = 4;
        } else {
            out[1] = mask_bit | 127;
            out[2..10].copy_from_slice(&self.payload_len.to_be_bytes());
            at = 10;
        }
        if let Some(key) = self.masking_key {
            out[at..at + 4].copy_from_slice(&key);
            at += 4;
        }
        at
    }
}

/// Parses a received close payload: `None` for an empty payload.
pub(crate) fn parse_close(payload: &[u8]) -> Result<Option<CloseFrame>, ProtocolError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ProtocolError::InvalidClosePayload),
        [hi, lo, reason @ ..] => {
            let code = CloseCode::from_u16(u16::from_be_bytes([*hi, *lo]));
            if !code.is_sendable() {
                return Err(ProtocolError::InvalidCloseCode(code.as_u16()));
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

/// Checks a close code and reason the application wants to send. [`CloseCode::NO_STATUS`]
/// asks for a close frame without a code (and so without a reason).
pub(crate) fn check_close(code: CloseCode, reason: &str) -> Result<(), InvalidInput> {
    if code == CloseCode::NO_STATUS {
        return match reason.is_empty() {
            true => Ok(()),
            false => Err(InvalidInput::ReasonWithoutCode),
        };
    }
    if !code.is_sendable() {
        return Err(InvalidInput::CloseCode(code.as_u16()));
    }
    if reason.len() > MAX_REASON_LEN {
        return Err(InvalidInput::CloseReasonTooLong(reason.len()));
    }
    Ok(())
}

/// Checks a ping or pong payload the application wants to send.
pub(crate) fn check_control(payload: &[u8]) -> Result<(), InvalidInput> {
    if payload.len() > MAX_CONTROL_PAYLOAD {
        return Err(InvalidInput::ControlPayloadTooLong(payload.len()));
    }
    Ok(())
}

/// Encodes a close payload already checked by [`check_close`] (`None`: no code, an empty
/// payload) into `out`; returns its length.
pub(crate) fn encode_close(
    frame: Option<(CloseCode, &str)>,
    out: &mut [u8; MAX_CONTROL_PAYLOAD],
) -> usize {
    match frame {
        None => 0,
        Some((CloseCode::NO_STATUS, _)) => 0,
        Some((code, reason)) => {
            let reason = &reason.as_bytes()[..reason.len().min(MAX_REASON_LEN)];
            out[..2].copy_from_slice(&code.as_u16().to_be_bytes());
            out[2..2 + reason.len()].copy_from_slice(reason);
            2 + reason.len()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(header: FrameHeader) {
        let mut out = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut out);
        assert_eq!(n, header.encoded_len());
        assert_eq!(FrameHeader::parse(&out[..n]), Ok(Some((header, n))));
        // Every strict prefix is "incomplete", never an error or a wrong header.
        for cut in 0..n {
            assert_eq!(
                FrameHeader::parse(&out[..cut]),
                Ok(None),
                "prefix {cut} of {n}"
            );
        }
    }

    #[test]
    fn lengths_at_every_encoding_boundary_round_trip() {
        for len in [0u64, 1, 125, 126, 127, 65535, 65536, 1 << 32, (1 << 63) - 1] {
            for key in [None, Some([1, 2, 3, 4])] {
                let mut header = FrameHeader::new(OpCode::Binary, true, len);
                header.masking_key = key;
                round_trip(header);
            }
        }
    }

    #[test]
    fn encoded_lengths_are_minimal() {
        assert_eq!(FrameHeader::new(OpCode::Text, true, 125).encoded_len(), 2);
        assert_eq!(FrameHeader::new(OpCode::Text, true, 126).encoded_len(), 4);
        assert_eq!(FrameHeader::new(OpCode::Text, true, 65535).encoded_len(), 4);
        assert_eq!(
            FrameHeader::new(OpCode::Text, true, 65536).encoded_len(),
            10
        );
    }

    #[test]
    fn every_bit_round_trips() {
        for opcode in [
            OpCode::Continuation,
            OpCode::Text,
            OpCode::Binary,
            OpCode::Close,
            OpCode::Ping,
            OpCode::Pong,
        ] {
            for bits in 0..16u8 {
                let header = FrameHeader {
                    fin: bits & 1 != 0 || opcode.is_control(),
                    rsv1: bits & 2 != 0,
                    rsv2: bits & 4 != 0,
                    rsv3: bits & 8 != 0,
                    opcode,
                    masking_key: Some([0xde, 0xad, 0xbe, 0xef]),
                    payload_len: 7,
                };
                round_trip(header);
            }
        }
    }

    #[test]
    fn reserved_opcodes_are_rejected() {
        for bits in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            assert_eq!(
                FrameHeader::parse(&[0x80 | bits, 0]),
                Err(ProtocolError::ReservedOpcode(bits))
            );
        }
    }

    #[test]
    fn control_frame_rules() {
        // A ping without FIN.
        assert_eq!(
            FrameHeader::parse(&[0x09, 0]),
            Err(ProtocolError::FragmentedControlFrame)
        );
        // A close with a 126-byte payload (16-bit length form).
        assert_eq!(
            FrameHeader::parse(&[0x88, 126, 0, 126]),
            Err(ProtocolError::ControlFrameTooLong)
        );
        // 125 is fine.
        assert!(FrameHeader::parse(&[0x89, 125]).unwrap().is_some());
    }

    #[test]
    fn length_with_top_bit_set_is_rejected() {
        let mut buf = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            FrameHeader::parse(&buf),
            Err(ProtocolError::InvalidPayloadLength)
        );
        buf[2] = 0x7F;
        let (header, n) = FrameHeader::parse(&buf).unwrap().unwrap();
        assert_eq!((header.payload_len, n), (0x7F00_0000_0000_0000, 10));
    }

    #[test]
    fn non_minimal_lengths_are_accepted() {
        let (header, n) = FrameHeader::parse(&[0x82, 126, 0, 5]).unwrap().unwrap();
        assert_eq!((header.payload_len, n), (5, 4));
    }

    #[test]
    fn close_payload_empty_one_byte_and_code_only() {
        assert_eq!(parse_close(&[]), Ok(None));
        assert_eq!(parse_close(&[3]), Err(ProtocolError::InvalidClosePayload));
        assert_eq!(
            parse_close(&[0x03, 0xE8]),
            Ok(Some(CloseFrame {
                code: CloseCode::NORMAL,
                reason: String::new()
            }))
        );
    }

    #[test]
    fn close_payload_rejects_unsendable_codes_and_bad_reasons() {
        for code in [
            0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000,
        ] {
            assert_eq!(
                parse_close(&code.to_be_bytes()),
                Err(ProtocolError::InvalidCloseCode(code))
            );
        }
        assert_eq!(
            parse_close(&[0x03, 0xE8, 0xff]),
            Err(ProtocolError::InvalidCloseReason)
        );
    }

    #[test]
    fn close_payload_round_trips_with_a_full_length_reason() {
        let code = CloseCode::from_u16(4000);
        let reason = "r".repeat(MAX_REASON_LEN);
        check_close(code, &reason).unwrap();
        let mut out = [0u8; MAX_CONTROL_PAYLOAD];
        let n = encode_close(Some((code, &reason)), &mut out);
        assert_eq!(n, MAX_CONTROL_PAYLOAD);
        let frame = parse_close(&out[..n]).unwrap().unwrap();
        assert_eq!((frame.code, frame.reason), (code, reason));
    }

    #[test]
    fn outgoing_close_and_control_checks() {
        assert_eq!(check_close(CloseCode::NO_STATUS, ""), Ok(()));
        assert_eq!(
            check_close(CloseCode::NO_STATUS, "why"),
            Err(InvalidInput::ReasonWithoutCode)
        );
        assert_eq!(
            check_close(CloseCode::ABNORMAL, ""),
            Err(InvalidInput::CloseCode(1006))
        );
        let mut out = [0u8; MAX_CONTROL_PAYLOAD];
        assert_eq!(encode_close(Some((CloseCode::NO_STATUS, "")), &mut out), 0);
        assert_eq!(
            check_close(CloseCode::NORMAL, &"x".repeat(124)),
            Err(InvalidInput::CloseReasonTooLong(124))
        );
        assert_eq!(check_control(&[0; 125]), Ok(()));
        assert_eq!(
            check_control(&[0; 126]),
            Err(InvalidInput::ControlPayloadTooLong(126))
        );
    }
}
