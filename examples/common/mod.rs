//! Pieces the examples share: strict argument parsing and the streaming echo loop.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::process::exit;

use wsio::{Conn, Error, Split};

/// Command-line arguments checked against what an example accepts: an unknown flag, or an
/// option without its value, prints the usage line and exits with status 2.
pub struct Args {
    args: Vec<String>,
}

impl Args {
    /// Parses the command line. `flags` take no value (`--deflate`); `options` take one
    /// (`--addr HOST:PORT` or `--addr=HOST:PORT`).
    pub fn parse(usage: &str, flags: &[&str], options: &[&str]) -> Args {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let fail = |why: String| -> ! {
            eprintln!("{why}\nusage: {usage}");
            exit(2)
        };
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_str();
            if arg == "--help" || arg == "-h" {
                println!("usage: {usage}");
                exit(0);
            }
            let name = arg.split('=').next().unwrap_or(arg);
            if flags.contains(&arg) {
                i += 1;
            } else if options.contains(&name) {
                if !arg.contains('=') && args.get(i + 1).is_none_or(|v| v.starts_with("--")) {
                    fail(format!("{arg} needs a value"));
                }
                i += if arg.contains('=') { 1 } else { 2 };
            } else {
                fail(format!("unknown argument {arg:?}"));
            }
        }
        Args { args }
    }

    /// The value of `--name`, if given.
    pub fn value(&self, name: &str) -> Option<String> {
        let mut args = self.args.iter();
        while let Some(a) = args.next() {
            if a == name {
                return args.next().cloned();
            }
            if let Some(value) = a.strip_prefix(&format!("{name}=")) {
                return Some(value.to_owned());
            }
        }
        None
    }

    /// Whether `--name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.args.iter().any(|a| a == name)
    }
}

/// Echoes every message back as it arrives, streamed (`next_reader` into `next_writer`), until
/// the peer closes. A message of any size passes through one 64 KiB buffer.
///
/// The reader and the writer are two halves on one thread: while a message streams through,
/// its echo is being written. A peer that writes a whole large message before it reads
/// anything (a single-threaded client) therefore stops reading while this side still
/// writes the echo: both sides' sockets fill and both block. Only peers that read while
/// they write (two threads, or non-blocking I/O), such as Autobahn's, can be streamed to
/// this way; the echo example echoes whole messages unless asked to stream.
pub fn echo<S: Read + Write + Split>(conn: Conn<S>) -> wsio::Result<()> {
    let (mut rx, mut tx) = conn.split()?;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let (kind, mut reader) = match rx.next_reader() {
            Ok(next) => next,
            Err(Error::Closed(_) | Error::GoingAway) => return Ok(()),
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
