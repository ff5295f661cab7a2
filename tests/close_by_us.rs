//! `Conn::close` starts the closing handshake, waits for the peer's close frame within the
//! close timeout, and reports how it went.

mod common;

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use common::{
    client_frame, close_payload, conn_pair, frames_from, quick_config, server_and_raw_client,
};
use wsio::frame::OpCode;
use wsio::{CloseCode, Config, Error, Initiator, InvalidInput};

#[test]
fn both_sides_see_a_clean_close_with_the_right_initiator() {
    let (mut client, mut server) = conn_pair(quick_config());
    client.write_text("last words").unwrap();
    let peer = thread::spawn(move || {
        assert_eq!(server.read_message().unwrap().as_text(), Some("last words"));
        match server.read_message() {
            Err(Error::Closed(status)) => status,
            other => panic!("expected Closed, got {other:?}"),
        }
    });
    let status = client.close(CloseCode::NORMAL, "done").unwrap();
    assert_eq!(status.initiator, Initiator::Local);
    assert_eq!(status.code, CloseCode::NORMAL, "the server echoed our code");
    assert_eq!(status.reason, "done");
    assert!(status.is_clean());

    let server_status = peer.join().unwrap();
    assert_eq!(server_status.initiator, Initiator::Peer);
    assert_eq!(server_status.code, CloseCode::NORMAL);
}

#[test]
fn data_after_our_close_frame_is_discarded_until_the_peers_close() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    client
        .write_all(&client_frame(OpCode::Text, true, b"in flight"))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Ping, true, b"x"))
        .unwrap();
    client
        .write_all(&client_frame(
            OpCode::Close,
            true,
            &close_payload(1000, "ok"),
        ))
        .unwrap();
    let status = server.close(CloseCode::GOING_AWAY, "restart").unwrap();
    assert_eq!(status.code, CloseCode::NORMAL);
    assert_eq!(status.initiator, Initiator::Local);
    let frames = frames_from(&mut client);
    // Only our close frame: no pong after it.
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].close_code(), Some(1001));
}

#[test]
fn a_silent_peer_does_not_hold_close_past_the_timeout() {
    let config = Config::builder()
        .close_timeout(Some(Duration::from_millis(200)))
        .build();
    let (mut server, _client) = server_and_raw_client(config);
    let started = Instant::now();
    let status = server.close(CloseCode::NORMAL, "").unwrap();
    let took = started.elapsed();
    assert_eq!(status.code, CloseCode::ABNORMAL);
    assert!(!status.is_clean());
    assert!(took >= Duration::from_millis(150), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn unsendable_codes_and_long_reasons_are_refused_before_sending() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    for code in [1006, 1015, 999, 1004, 2000, 5000] {
        assert!(matches!(
            server.close(CloseCode::from_u16(code), ""),
            Err(Error::InvalidInput(InvalidInput::CloseCode(c))) if c == code
        ));
    }
    assert!(matches!(
        server.close(CloseCode::NORMAL, &"x".repeat(124)),
        Err(Error::InvalidInput(InvalidInput::CloseReasonTooLong(124)))
    ));
    // 1005 sends a close frame without a code, which has no room for a reason.
    assert!(matches!(
        server.close(CloseCode::NO_STATUS, "why"),
        Err(Error::InvalidInput(InvalidInput::ReasonWithoutCode))
    ));
    assert!(client.take_available().is_empty());
    // Still open and usable.
    server.write_text("still here").unwrap();
    assert_eq!(frames_from(&mut client)[0].payload, b"still here");
}

#[test]
fn a_close_without_a_status_sends_an_empty_close_frame() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    server.send_close(CloseCode::NO_STATUS, "").unwrap();
    let frames = frames_from(&mut client);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].header.opcode, wsio::frame::OpCode::Close);
    assert!(frames[0].payload.is_empty(), "{:?}", frames[0].payload);
}

#[test]
fn close_returns_within_the_close_timeout_when_the_peer_stops_reading() {
    let config = || {
        Config::builder()
            .close_timeout(Some(std::time::Duration::from_millis(300)))
            .keepalive(None)
            .build()
    };
    let (mut client, mut server) = common::conn_pair_with(config(), config());
    // The client reads nothing more: ten unread bytes fill its side.
    client.get_mut().set_capacity(10);
    server.write_binary(&[0; 8]).unwrap();
    let (done, wait) = std::sync::mpsc::channel();
    let started = std::time::Instant::now();
    std::thread::spawn(move || {
        let result = server.close(CloseCode::NORMAL, "bye");
        let _ = done.send(result.map(|s| s.code));
    });
    let result = wait
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("close hung on a peer that does not read");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // The close frame could not be written: an I/O error, or an abnormal end.
    assert!(
        matches!(result, Err(_) | Ok(CloseCode::ABNORMAL)),
        "{result:?}"
    );
    drop(client);
}
