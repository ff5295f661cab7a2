//! The server's graceful shutdown with 200 live connections: every client sees close 1001,
//! every handler returns, and threads, file descriptors and heap come back to where they
//! were. The only test of its binary: it counts the process's threads and descriptors.

#[path = "support/eventually.rs"]
mod eventually_support;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use eventually_support::eventually;
use wsio::{CloseCode, Error, Message, Server, ServerStream};

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

fn count_dir(path: &str) -> usize {
    std::fs::read_dir(path).unwrap().count()
}

fn threads() -> usize {
    count_dir("/proc/self/task")
}

fn fds() -> usize {
    count_dir("/proc/self/fd")
}

fn echo(mut conn: wsio::Conn<ServerStream>) {
    while let Ok(message) = conn.read_message() {
        if conn
            .write_message(message.kind(), message.as_bytes())
            .is_err()
        {
            break;
        }
    }
}

/// 200 clients on their own threads, each after one echo waiting for the server's close.
fn shut_down_with_live_clients() {
    const N: usize = 200;
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .unwrap()
        .start(echo)
        .unwrap();
    let url = format!("ws://{}/", server.local_addrs()[0]);
    let (ready, connected) = mpsc::channel();
    let clients: Vec<_> = (0..N)
        .map(|i| {
            let (url, ready) = (url.clone(), ready.clone());
            thread::spawn(move || {
                let (mut conn, _) = wsio::dial(&url).unwrap();
                conn.write_text(&format!("client {i}")).unwrap();
                assert_eq!(
                    conn.read_message().unwrap(),
                    Message::Text(format!("client {i}"))
                );
                ready.send(()).unwrap();
                match conn.read_message() {
                    Err(Error::Closed(status)) => status.code,
                    other => panic!("client {i}: {other:?}"),
                }
            })
        })
        .collect();
    for _ in 0..N {
        connected.recv_timeout(Duration::from_secs(30)).unwrap();
    }
    assert_eq!(server.stats().live, N);
    let started = Instant::now();
    assert!(
        server.shutdown(Duration::from_secs(10)),
        "{:?}",
        server.stats()
    );
    let took = started.elapsed();
    for client in clients {
        assert_eq!(client.join().unwrap(), CloseCode::GOING_AWAY);
    }
    let stats = server.stats();
    assert_eq!((stats.live, stats.accepted), (0, N as u64));
    server.wait();
    println!("{N} connections shut down in {took:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn shutdown_sends_1001_to_every_live_connection_and_leaves_nothing_behind() {
    // One round first, so that what the process sets up once is not counted.
    shut_down_with_live_clients();
    let (threads_before, fds_before, heap_before) = (threads(), fds(), counting_alloc::live());
    shut_down_with_live_clients();
    assert!(
        eventually(Duration::from_secs(5), || threads() <= threads_before),
        "threads {} -> {}",
        threads_before,
        threads()
    );
    assert!(
        eventually(Duration::from_secs(5), || fds() <= fds_before),
        "fds {} -> {}",
        fds_before,
        fds()
    );
    let heap_after = counting_alloc::live();
    assert!(
        heap_after <= heap_before + 64 * 1024,
        "heap {heap_before} -> {heap_after}"
    );
}
