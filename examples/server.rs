use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use wsio::{Error, Upgrader};

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:9001")?;
    serve(listener)
}

/// Echoes every message, each connection on a thread of its own.
fn serve(listener: TcpListener) -> std::io::Result<()> {
    let upgrader = Arc::new(Upgrader::new());
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                // Out of file descriptors, say: back off rather than spin.
                eprintln!("accept: {e}");
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let upgrader = Arc::clone(&upgrader);
        // The handshake runs on the connection's own thread: a silent client, or a plain
        // HTTP request, holds up nobody else, and its error ends only that thread.
        thread::spawn(move || {
            if let Err(e) = echo(&upgrader, stream) {
                eprintln!("{e}");
            }
        });
    }
    Ok(())
}

fn echo(upgrader: &Upgrader, stream: TcpStream) -> wsio::Result<()> {
    let mut conn = upgrader.upgrade(stream)?;
    loop {
        match conn.read_message() {
            Ok(message) => conn.write_message(message.kind(), message.as_bytes())?,
            Err(Error::Closed(_)) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
