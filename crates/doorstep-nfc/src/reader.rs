//! The reader side, as the customer's phone (or a desktop's contactless reader) drives it:
//! SELECT, then each message sent in chained commands and each answer collected through
//! GET RESPONSE.

use crate::apdu::{
    self, CLA_CHAINING, CLA_ISO, CLA_PROPRIETARY, Command, INS_GET_RESPONSE, INS_SELECT,
    MAX_COMMAND_DATA, MAX_RESPONSE_DATA, StatusWord,
};
use crate::{AID, Instruction, MAX_MESSAGE, PROTOCOL_VERSION};

/// The link to the card failed: the phones parted, the reader went away.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the contactless link failed: {0}")]
pub struct TransportError(pub String);

/// Sends one command APDU and returns the response APDU (data and status word). Android's
/// `IsoDep.transceive`, iOS's `NFCISO7816Tag.sendCommand`, a PC/SC card and the tests' loopback
/// all fit.
pub trait Transport {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError>;
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(command)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NfcError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// SELECT found no Doorstep application: not a Doorstep agent's phone.
    #[error("this is not a Doorstep agent's phone")]
    NotDoorstep,
    /// The agent's phone is not showing a visit's door screen.
    #[error("the agent's phone is not ready for a visit")]
    NotArmed,
    #[error("the agent's phone speaks a newer version ({0}) of the contactless exchange")]
    UnsupportedVersion(u8),
    /// The agent's phone refused the message; the reason is its error kind's name.
    #[error("the agent's phone refused it: {reason}")]
    Refused { reason: String },
    /// Not yet: the agent has still to compare the codes or record the visit.
    #[error("the agent's phone is not ready for this step yet")]
    NotYet,
    #[error("the answer is longer than any Doorstep message")]
    TooLong,
    #[error("the agent's phone answered something unreadable")]
    Malformed,
    #[error("the agent's phone answered {0}")]
    Status(StatusWord),
}

/// What a tap cost: command APDUs sent and bytes each way (status words included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub commands: usize,
    pub bytes_sent: usize,
    pub bytes_received: usize,
}

pub struct Reader<T> {
    transport: T,
    tally: Tally,
}

impl<T: Transport> Reader<T> {
    pub fn new(transport: T) -> Self {
        Self {
            transport,
            tally: Tally::default(),
        }
    }

    pub fn tally(&self) -> Tally {
        self.tally
    }

    pub fn into_transport(self) -> T {
        self.transport
    }

    fn transmit(&mut self, command: &Command) -> Result<(Vec<u8>, StatusWord), NfcError> {
        let bytes = command.to_bytes();
        let reply = self.transport.transmit(&bytes)?;
        self.tally.commands += 1;
        self.tally.bytes_sent += bytes.len();
        self.tally.bytes_received += reply.len();
        let (data, status) = apdu::split_response(&reply).ok_or(NfcError::Malformed)?;
        Ok((data.to_vec(), status))
    }

    /// Selects Doorstep's application on the card in the field.
    pub fn select(&mut self) -> Result<(), NfcError> {
        let (data, status) = self.transmit(&Command {
            cla: CLA_ISO,
            ins: INS_SELECT,
            p1: 0x04,
            p2: 0x00,
            data: &AID,
            le: Some(MAX_RESPONSE_DATA),
        })?;
        match status {
            StatusWord::OK => match data.as_slice() {
                [PROTOCOL_VERSION, ..] => Ok(()),
                [newer, ..] => Err(NfcError::UnsupportedVersion(*newer)),
                [] => Err(NfcError::Malformed),
            },
            StatusWord::NOT_FOUND => Err(NfcError::NotDoorstep),
            other => Err(status_error(other, &data)),
        }
    }

    /// The customer's challenge in, the agent's proof out.
    pub fn challenge(&mut self, challenge: &[u8]) -> Result<Vec<u8>, NfcError> {
        self.exchange(Instruction::Challenge, challenge)
    }

    /// The proof again, with the whole ticket, for a phone without the visit's notice.
    pub fn full_proof(&mut self) -> Result<Vec<u8>, NfcError> {
        self.exchange(Instruction::FullProof, &[])
    }

    /// The customer's response in. [`NfcError::NotYet`] until the agent confirmed the codes.
    pub fn response(&mut self, response: &[u8]) -> Result<(), NfcError> {
        self.exchange(Instruction::Response, response).map(drop)
    }

    /// The agent's signed receipt. [`NfcError::NotYet`] until the agent recorded the visit.
    pub fn receipt(&mut self) -> Result<Vec<u8>, NfcError> {
        self.exchange(Instruction::Receipt, &[])
    }

    /// One message out in as many chained commands as it needs, its answer in through as
    /// many GET RESPONSEs as it needs.
    fn exchange(&mut self, instruction: Instruction, message: &[u8]) -> Result<Vec<u8>, NfcError> {
        if message.len() > MAX_MESSAGE {
            return Err(NfcError::TooLong);
        }
        let pieces: Vec<&[u8]> = if message.is_empty() {
            vec![&[]]
        } else {
            message.chunks(MAX_COMMAND_DATA).collect()
        };
        let last = pieces.len() - 1;
        let mut reply = None;
        for (i, piece) in pieces.into_iter().enumerate() {
            let chained = i < last;
            let (data, status) = self.transmit(&Command {
                cla: CLA_PROPRIETARY | if chained { CLA_CHAINING } else { 0 },
                ins: instruction.code(),
                p1: 0,
                p2: 0,
                data: piece,
                le: (!chained).then_some(MAX_RESPONSE_DATA),
            })?;
            if chained && status != StatusWord::OK {
                return Err(status_error(status, &data));
            }
            reply = Some((data, status));
        }
        let (mut answer, mut status) = reply.ok_or(NfcError::Malformed)?;
        while status.is_more_data() {
            let wanted = match status.0 & 0xFF {
                0 => MAX_RESPONSE_DATA,
                n => usize::from(n as u8),
            };
            let (data, next) = self.transmit(&Command {
                cla: CLA_ISO,
                ins: INS_GET_RESPONSE,
                p1: 0,
                p2: 0,
                data: &[],
                le: Some(wanted),
            })?;
            if answer.len() + data.len() > MAX_MESSAGE {
                return Err(NfcError::TooLong);
            }
            answer.extend_from_slice(&data);
            status = next;
        }
        match status {
            StatusWord::OK => Ok(answer),
            other => Err(status_error(other, &answer)),
        }
    }
}

fn status_error(status: StatusWord, data: &[u8]) -> NfcError {
    match status {
        StatusWord::NOT_ARMED => NfcError::NotArmed,
        StatusWord::NOT_YET => NfcError::NotYet,
        StatusWord::TOO_LONG => NfcError::TooLong,
        StatusWord::REFUSED => NfcError::Refused {
            reason: data
                .iter()
                .filter(|b| b.is_ascii_graphic())
                .take(64)
                .map(|&b| char::from(b))
                .collect(),
        },
        other => NfcError::Status(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{Answer, Card, Request, Step};

    /// The card in memory, answering with a closure, as the device would.
    struct Loopback<F> {
        card: Card,
        answer: F,
    }

    impl<F: FnMut(Request) -> Answer> Transport for Loopback<F> {
        fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
            Ok(match self.card.command(command) {
                Step::Reply(r) => r,
                Step::Ask(request) => {
                    let answer = (self.answer)(request);
                    self.card.answer(answer)
                }
            })
        }
    }

    fn armed(
        answer: impl FnMut(Request) -> Answer,
    ) -> Reader<Loopback<impl FnMut(Request) -> Answer>> {
        let mut card = Card::new();
        card.arm();
        Reader::new(Loopback { card, answer })
    }

    #[test]
    fn long_messages_cross_both_ways_intact() {
        for size in [0usize, 1, 254, 255, 256, 511, 1000, MAX_MESSAGE] {
            let message: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
            let mut reader = armed(|request| match request {
                // The card answers with what it got, reversed.
                Request::Challenge(m) => Answer::Data(m.into_iter().rev().collect()),
                other => panic!("{other:?}"),
            });
            reader.select().unwrap();
            let answer = reader.challenge(&message).unwrap();
            assert_eq!(
                answer,
                message.iter().rev().copied().collect::<Vec<_>>(),
                "{size}"
            );
            let tally = reader.tally();
            let expected = 1 + size.div_ceil(255).max(1) + size.div_ceil(256).max(1) - 1;
            assert_eq!(tally.commands, expected, "{size}");
        }
    }

    #[test]
    fn every_command_apdu_is_short() {
        struct Spy<T>(T, usize);
        impl<T: Transport> Transport for Spy<T> {
            fn transmit(&mut self, c: &[u8]) -> Result<Vec<u8>, TransportError> {
                self.1 = self.1.max(c.len());
                self.0.transmit(c)
            }
        }
        let mut card = Card::new();
        card.arm();
        let loopback = Loopback {
            card,
            answer: |_| Answer::Data(vec![7; 3000]),
        };
        let mut reader = Reader::new(Spy(loopback, 0));
        reader.select().unwrap();
        reader.challenge(&[1; 3000]).unwrap();
        // 5 header bytes, 255 data, 1 Le: IsoDep's 261.
        assert!(reader.into_transport().1 <= 261);
    }

    #[test]
    fn the_card_s_words_become_typed_errors() {
        let mut reader = armed(|request| match request {
            Request::Response(_) => Answer::NotYet,
            Request::Receipt => Answer::Refused("no_handshake".into()),
            _ => Answer::Data(vec![]),
        });
        reader.select().unwrap();
        assert_eq!(reader.response(&[1, 2, 3]), Err(NfcError::NotYet));
        assert_eq!(
            reader.receipt(),
            Err(NfcError::Refused {
                reason: "no_handshake".into()
            })
        );
        assert_eq!(reader.full_proof(), Ok(vec![]));

        let mut unarmed = Reader::new(Loopback {
            card: Card::new(),
            answer: |_: Request| Answer::NotYet,
        });
        assert_eq!(unarmed.select(), Err(NfcError::NotArmed));
    }

    #[test]
    fn a_reply_without_status_word_is_malformed() {
        struct Broken;
        impl Transport for Broken {
            fn transmit(&mut self, _: &[u8]) -> Result<Vec<u8>, TransportError> {
                Ok(vec![0x90])
            }
        }
        assert_eq!(Reader::new(Broken).select(), Err(NfcError::Malformed));
    }

    #[test]
    fn a_card_that_never_stops_sending_is_cut_off() {
        struct Endless;
        impl Transport for Endless {
            fn transmit(&mut self, _: &[u8]) -> Result<Vec<u8>, TransportError> {
                let mut r = vec![0; 256];
                r.extend_from_slice(&[0x61, 0x00]);
                Ok(r)
            }
        }
        assert_eq!(Reader::new(Endless).receipt(), Err(NfcError::TooLong));
    }
}
