//! Payload masking (RFC 6455 section 5.3).
//!
//! Masking XORs payload byte `i` with `key[i % 4]`. A payload is often masked in pieces (as it
//! arrives, or as it is copied into a buffer), so [`apply_mask`] takes the offset of the
//! piece's first byte within the payload. The function knows nothing of frames.
//!
//! ```
//! let key = [1, 2, 3, 4];
//! let mut whole = *b"hello, world";
//! wsio::mask::apply_mask(&mut whole, key, 0);
//!
//! let mut pieces = *b"hello, world";
//! let (a, b) = pieces.split_at_mut(5);
//! wsio::mask::apply_mask(a, key, 0);
//! wsio::mask::apply_mask(b, key, 5);
//! assert_eq!(whole, pieces);
//! ```

/// XORs `buf` with `key`, where `buf[0]` is byte `offset` of the payload. Applying the same call
/// twice restores the input.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate(key, offset);
    // Eight bytes at a time: an 8-byte stride keeps the key's phase (8 is a multiple of 4), and
    // the fixed-size inner loop is what the compiler turns into vector instructions.
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut blocks = buf.chunks_exact_mut(32);
    for block in &mut blocks {
        for word in block.chunks_exact_mut(8) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(word);
            word.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ wide).to_ne_bytes());
        }
    }
    // Fewer than 32 bytes remain; a whole block had a multiple of 4 bytes, so the phase is 0.
    for (i, byte) in blocks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i & 3];
    }
}

/// The key as seen from payload byte `offset`.
fn rotate(key: [u8; 4], offset: usize) -> [u8; 4] {
    let r = offset & 3;
    [key[r], key[(r + 1) & 3], key[(r + 2) & 3], key[(r + 3) & 3]]
}

/// A fresh masking key from the thread-local CSPRNG, as RFC 6455 section 10.3 asks.
pub(crate) fn random_key() -> [u8; 4] {
    rand::random()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, byte) in buf.iter_mut().enumerate() {
            *byte ^= key[(offset + i) % 4];
        }
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 + 7) as u8).collect()
    }

    #[test]
    fn every_length_alignment_and_offset_matches_the_reference() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let backing = pattern(300);
        for align in 0..16 {
            for len in 0..=(backing.len() - 16) {
                for offset in 0..8 {
                    let mut fast = backing.clone();
                    let mut slow = backing.clone();
                    apply_mask(&mut fast[align..align + len], key, offset);
                    reference(&mut slow[align..align + len], key, offset);
                    assert_eq!(fast, slow, "align {align} len {len} offset {offset}");
                }
            }
        }
    }

    #[test]
    fn masking_in_any_two_pieces_equals_masking_at_once() {
        let key = [0xa1, 0xb2, 0xc3, 0xd4];
        let original = pattern(97);
        let mut whole = original.clone();
        apply_mask(&mut whole, key, 0);
        for cut in 0..=original.len() {
            let mut pieces = original.clone();
            let (a, b) = pieces.split_at_mut(cut);
            apply_mask(a, key, 0);
            apply_mask(b, key, cut);
            assert_eq!(pieces, whole, "cut at {cut}");
        }
    }

    #[test]
    fn masking_twice_restores_the_input() {
        let original = pattern(1000);
        let mut buf = original.clone();
        apply_mask(&mut buf, [9, 8, 7, 6], 3);
        assert_ne!(buf, original);
        apply_mask(&mut buf, [9, 8, 7, 6], 3);
        assert_eq!(buf, original);
    }

    #[test]
    fn large_offsets_wrap() {
        let mut a = pattern(40);
        let mut b = a.clone();
        apply_mask(&mut a, [1, 2, 3, 4], usize::MAX - 2);
        reference(&mut b, [1, 2, 3, 4], (usize::MAX - 2) % 4);
        assert_eq!(a, b);
    }
}
