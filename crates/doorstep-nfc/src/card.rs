//! The card side, as the agent's phone runs it: SELECT, chained commands assembled into one
//! message, long answers handed out in `61xx` / GET RESPONSE pieces.
//!
//! The card holds no Doorstep state of its own: a whole message in becomes a [`Request`] for the
//! device to answer, and the [`Answer`] goes back out framed. What survives a tap (the
//! handshake) is the device's, so a customer who pulls the phone away and taps again goes on
//! where they were.

use crate::apdu::{
    self, CLA_CHAINING, CLA_ISO, CLA_PROPRIETARY, Command, INS_GET_RESPONSE, INS_SELECT,
    MAX_RESPONSE_DATA, StatusWord,
};
use crate::{AID, Instruction, MAX_MESSAGE, PROTOCOL_VERSION};

/// A whole message for the device to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Challenge(Vec<u8>),
    FullProof,
    Response(Vec<u8>),
    Receipt,
}

/// The device's answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Done; the bytes (possibly none) go back to the reader.
    Data(Vec<u8>),
    /// Not yet: the agent has still to compare the codes or record the visit.
    NotYet,
    /// Refused, with the reason's name (the device's error kind), sent to the reader.
    Refused(String),
}

/// What the card does with a command APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Answer at once with these response bytes.
    Reply(Vec<u8>),
    /// A whole message came in: the device answers it, then [`Card::answer`] frames the reply.
    Ask(Request),
}

/// Longest reason sent with a refusal; names are far shorter.
const MAX_REASON: usize = 64;

#[derive(Debug, Default)]
pub struct Card {
    armed: bool,
    selected: bool,
    /// A chain being assembled: its instruction and the data so far.
    chain: Option<(u8, Vec<u8>)>,
    /// An answer longer than one response, and how much of it went out.
    outgoing: Vec<u8>,
    sent: usize,
    /// The Le of the command being answered.
    asked_le: usize,
}

impl Card {
    pub fn new() -> Self {
        Self::default()
    }

    /// The agent's door screen is up for a visit: the card answers from now on.
    pub fn arm(&mut self) {
        *self = Self {
            armed: true,
            ..Self::default()
        };
    }

    /// The door screen is gone: every command gets `6985` again.
    pub fn disarm(&mut self) {
        *self = Self::default();
    }

    pub fn is_armed(&self) -> bool {
        self.armed
    }

    /// The field went away (the phones parted): what was half sent or half received is dropped.
    pub fn deactivated(&mut self) {
        self.selected = false;
        self.reset_transfer();
    }

    fn reset_transfer(&mut self) {
        self.chain = None;
        self.outgoing.clear();
        self.sent = 0;
    }

    /// One command APDU in. Never panics, whatever the bytes: every malformed command gets a
    /// status word.
    pub fn command(&mut self, bytes: &[u8]) -> Step {
        match self.handle(bytes) {
            Ok(step) => step,
            Err(status) => Step::Reply(status.bytes().to_vec()),
        }
    }

    fn handle(&mut self, bytes: &[u8]) -> Result<Step, StatusWord> {
        if !self.armed {
            return Err(StatusWord::NOT_ARMED);
        }
        let command = Command::parse(bytes)?;
        match (command.cla, command.ins) {
            (CLA_ISO, INS_SELECT) => self.select(&command),
            (CLA_ISO, INS_GET_RESPONSE) => self.get_response(&command),
            (CLA_ISO, _) => Err(StatusWord::INS_NOT_SUPPORTED),
            (cla, ins) if cla & !CLA_CHAINING == CLA_PROPRIETARY => {
                if !self.selected {
                    return Err(StatusWord::NOT_ARMED);
                }
                let instruction =
                    Instruction::from_code(ins).ok_or(StatusWord::INS_NOT_SUPPORTED)?;
                self.proprietary(instruction, &command)
            }
            _ => Err(StatusWord::CLA_NOT_SUPPORTED),
        }
    }

    fn select(&mut self, command: &Command) -> Result<Step, StatusWord> {
        // By name (P1 = 04), first or only occurrence, with or without FCI (P2 = 00 or 0C).
        if command.p1 != 0x04 || !matches!(command.p2, 0x00 | 0x0C) {
            return Err(StatusWord::WRONG_PARAMETERS);
        }
        self.reset_transfer();
        if command.data != AID {
            self.selected = false;
            return Err(StatusWord::NOT_FOUND);
        }
        self.selected = true;
        Ok(Step::Reply(apdu::response(
            &[PROTOCOL_VERSION],
            StatusWord::OK,
        )))
    }

    fn get_response(&mut self, command: &Command) -> Result<Step, StatusWord> {
        if command.p1 != 0 || command.p2 != 0 {
            return Err(StatusWord::WRONG_PARAMETERS);
        }
        if !self.selected || self.sent >= self.outgoing.len() {
            return Err(StatusWord::NOT_ARMED);
        }
        self.asked_le = command.le.unwrap_or(MAX_RESPONSE_DATA);
        Ok(Step::Reply(self.next_piece()))
    }

    fn proprietary(
        &mut self,
        instruction: Instruction,
        command: &Command,
    ) -> Result<Step, StatusWord> {
        if command.p1 != 0 || command.p2 != 0 {
            self.reset_transfer();
            return Err(StatusWord::WRONG_PARAMETERS);
        }
        // A new command drops an answer the reader did not fetch in full.
        self.outgoing.clear();
        self.sent = 0;
        let ins = instruction.code();
        let mut message = match self.chain.take() {
            Some((chained_ins, data)) if chained_ins == ins => data,
            Some(_) => return Err(StatusWord::CHAIN_BROKEN),
            None => Vec::new(),
        };
        if !instruction.carries_data() && (command.is_chained() || !command.data.is_empty()) {
            return Err(StatusWord::WRONG_LENGTH);
        }
        if message.len() + command.data.len() > MAX_MESSAGE {
            return Err(StatusWord::TOO_LONG);
        }
        message.extend_from_slice(command.data);
        if command.is_chained() {
            self.chain = Some((ins, message));
            return Ok(Step::Reply(StatusWord::OK.bytes().to_vec()));
        }
        self.asked_le = command.le.unwrap_or(MAX_RESPONSE_DATA);
        Ok(Step::Ask(match instruction {
            Instruction::Challenge => Request::Challenge(message),
            Instruction::FullProof => Request::FullProof,
            Instruction::Response => Request::Response(message),
            Instruction::Receipt => Request::Receipt,
        }))
    }

    /// The device's answer to the last [`Step::Ask`], framed: the first piece of data, with
    /// `61xx` if more waits for GET RESPONSE.
    pub fn answer(&mut self, answer: Answer) -> Vec<u8> {
        match answer {
            Answer::Data(data) if data.len() > MAX_MESSAGE => StatusWord::TOO_LONG.bytes().to_vec(),
            Answer::Data(data) => {
                self.outgoing = data;
                self.sent = 0;
                self.next_piece()
            }
            Answer::NotYet => StatusWord::NOT_YET.bytes().to_vec(),
            Answer::Refused(reason) => {
                let reason: Vec<u8> = reason
                    .bytes()
                    .filter(|b| b.is_ascii_graphic())
                    .take(MAX_REASON)
                    .collect();
                apdu::response(&reason, StatusWord::REFUSED)
            }
        }
    }

    fn next_piece(&mut self) -> Vec<u8> {
        let size = self.asked_le.clamp(1, MAX_RESPONSE_DATA);
        let end = (self.sent + size).min(self.outgoing.len());
        let piece = &self.outgoing[self.sent..end];
        self.sent = end;
        let remaining = self.outgoing.len() - end;
        let status = if remaining == 0 {
            StatusWord::OK
        } else {
            StatusWord::more_data(remaining)
        };
        let reply = apdu::response(piece, status);
        if remaining == 0 {
            self.outgoing.clear();
            self.sent = 0;
        }
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select_command() -> Vec<u8> {
        let mut c = vec![0x00, 0xA4, 0x04, 0x00, AID.len() as u8];
        c.extend_from_slice(&AID);
        c.push(0);
        c
    }

    fn reply(step: Step) -> Vec<u8> {
        match step {
            Step::Reply(r) => r,
            Step::Ask(r) => panic!("asked {r:?}"),
        }
    }

    #[test]
    fn unarmed_card_answers_6985_to_everything() {
        let mut card = Card::new();
        for command in [
            select_command(),
            vec![0x80, 0x16, 0, 0, 0],
            vec![],
            vec![1, 2],
        ] {
            assert_eq!(reply(card.command(&command)), [0x69, 0x85]);
        }
    }

    #[test]
    fn select_answers_the_version_and_other_aids_are_not_found() {
        let mut card = Card::new();
        card.arm();
        assert_eq!(reply(card.command(&select_command())), [1, 0x90, 0x00]);
        let other = [
            0x00, 0xA4, 0x04, 0x00, 7, 0xA0, 0, 0, 0, 0x03, 0x10, 0x10, 0,
        ];
        assert_eq!(reply(card.command(&other)), [0x6A, 0x82]);
        // Deselected by the other SELECT.
        assert_eq!(reply(card.command(&[0x80, 0x16, 0, 0, 0])), [0x69, 0x85]);
    }

    #[test]
    fn chained_message_is_assembled_and_long_answer_comes_in_pieces() {
        let mut card = Card::new();
        card.arm();
        reply(card.command(&select_command()));
        let message: Vec<u8> = (0..600u32).map(|i| i as u8).collect();
        let chunks: Vec<_> = message.chunks(255).collect();
        for chunk in &chunks[..chunks.len() - 1] {
            let mut c = vec![0x90, 0x10, 0, 0, chunk.len() as u8];
            c.extend_from_slice(chunk);
            assert_eq!(reply(card.command(&c)), [0x90, 0x00]);
        }
        let last = chunks[chunks.len() - 1];
        let mut c = vec![0x80, 0x10, 0, 0, last.len() as u8];
        c.extend_from_slice(last);
        c.push(0);
        assert_eq!(
            card.command(&c),
            Step::Ask(Request::Challenge(message.clone()))
        );

        let answer: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
        let first = card.answer(Answer::Data(answer.clone()));
        assert_eq!(first.len(), 258);
        assert_eq!(&first[256..], [0x61, 44]);
        let rest = reply(card.command(&[0x00, 0xC0, 0, 0, 44]));
        assert_eq!(&rest[44..], [0x90, 0x00]);
        assert_eq!([&first[..256], &rest[..44]].concat(), answer);
        // Nothing more to fetch.
        assert_eq!(reply(card.command(&[0x00, 0xC0, 0, 0, 0])), [0x69, 0x85]);
    }

    #[test]
    fn a_chain_interrupted_by_another_instruction_is_dropped() {
        let mut card = Card::new();
        card.arm();
        reply(card.command(&select_command()));
        assert_eq!(reply(card.command(&[0x90, 0x10, 0, 0, 1, 9])), [0x90, 0x00]);
        assert_eq!(reply(card.command(&[0x80, 0x14, 0, 0, 1, 9])), [0x68, 0x83]);
        // The next message starts afresh.
        assert_eq!(
            card.command(&[0x80, 0x14, 0, 0, 1, 9]),
            Step::Ask(Request::Response(vec![9]))
        );
    }

    #[test]
    fn a_message_over_the_limit_is_refused_before_it_is_held() {
        let mut card = Card::new();
        card.arm();
        reply(card.command(&select_command()));
        let chunk = [0u8; 255];
        let mut command = vec![0x90, 0x10, 0, 0, 255];
        command.extend_from_slice(&chunk);
        let mut last = Vec::new();
        for _ in 0..=MAX_MESSAGE / 255 {
            last = reply(card.command(&command));
            if last != [0x90, 0x00] {
                break;
            }
        }
        assert_eq!(last, [0x6A, 0x84]);
    }

    #[test]
    fn refusal_carries_its_reason_and_not_yet_its_own_word() {
        let mut card = Card::new();
        card.arm();
        assert_eq!(
            card.answer(Answer::Refused("wrong_visit".into())),
            b"wrong_visit\x6A\x80"
        );
        assert_eq!(card.answer(Answer::NotYet), [0x6A, 0x88]);
    }

    #[test]
    fn commands_without_data_refuse_data() {
        let mut card = Card::new();
        card.arm();
        reply(card.command(&select_command()));
        assert_eq!(reply(card.command(&[0x80, 0x16, 0, 0, 1, 1])), [0x67, 0x00]);
        assert_eq!(reply(card.command(&[0x90, 0x12, 0, 0])), [0x67, 0x00]);
        assert_eq!(reply(card.command(&[0x80, 0x99, 0, 0])), [0x6D, 0x00]);
        assert_eq!(reply(card.command(&[0x42, 0x10, 0, 0])), [0x6E, 0x00]);
        assert_eq!(reply(card.command(&[0x80, 0x16, 1, 0])), [0x6A, 0x86]);
    }

    proptest::proptest! {
        #[test]
        fn any_commands_get_a_status_word_never_a_panic(
            commands in proptest::collection::vec(
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), 0..40),
            answer_size in 0usize..5000,
        ) {
            let mut card = Card::new();
            card.arm();
            reply(card.command(&select_command()));
            for command in commands {
                let out = match card.command(&command) {
                    Step::Reply(r) => r,
                    Step::Ask(_) => card.answer(Answer::Data(vec![0x5A; answer_size])),
                };
                proptest::prop_assert!(out.len() >= 2 && out.len() <= MAX_RESPONSE_DATA + 2);
            }
        }
    }
}
