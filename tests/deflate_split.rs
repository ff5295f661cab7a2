//! A split, compressed connection: control frames sent from a handle while the writer half
//! streams a compressed message go out between its frames, and the message and the control
//! frames all arrive intact.

mod common;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{conn_pair_with, text};
use wsio::{CloseCode, Config, DeflateConfig, Error, FlushPolicy, Message, MessageKind};

fn config(policy: FlushPolicy) -> Config {
    Config::builder()
        .deflate(DeflateConfig::new())
        .flush_policy(policy)
        .keepalive(None)
        .build()
}

fn pings_between_compressed_fragments(policy: FlushPolicy) {
    let (mut client, server) = conn_pair_with(config(policy), config(policy));
    let pings = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pings);
    client.set_ping_handler(move |_, _| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    let (_rx, mut tx) = server.split().unwrap();
    let handle = tx.handle();
    let body = text(200_000);
    for round in 0..3 {
        let mut writer = tx.next_writer(MessageKind::Text).unwrap();
        for (i, piece) in body.as_bytes().chunks(997).enumerate() {
            writer.write_all(piece).unwrap();
            if i % 7 == 3 {
                handle.write_ping(b"mid-message").unwrap();
            }
        }
        writer.finish().unwrap();
        tx.flush().unwrap();
        assert_eq!(
            client.read_message().unwrap(),
            Message::Text(body.clone()),
            "round {round}"
        );
    }
    assert_eq!(
        pings.load(Ordering::SeqCst),
        3 * body.len().div_ceil(997 * 7)
    );
    // A close from the handle mid-message reaches the peer as a close frame.
    let mut writer = tx.next_writer(MessageKind::Binary).unwrap();
    writer.write_all(&[1; 5000]).unwrap();
    handle.send_close(CloseCode::GOING_AWAY, "bye").unwrap();
    drop(writer);
    match client.read_message() {
        Err(Error::Closed(status)) => assert_eq!(status.code, CloseCode::GOING_AWAY),
        other => panic!("expected the close, got {other:?}"),
    }
}

#[test]
fn pings_between_compressed_fragments_immediate() {
    pings_between_compressed_fragments(FlushPolicy::Immediate);
}

#[test]
fn pings_between_compressed_fragments_batched() {
    pings_between_compressed_fragments(FlushPolicy::Batched);
}
