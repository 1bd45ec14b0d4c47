//! Documents the back-office signs for devices besides tickets: the customer's visit notice and
//! the denylist snapshot.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::cbor::{CborError, Decoder, MapBuilder, bounded_text, fixed};
use crate::error::Error;
use crate::keys::{KEY_ID_LEN, KeyId, PublicKey};
use crate::signed::{DocumentKind, DocumentToSign, Envelope};
use crate::ticket::SignedTicket;

/// The visit as the customer's app sees it before the agent arrives. It embeds the very ticket
/// the agent carries, so at the door the agent need only send the ticket's digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub ticket: Vec<u8>,
    pub purpose: String,
    /// How long the organisation keeps what the agent saw, in days.
    pub retention_days: u32,
    pub official_phone: String,
    pub organisation_name: String,
}

impl Notice {
    fn encode_payload(&self) -> Vec<u8> {
        let mut m = MapBuilder::new();
        m.entry(1, |e| {
            e.bytes(&self.ticket);
        })
        .entry(2, |e| {
            e.text(&self.purpose);
        })
        .entry(3, |e| {
            e.uint(self.retention_days.into());
        })
        .entry(4, |e| {
            e.text(&self.official_phone);
        })
        .entry(5, |e| {
            e.text(&self.organisation_name);
        });
        m.finish()
    }

    fn decode_payload(bytes: &[u8]) -> Result<Self, CborError> {
        let mut d = Decoder::new(bytes);
        let mut m = d.map()?;
        let ticket = m.required(1)?.bytes()?.to_vec();
        let purpose = bounded_text(m.required(2)?.text()?, 280, 2)?;
        let retention_days = u32::try_from(m.required(3)?.uint()?)
            .map_err(|_| CborError::OutOfRange { field: 3 })?;
        let official_phone = bounded_text(m.required(4)?.text()?, 32, 4)?;
        let organisation_name = bounded_text(m.required(5)?.text()?, 64, 5)?;
        m.end()?;
        d.finish()?;
        Ok(Self {
            ticket,
            purpose,
            retention_days,
            official_phone,
            organisation_name,
        })
    }

    pub fn to_sign(&self, organisation_key: PublicKey) -> DocumentToSign {
        DocumentToSign::new(
            DocumentKind::Notice,
            organisation_key,
            self.encode_payload(),
        )
    }
}

/// A notice whose signature, and its embedded ticket's, have been checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedNotice {
    notice: Notice,
    ticket: SignedTicket,
}

impl VerifiedNotice {
    pub fn verify(encoded: &[u8], organisation_keys: &[PublicKey]) -> Result<Self, Error> {
        let envelope = Envelope::decode_all(encoded)?;
        envelope.verify(DocumentKind::Notice, organisation_keys)?;
        let notice = Notice::decode_payload(envelope.payload)?;
        let ticket = SignedTicket::verify(&notice.ticket, organisation_keys)?;
        Ok(Self { notice, ticket })
    }

    pub fn notice(&self) -> &Notice {
        &self.notice
    }

    pub fn ticket(&self) -> &SignedTicket {
        &self.ticket
    }
}

/// Revoked agent devices, customer devices and tickets, as of `issued_at`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Denylist {
    pub issued_at: u64,
    pub sequence: u64,
    pub agent_keys: Vec<KeyId>,
    pub customer_keys: Vec<KeyId>,
    pub ticket_serials: Vec<u64>,
}

impl Denylist {
    fn encode_payload(&self) -> Vec<u8> {
        let key_list = |e: &mut crate::cbor::Encoder, keys: &[KeyId]| {
            e.array(keys.len());
            for k in keys {
                e.bytes(&k.0);
            }
        };
        let mut m = MapBuilder::new();
        m.entry(1, |e| {
            e.uint(self.issued_at);
        })
        .entry(2, |e| {
            e.uint(self.sequence);
        })
        .entry(3, |e| key_list(e, &self.agent_keys))
        .entry(4, |e| key_list(e, &self.customer_keys))
        .entry(5, |e| {
            e.array(self.ticket_serials.len());
            for s in &self.ticket_serials {
                e.uint(*s);
            }
        });
        m.finish()
    }

    fn decode_payload(bytes: &[u8]) -> Result<Self, CborError> {
        fn key_list(d: &mut Decoder<'_>, field: u64) -> Result<Vec<KeyId>, CborError> {
            let n = d.array()?;
            (0..n)
                .map(|_| Ok(KeyId(fixed::<KEY_ID_LEN>(d.bytes()?, field)?)))
                .collect()
        }
        let mut d = Decoder::new(bytes);
        let mut m = d.map()?;
        let issued_at = m.required(1)?.uint()?;
        let sequence = m.required(2)?.uint()?;
        let agent_keys = key_list(m.required(3)?, 3)?;
        let customer_keys = key_list(m.required(4)?, 4)?;
        let serials = m.required(5)?;
        let n = serials.array()?;
        let ticket_serials = (0..n).map(|_| serials.uint()).collect::<Result<_, _>>()?;
        m.end()?;
        d.finish()?;
        Ok(Self {
            issued_at,
            sequence,
            agent_keys,
            customer_keys,
            ticket_serials,
        })
    }

    pub fn to_sign(&self, organisation_key: PublicKey) -> DocumentToSign {
        DocumentToSign::new(
            DocumentKind::Denylist,
            organisation_key,
            self.encode_payload(),
        )
    }

    pub fn verify(encoded: &[u8], organisation_keys: &[PublicKey]) -> Result<Self, Error> {
        let envelope = Envelope::decode_all(encoded)?;
        envelope.verify(DocumentKind::Denylist, organisation_keys)?;
        Ok(Self::decode_payload(envelope.payload)?)
    }
}
