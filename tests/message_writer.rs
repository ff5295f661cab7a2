//! The streaming writer: text is checked as written, a dropped writer does no I/O and ends
//! its message cleanly, and frames are cut at the write buffer's size.

mod common;

use std::io::Write;

use common::{frames_from, quick_config, server_and_raw_client};
use wsio::frame::OpCode;
use wsio::{Error, InvalidInput, MessageKind};

#[test]
fn invalid_text_is_refused_and_nothing_is_sent() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    assert!(matches!(
        server.write_message(MessageKind::Text, b"\xff"),
        Err(Error::InvalidInput(InvalidInput::InvalidUtf8))
    ));
    let mut writer = server.next_writer(MessageKind::Text).unwrap();
    assert!(
        writer.write_all(b"ok \xc3").is_ok(),
        "an incomplete character may continue"
    );
    let err = writer.write_all(b"\x28").unwrap_err();
    assert!(matches!(
        Error::from(err),
        Error::InvalidInput(InvalidInput::InvalidUtf8)
    ));
    drop(writer);
    server.write_text("next").unwrap();
    let frames = frames_from(&mut client);
    assert_eq!(frames.len(), 1, "only the next message: {frames:?}");
    assert_eq!(frames[0].payload, b"next");
}

#[test]
fn after_a_failed_write_the_writer_says_so_and_the_connection_still_works() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    let mut writer = server.next_writer(MessageKind::Text).unwrap();
    writer.write_all(b"fine so far, ").unwrap();
    writer.flush().unwrap();
    let err = Error::from(writer.write_all(b"\xff").unwrap_err());
    assert!(
        matches!(err, Error::InvalidInput(InvalidInput::InvalidUtf8)),
        "{err}"
    );
    // Every later call on this writer names what happened, not a closed connection.
    let again = Error::from(writer.write_all(b"more").unwrap_err());
    assert!(
        matches!(again, Error::InvalidInput(InvalidInput::MessageGivenUp)),
        "{again}"
    );
    let flushed = Error::from(writer.flush().unwrap_err());
    assert!(matches!(
        flushed,
        Error::InvalidInput(InvalidInput::MessageGivenUp)
    ));
    let finished = writer.finish().unwrap_err();
    assert!(
        matches!(finished, Error::InvalidInput(InvalidInput::MessageGivenUp)),
        "{finished}"
    );
    // What was sent of the message was ended; the connection goes on.
    server.write_text("next").unwrap();
    let frames = frames_from(&mut client);
    let kinds: Vec<(OpCode, bool)> = frames
        .iter()
        .map(|f| (f.header.opcode, f.header.fin))
        .collect();
    assert_eq!(
        kinds,
        [
            (OpCode::Text, false),
            (OpCode::Continuation, true),
            (OpCode::Text, true)
        ]
    );
    assert_eq!(frames[2].payload, b"next");
}

#[test]
fn a_text_message_ending_inside_a_character_is_refused() {
    let (mut server, _client) = server_and_raw_client(quick_config());
    let mut writer = server.next_writer(MessageKind::Text).unwrap();
    writer.write_all("€".as_bytes().get(..2).unwrap()).unwrap();
    assert!(matches!(
        writer.finish(),
        Err(Error::InvalidInput(InvalidInput::InvalidUtf8))
    ));
}

#[test]
fn a_writer_dropped_before_any_frame_left_is_forgotten() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    let mut writer = server.next_writer(MessageKind::Binary).unwrap();
    writer.write_all(b"never mind").unwrap();
    drop(writer);
    server.write_binary(b"real").unwrap();
    let frames = frames_from(&mut client);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].payload, b"real");
}

#[test]
fn a_writer_dropped_after_a_frame_left_ends_the_message_with_the_next_write() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    let mut writer = server.next_writer(MessageKind::Binary).unwrap();
    writer.write_all(&[1; 10_000]).unwrap(); // larger than the buffer: a frame leaves now
    writer.write_all(&[2; 10]).unwrap();
    drop(writer);
    server.write_binary(b"next").unwrap();
    let frames = frames_from(&mut client);
    let shape: Vec<_> = frames
        .iter()
        .map(|f| (f.header.opcode, f.header.fin, f.payload.len()))
        .collect();
    assert_eq!(
        shape,
        [
            (OpCode::Binary, false, 10_000),
            (OpCode::Continuation, true, 10),
            (OpCode::Binary, true, 4)
        ]
    );
}

#[test]
fn small_writes_are_cut_into_buffer_sized_frames() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    let mut writer = server.next_writer(MessageKind::Binary).unwrap();
    for _ in 0..10_000 {
        writer.write_all(&[5]).unwrap();
    }
    writer.finish().unwrap();
    let frames = frames_from(&mut client);
    assert!(frames.len() >= 3, "{} frames", frames.len());
    assert!(frames.iter().all(|f| f.payload.len() <= 4096));
    assert_eq!(
        frames.iter().map(|f| f.payload.len()).sum::<usize>(),
        10_000
    );
    assert!(frames.last().unwrap().header.fin);
    assert!(frames[..frames.len() - 1].iter().all(|f| !f.header.fin));
}
