//! A prepared message, written to connections with every compression setting, arrives
//! intact on each; messages after it still decompress (the sender's context was reset).

mod common;

use common::conn_pair_with;
use wsio::{Config, DeflateConfig, Error, InvalidInput, Message, MessageKind, PreparedMessage};

fn config(deflate: Option<DeflateConfig>) -> Config {
    let mut builder = Config::builder();
    if let Some(d) = deflate {
        builder = builder.deflate(d);
    }
    builder.build()
}

#[test]
fn one_prepared_message_reaches_every_kind_of_connection() {
    let text = "{\"event\":\"tick\",\"value\":12345}".repeat(50);
    let prepared = PreparedMessage::new(MessageKind::Text, text.clone().into_bytes()).unwrap();
    let settings = [
        None,
        Some(DeflateConfig::new()),
        Some(DeflateConfig::new().server_no_context_takeover(true)),
        Some(
            DeflateConfig::new()
                .server_max_window_bits(9)
                .client_max_window_bits(9),
        ),
    ];
    for deflate in settings {
        let (mut client, mut server) =
            conn_pair_with(config(deflate.clone()), config(deflate.clone()));
        for _ in 0..3 {
            // Server to client: the shared compressed bytes, unmasked.
            server.write_text(&format!("before {text}")).unwrap();
            server.write_prepared(&prepared).unwrap();
            server.write_text(&format!("after {text}")).unwrap();
            assert_eq!(
                client.read_message().unwrap(),
                Message::Text(format!("before {text}"))
            );
            assert_eq!(
                client.read_message().unwrap(),
                Message::Text(text.clone()),
                "{deflate:?}"
            );
            assert_eq!(
                client.read_message().unwrap(),
                Message::Text(format!("after {text}"))
            );
            // Client to server: masked per write.
            client.write_prepared(&prepared).unwrap();
            client.write_text("next").unwrap();
            assert_eq!(server.read_message().unwrap(), Message::Text(text.clone()));
            assert_eq!(server.read_message().unwrap(), Message::Text("next".into()));
        }
    }
}

#[test]
fn prepared_text_is_checked_once() {
    assert!(matches!(
        PreparedMessage::new(MessageKind::Text, vec![0xff]),
        Err(Error::InvalidInput(InvalidInput::InvalidUtf8))
    ));
    let empty = PreparedMessage::new(MessageKind::Binary, Vec::new()).unwrap();
    let (mut client, mut server) = conn_pair_with(
        config(Some(DeflateConfig::new().threshold(0))),
        config(Some(DeflateConfig::new().threshold(0))),
    );
    server.write_prepared(&empty).unwrap();
    assert_eq!(client.read_message().unwrap(), Message::Binary(Vec::new()));
}
