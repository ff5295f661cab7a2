//! An idle `wss://` server connection's heap: wsio's few KiB, the TLS stream's smallest read
//! buffer (4 KiB) and the rustls session's state (its buffers and keys), measured with a
//! counting allocator after a message each way.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/tls.rs"]
mod tls_support;

use std::thread;

use tls_support::TestCa;
use wsio::testing::pipe;
use wsio::{Config, Conn, Message, Role, TlsStream};

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

#[test]
fn an_idle_tls_connection_holds_little_more_than_the_tls_session() {
    let ca = TestCa::new();
    let acceptor = ca.server(&["localhost"]).acceptor();
    let config = ca.client_config();
    let (client_end, server_end) = pipe();
    let client = thread::spawn(move || {
        let tls = TlsStream::connect(client_end, config, "localhost").unwrap();
        let mut conn = Conn::from_raw(tls, Role::Client, Config::default());
        conn.write_text("hello").unwrap();
        let echo = conn.read_message().unwrap();
        (conn, echo)
    });
    let tls = acceptor.accept(server_end).unwrap();
    let mut server = Conn::from_raw(tls, Role::Server, Config::default());
    let message = server.read_message().unwrap();
    server.write_text(message.as_text().unwrap()).unwrap();
    drop(message);
    let (client, echo) = client.join().unwrap();
    assert_eq!(echo, Message::Text("hello".into()));

    let with_conn = counting_alloc::live();
    drop(server);
    let without = counting_alloc::live();
    let held = with_conn - without;
    println!("an idle TLS connection holds {held} bytes of heap");
    assert!(
        held >= 8192,
        "wsio's two 4 KiB buffers are counted ({held})"
    );
    assert!(
        held <= 64 * 1024,
        "an idle TLS connection holds {held} bytes"
    );
    drop(client);
}
