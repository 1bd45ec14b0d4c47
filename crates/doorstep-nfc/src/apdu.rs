//! Short command APDUs (ISO 7816-4) and the status words Doorstep answers with.

/// A two-byte status word, as it ends every response APDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    pub const OK: Self = Self(0x9000);
    /// Wrong length: Lc disagrees with the data, extended length, or Le where none fits.
    pub const WRONG_LENGTH: Self = Self(0x6700);
    /// The last command of a chain was expected (a chain interrupted by another instruction).
    pub const CHAIN_BROKEN: Self = Self(0x6883);
    /// Conditions of use not satisfied: no visit armed on the agent's phone, Doorstep not
    /// selected, or GET RESPONSE with nothing to give.
    pub const NOT_ARMED: Self = Self(0x6985);
    /// Incorrect data: the agent's phone refused the message; the response data names why.
    pub const REFUSED: Self = Self(0x6A80);
    /// Not enough memory: the message is longer than [`crate::MAX_MESSAGE`].
    pub const TOO_LONG: Self = Self(0x6A84);
    /// Application not found (SELECT of another AID).
    pub const NOT_FOUND: Self = Self(0x6A82);
    /// Incorrect P1-P2.
    pub const WRONG_PARAMETERS: Self = Self(0x6A86);
    /// Referenced data not found: not yet — the agent has not compared the codes, or not yet
    /// signed the receipt. Ask again.
    pub const NOT_YET: Self = Self(0x6A88);
    pub const INS_NOT_SUPPORTED: Self = Self(0x6D00);
    pub const CLA_NOT_SUPPORTED: Self = Self(0x6E00);

    pub const fn bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }

    /// `61xx`: more data waits for GET RESPONSE; `xx` is how much (0 for 256 or more).
    pub const fn more_data(remaining: usize) -> Self {
        let xx = if remaining >= 256 {
            0
        } else {
            remaining as u16
        };
        Self(0x6100 | xx)
    }

    pub const fn is_more_data(self) -> bool {
        self.0 >> 8 == 0x61
    }
}

impl std::fmt::Display for StatusWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

/// Class byte of ISO inter-industry commands (SELECT, GET RESPONSE).
pub const CLA_ISO: u8 = 0x00;
/// Class byte of Doorstep's own commands.
pub const CLA_PROPRIETARY: u8 = 0x80;
/// Bit set in the class byte of every command of a chain but the last.
pub const CLA_CHAINING: u8 = 0x10;
pub const INS_SELECT: u8 = 0xA4;
pub const INS_GET_RESPONSE: u8 = 0xC0;
/// Most command data in one short APDU.
pub const MAX_COMMAND_DATA: usize = 255;
/// Most response data in one short APDU (Le = 00).
pub const MAX_RESPONSE_DATA: usize = 256;

/// A short command APDU, parsed. Borrowed from the bytes it came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command<'a> {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: &'a [u8],
    /// Most response bytes expected; `None` when the command has no Le. Le = 00 means 256.
    pub le: Option<usize>,
}

impl<'a> Command<'a> {
    /// Parses the four ISO cases of a short APDU. Extended length is refused, as is any
    /// disagreement between Lc and the bytes that follow.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, StatusWord> {
        let Some((&[cla, ins, p1, p2], body)) = bytes.split_first_chunk::<4>() else {
            return Err(StatusWord::WRONG_LENGTH);
        };
        let le_of = |b: u8| Some(if b == 0 { 256 } else { usize::from(b) });
        let (data, le) = match body {
            [] => (&body[..0], None),
            [le] => (&body[..0], le_of(*le)),
            [0, ..] => return Err(StatusWord::WRONG_LENGTH),
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                match rest.len() {
                    n if n == lc => (rest, None),
                    n if n == lc + 1 => (&rest[..lc], le_of(rest[lc])),
                    _ => return Err(StatusWord::WRONG_LENGTH),
                }
            }
        };
        Ok(Self {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
        })
    }

    /// The command's bytes: Lc only with data, Le only when given.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(6 + self.data.len());
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if !self.data.is_empty() {
            out.push(self.data.len() as u8);
            out.extend_from_slice(self.data);
        }
        if let Some(le) = self.le {
            out.push(if le >= 256 { 0 } else { le as u8 });
        }
        out
    }

    pub fn is_chained(&self) -> bool {
        self.cla & CLA_CHAINING != 0
    }
}

/// A response APDU: the data, then the status word.
pub fn response(data: &[u8], status: StatusWord) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 2);
    out.extend_from_slice(data);
    out.extend_from_slice(&status.bytes());
    out
}

/// Splits a response APDU into its data and status word; `None` if shorter than two bytes.
pub fn split_response(bytes: &[u8]) -> Option<(&[u8], StatusWord)> {
    let (data, sw) = bytes.split_last_chunk::<2>()?;
    Some((data, StatusWord(u16::from_be_bytes(*sw))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_cases_parse_and_round_trip() {
        let case1 = [0x80, 0x16, 0, 0];
        let case2 = [0x80, 0x16, 0, 0, 0];
        let case3 = [0x80, 0x14, 0, 0, 2, 0xAA, 0xBB];
        let case4 = [0x80, 0x10, 0, 0, 2, 0xAA, 0xBB, 0x20];
        let c = Command::parse(&case1).unwrap();
        assert_eq!((c.data, c.le), (&[][..], None));
        let c = Command::parse(&case2).unwrap();
        assert_eq!((c.data, c.le), (&[][..], Some(256)));
        let c = Command::parse(&case3).unwrap();
        assert_eq!((c.data, c.le), (&[0xAA, 0xBB][..], None));
        let c = Command::parse(&case4).unwrap();
        assert_eq!((c.data, c.le), (&[0xAA, 0xBB][..], Some(0x20)));
        for bytes in [&case1[..], &case2, &case3, &case4] {
            assert_eq!(Command::parse(bytes).unwrap().to_bytes(), bytes);
        }
    }

    #[test]
    fn bad_lengths_get_wrong_length() {
        for bytes in [
            &[0x80, 0x10, 0][..],
            &[0x80, 0x10, 0, 0, 3, 1, 2],
            &[0x80, 0x10, 0, 0, 1, 1, 2, 3],
            // Extended length.
            &[0x80, 0x10, 0, 0, 0, 0, 1, 9],
        ] {
            assert_eq!(
                Command::parse(bytes),
                Err(StatusWord::WRONG_LENGTH),
                "{bytes:02X?}"
            );
        }
    }

    #[test]
    fn more_data_counts_up_to_256() {
        assert_eq!(StatusWord::more_data(17), StatusWord(0x6111));
        assert_eq!(StatusWord::more_data(256), StatusWord(0x6100));
        assert_eq!(StatusWord::more_data(4000), StatusWord(0x6100));
        assert!(StatusWord(0x61FF).is_more_data());
        assert!(!StatusWord::OK.is_more_data());
    }
}
