//! Connections move to the thread that serves them; configuration is shared between threads.

use std::net::TcpStream;

fn send<T: Send>() {}
fn send_sync<T: Send + Sync>() {}

#[test]
fn connections_and_halves_are_send_and_shared_pieces_are_sync() {
    send::<wsio::Conn<TcpStream>>();
    send::<wsio::ReadHalf<TcpStream>>();
    send::<wsio::WriteHalf<TcpStream>>();
    send::<wsio::Conn<wsio::testing::PipeEnd>>();
    send::<wsio::Conn<wsio::MaybeTlsStream>>();
    send::<wsio::ReadHalf<wsio::MaybeTlsStream>>();
    send::<wsio::WriteHalf<wsio::MaybeTlsStream>>();
    send::<wsio::Conn<wsio::TlsStream<TcpStream>>>();
    send_sync::<wsio::TlsAcceptor>();
    send_sync::<wsio::Proxy>();
    send_sync::<wsio::Upgrader>();
    send_sync::<wsio::Dialer>();
    send_sync::<wsio::Config>();
    send_sync::<wsio::Error>();
}
