use wsio::{Conn, Error, Server, ServerBuilder, ServerStream};

fn main() -> std::io::Result<()> {
    let server = start(Server::builder().bind("127.0.0.1:9001")?)?;
    // Serves until stopped through `server.handle()` (the echo example stops on Ctrl-C).
    server.wait();
    Ok(())
}

/// Echoes every message. Each connection gets a thread of its own, its handshake included:
/// a silent client, or a plain HTTP request, holds up nobody else.
fn start(builder: ServerBuilder) -> std::io::Result<Server> {
    builder
        .on_error(|e, peer| match peer {
            Some(peer) => eprintln!("{peer}: {e}"),
            None => eprintln!("{e}"),
        })
        .start(|conn| {
            if let Err(e) = echo(conn) {
                eprintln!("{e}");
            }
        })
}

fn echo(mut conn: Conn<ServerStream>) -> wsio::Result<()> {
    loop {
        match conn.read_message() {
            Ok(message) => conn.write_message(message.kind(), message.as_bytes())?,
            // The client closed, or the server is shutting down.
            Err(Error::Closed(_) | Error::GoingAway) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
