//! The faces cannot drift apart: every method a split half shares with `Conn` exists on both
//! with exactly the same signature. This test does not compile (so it fails) if a face
//! loses a method or changes its signature; each check names a method as a function pointer
//! of the one expected type.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use wsio::testing::PipeEnd;
use wsio::{
    CloseCode, CloseFrame, CloseStatus, Config, Conn, DeflateParams, Message, MessageKind,
    MessageReader, MessageWriter, PreparedMessage, ReadHalf, Replier, Result, Role, WriteHalf,
};

type Ping = fn(&[u8], &mut Replier<'_>) -> Result<()>;
type Pong = fn(&[u8]) -> Result<()>;
type OnClose = fn(Option<&CloseFrame>, &mut Replier<'_>) -> Result<()>;

/// Asserts that a face has the method with exactly this signature.
macro_rules! faces_have {
    ([$face:ty] $name:ident : $signature:ty) => {
        let _: $signature = <$face>::$name;
    };
    ([$face:ty] $name:ident ::<$generic:ty> : $signature:ty) => {
        let _: $signature = <$face>::$name::<$generic>;
    };
}

#[test]
fn the_reading_methods_are_the_same_on_a_connection_and_its_reader_half() {
    type C = Conn<PipeEnd>;
    type R = ReadHalf<PipeEnd>;
    faces_have!([C] next_reader: fn(&mut C) -> Result<(MessageKind, MessageReader<'_>)>);
    faces_have!([R] next_reader: fn(&mut R) -> Result<(MessageKind, MessageReader<'_>)>);
    faces_have!([C] read_message: fn(&mut C) -> Result<Message>);
    faces_have!([R] read_message: fn(&mut R) -> Result<Message>);
    faces_have!([C] read_message_into: fn(&mut C, &mut Vec<u8>) -> Result<MessageKind>);
    faces_have!([R] read_message_into: fn(&mut R, &mut Vec<u8>) -> Result<MessageKind>);
    faces_have!([C] read_text: fn(&mut C, usize) -> Result<String>);
    faces_have!([R] read_text: fn(&mut R, usize) -> Result<String>);
    faces_have!([C] read_binary: fn(&mut C, &mut [u8]) -> Result<usize>);
    faces_have!([R] read_binary: fn(&mut R, &mut [u8]) -> Result<usize>);
    faces_have!([C] read_json::<serde_json::Value>: fn(&mut C) -> Result<serde_json::Value>);
    faces_have!([R] read_json::<serde_json::Value>: fn(&mut R) -> Result<serde_json::Value>);
    faces_have!([C] set_read_deadline: fn(&mut C, Option<Instant>) -> Result<()>);
    faces_have!([R] set_read_deadline: fn(&mut R, Option<Instant>) -> Result<()>);
    faces_have!([C] set_ping_handler::<Ping>: fn(&mut C, Ping) -> ());
    faces_have!([R] set_ping_handler::<Ping>: fn(&mut R, Ping) -> ());
    faces_have!([C] set_pong_handler::<Pong>: fn(&mut C, Pong) -> ());
    faces_have!([R] set_pong_handler::<Pong>: fn(&mut R, Pong) -> ());
    faces_have!([C] set_close_handler::<OnClose>: fn(&mut C, OnClose) -> ());
    faces_have!([R] set_close_handler::<OnClose>: fn(&mut R, OnClose) -> ());
    faces_have!([C] close: fn(&mut C, CloseCode, &str) -> Result<CloseStatus>);
    faces_have!([R] close: fn(&mut R, CloseCode, &str) -> Result<CloseStatus>);
}

#[test]
fn the_writing_methods_are_the_same_on_a_connection_and_its_writer_half() {
    type C = Conn<PipeEnd>;
    type W = WriteHalf<PipeEnd>;
    faces_have!([C] next_writer: fn(&mut C, MessageKind) -> Result<MessageWriter<'_>>);
    faces_have!([W] next_writer: fn(&mut W, MessageKind) -> Result<MessageWriter<'_>>);
    faces_have!([C] write_message: fn(&mut C, MessageKind, &[u8]) -> Result<()>);
    faces_have!([W] write_message: fn(&mut W, MessageKind, &[u8]) -> Result<()>);
    faces_have!([C] write_prepared: fn(&mut C, &PreparedMessage) -> Result<()>);
    faces_have!([W] write_prepared: fn(&mut W, &PreparedMessage) -> Result<()>);
    faces_have!([C] write_text: fn(&mut C, &str) -> Result<()>);
    faces_have!([W] write_text: fn(&mut W, &str) -> Result<()>);
    faces_have!([C] write_binary: fn(&mut C, &[u8]) -> Result<()>);
    faces_have!([W] write_binary: fn(&mut W, &[u8]) -> Result<()>);
    faces_have!([C] write_json::<serde_json::Value>: fn(&mut C, &serde_json::Value) -> Result<()>);
    faces_have!([W] write_json::<serde_json::Value>: fn(&mut W, &serde_json::Value) -> Result<()>);
    faces_have!([C] write_ping: fn(&mut C, &[u8]) -> Result<()>);
    faces_have!([W] write_ping: fn(&mut W, &[u8]) -> Result<()>);
    faces_have!([C] write_pong: fn(&mut C, &[u8]) -> Result<()>);
    faces_have!([W] write_pong: fn(&mut W, &[u8]) -> Result<()>);
    faces_have!([C] flush: fn(&mut C) -> Result<()>);
    faces_have!([W] flush: fn(&mut W) -> Result<()>);
    faces_have!([C] set_write_deadline: fn(&mut C, Option<Instant>) -> Result<()>);
    faces_have!([W] set_write_deadline: fn(&mut W, Option<Instant>) -> Result<()>);
    faces_have!([C] send_close: fn(&mut C, CloseCode, &str) -> Result<()>);
    faces_have!([W] send_close: fn(&mut W, CloseCode, &str) -> Result<()>);
    faces_have!([W] close: fn(&mut W, CloseCode, &str) -> Result<CloseStatus>);
    faces_have!([C] set_write_compression: fn(&mut C, bool) -> ());
    faces_have!([W] set_write_compression: fn(&mut W, bool) -> ());
    faces_have!([C] set_compression_level: fn(&mut C, u32) -> ());
    faces_have!([W] set_compression_level: fn(&mut W, u32) -> ());
}

#[test]
fn what_the_handshake_agreed_reads_the_same_on_every_face() {
    type C = Conn<PipeEnd>;
    type R = ReadHalf<PipeEnd>;
    type W = WriteHalf<PipeEnd>;
    faces_have!([C] close_status: fn(&C) -> Option<CloseStatus>);
    faces_have!([R] close_status: fn(&R) -> Option<CloseStatus>);
    faces_have!([W] close_status: fn(&W) -> Option<CloseStatus>);
    faces_have!([C] subprotocol: fn(&C) -> Option<&str>);
    faces_have!([R] subprotocol: fn(&R) -> Option<&str>);
    faces_have!([W] subprotocol: fn(&W) -> Option<&str>);
    faces_have!([C] compression: fn(&C) -> Option<DeflateParams>);
    faces_have!([R] compression: fn(&R) -> Option<DeflateParams>);
    faces_have!([W] compression: fn(&W) -> Option<DeflateParams>);
    faces_have!([C] role: fn(&C) -> Role);
    faces_have!([R] role: fn(&R) -> Role);
    faces_have!([W] role: fn(&W) -> Role);
    faces_have!([C] config: fn(&C) -> &Config);
    faces_have!([R] config: fn(&R) -> &Config);
    faces_have!([W] config: fn(&W) -> &Config);
    faces_have!([C] peer_addr: fn(&C) -> io::Result<SocketAddr>);
    faces_have!([R] peer_addr: fn(&R) -> io::Result<SocketAddr>);
    faces_have!([W] peer_addr: fn(&W) -> io::Result<SocketAddr>);
    faces_have!([C] local_addr: fn(&C) -> io::Result<SocketAddr>);
    faces_have!([R] local_addr: fn(&R) -> io::Result<SocketAddr>);
    faces_have!([W] local_addr: fn(&W) -> io::Result<SocketAddr>);
}
