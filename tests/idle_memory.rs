//! An idle connection holds a few KiB of heap: its 4 KiB read and write buffers and little
//! else (tungstenite reserves 128 KiB for its read buffer alone).

mod common;
#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use std::io::Write;

use common::{client_frame, quick_config, server_and_raw_client};
use wsio::frame::OpCode;

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

#[test]
fn an_idle_connection_holds_a_few_kib() {
    let (mut server, mut client) = server_and_raw_client(quick_config());
    // Use both directions once, so both buffers exist, then let it idle.
    client
        .write_all(&client_frame(OpCode::Ping, true, b"hi"))
        .unwrap();
    client
        .write_all(&client_frame(OpCode::Text, true, b"hello"))
        .unwrap();
    let message = server.read_message().unwrap();
    server.write_text(message.as_text().unwrap()).unwrap();
    drop(message);
    let _ = client.take_available();

    let with_conn = counting_alloc::live();
    drop(server);
    let without = counting_alloc::live();
    let held = with_conn - without;
    println!("an idle connection holds {held} bytes of heap");
    assert!(held >= 8192, "both 4 KiB buffers are counted ({held})");
    assert!(held <= 10 * 1024, "an idle connection holds {held} bytes");
}
