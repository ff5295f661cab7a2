//! Over a non-blocking stream, time is kept by the clock, not by the stream's timeouts:
//! `next_deadline` says when to call in, and a call at that moment sends the keepalive's
//! ping, ends a silent peer, ends a close that was not answered, or fails a read or a
//! queued write whose deadline passed.

#[path = "support/nonblocking.rs"]
mod nonblocking;

use std::time::{Duration, Instant};

use wsio::{CloseCode, Config, Error, Interest, Keepalive, Poison};

fn quiet() -> Config {
    Config::builder().keepalive(None).build()
}

fn with(build: impl FnOnce(wsio::ConfigBuilder) -> wsio::ConfigBuilder) -> Config {
    build(Config::builder().keepalive(None)).build()
}

/// Sleeps until `deadline`, which must come within `within` from now.
fn sleep_until(deadline: Option<Instant>, within: Duration) {
    let deadline = deadline.expect("a deadline");
    let left = deadline.saturating_duration_since(Instant::now());
    assert!(
        left <= within,
        "deadline {left:?} away, expected within {within:?}"
    );
    std::thread::sleep(left + Duration::from_millis(5));
}

#[test]
fn the_keepalive_pings_at_its_deadline_and_ends_a_silent_peer() {
    let keepalive = Keepalive::new(Duration::from_millis(100), Duration::from_millis(300));
    let server_config = with(|c| c.keepalive(Some(keepalive)));
    let (mut server, client) = nonblocking::pair(server_config, quiet());
    sleep_until(server.next_deadline(), Duration::from_millis(100));
    assert!(server.read_message().unwrap_err().is_would_block());
    // The ping went out; the client never reads it.
    assert_eq!(client.get_ref().available(), 2, "an empty ping frame");
    sleep_until(server.next_deadline(), Duration::from_millis(300));
    assert!(matches!(
        server.read_message(),
        Err(Error::KeepaliveTimeout)
    ));
    assert_eq!(server.interest(), Interest::Nothing);
}

#[test]
fn a_peer_that_answers_the_keepalive_stays() {
    let keepalive = Keepalive::new(Duration::from_millis(50), Duration::from_millis(150));
    let server_config = with(|c| c.keepalive(Some(keepalive)));
    let (mut server, mut client) = nonblocking::pair(server_config, quiet());
    let start = Instant::now();
    let mut pings = 0;
    while start.elapsed() < Duration::from_millis(600) {
        sleep_until(server.next_deadline(), Duration::from_millis(150));
        assert!(server.read_message().unwrap_err().is_would_block());
        pings += usize::from(client.get_ref().available() > 0);
        // The client reads the ping and answers it.
        assert!(client.read_message().unwrap_err().is_would_block());
        client.flush().unwrap();
    }
    assert!(pings >= 4, "{pings} pings in 600 ms at a 50 ms interval");
    assert_eq!(server.interest(), Interest::Read);
}

#[test]
fn a_close_the_peer_does_not_answer_ends_at_the_close_timeout() {
    let server_config = with(|c| c.close_timeout(Some(Duration::from_millis(200))));
    let (mut server, _client) = nonblocking::pair(server_config, quiet());
    assert!(
        server
            .close(CloseCode::NORMAL, "bye")
            .unwrap_err()
            .is_would_block()
    );
    let deadline = server.next_deadline();
    // Called again early: still waiting, and the deadline does not move.
    assert!(
        server
            .close(CloseCode::NORMAL, "bye")
            .unwrap_err()
            .is_would_block()
    );
    assert_eq!(server.next_deadline(), deadline);
    sleep_until(deadline, Duration::from_millis(200));
    let status = server.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(status.code, CloseCode::ABNORMAL);
    assert_eq!(server.interest(), Interest::Nothing);
}

#[test]
fn a_read_deadline_is_a_deadline_and_a_timeout() {
    let (mut server, _client) = nonblocking::pair(quiet(), quiet());
    assert_eq!(server.next_deadline(), None);
    let deadline = Instant::now() + Duration::from_millis(100);
    server.set_read_deadline(Some(deadline)).unwrap();
    assert_eq!(server.next_deadline(), Some(deadline));
    assert!(server.read_message().unwrap_err().is_would_block());
    sleep_until(server.next_deadline(), Duration::from_millis(100));
    assert!(matches!(server.read_message(), Err(Error::Timeout)));
    // Between frames: the connection is still usable.
    server.set_read_deadline(None).unwrap();
    assert!(server.read_message().unwrap_err().is_would_block());
}

#[test]
fn queued_bytes_that_miss_the_write_deadline_fail_the_writer() {
    let (mut server, mut client) = nonblocking::pair(quiet(), quiet());
    client.get_mut().set_capacity(1000);
    server.write_binary(&[7; 10_000]).unwrap();
    assert_eq!(server.interest(), Interest::ReadWrite);
    assert_eq!(server.queued(), 10_004 - 1000);
    let deadline = Instant::now() + Duration::from_millis(100);
    server.set_write_deadline(Some(deadline)).unwrap();
    assert_eq!(server.next_deadline(), Some(deadline));
    assert!(server.flush().unwrap_err().is_would_block());
    sleep_until(server.next_deadline(), Duration::from_millis(100));
    assert!(matches!(
        server.flush(),
        Err(Error::Poisoned(Poison::WriteTimeoutMidFrame))
    ));
}
