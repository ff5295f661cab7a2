//! A client and a server talking over real TCP on loopback: dial, upgrade, messages both
//! ways, subprotocol, addresses, close.

use std::net::TcpListener;
use std::thread;

use wsio::{CloseCode, Dialer, Error, Initiator, Message, Upgrader};

#[test]
fn dial_upgrade_talk_and_close() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut conn = Upgrader::new()
            .subprotocols(["v2", "v1"])
            .upgrade(stream)
            .unwrap();
        assert_eq!(conn.subprotocol(), Some("v1"));
        assert_eq!(conn.local_addr().unwrap(), addr);
        loop {
            match conn.read_message() {
                Ok(Message::Text(t)) => conn.write_text(&t.to_uppercase()).unwrap(),
                Ok(Message::Binary(b)) => conn
                    .write_binary(&b.iter().rev().copied().collect::<Vec<_>>())
                    .unwrap(),
                Err(Error::Closed(status)) => return status,
                Err(e) => panic!("{e}"),
            }
        }
    });

    let (mut conn, response) = Dialer::new()
        .subprotocols(["v1"])
        .dial(&format!("ws://{addr}/path?q=1"))
        .unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(conn.subprotocol(), Some("v1"));
    assert_eq!(conn.peer_addr().unwrap(), addr);

    conn.write_text("hello").unwrap();
    assert_eq!(conn.read_message().unwrap(), Message::Text("HELLO".into()));
    conn.write_binary(&[1, 2, 3]).unwrap();
    assert_eq!(conn.read_message().unwrap(), Message::Binary(vec![3, 2, 1]));
    let big = vec![7u8; 1 << 20];
    conn.write_binary(&big).unwrap();
    assert_eq!(conn.read_message().unwrap(), Message::Binary(big));

    let status = conn.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(
        (status.code, status.initiator),
        (CloseCode::NORMAL, Initiator::Local)
    );
    let server_status = server.join().unwrap();
    assert_eq!(
        (server_status.code, server_status.reason.as_str()),
        (CloseCode::NORMAL, "bye")
    );
    assert_eq!(server_status.initiator, Initiator::Peer);
}

#[test]
fn dialing_a_closed_port_is_an_io_error() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = wsio::dial(&format!("ws://127.0.0.1:{port}/")).unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err}");
}
