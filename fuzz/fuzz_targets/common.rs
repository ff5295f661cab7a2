//! In-memory streams for the fuzz targets: reads come from the fuzz input in chunks whose
//! sizes the input's first byte chooses (short reads at every boundary); writes are kept.
#![allow(dead_code)] // each target uses some of these helpers

use std::io::{self, Read, Write};

pub struct Input<'a> {
    data: &'a [u8],
    chunk: usize,
    written: Vec<u8>,
}

impl<'a> Input<'a> {
    /// The first byte picks the read size (1 to 256); the rest is the stream.
    pub fn new(data: &'a [u8]) -> Input<'a> {
        match data.split_first() {
            Some((&first, rest)) => Input {
                data: rest,
                chunk: usize::from(first) + 1,
                written: Vec::new(),
            },
            None => Input {
                data,
                chunk: 1,
                written: Vec::new(),
            },
        }
    }

    /// What was written to the stream (the first 64 KiB).
    pub fn written(&self) -> &[u8] {
        &self.written
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
        let keep = buf.len().min((64 << 10) - self.written.len().min(64 << 10));
        self.written.extend_from_slice(&buf[..keep]);
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

/// The placeholder a response's bytes may hold for the `Sec-WebSocket-Accept` value, which
/// depends on the random key the client sends.
pub const ACCEPT: &[u8] = b"{ACCEPT}";

/// A server as seen by a client: records what the client writes and, on the first read,
/// answers with `head` then `data` (chunked as [`Input`] does), each [`ACCEPT`] replaced by
/// the accept value for the key in the recorded request.
pub struct Responder<'a> {
    written: Vec<u8>,
    pending: Option<(Vec<u8>, &'a [u8])>,
    answer: Vec<u8>,
    at: usize,
    chunk: usize,
}

impl<'a> Responder<'a> {
    /// The first byte of `data` picks the read size, as for [`Input`].
    pub fn new(head: Vec<u8>, data: &'a [u8]) -> Responder<'a> {
        let (chunk, data) = match data.split_first() {
            Some((&first, rest)) => (usize::from(first) + 1, rest),
            None => (1, data),
        };
        Responder {
            written: Vec::new(),
            pending: Some((head, data)),
            answer: Vec::new(),
            at: 0,
            chunk,
        }
    }

    fn key(&self) -> Option<&[u8]> {
        let text = &self.written;
        let name = b"Sec-WebSocket-Key: ";
        let start = text.windows(name.len()).position(|w| w == name)? + name.len();
        let len = text[start..].iter().position(|&b| b == b'\r')?;
        Some(&text[start..start + len])
    }
}

fn replace_all(input: &[u8], what: &[u8], with: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < input.len() {
        if input[i..].starts_with(what) {
            out.extend_from_slice(with);
            i += what.len();
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
}

impl Read for Responder<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((head, data)) = self.pending.take() {
            let accept = self.key().map(wsio::accept_key).unwrap_or_default();
            replace_all(&head, ACCEPT, accept.as_bytes(), &mut self.answer);
            replace_all(data, ACCEPT, accept.as_bytes(), &mut self.answer);
        }
        let rest = &self.answer[self.at..];
        let n = buf.len().min(self.chunk).min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

impl Write for Responder<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.pending.is_some() {
            self.written.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl wsio::Stream for Responder<'_> {}
