//! The office's reference for a visit its operator confirmed on the official line, when a
//! phone at the door cannot scan (plan B). The operator reads it to the customer, who reads it
//! to the agent; the agent's receipt carries it and the back-office accepts that receipt only
//! if it issued this reference for this visit. Eight digits, the last a check digit (Damm), so
//! a digit misheard or two swapped is caught on the agent's phone before anything is signed.

use alloc::string::String;
use core::fmt;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::keys::Randomness;

pub const OFFICE_REFERENCE_DIGITS: usize = 8;

/// Damm's quasigroup: every single-digit error and every swap of neighbouring digits changes
/// the check digit.
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

fn damm(digits: &[u8]) -> u8 {
    digits
        .iter()
        .fold(0, |interim, &d| DAMM[usize::from(interim)][usize::from(d)])
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OfficeReference([u8; OFFICE_REFERENCE_DIGITS]);

impl OfficeReference {
    /// A fresh reference: seven random digits and the check digit.
    pub fn generate(rng: &mut dyn Randomness) -> Self {
        let mut digits = [0u8; OFFICE_REFERENCE_DIGITS];
        let mut filled = 0;
        while filled < OFFICE_REFERENCE_DIGITS - 1 {
            let mut byte = [0u8; 1];
            rng.fill_bytes(&mut byte);
            // 250 is the largest multiple of ten a byte holds: no digit more likely than another.
            if byte[0] < 250 {
                digits[filled] = byte[0] % 10;
                filled += 1;
            }
        }
        digits[OFFICE_REFERENCE_DIGITS - 1] = damm(&digits[..OFFICE_REFERENCE_DIGITS - 1]);
        Self(digits)
    }

    /// A reference as typed or read out: spaces and dashes are ignored; anything else that is
    /// not a digit, the wrong number of digits or a wrong check digit is refused.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut digits = [0u8; OFFICE_REFERENCE_DIGITS];
        let mut n = 0;
        for c in text.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{a0}')) {
            let d = c.to_digit(10).ok_or(Error::BadOfficeReference)?;
            *digits.get_mut(n).ok_or(Error::BadOfficeReference)? = d as u8;
            n += 1;
        }
        if n != OFFICE_REFERENCE_DIGITS || damm(&digits) != 0 {
            return Err(Error::BadOfficeReference);
        }
        Ok(Self(digits))
    }

    /// The eight digits with no separator, as the receipt and the back-office store them.
    pub fn digits(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }
}

/// In two groups of four, as people read it out: `4821 0936`.
impl fmt::Display for OfficeReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.digits();
        write!(f, "{} {}", &digits[..4], &digits[4..])
    }
}

impl fmt::Debug for OfficeReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OfficeReference({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeededRandomness;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    #[test]
    fn the_check_digit_is_damms() {
        // The algorithm's published example: 572 has check digit 4.
        assert_eq!(damm(&[5, 7, 2]), 4);
        assert_eq!(damm(&[5, 7, 2, 4]), 0);
    }

    #[test]
    fn a_generated_reference_reads_back_however_it_is_spaced() {
        let mut rng = SeededRandomness::new("office");
        for _ in 0..100 {
            let reference = OfficeReference::generate(&mut rng);
            let shown = reference.to_string();
            assert_eq!(shown.len(), 9);
            assert_eq!(OfficeReference::parse(&shown), Ok(reference));
            assert_eq!(OfficeReference::parse(&reference.digits()), Ok(reference));
            let dashed = alloc::format!("{}-{}", &shown[..4], &shown[5..]);
            assert_eq!(OfficeReference::parse(&dashed), Ok(reference));
        }
    }

    #[test]
    fn a_misheard_digit_or_two_swapped_digits_are_refused() {
        let reference = OfficeReference::generate(&mut SeededRandomness::new("typo"));
        let digits: Vec<u8> = reference.digits().bytes().map(|b| b - b'0').collect();
        let text = |d: &[u8]| d.iter().map(|d| char::from(b'0' + d)).collect::<String>();
        for i in 0..OFFICE_REFERENCE_DIGITS {
            for wrong in 0..10u8 {
                if wrong == digits[i] {
                    continue;
                }
                let mut typo = digits.clone();
                typo[i] = wrong;
                assert_eq!(
                    OfficeReference::parse(&text(&typo)),
                    Err(Error::BadOfficeReference)
                );
            }
            if i + 1 < OFFICE_REFERENCE_DIGITS && digits[i] != digits[i + 1] {
                let mut swapped = digits.clone();
                swapped.swap(i, i + 1);
                assert_eq!(
                    OfficeReference::parse(&text(&swapped)),
                    Err(Error::BadOfficeReference)
                );
            }
        }
        for bad in ["", "1234567", "123456789", "1234 567x", "١٢٣٤٥٦٧٨"] {
            assert_eq!(OfficeReference::parse(bad), Err(Error::BadOfficeReference));
        }
    }
}
