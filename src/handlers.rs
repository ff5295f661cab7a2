//! The application's control-frame handlers (gorilla's `SetPingHandler`, `SetPongHandler`,
//! `SetCloseHandler`) and the [`Replier`] they answer through.

use std::fmt;

use crate::error::Result;
use crate::frame;
use crate::proto::{CloseCode, CloseFrame, OpCode};

/// Called with each ping's payload. The default answers with a pong carrying the same payload.
pub(crate) type PingHandler = dyn FnMut(&[u8], &mut Replier<'_>) -> Result<()> + Send;
/// Called with each pong's payload. The default does nothing.
pub(crate) type PongHandler = dyn FnMut(&[u8]) -> Result<()> + Send;
/// Called with the peer's close frame (`None` if it carried no code) when the peer starts the
/// closing handshake. If it does not send a close frame through the [`Replier`], wsio answers
/// with the peer's own code and reason, which is also the default.
pub(crate) type CloseHandler =
    dyn FnMut(Option<&CloseFrame>, &mut Replier<'_>) -> Result<()> + Send;

/// The application's replacements for the default control-frame behaviour.
#[derive(Default)]
pub(crate) struct Handlers {
    pub(crate) ping: Option<Box<PingHandler>>,
    pub(crate) pong: Option<Box<PongHandler>>,
    pub(crate) close: Option<Box<CloseHandler>>,
}

impl fmt::Debug for Handlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handlers")
            .field("ping", &self.ping.is_some())
            .field("pong", &self.pong.is_some())
            .field("close", &self.close.is_some())
            .finish()
    }
}

/// What sends the handlers' replies: the write side itself, or a reader half's route to it.
pub(crate) trait ControlOut {
    /// Sends a ping or pong (payload already checked); does nothing once a close frame was
    /// sent.
    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<()>;
    /// Sends a close frame (already checked) unless one was sent already.
    fn send_close(&mut self, frame: Option<(CloseCode, &str)>) -> Result<()>;
}

/// Lets a control-frame handler answer: send a pong, a ping, or (from the close handler) the
/// close frame of its choice.
pub struct Replier<'a> {
    out: &'a mut dyn ControlOut,
}

impl<'a> Replier<'a> {
    pub(crate) fn new(out: &'a mut dyn ControlOut) -> Replier<'a> {
        Replier { out }
    }

    /// Sends a pong. Does nothing once a close frame was sent.
    ///
    /// # Errors
    ///
    /// [`InvalidInput::ControlPayloadTooLong`](crate::InvalidInput::ControlPayloadTooLong)
    /// over 125 bytes; I/O errors.
    pub fn pong(&mut self, payload: &[u8]) -> Result<()> {
        frame::check_control(payload)?;
        self.out.send_control(OpCode::Pong, payload)
    }

    /// Sends a ping. Does nothing once a close frame was sent.
    ///
    /// # Errors
    ///
    /// As [`pong`](Self::pong).
    pub fn ping(&mut self, payload: &[u8]) -> Result<()> {
        frame::check_control(payload)?;
        self.out.send_control(OpCode::Ping, payload)
    }

    /// Sends a close frame with this code and reason (once; later calls do nothing).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](crate::InvalidInput) for a code that may not be sent or a reason
    /// over 123 bytes; I/O errors.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<()> {
        frame::check_close(code, reason)?;
        self.out.send_close(Some((code, reason)))
    }
}

impl fmt::Debug for Replier<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replier").finish_non_exhaustive()
    }
}
