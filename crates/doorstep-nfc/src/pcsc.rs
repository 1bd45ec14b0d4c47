//! A contactless reader through PC/SC (pcscd on Linux, the system's smart-card service
//! elsewhere), as a [`Transport`]: the desktop app reading an agent's phone with a USB reader,
//! and the tests reading the virtual card.

use std::ffi::CString;

use crate::reader::{Transport, TransportError};

pub struct PcscCard {
    card: pcsc::Card,
}

fn failed(e: pcsc::Error) -> TransportError {
    TransportError(e.to_string())
}

/// The readers PC/SC knows, by name.
pub fn readers() -> Result<Vec<String>, TransportError> {
    let context = pcsc::Context::establish(pcsc::Scope::User).map_err(failed)?;
    let names = context.list_readers_owned().map_err(failed)?;
    Ok(names
        .into_iter()
        .map(|n| n.to_string_lossy().into_owned())
        .collect())
}

impl PcscCard {
    /// Connects to the card (the phone) in `reader`'s field.
    pub fn connect(reader: &str) -> Result<Self, TransportError> {
        let context = pcsc::Context::establish(pcsc::Scope::User).map_err(failed)?;
        let name = CString::new(reader).map_err(|_| TransportError("bad reader name".into()))?;
        let card = context
            .connect(&name, pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY)
            .map_err(failed)?;
        Ok(Self { card })
    }

    /// Lets the card go and powers it down, as a phone leaving the field.
    pub fn disconnect(self) -> Result<(), TransportError> {
        self.card
            .disconnect(pcsc::Disposition::UnpowerCard)
            .map_err(|(_, e)| failed(e))
    }
}

impl Transport for PcscCard {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut buffer = [0u8; pcsc::MAX_BUFFER_SIZE];
        match self.card.transmit(command, &mut buffer) {
            Ok(reply) => return Ok(reply.to_vec()),
            // Another program (or an earlier hold) reset the card: reconnect once and go on.
            Err(pcsc::Error::ResetCard) => {}
            Err(e) => return Err(failed(e)),
        }
        self.card
            .reconnect(
                pcsc::ShareMode::Exclusive,
                pcsc::Protocols::ANY,
                pcsc::Disposition::LeaveCard,
            )
            .map_err(failed)?;
        let reply = self.card.transmit(command, &mut buffer).map_err(failed)?;
        Ok(reply.to_vec())
    }
}
