//! A split connection: one thread reads while another writes, pings from the peer are
//! answered without the reader waiting for the writer, and the halves join back.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::thread;

use wsio::{
    CloseCode, Conn, Dialer, Error, Message, MessageKind, ReuniteError, ReuniteReason, Upgrader,
};

const N: usize = 2000;

#[test]
fn a_reader_thread_and_a_writer_thread_share_a_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The peer: sends N messages with a ping before each, and reads N messages and N pongs.
    let peer = thread::spawn(move || {
        let (mut conn, _) = Dialer::new().dial(&format!("ws://{addr}/")).unwrap();
        let pongs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = std::sync::Arc::clone(&pongs);
        conn.set_pong_handler(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        });
        let (mut rx, mut tx) = conn.split().unwrap();
        let sender = thread::spawn(move || {
            for i in 0..N {
                tx.write_ping(format!("{i}").as_bytes()).unwrap();
                tx.write_text(&format!("to server {i}")).unwrap();
            }
            tx
        });
        for i in 0..N {
            assert_eq!(
                rx.read_message().unwrap(),
                Message::Binary(format!("to client {i}").into_bytes())
            );
        }
        let mut tx = sender.join().unwrap();
        tx.send_close(CloseCode::NORMAL, "done").unwrap();
        loop {
            match rx.read_message() {
                Err(Error::Closed(_)) => break,
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
        pongs.load(std::sync::atomic::Ordering::SeqCst)
    });

    let (stream, _) = listener.accept().unwrap();
    let conn: Conn<_> = Upgrader::new().upgrade(stream).unwrap();
    let (mut rx, mut tx) = conn.split().unwrap();
    let writer = thread::spawn(move || {
        for i in 0..N {
            tx.write_binary(format!("to client {i}").as_bytes())
                .unwrap();
        }
        tx
    });
    for i in 0..N {
        assert_eq!(
            rx.read_message().unwrap(),
            Message::Text(format!("to server {i}"))
        );
    }
    let status = match rx.read_message() {
        Err(Error::Closed(status)) => status,
        other => panic!("expected Closed, got {other:?}"),
    };
    assert_eq!(status.code, CloseCode::NORMAL);
    let tx = writer.join().unwrap();
    let pongs = peer.join().unwrap();
    // Pongs are coalesced when pings come faster than the writer frees up, never lost
    // entirely: the last ping is always answered.
    assert!((1..=N).contains(&pongs), "{pongs} pongs");
    let conn = rx.reunite(tx).unwrap();
    assert!(conn.close_status().is_some());
}

#[test]
fn halves_join_back_and_keep_working() {
    let (client, mut server) = common::conn_pair(common::quick_config());
    let (rx, tx) = client.split().unwrap();
    let mut client = rx.reunite(tx).unwrap();
    client.write_text("after reunite").unwrap();
    assert_eq!(
        server.read_message().unwrap(),
        Message::Text("after reunite".into())
    );
    server.write_text("back").unwrap();
    assert_eq!(client.read_message().unwrap(), Message::Text("back".into()));
}

#[test]
fn a_message_given_up_on_the_writer_half_is_ended_before_the_halves_join() {
    let (client, mut server) = common::conn_pair(common::quick_config());
    let (rx, mut tx) = client.split().unwrap();
    let mut writer = tx.next_writer(MessageKind::Binary).unwrap();
    writer.write_all(b"abc").unwrap();
    writer.flush().unwrap();
    writer.write_all(b"def").unwrap();
    drop(writer);
    let mut client = rx.reunite(tx).unwrap();
    client.write_text("next").unwrap();
    assert_eq!(
        server.read_message().unwrap(),
        Message::Binary(b"abcdef".to_vec())
    );
    assert_eq!(server.read_message().unwrap(), Message::Text("next".into()));
}

#[test]
fn halves_of_different_connections_do_not_join() {
    let (a, _a_peer) = common::conn_pair(common::quick_config());
    let (b, _b_peer) = common::conn_pair(common::quick_config());
    let (a_rx, _a_tx) = a.split().unwrap();
    let (_b_rx, b_tx) = b.split().unwrap();
    let refused = a_rx.reunite(b_tx).unwrap_err();
    assert_eq!(refused.reason, ReuniteReason::DifferentConnections);
}

#[test]
fn halves_do_not_join_while_a_handle_is_alive() {
    let (client, _server) = common::conn_pair(common::quick_config());
    let (rx, tx) = client.split().unwrap();
    let handle = tx.handle();
    let refused = rx.reunite(tx).unwrap_err();
    assert_eq!(refused.reason, ReuniteReason::HandleAlive);
    assert_eq!(
        refused.to_string(),
        "a handle of the connection is still alive"
    );
    drop(handle);
    let ReuniteError { read, write, .. } = *refused;
    assert!(read.reunite(write).is_ok());
}
