//! What a phone does with Doorstep, as plain async calls returning plain data. The app's
//! commands (Tauri, or any other shell) translate to and from these and hold no logic.
//!
//! A [`Device`] owns the offline store and the device's signing key; the doorstep flows keep
//! their state in the store after every step, so a restart or a crash mid-visit resumes.

use std::path::Path;
use std::sync::Arc;

use doorstep_core::pins::{PinnedOrganisation, Pins};
use doorstep_core::system::{Clock, SystemRandomness};
use doorstep_core::{Code, SoftwareKey};
use doorstep_store::{KeyProvider, Store, StoreError};
use doorstep_sync::{Client, DeviceSigner, Progress, Syncer};

mod agent;
mod customer;
mod error;
mod hardware;
mod lock;
mod tap;
pub mod views;

pub use error::{DeviceError, ErrorKind};
pub use hardware::{KeyHome, public_key_from_platform, signature_from_platform};
pub use lock::DEFAULT_IDLE_MINUTES;
pub use tap::{DoorCard, TapAnswered, TapEvent};
use views::{CodeView, EnrolmentView, NewDeviceView, PinnedOrganisationView, Status, SyncView};

/// The checkpoint holding the time of the last complete sync.
pub const LAST_SYNC: &str = doorstep_sync::LAST_SYNC_CHECKPOINT;

pub struct Device {
    store: Store,
    key: Arc<dyn DeviceSigner>,
    clock: Clock,
    /// The organisations this build trusts; enrolment goes only to these.
    pins: Pins,
    lock: lock::AppLock,
}

impl Device {
    /// Opens the device's store in `dir` (creating it on first use) with its data key from
    /// `keys`, and loads the device's signing key, making one on first use. `pins` are the
    /// organisations the build trusts, checked here.
    pub async fn open(
        dir: &Path,
        keys: &dyn KeyProvider,
        clock: Clock,
        pins: Pins,
    ) -> Result<Self, DeviceError> {
        Self::open_with(dir, keys, clock, pins, KeyHome::Store).await
    }

    /// As [`Device::open`], with the signing key where `home` says: a phone build passes its
    /// secure hardware, and the store then holds no private key.
    pub async fn open_with(
        dir: &Path,
        keys: &dyn KeyProvider,
        clock: Clock,
        pins: Pins,
        home: KeyHome,
    ) -> Result<Self, DeviceError> {
        let pins = pins.checked()?;
        std::fs::create_dir_all(dir).map_err(|e| {
            DeviceError::new(
                ErrorKind::Storage,
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
        let store = Store::open(&dir.join("device.db"), keys).await?;
        let key: Arc<dyn DeviceSigner> = match home {
            KeyHome::Signer(signer) => signer,
            KeyHome::Store => Arc::new(match store.device_secret().await? {
                Some(secret) => SoftwareKey::from_bytes(&secret)
                    .map_err(|_| StoreError::Damaged("device_secret: not a P-256 key".into()))?,
                None => {
                    let key = SoftwareKey::generate(&mut SystemRandomness);
                    store.put_device_secret(&key.to_bytes()).await?;
                    key
                }
            }),
        };
        let device = Self {
            store,
            key,
            clock,
            pins,
            lock: lock::AppLock::new(Some(DEFAULT_IDLE_MINUTES)),
        };
        // A phone left off for weeks erases what it should no longer hold before showing anything.
        device.purge().await?;
        Ok(device)
    }

    /// Sets how many idle minutes lock the agent role again; `None` removes the lock, for a
    /// desktop host with no platform prompt (tests, the demo). Phones keep the default.
    pub fn set_lock(&mut self, idle_minutes: Option<u64>) {
        self.lock = lock::AppLock::new(idle_minutes);
    }

    /// The platform's prompt passed (the shell ran it): the agent role opens.
    pub fn unlock(&self) {
        self.lock.unlock(self.now());
    }

    pub fn lock(&self) {
        self.lock.lock();
    }

    /// Every call of the agent role goes through here first: it reveals customer data or
    /// signs at the door.
    pub(crate) fn unlocked(&self) -> Result<(), DeviceError> {
        self.lock.use_now(self.now())
    }

    pub async fn close(self) {
        self.store.close().await;
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Every signature the device key makes at the door goes through here.
    fn sign(&self, message: &[u8]) -> Result<doorstep_core::Signature, DeviceError> {
        Ok(self.key.sign(message)?)
    }

    pub async fn status(&self) -> Result<Status, DeviceError> {
        let enrolment = match self.store.enrolment().await {
            Ok(e) => Some(EnrolmentView::from(&e)),
            Err(StoreError::NotEnrolled) => None,
            Err(e) => return Err(e.into()),
        };
        let last_sync = self
            .store
            .checkpoint(LAST_SYNC)
            .await?
            .and_then(|t| t.parse().ok());
        let standing = doorstep_sync::standing(&self.store).await?;
        let locked = enrolment
            .as_ref()
            .is_some_and(|e| e.role == doorstep_core::Role::Agent)
            && self.lock.is_locked(self.now());
        Ok(Status {
            locked,
            held_until: standing.held_until,
            new_device: standing.new_device.map(|n| NewDeviceView {
                enrolled_at: n.enrolled_at,
                takes_over_at: n.takes_over_at,
            }),
            development: self.pins.development,
            organisations: self
                .pins
                .organisations
                .iter()
                .map(PinnedOrganisationView::from)
                .collect(),
            enrolment,
            pending_uploads: self.store.pending_uploads().await?,
            rejected_uploads: self.store.rejected_uploads().await?.len() as u64,
            last_sync,
        })
    }

    /// The organisation an enrolment code leads to, for the person to confirm before anything
    /// is sent: an invite (`DS2E:`) names its back-office, which must be pinned; a typed code
    /// goes to the pinned organisation chosen (or the only one).
    fn destination(
        &self,
        code: &str,
        organisation: Option<&str>,
    ) -> Result<(String, &PinnedOrganisation), DeviceError> {
        let code = code.trim();
        // A typed code has no colon; anything with one is read as a code of its own kind.
        if code.contains(':') {
            let invite = Code::from_text(code)?.into_enrolment()?;
            let pin = self.pins.for_back_office(&invite.server_url)?;
            return Ok((invite.code.to_typed(), pin));
        }
        let typed = doorstep_core::enrolment::EnrolmentCode::from_typed(code)?.to_typed();
        let chosen = organisation.map(str::trim).filter(|o| !o.is_empty());
        let pin = match (chosen, self.pins.organisations.as_slice()) {
            (Some(name), _) => self.pins.by_name(name).ok_or_else(|| {
                doorstep_core::Error::OrganisationNotPinned {
                    back_office: name.to_string(),
                }
            })?,
            (None, [only]) => only,
            (None, []) => {
                return Err(doorstep_core::Error::BadPins {
                    reason: "this build trusts no organisation".into(),
                }
                .into());
            }
            (None, _) => {
                return Err(DeviceError::new(
                    ErrorKind::ChooseOrganisation,
                    "Choose the organisation that sent you the code.",
                ));
            }
        };
        Ok((typed, pin))
    }

    /// Where the code would enrol this device, from the pin: the name, the https address and
    /// the official number the person confirms before [`Device::enrol`].
    pub async fn enrolment_offer(
        &self,
        code: &str,
        organisation: Option<&str>,
    ) -> Result<PinnedOrganisationView, DeviceError> {
        self.refuse_if_enrolled().await?;
        let (_, pin) = self.destination(code, organisation)?;
        Ok(PinnedOrganisationView::from(pin))
    }

    /// Enrols with what the person scanned or typed, once they confirmed the organisation.
    pub async fn enrol(
        &self,
        code: &str,
        organisation: Option<&str>,
    ) -> Result<EnrolmentView, DeviceError> {
        self.refuse_if_enrolled().await?;
        let (typed, pin) = self.destination(code, organisation)?;
        let enrolment =
            doorstep_sync::enrol(&self.store, pin, &typed, &*self.key, self.now()).await?;
        Ok(EnrolmentView::from(&enrolment))
    }

    async fn refuse_if_enrolled(&self) -> Result<(), DeviceError> {
        match self.store.enrolment().await {
            Ok(existing) => Err(DeviceError::new(
                ErrorKind::AlreadyEnrolled,
                format!(
                    "This device is already enrolled with {}.",
                    existing.organisation_name
                ),
            )),
            Err(StoreError::NotEnrolled) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Pushes what is waiting and pulls the day's visits or notices; `progress` hears about
    /// every batch.
    pub async fn sync(
        &self,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<SyncView, DeviceError> {
        let url = self.store.enrolment().await?.server_url;
        let mut syncer = Syncer::new(
            &self.store,
            Client::new(&url)?,
            self.key.clone(),
            self.clock.clone(),
        );
        let synced = syncer.sync(progress).await;
        // Retention runs after every sync, whether it got through or not.
        self.purge().await?;
        let report = synced?;
        Ok(SyncView {
            stored: report.stored + report.already_stored,
            rejected: report.rejected,
            pending: report.pending,
            visits: report.visits as u64,
            notices: report.notices as u64,
            clock_offset: report.clock_offset,
        })
    }

    /// Erases what the organisation's retention period no longer allows the device to keep
    /// (`Store::purge`); run when the device opens and after every sync. Nothing to do before
    /// enrolment.
    pub async fn purge(&self) -> Result<doorstep_store::PurgeReport, DeviceError> {
        match self.store.enrolment().await {
            Ok(e) => Ok(self.store.purge(self.now(), e.retention_days).await?),
            Err(StoreError::NotEnrolled) => Ok(doorstep_store::PurgeReport::default()),
            Err(e) => Err(e.into()),
        }
    }
}

/// The Doorstep code in a picture (a photo of a screen, a screenshot): every QR symbol is
/// decoded and the first Doorstep code among them returned as text.
pub fn decode_image(bytes: &[u8]) -> Result<String, DeviceError> {
    let texts = doorstep_qr::decode_png(bytes).map_err(|e| {
        let kind = match e {
            doorstep_qr::QrError::TooLarge(_) => ErrorKind::ImageTooLarge,
            _ => ErrorKind::NoCodeInImage,
        };
        DeviceError::new(kind, e.to_string())
    })?;
    texts
        .into_iter()
        .find(|t| doorstep_core::codec::decode_text(t).is_ok())
        .ok_or_else(|| {
            DeviceError::new(
                ErrorKind::NoCodeInImage,
                "The picture holds no Doorstep code.",
            )
        })
}

/// As [`decode_image`], for a picture the views send as Base64; text longer than the largest
/// picture read is refused before it is decoded.
pub fn decode_image_base64(text: &str) -> Result<String, DeviceError> {
    use base64::Engine;
    let text = text.trim();
    if text.len() > doorstep_qr::MAX_IMAGE_BYTES.div_ceil(3) * 4 {
        return Err(DeviceError::new(
            ErrorKind::ImageTooLarge,
            format!(
                "The picture is larger than the {} bytes the app reads.",
                doorstep_qr::MAX_IMAGE_BYTES
            ),
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| {
            DeviceError::new(ErrorKind::NoCodeInImage, "The picture could not be read.")
        })?;
    decode_image(&bytes)
}

/// A code as text and as an SVG symbol for the screen.
pub fn render(code: &Code) -> Result<CodeView, DeviceError> {
    CodeView::new(code.to_text())
}
