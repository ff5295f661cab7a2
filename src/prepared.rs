//! [`PreparedMessage`]: a message prepared once and written to many connections (gorilla's
//! `PreparedMessage`), for broadcast.

use std::fmt;
use std::sync::{Arc, OnceLock};

use crate::deflate::codec;
use crate::error::{InvalidInput, Result};
use crate::proto::MessageKind;
use crate::utf8;

/// A message checked and compressed once, then written to any number of connections with
/// [`Conn::write_prepared`](crate::Conn::write_prepared) or
/// [`WriteHalf::write_prepared`](crate::WriteHalf::write_prepared).
///
/// Text is validated once, here. For connections with permessage-deflate, the payload is
/// compressed the first time a connection with a given window size needs it, with a fresh
/// compressor (so the result suits every connection), and the compressed bytes are shared
/// by all later writes; only a client, which must mask every frame itself, copies them.
/// Cheap to clone (an `Arc`), `Send + Sync`.
///
/// ```
/// use wsio::{MessageKind, PreparedMessage};
/// let update = PreparedMessage::new(MessageKind::Text, br#"{"price": 42}"#.to_vec())?;
/// # let conns: Vec<wsio::Conn<std::net::TcpStream>> = Vec::new();
/// for mut conn in conns {
///     conn.write_prepared(&update)?;
/// }
/// # Ok::<(), wsio::Error>(())
/// ```
#[derive(Clone)]
pub struct PreparedMessage {
    inner: Arc<Inner>,
}

struct Inner {
    kind: MessageKind,
    data: Vec<u8>,
    level: u32,
    /// The compressed payload (tail stripped) for window bits 9 to 15.
    compressed: [OnceLock<Vec<u8>>; 7],
}

impl PreparedMessage {
    /// Prepares a message; compression, when a connection needs it, uses level 6 (the work is
    /// done once, so it may as well be thorough).
    ///
    /// # Errors
    ///
    /// [`InvalidInput::InvalidUtf8`] for text that is not UTF-8.
    pub fn new(kind: MessageKind, data: Vec<u8>) -> Result<PreparedMessage> {
        PreparedMessage::with_level(kind, data, 6)
    }

    /// As [`new`](Self::new), with a compression level from 0 to 9.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn with_level(kind: MessageKind, data: Vec<u8>, level: u32) -> Result<PreparedMessage> {
        if kind == MessageKind::Text && utf8::check(&data).is_err() {
            return Err(InvalidInput::InvalidUtf8.into());
        }
        Ok(PreparedMessage {
            inner: Arc::new(Inner {
                kind,
                data,
                level: level.min(9),
                compressed: Default::default(),
            }),
        })
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        self.inner.kind
    }

    /// The payload.
    pub fn data(&self) -> &[u8] {
        &self.inner.data
    }

    /// The compressed payload for a compressor window of `window_bits` (9 to 15), made on
    /// first use.
    pub(crate) fn compressed(&self, window_bits: u8) -> &[u8] {
        let bits = window_bits.clamp(9, 15);
        self.inner.compressed[usize::from(bits - 9)]
            .get_or_init(|| codec::compress_whole(&self.inner.data, self.inner.level, bits))
    }
}

impl fmt::Debug for PreparedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedMessage")
            .field("kind", &self.inner.kind)
            .field("len", &self.inner.data.len())
            .finish_non_exhaustive()
    }
}
