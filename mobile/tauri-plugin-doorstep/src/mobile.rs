use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::plugin::PluginHandle;
use tauri::{Manager, Runtime};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The platform refused or failed (NFC off, the link lost, the key store's answer).
    #[error("{0}")]
    Platform(String),
    /// The key's use needs the person's authentication first.
    #[error("the device key needs the person's authentication")]
    NotAuthenticated,
    #[error("the platform answered something unreadable")]
    Unreadable,
}

impl From<tauri::plugin::mobile::PluginInvokeError> for Error {
    fn from(e: tauri::plugin::mobile::PluginInvokeError) -> Self {
        let text = e.to_string();
        // The native side names this case with a fixed word, so the app can ask to unlock.
        if text.contains("notAuthenticated") {
            Error::NotAuthenticated
        } else {
            Error::Platform(text)
        }
    }
}

/// What the door card's service hands up: one command APDU, or the field gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Apdu(Vec<u8>),
    FieldOff,
}

/// A key made in secure hardware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedKey {
    /// The public key as the platform gives it: X.509 SubjectPublicKeyInfo (Android) or the
    /// uncompressed point (iOS).
    pub public_key: Vec<u8>,
    /// Android key attestation: the certificate chain, leaf first (DER).
    pub attestation_chain: Vec<Vec<u8>>,
    /// iOS App Attest, where available: the key's identifier and the attestation object.
    pub app_attest: Option<(String, Vec<u8>)>,
    /// Whether the key lives in a separate secure element (StrongBox) rather than the TEE.
    pub strongbox: bool,
}

pub struct Doorstep<R: Runtime>(PluginHandle<R>);

pub trait DoorstepExt<R: Runtime> {
    fn doorstep(&self) -> &Doorstep<R>;
}

impl<R: Runtime, T: Manager<R>> DoorstepExt<R> for T {
    fn doorstep(&self) -> &Doorstep<R> {
        self.state::<Doorstep<R>>().inner()
    }
}

#[derive(Serialize)]
struct Bytes<'a> {
    #[serde(serialize_with = "as_base64")]
    apdu: &'a [u8],
}

fn as_base64<S: serde::Serializer>(bytes: &&[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&BASE64.encode(bytes))
}

#[derive(Deserialize)]
struct ApduReply {
    apdu: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FromCard {
    apdu: Option<String>,
    #[serde(default)]
    deactivated: bool,
}

#[derive(Serialize)]
struct CardArgs {
    apdus: Channel<serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyArgs<'a> {
    alias: &'a str,
    challenge: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyReply {
    public_key: Option<String>,
    #[serde(default)]
    chain: Vec<String>,
    app_attest_key_id: Option<String>,
    app_attest: Option<String>,
    #[serde(default)]
    strong_box: bool,
    signature: Option<String>,
}

fn decode(text: &str) -> Result<Vec<u8>, Error> {
    BASE64.decode(text).map_err(|_| Error::Unreadable)
}

impl<R: Runtime> Doorstep<R> {
    pub(crate) fn new(handle: PluginHandle<R>) -> Self {
        Self(handle)
    }

    /// Android: the door card answers from now on; every APDU and the field going away reach
    /// `on_incoming`, which must answer each APDU with [`Self::card_respond`].
    pub fn card_enable(
        &self,
        on_incoming: impl Fn(Incoming) + Send + Sync + 'static,
    ) -> Result<(), Error> {
        let apdus = Channel::new(move |body: InvokeResponseBody| {
            let parsed: Option<FromCard> = match body {
                InvokeResponseBody::Json(text) => serde_json::from_str(&text).ok(),
                InvokeResponseBody::Raw(_) => None,
            };
            match parsed {
                Some(FromCard {
                    deactivated: true, ..
                }) => on_incoming(Incoming::FieldOff),
                Some(FromCard {
                    apdu: Some(apdu), ..
                }) => {
                    // An unreadable APDU is answered as an empty one: the card's framing gives
                    // it a status word.
                    on_incoming(Incoming::Apdu(BASE64.decode(apdu).unwrap_or_default()))
                }
                _ => {}
            }
            Ok(())
        });
        self.0
            .run_mobile_plugin::<()>("cardEnable", CardArgs { apdus })?;
        Ok(())
    }

    /// The response APDU to the last command APDU.
    pub fn card_respond(&self, apdu: &[u8]) -> Result<(), Error> {
        self.0
            .run_mobile_plugin::<()>("cardRespond", Bytes { apdu })?;
        Ok(())
    }

    /// The door screen is gone: the card answers `6985` until enabled again.
    pub fn card_disable(&self) -> Result<(), Error> {
        self.0.run_mobile_plugin::<()>("cardDisable", ())?;
        Ok(())
    }

    /// Waits until an agent's phone is in the field and connected (ISO-DEP), or fails.
    pub fn reader_start(&self) -> Result<(), Error> {
        self.0.run_mobile_plugin::<()>("readerStart", ())?;
        Ok(())
    }

    /// One command APDU to the agent's phone; its response APDU back.
    pub fn reader_transceive(&self, apdu: &[u8]) -> Result<Vec<u8>, Error> {
        let reply: ApduReply = self
            .0
            .run_mobile_plugin("readerTransceive", Bytes { apdu })?;
        decode(&reply.apdu)
    }

    pub fn reader_stop(&self) -> Result<(), Error> {
        self.0.run_mobile_plugin::<()>("readerStop", ())?;
        Ok(())
    }

    /// Creates the device key under `alias` in secure hardware (P-256, non-exportable, its use
    /// gated by the person's authentication), attested over `challenge` where the platform can.
    pub fn key_create(&self, alias: &str, challenge: &[u8]) -> Result<CreatedKey, Error> {
        let reply: KeyReply = self.0.run_mobile_plugin(
            "keyCreate",
            KeyArgs {
                alias,
                challenge: Some(BASE64.encode(challenge)),
                message: None,
            },
        )?;
        let public_key = decode(reply.public_key.as_deref().ok_or(Error::Unreadable)?)?;
        let attestation_chain = reply
            .chain
            .iter()
            .map(|c| decode(c))
            .collect::<Result<_, _>>()?;
        let app_attest = match (reply.app_attest_key_id, reply.app_attest) {
            (Some(id), Some(object)) => Some((id, decode(&object)?)),
            _ => None,
        };
        Ok(CreatedKey {
            public_key,
            attestation_chain,
            app_attest,
            strongbox: reply.strong_box,
        })
    }

    /// The key's public key, if the key exists.
    pub fn key_public(&self, alias: &str) -> Result<Option<Vec<u8>>, Error> {
        let reply: KeyReply = self.0.run_mobile_plugin(
            "keyPublic",
            KeyArgs {
                alias,
                challenge: None,
                message: None,
            },
        )?;
        reply.public_key.as_deref().map(decode).transpose()
    }

    /// An ECDSA P-256 / SHA-256 signature over `message`, DER as the hardware gives it (its
    /// `s` may be high; the core normalises it).
    pub fn key_sign(&self, alias: &str, message: &[u8]) -> Result<Vec<u8>, Error> {
        let reply: KeyReply = self.0.run_mobile_plugin(
            "keySign",
            KeyArgs {
                alias,
                challenge: None,
                message: Some(BASE64.encode(message)),
            },
        )?;
        decode(reply.signature.as_deref().ok_or(Error::Unreadable)?)
    }
}
