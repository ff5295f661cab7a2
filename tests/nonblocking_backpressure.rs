//! Over a non-blocking stream, a peer that sends without reading our answers cannot make
//! our queue grow without bound: above 64 KiB queued, the connection stops reading
//! (`interest` is then `Write` only) and goes on once the peer reads again, losing nothing.

#[path = "support/nonblocking.rs"]
mod nonblocking;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wsio::{Config, Interest};

const PINGS: usize = 2_000;

#[test]
fn pings_from_a_peer_that_does_not_read_stop_the_reading_not_the_memory() {
    let quiet = || Config::builder().keepalive(None).build();
    let (mut server, mut client) = nonblocking::pair(quiet(), quiet());
    // The client reads nothing yet: the server's socket holds 4 KiB, then would block.
    client.get_mut().set_capacity(4096);
    let pongs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&pongs);
    client.set_pong_handler(move |payload| {
        assert_eq!(payload, [b'p'; 125]);
        counted.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    for _ in 0..PINGS {
        client.write_ping(&[b'p'; 125]).unwrap();
    }
    client.flush().unwrap();

    assert!(server.read_message().unwrap_err().is_would_block());
    let queued = server.queued();
    assert!(
        (64 << 10..200 << 10).contains(&queued),
        "{queued} bytes queued: reading stops just past 64 KiB of answers"
    );
    assert_eq!(server.interest(), Interest::Write);
    assert!(server.read_message().unwrap_err().is_would_block());
    assert_eq!(
        server.queued(),
        queued,
        "a read while over the mark reads nothing"
    );

    // The client reads again: every ping is answered, once.
    for _ in 0..10_000 {
        let _ = server.read_message();
        let _ = server.flush();
        let _ = client.read_message();
        if pongs.load(Ordering::SeqCst) == PINGS {
            break;
        }
    }
    assert_eq!(pongs.load(Ordering::SeqCst), PINGS);
    assert_eq!(server.queued(), 0);
    assert_eq!(server.interest(), Interest::Read);
}

#[test]
fn a_close_behind_a_full_socket_waits_its_turn() {
    let quiet = || Config::builder().keepalive(None).build();
    let (mut server, mut client) = nonblocking::pair(quiet(), quiet());
    client.get_mut().set_capacity(16);
    server.write_binary(&[1; 1000]).unwrap();
    // The close frame queues behind the message: the close waits, and fails nothing.
    for _ in 0..3 {
        let e = server.close(wsio::CloseCode::NORMAL, "bye").unwrap_err();
        assert!(e.is_would_block(), "{e}");
    }
    assert!(server.interest().is_writable());
    let mut got = None;
    for _ in 0..10_000 {
        match client.read_message() {
            Ok(message) => got = Some(message),
            Err(e) if e.is_would_block() => {}
            Err(wsio::Error::Closed(_)) => {}
            Err(e) => panic!("client: {e}"),
        }
        let _ = client.flush();
        match server.close(wsio::CloseCode::NORMAL, "bye") {
            Ok(status) => {
                assert_eq!(status.code, wsio::CloseCode::NORMAL);
                assert_eq!(got, Some(wsio::Message::Binary(vec![1; 1000])));
                assert_eq!(server.interest(), Interest::Nothing);
                return;
            }
            Err(e) => assert!(e.is_would_block(), "{e}"),
        }
    }
    panic!("the close never ended");
}
