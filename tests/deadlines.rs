//! Read and write deadlines: a timeout between frames is `Error::Timeout` and leaves the
//! connection usable; in the middle of a frame it poisons the connection, which says so. A
//! peer that never reads fails the writer at the deadline instead of blocking it.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use common::{client_frame, quick_config, server_and_raw_client};
use wsio::frame::OpCode;
use wsio::testing::pipe;
use wsio::{Conn, Error, Message, Poison, Role, Upgrader};

fn soon(ms: u64) -> Option<Instant> {
    Some(Instant::now() + Duration::from_millis(ms))
}

#[test]
fn a_read_deadline_between_frames_is_a_harmless_timeout() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    server.set_read_deadline(soon(100)).unwrap();
    let started = Instant::now();
    assert!(matches!(server.read_message(), Err(Error::Timeout)));
    assert!(started.elapsed() >= Duration::from_millis(90));
    // Usable: the next message reads fine once the deadline is lifted.
    server.set_read_deadline(None).unwrap();
    client
        .write_all(&client_frame(OpCode::Text, true, b"later"))
        .unwrap();
    assert_eq!(
        server.read_message().unwrap(),
        Message::Text("later".into())
    );
}

#[test]
fn a_whole_message_read_that_times_out_between_frames_resumes() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    client
        .write_all(&client_frame(OpCode::Text, false, b"first half, "))
        .unwrap();
    server.set_read_deadline(soon(100)).unwrap();
    assert!(matches!(server.read_message(), Err(Error::Timeout)));
    server.set_read_deadline(None).unwrap();
    client
        .write_all(&client_frame(OpCode::Continuation, true, b"second half"))
        .unwrap();
    assert_eq!(
        server.read_message().unwrap(),
        Message::Text("first half, second half".into())
    );

    // The same for read_binary into a slice.
    client
        .write_all(&client_frame(OpCode::Binary, false, &[1, 2]))
        .unwrap();
    server.set_read_deadline(soon(100)).unwrap();
    let mut buf = [0u8; 8];
    assert!(matches!(server.read_binary(&mut buf), Err(Error::Timeout)));
    server.set_read_deadline(None).unwrap();
    client
        .write_all(&client_frame(OpCode::Continuation, true, &[3]))
        .unwrap();
    assert_eq!(server.read_binary(&mut buf).unwrap(), 3);
    assert_eq!(&buf[..3], &[1, 2, 3]);
}

#[test]
fn a_read_deadline_mid_frame_poisons_the_connection() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    let frame = client_frame(OpCode::Binary, true, &[7; 100]);
    client.write_all(&frame[..50]).unwrap();
    server.set_read_deadline(soon(100)).unwrap();
    let err = server.read_message().unwrap_err();
    assert!(
        matches!(err, Error::Poisoned(Poison::ReadTimeoutMidFrame)),
        "{err}"
    );
    assert!(err.to_string().contains("middle of a frame"));
    // Sticky; and the poisoned connection was shut down.
    assert!(matches!(server.read_message(), Err(Error::Poisoned(_))));
    assert!(client.write_all(&frame[50..]).is_err());
}

#[test]
fn a_peer_that_never_reads_fails_the_writer_at_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = thread::spawn(move || {
        let (conn, _) = wsio::dial(&format!("ws://{addr}/")).unwrap();
        thread::sleep(Duration::from_millis(1500));
        drop(conn);
    });
    let (stream, _) = listener.accept().unwrap();
    let mut conn = Upgrader::new().upgrade(stream).unwrap();
    conn.set_write_deadline(soon(300)).unwrap();
    let big = vec![1u8; 1 << 20];
    let started = Instant::now();
    let err = loop {
        if let Err(e) = conn.write_binary(&big) {
            break e;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the writer never timed out"
        );
    };
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            Error::Timeout | Error::Poisoned(Poison::WriteTimeoutMidFrame)
        ),
        "{err}"
    );
    assert!(took < Duration::from_millis(1500), "{took:?}");
    peer.join().unwrap();
}

#[test]
fn a_stream_that_cannot_time_out_says_so() {
    let (_client, server) = pipe();
    let mut conn = Conn::from_raw(server, Role::Server, quick_config());
    let err = conn.set_read_deadline(soon(100)).unwrap_err();
    assert!(
        matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::Unsupported),
        "{err}"
    );
}
