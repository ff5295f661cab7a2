//! Pieces the examples share: argument parsing and the streaming echo loop.

#![allow(dead_code)]

use std::io::{Read, Write};

use wsio::{Conn, Error, Split};

/// The value after `--name` on the command line, if given.
pub fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
        if let Some(value) = a.strip_prefix(&format!("{name}=")) {
            return Some(value.to_owned());
        }
    }
    None
}

/// Whether `--name` is on the command line.
pub fn flag(name: &str) -> bool {
    std::env::args().skip(1).any(|a| a == name)
}

/// Echoes every message back as it arrives, streamed (`next_reader` into `next_writer`), until
/// the peer closes. A message of any size passes through one 64 KiB buffer.
pub fn echo<S: Read + Write + Split>(conn: Conn<S>) -> wsio::Result<()> {
    let (mut rx, mut tx) = conn.split()?;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let (kind, mut reader) = match rx.next_reader() {
            Ok(next) => next,
            Err(Error::Closed(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut writer = tx.next_writer(kind)?;
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            writer.write_all(&buf[..n])?;
        }
        writer.finish()?;
    }
}
