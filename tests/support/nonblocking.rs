//! Non-blocking connections over the in-memory pipe, for the non-blocking tests: both
//! opening handshakes driven from one thread until each gives its connection.

#![allow(dead_code)]

use wsio::testing::{PipeEnd, pipe};
use wsio::{ClientHandshake, Config, Conn, Dialer, ServerHandshake, Stream, Upgrader};

/// How often a handshake may would-block before it counts as stuck.
const MAX_TURNS: usize = 10_000;

/// Resumes both handshakes in turns until both are done.
pub fn finish<A: Stream, B: Stream>(
    upgrader: &Upgrader,
    mut server: ServerHandshake<A>,
    mut client: ClientHandshake<B>,
) -> (Conn<A>, Conn<B>) {
    let (mut server_conn, mut client_conn) = (None, None);
    for _ in 0..MAX_TURNS {
        if server_conn.is_none() {
            match server.resume(upgrader) {
                Ok(conn) => server_conn = Some(conn),
                Err(e) if e.is_would_block() => {}
                Err(e) => panic!("server handshake: {e}"),
            }
        }
        if client_conn.is_none() {
            match client.resume() {
                Ok((conn, _)) => client_conn = Some(conn),
                Err(e) if e.is_would_block() => {}
                Err(e) => panic!("client handshake: {e}"),
            }
        }
        if let (Some(_), Some(_)) = (&server_conn, &client_conn) {
            return (server_conn.unwrap(), client_conn.unwrap());
        }
    }
    panic!("the handshakes would block forever");
}

/// A server and a client, both non-blocking, over a pipe.
pub fn pair(server: Config, client: Config) -> (Conn<PipeEnd>, Conn<PipeEnd>) {
    let (mut a, mut b) = pipe();
    a.set_nonblocking(true);
    b.set_nonblocking(true);
    let upgrader = Upgrader::new().config(server);
    let handshake = upgrader.start(a);
    let dialer = Dialer::new().config(client);
    finish(&upgrader, handshake, dialer.start(b, "ws://test/").unwrap())
}
