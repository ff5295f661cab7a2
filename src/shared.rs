//! The write side of a split connection, shared by its reader half, writer half and handles.
//!
//! The output sits behind a mutex that is held only while frames are being written, never
//! while reading. The reader's automatic replies go through it without ever making the
//! reader wait for the writer: a pong is left in a one-slot mailbox (a newer ping's pong
//! replaces an older unsent one, so a ping flood costs no memory) and sent by whichever side
//! holds the mutex next; the holder checks the mailbox before and after releasing the mutex,
//! so a pong is never stranded. Replies go out between frames, never inside one: a message
//! being streamed by the writer is cut into a fragment first.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};
use std::time::Instant;

use crate::close::CloseState;
use crate::error::Result;
use crate::frame;
use crate::handlers::ControlOut;
use crate::link::{Link, WriteAccess};
use crate::output::Output;
use crate::proto::{CloseCode, CloseStatus, Initiator, MAX_CONTROL_PAYLOAD, OpCode};
use crate::reader::ReadError;
use crate::stream::{Stream, StreamOps};
use crate::write_side::WriteSide;

/// What the next holder of the output mutex must do, as bits of [`Shared::wants`].
mod want {
    /// Send the pong in the mailbox.
    pub(super) const PONG: u8 = 1;
    /// Send what is buffered: the reader is about to block.
    pub(super) const FLUSH: u8 = 2;
    /// Send a keepalive ping.
    pub(super) const PING: u8 = 4;
    /// Give up the streamed message whose writer was dropped unfinished (first of all).
    pub(super) const ABANDON: u8 = 8;
}

/// A pong waiting to be sent: its payload and length.
type Pong = ([u8; MAX_CONTROL_PAYLOAD], u8);

/// The write side shared by the halves and the handles.
pub(crate) struct Shared<W> {
    out: Mutex<Output<W>>,
    /// The closing handshake's state: read without the mutex, changed only under it.
    close: CloseState,
    /// Signalled (under the mutex) when the connection becomes closed, for those waiting in
    /// [`close`](Self::close).
    closed: Condvar,
    /// The payload of the newest ping not answered yet.
    pong: Mutex<Option<Pong>>,
    wants: AtomicU8,
}

impl<W> Shared<W> {
    pub(crate) fn new(out: Output<W>, close: CloseState) -> Shared<W> {
        Shared {
            out: Mutex::new(out),
            close,
            closed: Condvar::new(),
            pong: Mutex::new(None),
            wants: AtomicU8::new(0),
        }
    }

    pub(crate) fn close_state(&self) -> &CloseState {
        &self.close
    }

    fn lock(&self) -> MutexGuard<'_, Output<W>> {
        self.out.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Leaves a request for the next holder of the output, without taking the mutex and
    /// without I/O (what a `Drop` may do).
    pub(crate) fn post_quietly(&self, want: u8) {
        self.wants.fetch_or(want, Ordering::SeqCst);
    }
}

impl<W: Write> Shared<W> {
    /// The output and the close state back, once no one else holds them (to reunite), with
    /// what the mailbox still asked for done first: a message given up is ended, a pong
    /// sent.
    pub(crate) fn into_parts(self) -> (Output<W>, CloseState) {
        let mut out = self.out.into_inner().unwrap_or_else(|p| p.into_inner());
        let wants = self.wants.swap(0, Ordering::SeqCst);
        let pong = self.pong.into_inner().unwrap_or_else(|p| p.into_inner());
        serve_wants(&mut WriteSide::new(&mut out, &self.close), wants, pong);
        (out, self.close)
    }

    /// Runs `f` on the write side, then serves the mailbox; see the module docs.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut WriteSide<'_, W>) -> T) -> T {
        let mut out = self.lock();
        // Requests made earlier go first (a pong before our close frame, say).
        self.serve(&mut out);
        let result = f(&mut WriteSide::new(&mut out, &self.close));
        self.serve(&mut out);
        if self.close.status().is_some() {
            self.closed.notify_all();
        }
        drop(out);
        self.serve_if_free();
        result
    }

    /// Leaves a request in the mailbox and serves it now if nobody holds the output;
    /// whoever does will serve it before letting go.
    pub(crate) fn post(&self, want: u8) {
        self.post_quietly(want);
        self.serve_if_free();
    }

    /// Asks for a pong to be sent, without waiting for a writer that holds the mutex.
    pub(crate) fn post_pong(&self, payload: &[u8]) {
        let mut slot = [0u8; MAX_CONTROL_PAYLOAD];
        slot[..payload.len()].copy_from_slice(payload);
        *self.pong.lock().unwrap_or_else(|p| p.into_inner()) = Some((slot, payload.len() as u8));
        self.post(want::PONG);
    }

    fn serve_if_free(&self) {
        while self.wants.load(Ordering::SeqCst) != 0 {
            let mut out = match self.out.try_lock() {
                Ok(out) => out,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => return,
            };
            self.serve(&mut out);
        }
    }

    fn serve(&self, out: &mut Output<W>) {
        let wants = self.wants.swap(0, Ordering::SeqCst);
        if wants == 0 {
            return;
        }
        let pong = match wants & want::PONG {
            0 => None,
            _ => self.pong.lock().unwrap_or_else(|p| p.into_inner()).take(),
        };
        serve_wants(&mut WriteSide::new(out, &self.close), wants, pong);
    }

    /// Sends a close frame and waits, up to the close timeout, for the reader half to see
    /// the peer's; then (or at once, if it was already closed) returns the status. When
    /// time runs out the stream is shut down, which also wakes a reader blocked on it.
    pub(crate) fn close(&self, code: CloseCode, reason: &str) -> Result<CloseStatus> {
        frame::check_close(code, reason)?;
        let mut out = self.lock();
        self.serve(&mut out);
        if let Some(status) = self.close.status() {
            return Ok(status.clone());
        }
        let sent = WriteSide::new(&mut out, &self.close).send_close(Some((code, reason)));
        if let Err(e) = sent {
            WriteSide::new(&mut out, &self.close).finish(CloseStatus::abnormal(Initiator::Local));
            self.closed.notify_all();
            return Err(e);
        }
        let deadline = self.close.timeout.map(|t| Instant::now() + t);
        while self.close.status().is_none() {
            out = match deadline {
                None => self.closed.wait(out).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    self.closed
                        .wait_timeout(out, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
        if self.close.status().is_none() {
            WriteSide::new(&mut out, &self.close).finish(CloseStatus::abnormal(Initiator::Local));
            self.closed.notify_all();
        }
        Ok(self
            .close
            .status()
            .cloned()
            .unwrap_or_else(|| CloseStatus::abnormal(Initiator::Local)))
    }
}

/// Does what the mailbox asked for, in order: end a message given up, send the pong and
/// the keepalive ping, send what is buffered. Errors here are the writer's to report on its
/// next call.
fn serve_wants<W: Write>(side: &mut WriteSide<'_, W>, wants: u8, pong: Option<Pong>) {
    if wants & want::ABANDON != 0 {
        side.abandon();
    }
    if let Some((payload, len)) = pong {
        let _ = side.send_control(OpCode::Pong, &payload[..usize::from(len)]);
    }
    if wants & want::PING != 0 {
        let _ = side.send_control(OpCode::Ping, b"");
    }
    if side.has_pending() {
        let _ = side.flush();
    }
}

/// The writer half's and the handles' way to the shared write side.
pub(crate) struct SharedWriter<W>(pub(crate) Arc<Shared<W>>);

impl<W: Write> WriteAccess for SharedWriter<W> {
    type W = W;

    fn write_side<T>(&mut self, f: impl FnOnce(&mut WriteSide<'_, W>) -> T) -> T {
        self.0.with(f)
    }

    fn close_state(&self) -> &CloseState {
        self.0.close_state()
    }

    fn abandon(&mut self) {
        self.0.post_quietly(want::ABANDON);
    }
}

/// The reader half's link: it reads its own handle of the stream and reaches the write side
/// through the mailbox and the mutex.
pub(crate) struct HalfLink<R, W> {
    pub(crate) stream: R,
    pub(crate) shared: Arc<Shared<W>>,
}

impl<R, W: Write> WriteAccess for HalfLink<R, W> {
    type W = W;

    fn write_side<T>(&mut self, f: impl FnOnce(&mut WriteSide<'_, W>) -> T) -> T {
        self.shared.with(f)
    }

    fn close_state(&self) -> &CloseState {
        self.shared.close_state()
    }

    fn abandon(&mut self) {
        self.shared.post_quietly(want::ABANDON);
    }
}

impl<R: Stream, W: Write> Link for HalfLink<R, W> {
    type R = R;

    fn source(&mut self) -> (&mut R, Option<StreamOps<R>>) {
        (&mut self.stream, Some(StreamOps::of()))
    }

    fn before_read(&mut self) -> Result<(), ReadError> {
        // About to block: batched frames go out first (or as soon as the writer is done).
        self.shared.post(want::FLUSH);
        Ok(())
    }

    fn keepalive_ping(&mut self) {
        // Through the mailbox: the reader never waits for a busy writer.
        self.shared.post(want::PING);
    }

    fn pong(&mut self, payload: &[u8]) -> Result<()> {
        self.shared.post_pong(payload);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    use super::*;
    use crate::config::Config;
    use crate::frame::FrameHeader;
    use crate::proto::{MessageKind, Role};
    use crate::testing::{PipeEnd, pipe};
    use crate::writer::Writer;

    fn shared() -> (Arc<Shared<PipeEnd>>, PipeEnd) {
        let (ours, peer) = pipe();
        let config = Config::default();
        let out = Output::new(
            ours,
            Writer::new(Role::Server, &config, None),
            None,
            crate::stream::Pace::Blocking,
        );
        let shared = Shared::new(out, CloseState::new(Role::Server, None));
        (Arc::new(shared), peer)
    }

    fn opcodes(peer: &mut PipeEnd) -> Vec<(OpCode, Vec<u8>)> {
        let bytes = peer.take_available();
        let mut at = 0;
        let mut out = Vec::new();
        while let Ok(Some((header, n))) = FrameHeader::parse(&bytes[at..]) {
            let len = header.payload_len as usize;
            out.push((header.opcode, bytes[at + n..at + n + len].to_vec()));
            at += n + len;
        }
        out
    }

    #[test]
    fn a_pong_posted_while_the_writer_holds_the_output_goes_out_when_it_lets_go() {
        let (shared, mut peer) = shared();
        let (held, release) = (mpsc::channel(), mpsc::channel::<()>());
        let writer = {
            let shared = Arc::clone(&shared);
            let (held, release) = (held.0, release.1);
            thread::spawn(move || {
                shared.with(|w| {
                    held.send(()).unwrap();
                    release.recv().unwrap();
                    w.write_message(MessageKind::Text, b"data").unwrap();
                });
            })
        };
        held.1.recv().unwrap();
        // The reader posts without waiting for the writer.
        shared.post_pong(b"old");
        shared.post_pong(b"new");
        assert_eq!(peer.available(), 0);
        release.0.send(()).unwrap();
        writer.join().unwrap();
        assert_eq!(
            opcodes(&mut peer),
            [
                (OpCode::Text, b"data".to_vec()),
                (OpCode::Pong, b"new".to_vec())
            ]
        );
    }

    #[test]
    fn giving_up_a_message_takes_no_lock_and_lands_before_the_next_write() {
        let (shared, mut peer) = shared();
        let mut writer = SharedWriter(Arc::clone(&shared));
        writer.write_side(|w| w.begin(MessageKind::Binary)).unwrap();
        writer.write_side(|w| w.stream_write(&[1; 5000])).unwrap();
        // Another party holds the output: abandoning must not wait for it.
        let guard = shared.lock();
        let (done, finished) = mpsc::channel();
        let abandon = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                SharedWriter(shared).abandon();
                done.send(()).unwrap();
            })
        };
        finished
            .recv_timeout(Duration::from_secs(5))
            .expect("abandon blocked on the lock");
        drop(guard);
        abandon.join().unwrap();
        writer
            .write_side(|w| w.write_message(MessageKind::Text, b"next"))
            .unwrap();
        let frames = opcodes(&mut peer);
        let (last, before) = frames.split_last().unwrap();
        assert_eq!(last, &(OpCode::Text, b"next".to_vec()));
        assert_eq!(before.last().unwrap().0, OpCode::Continuation);
    }

    #[test]
    fn close_waits_for_the_reader_and_returns_what_it_recorded() {
        let (shared, _peer) = shared();
        let reader = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(50));
                let frame = Some(crate::proto::CloseFrame {
                    code: CloseCode::NORMAL,
                    reason: "ok".into(),
                });
                shared.with(|w| w.receive_close(frame, &mut None))
            })
        };
        let status = shared.close(CloseCode::NORMAL, "bye").unwrap();
        assert_eq!(status.code, CloseCode::NORMAL);
        assert_eq!(status.initiator, Initiator::Local);
        assert!(reader.join().unwrap().is_err());
    }
}
