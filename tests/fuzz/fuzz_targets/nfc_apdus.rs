//! Whatever a reader in the field sends the agent's phone, and whatever a card answers the
//! customer's: the card answers every command with a short response ending in a status word,
//! the reader ends every exchange with a result or a typed error, and neither panics nor holds
//! more than one message's worth.
#![no_main]

use doorstep_nfc::{Answer, Card, MAX_MESSAGE, Reader, Step, Transport, TransportError};
use libfuzzer_sys::fuzz_target;

/// Splits the input into length-prefixed pieces (one length byte each).
fn pieces(mut data: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (&len, rest) = data.split_first()?;
        let len = usize::from(len).min(rest.len());
        let (piece, rest) = rest.split_at(len);
        data = rest;
        Some(piece)
    })
}

struct Scripted<'a, I: Iterator<Item = &'a [u8]>>(I);

impl<'a, I: Iterator<Item = &'a [u8]>> Transport for Scripted<'a, I> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        assert!(command.len() <= 261, "a command longer than a short APDU");
        self.0
            .next()
            .map(<[u8]>::to_vec)
            .ok_or_else(|| TransportError("gone".into()))
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let mut card = Card::new();
        card.arm();
        for (i, command) in pieces(data).enumerate() {
            let reply = match card.command(command) {
                Step::Reply(reply) => reply,
                Step::Ask(_) => card.answer(match i % 3 {
                    0 => Answer::Data(vec![0xA5; (i * 97) % (MAX_MESSAGE + 200)]),
                    1 => Answer::NotYet,
                    _ => Answer::Refused("wrong_visit".into()),
                }),
            };
            assert!((2..=258).contains(&reply.len()), "{} bytes", reply.len());
        }
    } else {
        let mut reader = Reader::new(Scripted(pieces(data)));
        let _ = reader.select();
        let _ = reader.challenge(&[0x5A; 700]);
        let _ = reader.full_proof();
        let _ = reader.response(&[1, 2, 3]);
        if let Ok(receipt) = reader.receipt() {
            assert!(receipt.len() <= MAX_MESSAGE);
        }
    }
});
