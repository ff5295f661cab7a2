//! wss:// over non-blocking loopback sockets: the TLS handshake carried by the WebSocket
//! handshakes' reads and writes (`TlsAcceptor::accept_nonblocking`,
//! `TlsStream::connect_nonblocking`), then an echo of messages large enough to fill the
//! sockets (so that records wait in the TLS stream and `interest` says so), then a clean
//! close. Both ends are driven from one thread, each call resumed after `WouldBlock`.

#[path = "support/tls.rs"]
mod tls_support;

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use tls_support::TestCa;
use wsio::{
    CloseCode, Config, Conn, DeflateConfig, Dialer, Error, Initiator, Interest, Message, TlsStream,
    Upgrader,
};

/// The test's bound; every loop below stops at it.
const LIMIT: Duration = Duration::from_secs(30);

fn nap(start: Instant) {
    assert!(start.elapsed() < LIMIT, "stuck");
    std::thread::sleep(Duration::from_micros(200));
}

fn echo_over_tls(deflate: bool) {
    let ca = TestCa::new();
    let acceptor = ca.server(&["localhost"]).acceptor();
    let mut config = Config::builder();
    if deflate {
        config = config.deflate(DeflateConfig::new());
    }
    let config = config.build();
    let upgrader = Upgrader::new().config(config.clone());
    let dialer = Dialer::new().config(config);

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    tcp.set_nonblocking(true).unwrap();
    let (accepted, _) = listener.accept().unwrap();
    accepted.set_nonblocking(true).unwrap();

    let client_tls = TlsStream::connect_nonblocking(tcp, ca.client_config(), "localhost").unwrap();
    let server_tls = acceptor.accept_nonblocking(accepted).unwrap();
    let mut client_hs = dialer.start(client_tls, "wss://localhost/echo").unwrap();
    let mut server_hs = upgrader.start(server_tls);
    let start = Instant::now();
    let (mut client, mut server) = (None, None);
    while client.is_none() || server.is_none() {
        if server.is_none() {
            match server_hs.resume(&upgrader) {
                Ok(conn) => server = Some(conn),
                Err(e) if e.is_would_block() => {}
                Err(e) => panic!("server handshake: {e}"),
            }
        }
        if client.is_none() {
            match client_hs.resume() {
                Ok((conn, _)) => client = Some(conn),
                Err(e) if e.is_would_block() => {}
                Err(e) => panic!("client handshake: {e}"),
            }
        }
        nap(start);
    }
    let (mut client, mut server) = (client.unwrap(), server.unwrap());
    assert_eq!(client.compression().is_some(), deflate);

    // 16 MiB that deflate cannot shrink: more than loopback sockets hold.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let big: Vec<u8> = (0..16 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let sent = [
        Message::Text("hello over tls".into()),
        Message::Binary(big),
        Message::Text("after the big one".into()),
    ];
    for message in &sent {
        client
            .write_message(message.kind(), message.as_bytes())
            .unwrap();
    }
    let mut saw_write_interest = false;
    let mut echoes = Vec::new();
    while echoes.len() < sent.len() {
        saw_write_interest |= client.interest().is_writable();
        pump_echo(&mut server);
        let _ = client.flush();
        loop {
            match client.read_message() {
                Ok(message) => echoes.push(message),
                Err(e) if e.is_would_block() => break,
                Err(e) => panic!("client read: {e}"),
            }
        }
        nap(start);
    }
    assert!(saw_write_interest, "16 MiB never filled the socket");
    assert_eq!(echoes, sent);

    // The client closes; the server answers; both end cleanly.
    let status = loop {
        match client.close(CloseCode::NORMAL, "done") {
            Ok(status) => break status,
            Err(e) if e.is_would_block() => {}
            Err(e) => panic!("close: {e}"),
        }
        pump_echo(&mut server);
        nap(start);
    };
    assert_eq!(status.code, CloseCode::NORMAL);
    assert_eq!(status.initiator, Initiator::Local);
    assert_eq!(client.interest(), Interest::Nothing);
    while server.interest() != Interest::Nothing {
        pump_echo(&mut server);
        nap(start);
    }
    assert_eq!(
        server.close_status().map(|s| s.code),
        Some(CloseCode::NORMAL)
    );
}

/// The server's turn: echo what is there, send what is queued.
fn pump_echo(server: &mut Conn<TlsStream<TcpStream>>) {
    loop {
        match server.read_message() {
            Ok(message) => server
                .write_message(message.kind(), message.as_bytes())
                .unwrap(),
            Err(e) if e.is_would_block() => break,
            Err(Error::Closed(_) | Error::AlreadyClosed) => break,
            Err(e) => panic!("server read: {e}"),
        }
    }
    match server.flush() {
        Ok(()) | Err(Error::AlreadyClosed) => {}
        Err(e) if e.is_would_block() => {}
        Err(e) => panic!("server flush: {e}"),
    }
}

#[test]
fn echo_over_tls_on_nonblocking_sockets() {
    echo_over_tls(false);
}

#[test]
fn echo_over_tls_with_deflate_on_nonblocking_sockets() {
    echo_over_tls(true);
}
