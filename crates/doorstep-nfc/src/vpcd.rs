//! The card side behind vsmartcard's `vpcd`, the pcscd reader driver that forwards a virtual
//! reader's traffic to a card over TCP. It lets a whole tap run through a real PC/SC stack
//! with no hardware: the agent's side here, the customer's through [`crate::pcsc`].
//!
//! vpcd's protocol: each message is a two-byte big-endian length, then the payload. A one-byte
//! payload is a control (0 power off, 1 power on, 2 reset, 4 the ATR, answered with it);
//! anything longer is a command APDU, answered with the response APDU.

use std::io::{self, Read, Write};
use std::net::TcpStream;

/// The pseudo-ATR of a contactless ISO 14443-4 card without historical bytes, as PC/SC readers
/// report a phone in card emulation.
pub const ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

const POWER_OFF: u8 = 0;
const POWER_ON: u8 = 1;
const RESET: u8 = 2;
const GET_ATR: u8 = 4;

/// What the card in the virtual reader does: answer APDUs, and learn when the field goes.
pub trait VirtualCard {
    fn apdu(&mut self, command: &[u8]) -> Vec<u8>;
    fn field_off(&mut self);
}

/// Connects to vpcd at `address` (pcscd's reader config names the port) and serves the card
/// until pcscd closes the connection or `keep_going` says stop.
pub fn serve(
    address: &str,
    card: &mut dyn VirtualCard,
    keep_going: &dyn Fn() -> bool,
) -> io::Result<()> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(std::time::Duration::from_millis(200)))?;
    while keep_going() {
        quick_ack(&stream);
        let mut length = [0u8; 2];
        match stream.read_exact(&mut length) {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let mut payload = vec![0u8; usize::from(u16::from_be_bytes(length))];
        stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
        stream.read_exact(&mut payload)?;
        stream.set_read_timeout(Some(std::time::Duration::from_millis(200)))?;
        let reply = match payload.as_slice() {
            [GET_ATR] => Some(ATR.to_vec()),
            [POWER_OFF] | [RESET] => {
                card.field_off();
                None
            }
            [POWER_ON] | [_] | [] => None,
            command => Some(card.apdu(command)),
        };
        if let Some(reply) = reply {
            let length = u16::try_from(reply.len())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "reply too long"))?;
            let mut message = length.to_be_bytes().to_vec();
            message.extend_from_slice(&reply);
            stream.write_all(&message)?;
        }
    }
    Ok(())
}

/// pcscd sends each message in two writes; without a quick ACK the second waits for the
/// delayed-ACK timer (about 40 ms an APDU).
#[cfg(target_os = "linux")]
fn quick_ack(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor and a c_int option value of the right size.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn quick_ack(_: &TcpStream) {}
