//! Slowloris: many clients that open a connection and trickle their requests forever. The
//! handshake deadline frees each server thread at the handshake timeout.

#[path = "support/server.rs"]
mod server;

use std::io::Write;
use std::thread;
use std::time::Duration;

use wsio::Config;

#[test]
fn trickling_clients_are_dropped_at_the_handshake_deadline() {
    let config = Config::builder()
        .handshake_timeout(Some(Duration::from_millis(800)))
        .build();
    let server = server::Server::start(config);
    let started = std::time::Instant::now();
    let clients: Vec<_> = (0..50)
        .map(|_| {
            let addr = server.addr;
            thread::spawn(move || {
                let mut s = server::raw_client(addr);
                // A byte every 100 ms, for up to 3 seconds.
                for byte in server::REQUEST.iter().take(30) {
                    if s.write_all(std::slice::from_ref(byte)).is_err() {
                        return;
                    }
                    thread::sleep(Duration::from_millis(100));
                }
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(300));
    assert!(server.live() >= 40, "the clients are connected");
    assert!(
        server.wait_live(0, Duration::from_millis(1500)),
        "threads still held: {}",
        server.live()
    );
    eprintln!(
        "50 trickling clients, 800 ms handshake timeout: all threads freed after {:?}",
        started.elapsed()
    );
    let ends = server.ends.lock().unwrap();
    assert!(ends.iter().all(|e| e.contains("timed out")), "{ends:?}");
    drop(ends);
    for c in clients {
        c.join().unwrap();
    }
}
