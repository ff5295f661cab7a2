//! With `FlushPolicy::Batched`, small messages leave in one write when the connection is about
//! to block reading; with the default, each message is written before the call returns.

mod common;

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{client_frame, parse_frames};
use wsio::frame::OpCode;
use wsio::testing::{PipeEnd, pipe};
use wsio::{Config, Conn, FlushPolicy, Message, Role};

/// Counts the writes made to a stream.
struct Counted {
    inner: PipeEnd,
    writes: Arc<AtomicUsize>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn echo_100(policy: FlushPolicy) -> (usize, Vec<u8>) {
    let (mut client, server) = pipe();
    let writes = Arc::new(AtomicUsize::new(0));
    let stream = Counted {
        inner: server,
        writes: Arc::clone(&writes),
    };
    let config = Config::builder().flush_policy(policy).build();
    let mut conn = Conn::from_raw(stream, Role::Server, config);
    for i in 0..100 {
        client
            .write_all(&client_frame(
                OpCode::Text,
                true,
                format!("m{i}").as_bytes(),
            ))
            .unwrap();
    }
    client
        .write_all(&client_frame(OpCode::Ping, true, b"last"))
        .unwrap();
    for _ in 0..100 {
        let Message::Text(text) = conn.read_message().unwrap() else {
            panic!()
        };
        conn.write_text(&text).unwrap();
    }
    // Reading on blocks: with batching, everything goes out first. Time the read out.
    client.shutdown_write();
    let _ = conn.read_message();
    (writes.load(Ordering::SeqCst), client.take_available())
}

#[test]
fn batched_echoes_leave_in_one_write() {
    let (writes, bytes) = echo_100(FlushPolicy::Batched);
    let frames = parse_frames(&bytes);
    assert_eq!(frames.len(), 101, "100 echoes and a pong");
    assert!(writes <= 2, "{writes} writes for 100 echoes");
}

#[test]
fn immediate_writes_each_message() {
    let (writes, bytes) = echo_100(FlushPolicy::Immediate);
    assert_eq!(parse_frames(&bytes).len(), 101);
    assert!(writes >= 100, "{writes} writes");
}

#[test]
fn flush_sends_batched_frames() {
    let (mut client, server) = pipe();
    let config = Config::builder().flush_policy(FlushPolicy::Batched).build();
    let mut conn = Conn::from_raw(server, Role::Server, config);
    conn.write_text("a").unwrap();
    conn.write_text("b").unwrap();
    assert_eq!(client.available(), 0, "nothing sent yet");
    conn.flush().unwrap();
    assert_eq!(parse_frames(&client.take_available()).len(), 2);
}
