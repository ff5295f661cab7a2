//! The handshake timeout covers the proxy leg: a proxy that accepts the connection and
//! never answers cannot hold the dialer past it, whatever kind of proxy it is supposed to
//! be. (Real proxies are exercised by scripts/proxies.sh.)

use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use wsio::{Config, Dialer, Error, HandshakeError, Proxy};

#[test]
fn a_silent_proxy_cannot_hold_the_dialer_past_the_handshake_timeout() {
    for scheme in ["http", "socks5", "socks5h", "https"] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let holder = thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            // Silent until the dialer gave up.
            let _ = wait.recv_timeout(Duration::from_secs(10));
            drop(stream);
        });
        let dialer = Dialer::new()
            .config(
                Config::builder()
                    .handshake_timeout(Some(Duration::from_millis(300)))
                    .build(),
            )
            .proxy(Proxy::parse(&format!("{scheme}://{addr}")).unwrap());
        let started = Instant::now();
        let err = dialer.dial("ws://server.example/").unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(err, Error::Handshake(HandshakeError::Timeout)),
            "{scheme}: {err}"
        );
        assert!(took < Duration::from_secs(3), "{scheme}: {took:?}");
        done.send(()).unwrap();
        holder.join().unwrap();
    }
}
