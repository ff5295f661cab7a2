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
    assert_eq!(server.queued(), queued, "a read while over the mark reads nothing");

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
