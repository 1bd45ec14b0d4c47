//! The organisations a build trusts. They ship with the app; nothing a server, an invite or a
//! visitor shows can add one. An invite names a back-office by address: the device enrols only
//! if that address is pinned, and only if the back-office then answers with the pinned name and
//! keys. The official phone number a customer is shown comes from here, never from a visitor.
//!
//! Addresses are `https://` only. A development configuration (the demo, the tests) may also pin
//! `http://` on loopback; the app says so on every screen.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::keys::PublicKey;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinnedOrganisation {
    pub name: String,
    /// The number a customer calls when in doubt, shown on every customer screen.
    pub official_phone: String,
    /// The address of the organisation's back-office API.
    pub back_office: String,
    /// Every key the organisation signs tickets, notices and denylists with.
    #[serde(with = "hex_keys")]
    pub keys: Vec<PublicKey>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pins {
    /// Loopback `http://` back-offices are allowed; the app shows a banner saying so.
    #[serde(default)]
    pub development: bool,
    pub organisations: Vec<PinnedOrganisation>,
}

impl Pins {
    /// The pins, if every entry is usable: a name, an official number, an allowed address, at
    /// least one key, and no address pinned twice.
    pub fn checked(self) -> Result<Self, Error> {
        for (i, org) in self.organisations.iter().enumerate() {
            let bad = |what: &str| Error::BadPins {
                reason: alloc::format!("organisation {}: {what}", i + 1),
            };
            if org.name.trim().is_empty() || org.name.chars().count() > 64 {
                return Err(bad("a name of 1 to 64 characters"));
            }
            if org.official_phone.trim().is_empty() || org.official_phone.chars().count() > 32 {
                return Err(bad("an official phone number of 1 to 32 characters"));
            }
            if org.keys.is_empty() {
                return Err(bad("at least one key"));
            }
            check_back_office(&org.back_office, self.development)?;
            let address = normalise(&org.back_office);
            if self.organisations[..i]
                .iter()
                .any(|o| normalise(&o.back_office) == address)
            {
                return Err(bad("an address no other organisation has"));
            }
        }
        Ok(self)
    }

    /// The organisation whose back-office is at `address`.
    pub fn for_back_office(&self, address: &str) -> Result<&PinnedOrganisation, Error> {
        check_back_office(address, self.development)?;
        let wanted = normalise(address);
        self.organisations
            .iter()
            .find(|o| normalise(&o.back_office) == wanted)
            .ok_or_else(|| Error::OrganisationNotPinned {
                back_office: address.to_string(),
            })
    }

    pub fn by_name(&self, name: &str) -> Option<&PinnedOrganisation> {
        self.organisations.iter().find(|o| o.name == name)
    }
}

impl PinnedOrganisation {
    /// What the back-office answered at enrolment must be this organisation: the same name, and
    /// only keys in `trusted` (the pin's, after the hand-overs they signed,
    /// [`crate::rotation::KeyRotation::apply_all`]); never others.
    pub fn check_answer(
        &self,
        name: &str,
        keys: &[PublicKey],
        trusted: &[PublicKey],
    ) -> Result<(), Error> {
        if name != self.name || keys.is_empty() || keys.iter().any(|k| !trusted.contains(k)) {
            return Err(Error::BackOfficeNotAsPinned {
                organisation: self.name.clone(),
            });
        }
        Ok(())
    }
}

/// `https://` anywhere; `http://` only on loopback and only in a development configuration.
pub fn check_back_office(address: &str, development: bool) -> Result<(), Error> {
    let insecure = || Error::InsecureBackOffice {
        back_office: address.to_string(),
    };
    let lower = address.to_ascii_lowercase();
    let (secure, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(insecure());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty()
        || authority.contains('@')
        || address.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(insecure());
    }
    if secure {
        return Ok(());
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    let port_ok = match authority.rsplit_once(']').map_or(authority, |(_, p)| p) {
        p if p.contains(':') => p
            .rsplit(':')
            .next()
            .is_some_and(|n| n.parse::<u16>().is_ok()),
        _ => true,
    };
    let loopback = host == "localhost" || host == "::1" || is_ipv4_loopback(host);
    if development && loopback && port_ok {
        Ok(())
    } else {
        Err(insecure())
    }
}

fn is_ipv4_loopback(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4 && parts[0] == "127" && parts.iter().all(|p| p.parse::<u8>().is_ok())
}

/// Scheme and host are case-insensitive; a trailing slash means nothing.
fn normalise(address: &str) -> String {
    address.trim_end_matches('/').to_ascii_lowercase()
}

/// Keys as hexadecimal compressed points: a pin file a person can read and diff.
mod hex_keys {
    use alloc::string::String;
    use alloc::vec::Vec;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::keys::PublicKey;

    pub fn serialize<S: Serializer>(keys: &[PublicKey], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(keys.iter().map(|k| {
            k.as_bytes()
                .iter()
                .map(|b| alloc::format!("{b:02x}"))
                .collect::<String>()
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PublicKey>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        texts
            .iter()
            .map(|t| {
                let bytes = (0..t.len())
                    .step_by(2)
                    .map(|i| t.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(|| D::Error::custom("a key is not hexadecimal"))?;
                PublicKey::from_compressed(&bytes)
                    .map_err(|_| D::Error::custom("a key is not a compressed P-256 key"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{SeededRandomness, SoftwareKey};

    fn key(seed: u8) -> PublicKey {
        SoftwareKey::generate(&mut SeededRandomness::new(&alloc::format!("pin {seed}")))
            .public_key()
    }

    fn pins(development: bool, back_office: &str) -> Pins {
        Pins {
            development,
            organisations: alloc::vec![PinnedOrganisation {
                name: "Northbank Cards".into(),
                official_phone: "+31 20 555 0100".into(),
                back_office: back_office.into(),
                keys: alloc::vec![key(1)],
            }],
        }
    }

    #[test]
    fn only_https_except_loopback_in_development() {
        for ok in [
            "https://doorstep.northbank.example",
            "https://doorstep.northbank.example:8443/api",
        ] {
            assert_eq!(check_back_office(ok, false), Ok(()), "{ok}");
        }
        for dev_only in [
            "http://127.0.0.1:8080",
            "http://localhost:3000",
            "http://[::1]:8080/",
            "http://127.1.2.3",
        ] {
            assert!(check_back_office(dev_only, false).is_err(), "{dev_only}");
            assert_eq!(check_back_office(dev_only, true), Ok(()), "{dev_only}");
        }
        for never in [
            "http://doorstep.northbank.example",
            "http://127.0.0.1.evil.example",
            "http://localhost.evil.example:80",
            "http://127.0.0.1@evil.example",
            "https://user@doorstep.northbank.example",
            "http://127.0.0.1:notaport",
            "ftp://127.0.0.1",
            "https://",
            "doorstep.northbank.example",
            "https://doorstep.northbank.example /x",
        ] {
            assert!(
                matches!(
                    check_back_office(never, true),
                    Err(Error::InsecureBackOffice { .. })
                ),
                "{never}"
            );
        }
    }

    #[test]
    fn an_unpinned_or_insecure_back_office_is_refused() {
        let pins = pins(false, "https://doorstep.northbank.example")
            .checked()
            .unwrap();
        assert_eq!(
            pins.for_back_office("HTTPS://doorstep.northbank.example/")
                .unwrap()
                .name,
            "Northbank Cards"
        );
        assert!(matches!(
            pins.for_back_office("https://northbank-security.example"),
            Err(Error::OrganisationNotPinned { .. })
        ));
        assert!(matches!(
            pins.for_back_office("http://doorstep.northbank.example"),
            Err(Error::InsecureBackOffice { .. })
        ));
        // A release configuration cannot pin loopback either.
        assert!(matches!(
            self::pins(false, "http://127.0.0.1:8080").checked(),
            Err(Error::InsecureBackOffice { .. })
        ));
    }

    #[test]
    fn the_answer_must_carry_the_pinned_name_and_only_pinned_keys() {
        let pins = pins(false, "https://doorstep.northbank.example");
        let org = &pins.organisations[0];
        assert_eq!(
            org.check_answer("Northbank Cards", &[key(1)], &org.keys),
            Ok(())
        );
        for (name, keys) in [
            ("Northbank Cards", alloc::vec![key(2)]),
            ("Northbank Cards", alloc::vec![key(1), key(2)]),
            ("Northbank Cards", alloc::vec![]),
            ("Northbank Card Services", alloc::vec![key(1)]),
        ] {
            assert!(matches!(
                org.check_answer(name, &keys, &org.keys),
                Err(Error::BackOfficeNotAsPinned { .. })
            ));
        }
    }

    #[test]
    fn pins_read_back_from_their_file_form_and_bad_entries_are_named() {
        let pins = pins(true, "http://127.0.0.1:8080");
        let json = serde_json::to_string(&pins).unwrap();
        assert!(json.contains(&alloc::format!(
            "\"{}\"",
            key(1)
                .as_bytes()
                .iter()
                .map(|b| alloc::format!("{b:02x}"))
                .collect::<String>()
        )));
        assert_eq!(serde_json::from_str::<Pins>(&json).unwrap(), pins);
        assert!(
            serde_json::from_str::<Pins>(&json.replace("\"02", "\"zz").replace("\"03", "\"zz"))
                .is_err()
        );
        let mut twice = pins.clone();
        twice.organisations.push(pins.organisations[0].clone());
        assert!(matches!(twice.checked(), Err(Error::BadPins { .. })));
        let mut keyless = pins;
        keyless.organisations[0].keys.clear();
        assert!(matches!(keyless.checked(), Err(Error::BadPins { .. })));
    }
}
