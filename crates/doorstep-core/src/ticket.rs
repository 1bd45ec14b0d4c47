//! The visit ticket: what the organisation signs to say "this agent may visit this customer, in
//! this window, to do these checks and see these fields".

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::cbor::{CborError, Decoder, MapBuilder, bounded_text, fixed};
use crate::error::Error;
use crate::keys::{KEY_ID_LEN, KeyId, PublicKey, sha256};
use crate::signed::{DocumentKind, DocumentToSign, Envelope};

pub const VISIT_ID_LEN: usize = 16;
pub const PHOTO_HASH_LEN: usize = 16;
pub const MAX_NAME_CHARS: usize = 64;

/// A visit's identifier: a UUID (v7 from the back-office) as 16 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VisitId(pub [u8; VISIT_ID_LEN]);

impl core::fmt::Display for VisitId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl core::fmt::Debug for VisitId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "VisitId({self})")
    }
}

macro_rules! flag_set {
    ($(#[$meta:meta])* $set:ident, $flag:ident { $($(#[$vmeta:meta])* $variant:ident = $bit:expr, $name:literal;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $flag {
            $($(#[$vmeta])* $variant = $bit,)*
        }

        impl $flag {
            pub const ALL: &'static [$flag] = &[$($flag::$variant,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $($flag::$variant => $name,)*
                }
            }
        }

        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
        pub struct $set(u16);

        impl $set {
            const KNOWN: u16 = 0 $(| $bit)*;

            pub fn from_bits(bits: u64) -> Option<Self> {
                u16::try_from(bits).ok().filter(|b| b & !Self::KNOWN == 0).map(Self)
            }

            pub fn bits(self) -> u16 {
                self.0
            }

            pub fn contains(self, flag: $flag) -> bool {
                self.0 & flag as u16 != 0
            }

            pub fn iter(self) -> impl Iterator<Item = $flag> {
                $flag::ALL.iter().copied().filter(move |f| self.contains(*f))
            }
        }

        impl FromIterator<$flag> for $set {
            fn from_iter<I: IntoIterator<Item = $flag>>(iter: I) -> Self {
                Self(iter.into_iter().fold(0, |acc, f| acc | f as u16))
            }
        }
    };
}

flag_set!(
    /// What the agent is allowed to check at the door.
    CheckSet, Check {
        /// The customer proves possession of the enrolled device key (the handshake itself).
        DeviceKey = 1, "device_key";
        IdentityDocument = 2, "identity_document";
        CardHandover = 4, "card_handover";
        AddressConfirmation = 8, "address_confirmation";
        WetSignature = 16, "wet_signature";
    }
);

flag_set!(
    /// Which of the customer's data the agent may see for this visit.
    FieldSet, CustomerField {
        FullName = 1, "full_name";
        PostalAddress = 2, "postal_address";
        DateOfBirth = 4, "date_of_birth";
        PhoneNumber = 8, "phone_number";
        CardLastFour = 16, "card_last_four";
        AccountReference = 32, "account_reference";
    }
);

/// The ticket's content. Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub serial: u64,
    pub visit_id: VisitId,
    pub window_start: u64,
    pub window_minutes: u32,
    pub not_before: u64,
    pub not_after: u64,
    pub agent_id: String,
    pub agent_name: String,
    /// The agent's employer, or the organisation it works on behalf of.
    pub on_behalf_of: String,
    pub photo_hash: [u8; PHOTO_HASH_LEN],
    pub agent_key: PublicKey,
    pub customer_key_id: KeyId,
    pub checks: CheckSet,
    pub fields: FieldSet,
}

mod key {
    pub const SERIAL: u64 = 1;
    pub const VISIT: u64 = 2;
    pub const WINDOW_START: u64 = 3;
    pub const WINDOW_MINUTES: u64 = 4;
    pub const NOT_BEFORE: u64 = 5;
    pub const NOT_AFTER: u64 = 6;
    pub const AGENT_ID: u64 = 7;
    pub const AGENT_NAME: u64 = 8;
    pub const ON_BEHALF_OF: u64 = 9;
    pub const PHOTO: u64 = 10;
    pub const AGENT_KEY: u64 = 11;
    pub const CUSTOMER_KEY_ID: u64 = 12;
    pub const CHECKS: u64 = 13;
    pub const FIELDS: u64 = 14;
}

/// The customer key id of a ticket for a customer with no enrolled phone: the agent checks
/// them at the door (the ticket's checks), and they check the agent on the verification page
/// (`crate::page`). No key has it (a key id is the start of a SHA-256), so no answer can ever
/// verify against it, and such a ticket can never back a "verified" receipt.
pub const NO_CUSTOMER_KEY: KeyId = KeyId([0; crate::keys::KEY_ID_LEN]);

/// Whether `now` falls in the window from `start` to `end`, give or take `skew` seconds either
/// side: one rule for the phones' door check and the office's confirmation by phone.
pub fn window_includes(start: u64, end: u64, now: u64, skew: u64) -> bool {
    now.saturating_add(skew) >= start && now <= end.saturating_add(skew)
}

impl Ticket {
    /// Whether the customer has an enrolled phone to answer with: the ticket names their key,
    /// not [`NO_CUSTOMER_KEY`].
    pub fn customer_has_app(&self) -> bool {
        self.customer_key_id != NO_CUSTOMER_KEY
    }

    /// Whether `photo` is the one whose hash the organisation signed into the ticket.
    pub fn photo_matches(&self, photo: &[u8]) -> bool {
        crate::keys::sha256(&[photo])[..PHOTO_HASH_LEN] == self.photo_hash
    }

    pub fn window_end(&self) -> u64 {
        self.window_start + u64::from(self.window_minutes) * 60
    }

    /// Whether `now` falls in the visit's window, give or take `skew` seconds either side: the
    /// visit the door is for now.
    pub fn window_includes(&self, now: u64, skew: u64) -> bool {
        window_includes(self.window_start, self.window_end(), now, skew)
    }

    pub fn encode_payload(&self) -> Vec<u8> {
        let mut m = MapBuilder::new();
        m.entry(key::SERIAL, |e| {
            e.uint(self.serial);
        })
        .entry(key::VISIT, |e| {
            e.bytes(&self.visit_id.0);
        })
        .entry(key::WINDOW_START, |e| {
            e.uint(self.window_start);
        })
        .entry(key::WINDOW_MINUTES, |e| {
            e.uint(self.window_minutes.into());
        })
        .entry(key::NOT_BEFORE, |e| {
            e.uint(self.not_before);
        })
        .entry(key::NOT_AFTER, |e| {
            e.uint(self.not_after);
        })
        .entry(key::AGENT_ID, |e| {
            e.text(&self.agent_id);
        })
        .entry(key::AGENT_NAME, |e| {
            e.text(&self.agent_name);
        })
        .entry(key::ON_BEHALF_OF, |e| {
            e.text(&self.on_behalf_of);
        })
        .entry(key::PHOTO, |e| {
            e.bytes(&self.photo_hash);
        })
        .entry(key::AGENT_KEY, |e| {
            e.bytes(self.agent_key.as_bytes());
        })
        .entry(key::CUSTOMER_KEY_ID, |e| {
            e.bytes(&self.customer_key_id.0);
        })
        .entry(key::CHECKS, |e| {
            e.uint(self.checks.bits().into());
        })
        .entry(key::FIELDS, |e| {
            e.uint(self.fields.bits().into());
        });
        m.finish()
    }

    pub fn decode_payload(bytes: &[u8]) -> Result<Self, CborError> {
        let mut d = Decoder::new(bytes);
        let mut m = d.map()?;
        let serial = m.required(key::SERIAL)?.uint()?;
        let visit_id = VisitId(fixed(m.required(key::VISIT)?.bytes()?, key::VISIT)?);
        let window_start = m.required(key::WINDOW_START)?.uint()?;
        let window_minutes =
            u32::try_from(m.required(key::WINDOW_MINUTES)?.uint()?).map_err(|_| {
                CborError::OutOfRange {
                    field: key::WINDOW_MINUTES,
                }
            })?;
        let not_before = m.required(key::NOT_BEFORE)?.uint()?;
        let not_after = m.required(key::NOT_AFTER)?.uint()?;
        let agent_id = bounded_text(m.required(key::AGENT_ID)?.text()?, 32, key::AGENT_ID)?;
        let agent_name = bounded_text(
            m.required(key::AGENT_NAME)?.text()?,
            MAX_NAME_CHARS,
            key::AGENT_NAME,
        )?;
        let on_behalf_of = bounded_text(
            m.required(key::ON_BEHALF_OF)?.text()?,
            MAX_NAME_CHARS,
            key::ON_BEHALF_OF,
        )?;
        let photo_hash = fixed(m.required(key::PHOTO)?.bytes()?, key::PHOTO)?;
        let agent_key =
            PublicKey::from_compressed(m.required(key::AGENT_KEY)?.bytes()?).map_err(|_| {
                CborError::OutOfRange {
                    field: key::AGENT_KEY,
                }
            })?;
        let customer_key_id = KeyId(fixed::<KEY_ID_LEN>(
            m.required(key::CUSTOMER_KEY_ID)?.bytes()?,
            key::CUSTOMER_KEY_ID,
        )?);
        let checks = CheckSet::from_bits(m.required(key::CHECKS)?.uint()?)
            .ok_or(CborError::OutOfRange { field: key::CHECKS })?;
        let fields = FieldSet::from_bits(m.required(key::FIELDS)?.uint()?)
            .ok_or(CborError::OutOfRange { field: key::FIELDS })?;
        m.end()?;
        d.finish()?;
        if window_start
            .checked_add(u64::from(window_minutes) * 60)
            .is_none()
        {
            return Err(CborError::OutOfRange {
                field: key::WINDOW_START,
            });
        }
        Ok(Self {
            serial,
            visit_id,
            window_start,
            window_minutes,
            not_before,
            not_after,
            agent_id,
            agent_name,
            on_behalf_of,
            photo_hash,
            agent_key,
            customer_key_id,
            checks,
            fields,
        })
    }

    /// The ticket ready for the organisation's key.
    pub fn to_sign(&self, organisation_key: PublicKey) -> DocumentToSign {
        DocumentToSign::new(
            DocumentKind::Ticket,
            organisation_key,
            self.encode_payload(),
        )
    }
}

/// A ticket whose organisation signature has been checked against a trusted key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTicket {
    encoded: Vec<u8>,
    ticket: Ticket,
    organisation_key: PublicKey,
}

impl SignedTicket {
    pub fn verify(encoded: &[u8], organisation_keys: &[PublicKey]) -> Result<Self, Error> {
        Self::verify_with(encoded, organisation_keys, &|key, message, signature| {
            key.verify(message, signature)
        })
    }

    /// As [`SignedTicket::verify`], with the ECDSA check done by `check` (a faster
    /// implementation on a server, say).
    pub fn verify_with(
        encoded: &[u8],
        organisation_keys: &[PublicKey],
        check: &dyn Fn(&PublicKey, &[u8], &crate::Signature) -> bool,
    ) -> Result<Self, Error> {
        let envelope = Envelope::decode_all(encoded)?;
        let organisation_key =
            envelope.verify_with(DocumentKind::Ticket, organisation_keys, check)?;
        let ticket = Ticket::decode_payload(envelope.payload)?;
        Ok(Self {
            encoded: encoded.to_vec(),
            ticket,
            organisation_key,
        })
    }

    pub fn ticket(&self) -> &Ticket {
        &self.ticket
    }

    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }

    pub fn organisation_key(&self) -> PublicKey {
        self.organisation_key
    }

    /// SHA-256 of the encoded signed ticket: what transcripts bind and proofs may carry instead
    /// of the whole ticket.
    pub fn digest(&self) -> [u8; 32] {
        sha256(&[&self.encoded])
    }
}
