//! The README's server is code users copy: it is `examples/server.rs` word for word, and it
//! keeps serving through a plain GET and a silent client (which, with an accept loop written
//! by hand, used to end it or stall every other client for the handshake timeout).

const README: &str = include_str!("../README.md");
const SAMPLE: &str = include_str!("../examples/server.rs");

#[test]
fn the_readme_shows_the_tested_sample_word_for_word() {
    assert!(
        README.contains(&format!("```rust,no_run\n{SAMPLE}```")),
        "README.md's server sample differs from examples/server.rs"
    );
}

#[allow(dead_code)]
mod sample {
    include!("../examples/server.rs");

    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    #[test]
    fn it_serves_through_a_plain_get_and_a_silent_client() {
        let server = start(Server::builder().bind("127.0.0.1:0").unwrap()).unwrap();
        let addr = server.local_addrs()[0];

        // A browser asking for a favicon gets an HTTP error, and the server goes on.
        let mut get = TcpStream::connect(addr).unwrap();
        get.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        get.write_all(b"GET /favicon.ico HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        let _ = get.read_to_string(&mut response);
        assert!(response.starts_with("HTTP/1.1 4"), "{response}");

        // A client that connects and says nothing holds up nobody.
        let _silent = TcpStream::connect(addr).unwrap();

        // A real client is served at once: well within its 3-second handshake timeout,
        // while the silent one's handshake has 10 seconds to run.
        let config = wsio::Config::builder()
            .handshake_timeout(Some(Duration::from_secs(3)))
            .build();
        let (mut conn, _) = wsio::Dialer::new()
            .config(config)
            .dial(&format!("ws://{addr}/"))
            .unwrap();
        conn.write_text("hello").unwrap();
        assert_eq!(
            conn.read_message().unwrap(),
            wsio::Message::Text("hello".into())
        );
        assert_eq!(server.stats().accepted, 3);
        server.shutdown(Duration::from_secs(5));
        server.wait();
    }
}
