//! With the `mio` feature, mio's own sockets are streams: a server and a client on one mio
//! event loop, each socket registered with the registry the way mio's users do, exchange
//! messages and close cleanly.

use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use wsio::{CloseCode, Conn, Dialer, Error, Message, Upgrader};

const SERVER: Token = Token(1);
const CLIENT: Token = Token(2);
const LIMIT: Duration = Duration::from_secs(20);

/// One turn of a connection: echo (server) or collect (client) what is there, then flush.
fn turn(conn: &mut Conn<TcpStream>, echo: bool, got: &mut Vec<Message>) -> Result<(), Error> {
    loop {
        match conn.read_message() {
            Ok(message) if echo => conn.write_message(message.kind(), message.as_bytes())?,
            Ok(message) => got.push(message),
            Err(e) if e.is_would_block() => break,
            Err(e) => return Err(e),
        }
    }
    match conn.flush() {
        Err(e) if !e.is_would_block() && !matches!(e, Error::AlreadyClosed) => Err(e),
        _ => Ok(()),
    }
}

#[test]
fn a_mio_server_and_client_talk_and_close() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    poll.registry()
        .register(&mut listener, Token(0), Interest::READABLE)
        .unwrap();
    let both = Interest::READABLE | Interest::WRITABLE;
    let mut client_stream = TcpStream::connect(addr).unwrap();
    poll.registry()
        .register(&mut client_stream, CLIENT, both)
        .unwrap();
    let upgrader = Upgrader::new();
    let mut client_hs = Dialer::new()
        .start(client_stream, &format!("ws://{addr}/"))
        .unwrap();
    let start = Instant::now();
    let mut server_hs = None;
    let (mut server, mut client) = (None, None);
    while server.is_none() || client.is_none() {
        assert!(start.elapsed() < LIMIT, "handshakes stuck");
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .unwrap();
        if server_hs.is_none() {
            if let Ok((mut stream, _)) = listener.accept() {
                poll.registry().register(&mut stream, SERVER, both).unwrap();
                server_hs = Some(upgrader.start(stream));
            }
        }
        if let (Some(hs), None) = (&mut server_hs, &server) {
            match hs.resume(&upgrader) {
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
    }
    let (mut server, mut client): (Conn<TcpStream>, Conn<TcpStream>) =
        (server.unwrap(), client.unwrap());
    let sent = vec![
        Message::Text("over mio".into()),
        Message::Binary(vec![9; 300_000]),
    ];
    for message in &sent {
        client
            .write_message(message.kind(), message.as_bytes())
            .unwrap();
    }
    let mut got = Vec::new();
    while got.len() < sent.len() {
        assert!(start.elapsed() < LIMIT, "echoes stuck");
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .unwrap();
        turn(&mut server, true, &mut Vec::new()).unwrap();
        turn(&mut client, false, &mut got).unwrap();
    }
    assert_eq!(got, sent);
    let status = loop {
        assert!(start.elapsed() < LIMIT, "close stuck");
        match client.close(CloseCode::NORMAL, "bye") {
            Ok(status) => break status,
            Err(e) if e.is_would_block() => {}
            Err(e) => panic!("close: {e}"),
        }
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .unwrap();
        match turn(&mut server, true, &mut Vec::new()) {
            Ok(()) | Err(Error::Closed(_)) => {}
            Err(e) => panic!("server: {e}"),
        }
    };
    assert_eq!(status.code, CloseCode::NORMAL);
    assert_eq!(client.interest(), wsio::Interest::Nothing);
}
