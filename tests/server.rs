//! The threaded server against real clients over loopback: echo, the plain-HTTP callback
//! and the 426 without one, the request callback's decisions as a client sees them, the cap
//! on live connections, silent connections that delay nobody, a Unix socket, a slowloris,
//! and shutdown as handlers that only write or ignore everything see it.

#[path = "support/eventually.rs"]
mod eventually_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use eventually_support::eventually;
use wsio::{
    CloseCode, Config, Dialer, Error, HandshakeError, HttpResponse, Message, Rejection, Server,
    ServerStream, Upgrader,
};

/// Echoes every message until the peer closes.
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

fn url(server: &Server) -> String {
    format!("ws://{}/", server.local_addrs()[0])
}

/// Sends `request` raw and returns the whole response.
fn raw(addr: SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn echoes_and_counts() {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .unwrap()
        .start(echo)
        .unwrap();
    let (mut conn, _) = wsio::dial(&url(&server)).unwrap();
    conn.write_text("hello").unwrap();
    assert_eq!(conn.read_message().unwrap(), Message::Text("hello".into()));
    assert_eq!(server.stats().live, 1);
    conn.close(CloseCode::NORMAL, "").unwrap();
    assert!(server.shutdown(Duration::from_secs(5)));
    let stats = server.stats();
    assert_eq!((stats.accepted, stats.live, stats.refused), (1, 0, 0));
    server.wait();
}

#[test]
fn plain_http_goes_to_the_callback_and_without_one_gets_426() {
    let server = Server::builder()
        .upgrader(Upgrader::new().server_header("wsio-test"))
        .http(|request, peer| match request.path() {
            _ if peer.is_none() => HttpResponse::new(500),
            "/" => HttpResponse::ok("text/html; charset=utf-8", "<p>hello</p>"),
            _ => HttpResponse::not_found(),
        })
        .bind("127.0.0.1:0")
        .unwrap()
        .start(echo)
        .unwrap();
    let addr = server.local_addrs()[0];
    let page = raw(addr, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(
        page.contains("Content-Type: text/html; charset=utf-8\r\n"),
        "{page}"
    );
    assert!(page.contains("Server: wsio-test\r\n"), "{page}");
    assert!(page.ends_with("\r\n\r\n<p>hello</p>"), "{page}");
    let head = raw(addr, "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(
        head.contains("Content-Length: 12\r\n") && head.ends_with("\r\n\r\n"),
        "{head}"
    );
    let missing = raw(addr, "GET /nope HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(missing.starts_with("HTTP/1.1 404 "), "{missing}");
    // Upgrades still work on the same port.
    let (mut conn, _) = wsio::dial(&url(&server)).unwrap();
    conn.write_text("ws too").unwrap();
    assert_eq!(conn.read_message().unwrap(), Message::Text("ws too".into()));
    drop(conn);
    assert_eq!(server.stats().http_requests, 3);
    server.shutdown(Duration::from_secs(5));

    let plain = Server::builder()
        .bind("127.0.0.1:0")
        .unwrap()
        .start(echo)
        .unwrap();
    let refused = raw(plain.local_addrs()[0], "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(
        refused.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{refused}"
    );
    assert!(
        refused.contains("Sec-WebSocket-Version: 13\r\n"),
        "{refused}"
    );
    assert!(refused.contains("Upgrade: websocket\r\n"), "{refused}");
    plain.shutdown(Duration::from_secs(5));
}

/// Who the request callback let in, and as whom.
#[derive(Debug, PartialEq)]
struct User(String);

#[test]
fn the_request_callback_decides_as_a_client_sees_it() {
    let upgrader = Upgrader::new()
        .subprotocols(["chat", "superchat"])
        .check_request(|request, accept| {
            assert!(accept.peer_addr().is_some_and(|a| a.ip().is_loopback()));
            let Some(token) = request.query().and_then(|q| q.strip_prefix("token=")) else {
                return Err(Rejection::new(401)
                    .with_header("WWW-Authenticate", "Bearer")
                    .with_body("who are you?"));
            };
            if request.subprotocols().any(|p| p == "superchat") {
                accept.set_subprotocol("superchat");
            }
            accept.header("X-Welcome", format!("hello {token}"));
            accept.set_value(User(token.to_owned()));
            Ok(())
        });
    let server = Server::builder()
        .upgrader(upgrader)
        .bind("127.0.0.1:0")
        .unwrap()
        .start(|mut conn| {
            let who = conn
                .value::<User>()
                .map(|u| u.0.clone())
                .unwrap_or_default();
            let _ = conn.write_text(&format!("you are {who}"));
            echo(conn);
        })
        .unwrap();
    let addr = server.local_addrs()[0];

    let err = wsio::dial(&format!("ws://{addr}/chat")).unwrap_err();
    match err {
        Error::Handshake(HandshakeError::Status(response)) => {
            assert_eq!(response.status(), 401);
            assert_eq!(response.header("WWW-Authenticate"), Some("Bearer"));
        }
        other => panic!("{other}"),
    }

    let (mut conn, response) = Dialer::new()
        .subprotocols(["chat", "superchat"])
        .dial(&format!("ws://{addr}/chat?token=ada"))
        .unwrap();
    assert_eq!(conn.subprotocol(), Some("superchat"));
    assert_eq!(response.header("X-Welcome"), Some("hello ada"));
    assert_eq!(
        conn.read_message().unwrap(),
        Message::Text("you are ada".into())
    );
    conn.close(CloseCode::NORMAL, "").unwrap();
    // Counted on the connection's thread once its answer is out: wait for it.
    let started = Instant::now();
    while server.stats().failed_handshakes == 0 && started.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(server.stats().failed_handshakes, 1);
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn past_the_cap_a_client_gets_503_and_the_live_ones_keep_working() {
    let server = Server::builder()
        .max_connections(3)
        .bind("127.0.0.1:0")
        .unwrap()
        .start(echo)
        .unwrap();
    let mut live: Vec<_> = (0..3)
        .map(|_| wsio::dial(&url(&server)).unwrap().0)
        .collect();
    let err = wsio::dial(&url(&server)).unwrap_err();
    match err {
        Error::Handshake(HandshakeError::Status(response)) => {
            assert_eq!(response.status(), 503);
            assert_eq!(response.header("Retry-After"), Some("1"));
        }
        other => panic!("{other}"),
    }
    assert_eq!(server.stats().refused, 1);
    for (i, conn) in live.iter_mut().enumerate() {
        conn.write_text(&format!("still {i}")).unwrap();
        assert_eq!(
            conn.read_message().unwrap(),
            Message::Text(format!("still {i}"))
        );
    }
    // One leaves: the next client gets in.
    live.pop().unwrap().close(CloseCode::NORMAL, "").unwrap();
    let started = Instant::now();
    let next = loop {
        match wsio::dial(&url(&server)) {
            Ok((conn, _)) => break conn,
            Err(_) if started.elapsed() < Duration::from_secs(5) => {
                thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    };
    drop(next);
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn three_hundred_silent_connections_do_not_delay_a_real_client() {
    let server = Server::builder()
        .upgrader(
            Upgrader::new().config(
                Config::builder()
                    .handshake_timeout(Some(Duration::from_secs(30)))
                    .build(),
            ),
        )
        .bind("127.0.0.1:0")
        .unwrap()
        .start(echo)
        .unwrap();
    let addr = server.local_addrs()[0];
    let silent: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    let started = Instant::now();
    let (mut conn, _) = wsio::dial(&url(&server)).unwrap();
    conn.write_text("through").unwrap();
    assert_eq!(
        conn.read_message().unwrap(),
        Message::Text("through".into())
    );
    // Served long before the silent ones' 30-second handshake timeout could free a thread
    // (the margin is for a loaded machine).
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
    drop(silent);
    drop(conn);
    server.shutdown(Duration::from_secs(5));
}

#[cfg(unix)]
#[test]
fn serves_a_unix_socket() {
    let dir = std::env::temp_dir().join(format!("wsio-server-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ws.sock");
    let _ = std::fs::remove_file(&path);
    let server = Server::builder()
        .bind_unix(&path)
        .unwrap()
        .start(|conn| {
            assert!(format!("{:?}", conn.get_ref()).contains("unix"));
            echo(conn)
        })
        .unwrap();
    let stream = std::os::unix::net::UnixStream::connect(&path).unwrap();
    let (mut conn, _) = Dialer::new().handshake(stream, "ws://localhost/").unwrap();
    conn.write_text("over a unix socket").unwrap();
    assert_eq!(
        conn.read_message().unwrap(),
        Message::Text("over a unix socket".into())
    );
    drop(conn);
    let handle = server.handle();
    assert!(handle.shutdown(Duration::from_secs(5)));
    server.wait();
    assert!(!path.exists(), "the socket file is removed");
}

#[test]
fn a_handler_that_only_writes_goes_away_at_its_next_message() {
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .unwrap()
        .start(|mut conn| {
            let mut i = 0u64;
            loop {
                match conn.write_text(&format!("tick {i}")) {
                    Ok(()) => thread::sleep(Duration::from_millis(5)),
                    Err(Error::GoingAway) => return,
                    Err(e) => panic!("{e}"),
                }
                i += 1;
            }
        })
        .unwrap();
    let (mut conn, _) = wsio::dial(&format!("ws://{}/", server.local_addrs()[0])).unwrap();
    assert!(matches!(conn.read_message().unwrap(), Message::Text(_)));
    assert!(server.shutdown(Duration::from_secs(5)));
    let code = loop {
        match conn.read_message() {
            Ok(_) => {}
            Err(Error::Closed(status)) => break status.code,
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(code, CloseCode::GOING_AWAY);
    server.wait();
}

#[test]
fn a_handler_blocked_on_a_client_that_does_not_read_is_cut_after_the_grace_period() {
    let (done, finished) = std::sync::mpsc::channel();
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .unwrap()
        .start(move |mut conn| {
            // One message far larger than the sockets' buffers: the write blocks in its
            // middle, neither reading nor starting a new message while the shutdown tells
            // it to go away.
            let started = Instant::now();
            let end = conn.write_binary(&vec![0u8; 64 << 20]).unwrap_err();
            let _ = done.send((end, started.elapsed()));
        })
        .unwrap();
    let (_conn, _) = wsio::dial(&format!("ws://{}/", server.local_addrs()[0])).unwrap();
    assert!(eventually(Duration::from_secs(5), || server.stats().live == 1));
    // Let the handler fill the buffers and block.
    thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    assert!(!server.shutdown(Duration::from_millis(300)));
    assert!(started.elapsed() < Duration::from_secs(3));
    // The cut ended the blocked write.
    let (end, _) = finished.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(!matches!(end, Error::GoingAway), "{end}");
    assert_eq!(server.stats().live, 0);
    server.wait();
}

#[test]
fn plain_http_answers_never_carry_headers_the_server_sets() {
    let server = Server::builder()
        .http(|request, _| match request.path() {
            "/length" => HttpResponse::ok("text/plain", "x").with_header("Content-Length", "99"),
            "/status" => HttpResponse::new(101),
            "/inject" => HttpResponse::ok("text/plain", "x").with_header("X-A", "1\r\nX-B: 2"),
            _ => HttpResponse::new(204).with_body("dropped"),
        })
        .bind("127.0.0.1:0")
        .unwrap()
        .start(echo)
        .unwrap();
    let addr = server.local_addrs()[0];
    for path in ["/length", "/status", "/inject"] {
        let response = raw(addr, &format!("GET {path} HTTP/1.1\r\nHost: h\r\n\r\n"));
        assert!(response.starts_with("HTTP/1.1 500 "), "{path}: {response}");
        assert!(
            !response.contains("99") && !response.contains("X-B"),
            "{response}"
        );
    }
    let empty = raw(addr, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(
        empty.starts_with("HTTP/1.1 204 ") && empty.ends_with("\r\n\r\n"),
        "{empty}"
    );
    assert!(!empty.contains("Content-Length"), "{empty}");
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn split_halves_both_see_the_server_go_away() {
    let (tx, rx) = std::sync::mpsc::channel();
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .unwrap()
        .start(move |conn| {
            let (mut reader, mut writer) = conn.split().unwrap();
            let reading = thread::spawn(move || reader.read_message());
            let mut written = 0;
            let write_end = loop {
                match writer.write_text("tick") {
                    Ok(()) => written += 1,
                    Err(e) => break e,
                }
                thread::sleep(Duration::from_millis(5));
            };
            let read_end = reading.join().unwrap();
            let _ = tx.send((read_end.map(|_| ()), write_end, written));
        })
        .unwrap();
    let (mut conn, _) = wsio::dial(&format!("ws://{}/", server.local_addrs()[0])).unwrap();
    assert_eq!(conn.read_message().unwrap(), Message::Text("tick".into()));
    assert!(server.shutdown(Duration::from_secs(5)));
    let (read_end, write_end, _) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(matches!(read_end, Err(Error::GoingAway)), "{read_end:?}");
    assert!(matches!(write_end, Error::GoingAway), "{write_end}");
    let code = loop {
        match conn.read_message() {
            Ok(_) => {}
            Err(Error::Closed(status)) => break status.code,
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(code, CloseCode::GOING_AWAY);
    server.wait();
}

#[test]
fn a_slowloris_is_cut_at_the_handshake_timeout_while_a_real_client_is_served() {
    let server = Server::builder()
        .upgrader(
            Upgrader::new().config(
                Config::builder()
                    .handshake_timeout(Some(Duration::from_millis(800)))
                    .build(),
            ),
        )
        .bind("127.0.0.1:0")
        .unwrap()
        .start(echo)
        .unwrap();
    let addr = server.local_addrs()[0];
    let request = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n";
    let trickling: Vec<_> = (0..50)
        .map(|_| {
            thread::spawn(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                for byte in request {
                    if s.write_all(&[*byte]).is_err() {
                        return;
                    }
                    thread::sleep(Duration::from_millis(100));
                }
            })
        })
        .collect();
    assert!(eventually(Duration::from_secs(5), || server.stats().live >= 50));
    let (mut conn, _) = wsio::dial(&format!("ws://{addr}/")).unwrap();
    conn.write_text("served").unwrap();
    assert_eq!(conn.read_message().unwrap(), Message::Text("served".into()));
    drop(conn);
    // Every trickler's thread is freed at the handshake timeout (plus a loaded machine's
    // margin), long before its request would be whole.
    assert!(
        eventually(Duration::from_secs(3), || server.stats().live == 0),
        "{:?}",
        server.stats()
    );
    assert!(server.stats().failed_handshakes >= 50);
    for t in trickling {
        t.join().unwrap();
    }
    server.shutdown(Duration::from_secs(1));
}
