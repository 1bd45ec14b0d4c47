//! The agent's phone behind a private pcscd's virtual reader, and the customer's holds.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use doorstep_device::{Device, DoorCard, TapEvent};
use doorstep_nfc::pcsc::PcscCard;
use doorstep_nfc::vpcd::{self, VirtualCard};
use doorstep_nfc::{Transport, TransportError};

/// One virtual reader: the tests take turns.
pub static READER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn pcsc_setup() -> Option<(String, String)> {
    match (
        std::env::var("DOORSTEP_VPCD"),
        std::env::var("DOORSTEP_PCSC_READER"),
    ) {
        (Ok(vpcd), Ok(reader)) => Some((vpcd, reader)),
        _ if std::env::var("DOORSTEP_REQUIRE_PCSCD").as_deref() == Ok("1") => {
            panic!("DOORSTEP_REQUIRE_PCSCD=1 but no pcscd: run under scripts/with-pcscd.sh")
        }
        _ => {
            eprintln!("skipped: no pcscd with a virtual reader (scripts/with-pcscd.sh)");
            None
        }
    }
}

/// The agent's phone held to the reader: its door card answered from a thread of its own, as
/// Android's card emulation service calls into the app. One virtual card stays connected to
/// vpcd for the whole test binary (pcscd loses the first APDU to a card that reconnects); each
/// test puts its own agent's phone behind it.
pub struct AgentAtReader {
    door: Arc<Mutex<DoorCard>>,
    events: Arc<Mutex<Vec<TapEvent>>>,
}

struct ServedCard {
    runtime: tokio::runtime::Handle,
    device: Arc<Device>,
    door: Arc<Mutex<DoorCard>>,
    events: Arc<Mutex<Vec<TapEvent>>>,
}

/// The card behind vpcd: the current test's agent, or nobody (an unarmed answer).
static BEHIND_READER: Mutex<Option<ServedCard>> = Mutex::new(None);
static VPCD_LINK: OnceLock<()> = OnceLock::new();

struct Slot;

impl VirtualCard for Slot {
    fn apdu(&mut self, command: &[u8]) -> Vec<u8> {
        let slot = BEHIND_READER.lock().unwrap();
        let Some(card) = slot.as_ref() else {
            return vec![0x69, 0x85];
        };
        let mut door = card.door.lock().unwrap();
        let (reply, event) = card.runtime.block_on(door.apdu(&card.device, command));
        card.events.lock().unwrap().extend(event);
        reply
    }

    fn field_off(&mut self) {
        if let Some(card) = BEHIND_READER.lock().unwrap().as_ref() {
            card.door.lock().unwrap().field_off();
        }
    }
}

impl AgentAtReader {
    pub fn present(device: Arc<Device>, vpcd_address: &str) -> Self {
        VPCD_LINK.get_or_init(|| {
            let address = vpcd_address.to_string();
            std::thread::spawn(move || {
                vpcd::serve(&address, &mut Slot, &|| true)
                    .expect("the virtual card's link to vpcd");
            });
        });
        let door = Arc::new(Mutex::new(DoorCard::new()));
        let events = Arc::new(Mutex::new(Vec::new()));
        *BEHIND_READER.lock().unwrap() = Some(ServedCard {
            runtime: tokio::runtime::Handle::current(),
            device,
            door: door.clone(),
            events: events.clone(),
        });
        Self { door, events }
    }

    pub fn arm(&self, visit: &str) {
        self.door.lock().unwrap().arm(visit);
    }

    pub fn disarm(&self) {
        self.door.lock().unwrap().disarm();
    }

    pub fn take_events(&self) -> Vec<TapEvent> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

impl Drop for AgentAtReader {
    fn drop(&mut self) {
        *BEHIND_READER.lock().unwrap() = None;
    }
}

/// One hold of the customer's phone: connected until dropped (the card is then powered off,
/// as when the phones part). pcscd needs a moment to notice a card that just connected.
pub fn hold(reader: &str) -> PcscCard {
    for _ in 0..100 {
        if let Ok(card) = PcscCard::connect(reader) {
            return card;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no card appeared in {reader}");
}

/// Counts what crosses, as the figures in docs/benchmarks.md do.
pub struct Counting<T> {
    pub inner: T,
    pub commands: usize,
    pub bytes: usize,
}

impl<T: Transport> Transport for Counting<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let reply = self.inner.transmit(command)?;
        self.commands += 1;
        self.bytes += command.len() + reply.len();
        Ok(reply)
    }
}
