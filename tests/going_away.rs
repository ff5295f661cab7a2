//! A stream that says this end is going away (`Stream::is_going_away`, what a server
//! shutting down sets) ends the connection with close 1001: a reader blocked on the stream,
//! woken by the stream ending, gets `Error::GoingAway`; so does the next message written;
//! the peer receives the close frame. Over the pipe, with a flag the test sets.

mod common;

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use common::{REQUEST, parse_frames};
use wsio::frame::OpCode;
use wsio::testing::{PipeEnd, pipe};
use wsio::{Error, Stream, Upgrader};

/// The pipe, and a flag that says this end is going away.
struct Leaving {
    pipe: PipeEnd,
    flag: Arc<AtomicBool>,
}

impl Read for Leaving {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.pipe.read(buf)
    }
}

impl Write for Leaving {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pipe.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.pipe.flush()
    }
}

impl Stream for Leaving {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.pipe.set_read_timeout(timeout)
    }
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.pipe.set_write_timeout(timeout)
    }
    fn is_going_away(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

/// A server connection over a `Leaving` stream, its flag, and the raw client end.
fn server() -> (wsio::Conn<Leaving>, Arc<AtomicBool>, PipeEnd) {
    let (mut client, server_end) = pipe();
    client.write_all(REQUEST).unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    let stream = Leaving {
        pipe: server_end,
        flag: Arc::clone(&flag),
    };
    let conn = Upgrader::new().upgrade(stream).unwrap();
    let _response = client.take_available();
    (conn, flag, client)
}

fn close_codes(client: &mut PipeEnd) -> Vec<Option<u16>> {
    parse_frames(&client.take_available())
        .iter()
        .filter(|f| f.header.opcode == OpCode::Close)
        .map(|f| f.close_code())
        .collect()
}

#[test]
fn a_blocked_reader_woken_by_the_stream_ending_goes_away_with_1001() {
    let (mut conn, flag, mut client) = server();
    let reader = thread::spawn(move || (conn.read_message(), conn));
    thread::sleep(Duration::from_millis(100));
    // What a server does: flag, then end the stream under the blocked reader.
    flag.store(true, Ordering::SeqCst);
    client.shutdown_write();
    let (result, mut conn) = reader.join().unwrap();
    assert!(matches!(result, Err(Error::GoingAway)), "{result:?}");
    assert_eq!(close_codes(&mut client), [Some(1001)]);
    // It sticks, and nothing more is sent.
    assert!(matches!(conn.read_message(), Err(Error::GoingAway)));
    assert!(conn.write_text("late").is_err());
    assert_eq!(close_codes(&mut client), []);
}

#[test]
fn the_next_message_written_goes_away_instead() {
    let (mut conn, flag, mut client) = server();
    conn.write_text("before").unwrap();
    flag.store(true, Ordering::SeqCst);
    assert!(matches!(conn.write_text("after"), Err(Error::GoingAway)));
    let frames = parse_frames(&client.take_available());
    let kinds: Vec<OpCode> = frames.iter().map(|f| f.header.opcode).collect();
    assert_eq!(kinds, [OpCode::Text, OpCode::Close]);
    assert_eq!(frames[0].payload, b"before");
    assert_eq!(frames[1].close_code(), Some(1001));
}

#[test]
fn a_connection_not_going_away_is_untouched() {
    let (mut conn, _flag, mut client) = server();
    conn.write_text("hello").unwrap();
    assert_eq!(close_codes(&mut client), []);
}
