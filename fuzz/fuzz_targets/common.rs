//! An in-memory stream for the fuzz targets: reads come from the fuzz input in chunks whose
//! sizes the input's first byte chooses (short reads at every boundary), writes are dropped.

use std::io::{self, Read, Write};

pub struct Input<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl<'a> Input<'a> {
    /// The first byte picks the read size (1 to 256); the rest is the stream.
    pub fn new(data: &'a [u8]) -> Input<'a> {
        match data.split_first() {
            Some((&first, rest)) => Input {
                data: rest,
                chunk: usize::from(first) + 1,
            },
            None => Input { data, chunk: 1 },
        }
    }
}

impl Read for Input<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.chunk).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

impl Write for Input<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// The fuzz input cannot time out; the default (no-op) timeouts are right.
impl wsio::Stream for Input<'_> {}

/// Small limits, so that the fuzzer finds limit edges instead of allocating gigabytes.
pub fn config(deflate: bool) -> wsio::Config {
    let mut builder = wsio::Config::builder()
        .max_frame_size(1 << 20)
        .max_message_size(1 << 20)
        .max_handshake_size(4096)
        .max_headers(32)
        .keepalive(None);
    if deflate {
        builder = builder.deflate(wsio::DeflateConfig::new());
    }
    builder.build()
}

/// Reads messages until the connection ends; every outcome must be a message or a typed
/// error, and text must be UTF-8.
pub fn drain<S: Read + Write>(conn: &mut wsio::Conn<S>) {
    for _ in 0..10_000 {
        match conn.read_message() {
            Ok(wsio::Message::Text(t)) => assert!(std::str::from_utf8(t.as_bytes()).is_ok()),
            Ok(wsio::Message::Binary(b)) => assert!(b.len() <= 1 << 20),
            Err(_) => return,
        }
    }
}
