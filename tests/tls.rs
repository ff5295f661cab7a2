//! `wss://` in both roles over loopback: wsio's server (`Upgrader::upgrade_tls`) and client
//! (`Dialer::dial`), certificates made for the test. Every certificate failure is a typed
//! error that says what went wrong; a split over TLS works; the handshake timeout covers the
//! TLS handshake.

#[path = "support/tls.rs"]
mod tls_support;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use tls_support::TestCa;
use wsio::{
    CloseCode, Config, DeflateConfig, Error, HandshakeError, Message, TlsAcceptor, TlsError,
    Upgrader,
};

/// A wss:// echo server for `connections` connections; its address.
fn echo_server(acceptor: TlsAcceptor, config: Config, connections: usize) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let upgrader = Upgrader::new().config(config);
        for stream in listener.incoming().take(connections) {
            let Ok(stream) = stream else { continue };
            let Ok(mut conn) = upgrader.upgrade_tls(stream, &acceptor) else {
                continue;
            };
            thread::spawn(move || {
                while let Ok(message) = conn.read_message() {
                    if conn
                        .write_message(message.kind(), message.as_bytes())
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn wss_echoes_in_both_roles_with_compression_and_large_messages() {
    let ca = TestCa::new();
    let cert = ca.server(&["localhost"]);
    let config = Config::builder().deflate(DeflateConfig::new()).build();
    let addr = echo_server(cert.acceptor(), config.clone(), 1);
    let (mut conn, _) = ca
        .dialer()
        .config(config)
        .dial(&format!("wss://localhost:{}/", addr.port()))
        .unwrap();
    assert!(conn.compression().is_some());
    for len in [0, 1, 125, 70_000, 3 << 20] {
        let text: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        conn.write_text(&text).unwrap();
        assert_eq!(conn.read_message().unwrap(), Message::Text(text));
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        conn.write_binary(&bytes).unwrap();
        assert_eq!(conn.read_message().unwrap(), Message::Binary(bytes));
    }
    let status = conn.close(CloseCode::NORMAL, "done").unwrap();
    assert_eq!(status.code, CloseCode::NORMAL);
}

#[test]
fn an_ip_address_host_is_verified_against_the_certificates_ip() {
    let ca = TestCa::new();
    let addr = echo_server(ca.server(&["127.0.0.1"]).acceptor(), Config::default(), 1);
    let (mut conn, _) = ca.dialer().dial(&format!("wss://{addr}/")).unwrap();
    conn.write_text("by address").unwrap();
    assert_eq!(
        conn.read_message().unwrap(),
        Message::Text("by address".into())
    );
}

/// The client's error dialing a server with `cert`, trusting `ca`.
fn dial_error(ca: &TestCa, server: &tls_support::ServerCert, host: &str) -> Error {
    let addr = echo_server(server.acceptor(), Config::default(), 1);
    ca.dialer()
        .dial(&format!("wss://{host}:{}/", addr.port()))
        .unwrap_err()
}

#[test]
fn a_certificate_from_an_unknown_authority_is_refused_and_says_so() {
    let ours = TestCa::new();
    let theirs = TestCa::new();
    let err = dial_error(&ours, &theirs.server(&["localhost"]), "localhost");
    assert!(matches!(err, Error::Tls(TlsError::UnknownIssuer)), "{err}");
    assert!(err.to_string().contains("unknown authority"), "{err}");
}

#[test]
fn a_certificate_for_another_name_is_refused_and_says_for_which() {
    let ca = TestCa::new();
    let err = dial_error(&ca, &ca.server(&["example.com"]), "localhost");
    match err {
        Error::Tls(TlsError::NameMismatch { expected }) => assert_eq!(expected, "localhost"),
        other => panic!("{other}"),
    }
}

#[test]
fn an_expired_certificate_is_refused_and_says_so() {
    let ca = TestCa::new();
    let expired = ca.server_with(&["localhost"], |params| {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    let err = dial_error(&ca, &expired, "localhost");
    assert!(matches!(err, Error::Tls(TlsError::Expired)), "{err}");
}

#[test]
fn the_server_learns_why_a_client_refused_its_certificate() {
    let ours = TestCa::new();
    let theirs = TestCa::new();
    let cert = theirs.server(&["localhost"]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        Upgrader::new()
            .upgrade_tls(stream, &cert.acceptor())
            .unwrap_err()
    });
    let _ = ours
        .dialer()
        .dial(&format!("wss://localhost:{}/", addr.port()));
    let err = server.join().unwrap();
    assert!(
        matches!(&err, Error::Tls(TlsError::AlertReceived(alert)) if alert.contains("UnknownCA")),
        "{err}"
    );
}

#[test]
fn a_client_that_trickles_its_hello_cannot_hold_the_thread_past_the_handshake_timeout() {
    let ca = TestCa::new();
    let acceptor = ca.server(&["localhost"]).acceptor();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config::builder()
        .handshake_timeout(Some(Duration::from_millis(600)))
        .build();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let started = Instant::now();
        let err = Upgrader::new()
            .config(config)
            .upgrade_tls(stream, &acceptor)
            .unwrap_err();
        (err, started.elapsed())
    });
    // A ClientHello's first bytes, then zeros, one every 100 ms for 6 s: each read makes
    // progress, the whole never arrives.
    let mut client = TcpStream::connect(addr).unwrap();
    let mut hello = vec![
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
    ];
    hello.resize(60, 0);
    trickle(&mut client, &hello);
    let (err, took) = server.join().unwrap();
    assert!(
        matches!(err, Error::Handshake(HandshakeError::Timeout)),
        "{err}"
    );
    // The bound is the configured timeout; the margin is for a loaded machine.
    assert!(took < Duration::from_secs(5), "{took:?}");
}

/// Writes `bytes` one every 100 ms, until the peer hangs up.
fn trickle(stream: &mut TcpStream, bytes: &[u8]) {
    for byte in bytes {
        if stream.write_all(&[*byte]).is_err() {
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_client_that_trickles_a_record_after_the_tls_handshake_cannot_outlast_the_handshake_timeout() {
    let ca = TestCa::new();
    let acceptor = ca.server(&["localhost"]).acceptor();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config::builder()
        .handshake_timeout(Some(Duration::from_millis(800)))
        .build();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let started = Instant::now();
        let err = Upgrader::new()
            .config(config)
            .upgrade_tls(stream, &acceptor)
            .unwrap_err();
        (err, started.elapsed())
    });
    // A real TLS client finishes the TLS handshake at once, then sends the HTTP request as
    // one record, a byte every 100 ms: every transport read makes progress, the record
    // never completes before the timeout.
    let mut tcp = TcpStream::connect(addr).unwrap();
    let name = wsio::rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = wsio::rustls::ClientConnection::new(ca.client_config(), name).unwrap();
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp).unwrap();
    }
    tls.writer()
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\r\n")
        .unwrap();
    let mut record = Vec::new();
    while tls.wants_write() {
        tls.write_tls(&mut record).unwrap();
    }
    assert!(record.len() > 60, "{} bytes", record.len());
    trickle(&mut tcp, &record[..60]);
    let (err, took) = server.join().unwrap();
    assert!(
        matches!(err, Error::Handshake(HandshakeError::Timeout)),
        "{err}"
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[test]
fn a_split_tls_connection_reads_and_writes_on_two_threads() {
    let ca = TestCa::new();
    let addr = echo_server(ca.server(&["localhost"]).acceptor(), Config::default(), 1);
    let (conn, _) = ca
        .dialer()
        .dial(&format!("wss://localhost:{}/", addr.port()))
        .unwrap();
    let (mut rx, mut tx) = conn.split().unwrap();
    const N: usize = 500;
    let writer = thread::spawn(move || {
        for i in 0..N {
            tx.write_text(&format!("message {i} {}", "x".repeat(i * 37 % 3000)))
                .unwrap();
            if i % 50 == 0 {
                tx.write_ping(b"p").unwrap();
            }
        }
        tx
    });
    for i in 0..N {
        let message = rx.read_message().unwrap();
        assert!(
            message
                .as_text()
                .unwrap()
                .starts_with(&format!("message {i} ")),
            "{i}"
        );
    }
    let tx = writer.join().unwrap();
    let mut conn = rx.reunite(tx).unwrap();
    conn.write_text("whole again").unwrap();
    assert_eq!(
        conn.read_message().unwrap(),
        Message::Text("whole again".into())
    );
}

#[test]
fn pem_files_load_and_bad_ones_say_what_is_wrong() {
    let ca = TestCa::new();
    let cert = ca.server(&["localhost"]);
    let dir = std::env::temp_dir().join(format!("wsio-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, &cert.cert_pem).unwrap();
    std::fs::write(&key_path, &cert.key_pem).unwrap();
    TlsAcceptor::from_pem_files(&cert_path, &key_path).unwrap();
    let err = TlsAcceptor::from_pem_files(&key_path, &key_path).unwrap_err();
    assert!(matches!(err, Error::Tls(TlsError::Load(_))), "{err}");
    let err = TlsAcceptor::from_pem_files(dir.join("missing.pem"), &key_path).unwrap_err();
    assert!(err.to_string().contains("missing.pem"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
