//! UTF-8 validation: the one place text is checked, whole or as it arrives in pieces.
//!
//! Whole payloads (text the application writes, a prepared message) go through [`check`];
//! received text is checked as it arrives and turned into a `String` by [`into_string`].
//! A text message may be split anywhere: between frames, or inside a frame by the transport.
//! [`Utf8Validator`] checks each piece as it arrives and carries an incomplete character (at
//! most 3 bytes) to the next piece. It fails fast: a byte that can start or continue no valid
//! character is an error at once, even when it ends a piece, so a peer cannot make us wait
//! for the rest of a message that is already invalid. Bulk validation is SIMD (`simdutf8`).

/// A piece of text was not UTF-8, or a message ended inside a character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

/// Checks a whole payload (SIMD).
pub(crate) fn check(bytes: &[u8]) -> Result<(), InvalidUtf8> {
    simdutf8::basic::from_utf8(bytes)
        .map(|_| ())
        .map_err(|_| InvalidUtf8)
}

/// Text that a [`Utf8Validator`] accepted as it arrived, as a `String`. The standard
/// library checks it once more (without `unsafe`, its check is the one `String` trusts); a
/// failure would be a bug in the incremental check and is reported, never a panic.
pub(crate) fn into_string(bytes: Vec<u8>) -> Result<String, InvalidUtf8> {
    String::from_utf8(bytes).map_err(|_| InvalidUtf8)
}

/// Validates UTF-8 across piece boundaries.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Utf8Validator {
    /// The bytes of an incomplete character at the end of the last piece.
    partial: [u8; 4],
    partial_len: u8,
}

impl Utf8Validator {
    /// Checks the next piece.
    pub(crate) fn feed(&mut self, mut bytes: &[u8]) -> Result<(), InvalidUtf8> {
        if self.partial_len > 0 {
            let have = usize::from(self.partial_len);
            let need = sequence_len(self.partial[0]) - have;
            let take = need.min(bytes.len());
            self.partial[have..have + take].copy_from_slice(&bytes[..take]);
            match std::str::from_utf8(&self.partial[..have + take]) {
                Ok(_) => self.partial_len = 0,
                // Still a valid prefix, and the piece is used up.
                Err(e) if e.error_len().is_none() => {
                    self.partial_len = (have + take) as u8;
                    return Ok(());
                }
                Err(_) => return Err(InvalidUtf8),
            }
            bytes = &bytes[take..];
        }
        match simdutf8::compat::from_utf8(bytes) {
            Ok(_) => Ok(()),
            // `error_len() == None`: the piece ends in a valid but incomplete character.
            Err(e) if e.error_len().is_none() => {
                let tail = &bytes[e.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// Checks that the message did not end inside a character.
    pub(crate) fn finish(&self) -> Result<(), InvalidUtf8> {
        if self.partial_len == 0 {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }
}

/// The length of the sequence a lead byte starts. Only called on lead bytes that the standard
/// library's validator accepted as the start of an incomplete character (0xC2..=0xF4).
fn sequence_len(lead: u8) -> usize {
    match lead {
        0x00..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_split(bytes: &[u8]) {
        let expected = std::str::from_utf8(bytes).is_ok();
        for cut in 0..=bytes.len() {
            let mut v = Utf8Validator::default();
            let ok = v.feed(&bytes[..cut]).is_ok()
                && v.feed(&bytes[cut..]).is_ok()
                && v.finish().is_ok();
            assert_eq!(ok, expected, "{bytes:x?} cut at {cut}");
        }
        // One byte at a time.
        let mut v = Utf8Validator::default();
        let ok = bytes
            .iter()
            .all(|b| v.feed(std::slice::from_ref(b)).is_ok())
            && v.finish().is_ok();
        assert_eq!(ok, expected, "{bytes:x?} byte by byte");
    }

    #[test]
    fn whole_checks_agree_with_std() {
        for bytes in [
            &b"plain"[..],
            "κόσμε".as_bytes(),
            b"\xff",
            b"abc\xe2\x82",
            b"",
        ] {
            let expected = std::str::from_utf8(bytes).is_ok();
            assert_eq!(check(bytes).is_ok(), expected, "{bytes:x?}");
            assert_eq!(into_string(bytes.to_vec()).is_ok(), expected, "{bytes:x?}");
        }
    }

    #[test]
    fn valid_text_split_anywhere_is_valid() {
        for text in [
            "",
            "hello",
            "κόσμε",
            "Hello-µ@ßöäüàá-UTF-8!!",
            "\u{10FFFF}\u{FFFF}\u{7FF}\u{80}\u{7F}",
            "𝄞 music 𝄞",
        ] {
            check_split(text.as_bytes());
        }
    }

    #[test]
    fn invalid_sequences_split_anywhere_are_invalid() {
        let cases: &[&[u8]] = &[
            b"\xff",
            b"\xc0\xaf",         // overlong
            b"\xed\xa0\x80",     // surrogate
            b"\xf4\x90\x80\x80", // above U+10FFFF
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80edited",
            b"abc\xe2\x82",          // ends inside a character
            b"\x80",                 // lone continuation
            b"\xf8\x88\x80\x80\x80", // 5-byte form
        ];
        for case in cases {
            check_split(case);
        }
    }

    #[test]
    fn fails_on_the_first_impossible_byte() {
        // 0xF4 0x90 can never be valid: the error must come with the 0x90, not at the end.
        let mut v = Utf8Validator::default();
        assert!(v.feed(b"\xce\xba\xf4").is_ok());
        assert_eq!(v.feed(b"\x90"), Err(InvalidUtf8));

        let mut v = Utf8Validator::default();
        assert_eq!(v.feed(b"ok\xf4\x90"), Err(InvalidUtf8));
    }

    #[test]
    fn incomplete_character_is_carried() {
        let euro = "€".as_bytes();
        let mut v = Utf8Validator::default();
        v.feed(&euro[..1]).unwrap();
        assert_eq!(v.finish(), Err(InvalidUtf8));
        v.feed(&euro[1..2]).unwrap();
        v.feed(&euro[2..]).unwrap();
        v.finish().unwrap();
    }

    #[test]
    fn every_two_byte_prefix_agrees_with_std() {
        // For every pair of bytes followed by nothing, fail-fast must agree with std on whether
        // the pair can still become valid.
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let pair = [a, b];
                let std_ok = match std::str::from_utf8(&pair) {
                    Ok(_) => true,
                    Err(e) => e.error_len().is_none(),
                };
                let mut v = Utf8Validator::default();
                let ok = v.feed(&pair[..1]).is_ok() && v.feed(&pair[1..]).is_ok();
                assert_eq!(ok, std_ok, "{a:#x} {b:#x}");
            }
        }
    }
}
