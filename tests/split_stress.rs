//! Full duplex under load: on each side a reader thread and a writer thread share one
//! connection for thousands of messages both ways while the client pings; every message
//! arrives intact and in order, and pongs carry ping payloads, in order, the last one
//! always answered. Over TCP and over TLS (where the halves share one rustls session).
//! Bounded; `.ci/run` also runs it with `--release`.

#[path = "support/tls.rs"]
mod tls_support;

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use wsio::{CloseCode, CloseStatus, Config, Conn, Dialer, Error, Message, Split, Upgrader};

const N: usize = 3000;

fn payload(side: &str, i: usize) -> Vec<u8> {
    let len = (i * 37) % 3000;
    let mut p = format!("{side} {i} ").into_bytes();
    p.extend((0..len).map(|j| (i + j) as u8));
    p
}

/// The server: reads N messages on its reader half while its writer half writes N, then
/// waits for the client's close.
fn serve<S: wsio::Stream + Split + Send + 'static>(conn: Conn<S>) -> CloseStatus
where
    S::Reader: Send,
    S::Writer: Send,
{
    let (mut rx, mut tx) = conn.split().unwrap();
    let writer = thread::spawn(move || {
        for i in 0..N {
            tx.write_binary(&payload("server", i)).unwrap();
        }
        tx
    });
    for i in 0..N {
        assert_eq!(
            rx.read_message().unwrap(),
            Message::Binary(payload("client", i)),
            "at {i}"
        );
    }
    let status = match rx.read_message() {
        Err(Error::Closed(status)) => status,
        other => panic!("expected the client's close, got {other:?}"),
    };
    writer.join().unwrap();
    status
}

#[test]
fn thousands_of_messages_both_ways_with_pings() {
    both_ways(false);
}

#[test]
fn thousands_of_messages_both_ways_with_pings_over_tls() {
    both_ways(true);
}

fn both_ways(tls: bool) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ca = tls_support::TestCa::new();
    let acceptor = ca.server(&["localhost"]).acceptor();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        if tls {
            serve(Upgrader::new().upgrade_tls(stream, &acceptor).unwrap())
        } else {
            serve(Upgrader::new().upgrade(stream).unwrap())
        }
    });

    let config = Config::builder()
        .close_timeout(Some(Duration::from_secs(5)))
        .build();
    let (dialer, url) = if tls {
        (ca.dialer(), format!("wss://localhost:{port}/"))
    } else {
        (Dialer::new(), format!("ws://127.0.0.1:{port}/"))
    };
    let (mut conn, _) = dialer.config(config).dial(&url).unwrap();
    let pongs = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&pongs);
    conn.set_pong_handler(move |payload| {
        seen.lock()
            .unwrap()
            .push(String::from_utf8(payload.to_vec()).unwrap());
        Ok(())
    });
    let (mut rx, mut tx) = conn.split().unwrap();
    let pings = Arc::new(AtomicUsize::new(0));
    let sent = Arc::clone(&pings);
    let handle = rx.handle();
    let writer = thread::spawn(move || {
        for i in 0..N {
            if i % 10 == 0 {
                handle.write_ping(format!("{i:06}").as_bytes()).unwrap();
                sent.fetch_add(1, Ordering::SeqCst);
            }
            tx.write_binary(&payload("client", i)).unwrap();
        }
        tx
    });
    for i in 0..N {
        assert_eq!(
            rx.read_message().unwrap(),
            Message::Binary(payload("server", i)),
            "at {i}"
        );
    }
    let tx = writer.join().unwrap();
    // One more ping after everything, then close: its pong must arrive before the close.
    let last = format!("{:06}", N);
    rx.handle().write_ping(last.as_bytes()).unwrap();
    let status = rx.close(CloseCode::NORMAL, "done").unwrap();
    assert_eq!(status.code, CloseCode::NORMAL);
    assert!(rx.reunite(tx).is_ok());

    let server_status = server.join().unwrap();
    assert_eq!(server_status.code, CloseCode::NORMAL);
    let pongs = pongs.lock().unwrap();
    assert!(!pongs.is_empty());
    assert!(pongs.windows(2).all(|w| w[0] < w[1]), "pongs in ping order");
    assert_eq!(pongs.last(), Some(&last), "the last ping is answered");
    println!(
        "{} pings, {} pongs (coalesced when pings outran the writer)",
        pings.load(Ordering::SeqCst) + 1,
        pongs.len()
    );
}
