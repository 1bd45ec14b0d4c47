//! Visits over NFC through a real PC/SC stack: pcscd with vsmartcard's virtual reader
//! (`scripts/with-pcscd.sh`), the agent's phone as a virtual card behind it, the customer's
//! phone reading through the `pcsc` crate — the same calls the apps make. Every attack the QR
//! path refuses is refused here, by the same side, with the same error.

mod common;

use std::sync::{Arc, Mutex};

use common::reader::{AgentAtReader, Counting, READER, hold, pcsc_setup};
use common::{World, enrolled, world};
use doorstep_core::{Code, CodeKind, Outcome, codec};
use doorstep_device::{Device, DeviceError, ErrorKind, TapEvent};
use doorstep_nfc::{Answer, Card, Reader, Request, Step, Transport, TransportError};

/// An accomplice between the two phones: a card facing the customer's phone, a reader facing
/// the agent's, whole messages passed on — changed by `tamper` on the way.
struct Relay<T, F> {
    toward_agent: Reader<T>,
    toward_customer: Card,
    tamper: F,
}

/// Which message the relay is passing on, and which way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leg {
    Challenge,
    Proof,
    FullProof,
    Response,
    Receipt,
}

impl<T: Transport, F: FnMut(Leg, Vec<u8>) -> Vec<u8>> Relay<T, F> {
    fn new(transport: T, tamper: F) -> Self {
        let mut toward_customer = Card::new();
        toward_customer.arm();
        Self {
            toward_agent: Reader::new(transport),
            toward_customer,
            tamper,
        }
    }

    fn pass_on(&mut self, request: Request) -> Answer {
        let agent = &mut self.toward_agent;
        let tamper = &mut self.tamper;
        let result = agent.select().and_then(|()| match request {
            Request::Challenge(c) => agent.challenge(&tamper(Leg::Challenge, c)).and_then(|p| {
                match tamper(Leg::Proof, p) {
                    // Empty: pass on the proof with the whole ticket instead.
                    p if p.is_empty() => agent.full_proof(),
                    p => Ok(p),
                }
            }),
            Request::FullProof => agent.full_proof().map(|p| tamper(Leg::FullProof, p)),
            Request::Response(r) => agent
                .response(&tamper(Leg::Response, r))
                .map(|()| Vec::new()),
            Request::Receipt => agent.receipt().map(|r| tamper(Leg::Receipt, r)),
        });
        match result {
            Ok(data) => Answer::Data(data),
            Err(doorstep_nfc::NfcError::NotYet) => Answer::NotYet,
            Err(doorstep_nfc::NfcError::Refused { reason }) => Answer::Refused(reason),
            Err(e) => Answer::Refused(format!("relay:{e}")),
        }
    }
}

impl<T: Transport, F: FnMut(Leg, Vec<u8>) -> Vec<u8>> Transport for Relay<T, F> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        Ok(match self.toward_customer.command(command) {
            Step::Reply(reply) => reply,
            Step::Ask(request) => {
                let answer = self.pass_on(request);
                self.toward_customer.answer(answer)
            }
        })
    }
}

/// The link breaks after `left` more commands, as when the customer pulls the phone away.
struct Parting<T> {
    inner: T,
    left: usize,
}

impl<T: Transport> Transport for Parting<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        if self.left == 0 {
            return Err(TransportError("the card left the field".into()));
        }
        self.left -= 1;
        self.inner.transmit(command)
    }
}

struct Door {
    w: World,
    agent: Arc<Device>,
    customer: Device,
    at_reader: AgentAtReader,
    reader: String,
    visit: String,
    later_visit: String,
}

async fn door(vpcd_address: &str, reader: &str) -> Door {
    let w = world().await;
    let (agent_dir, customer_dir, visit, later_visit) = enrolled(&w).await;
    let agent = Arc::new(w.open(&agent_dir).await);
    let customer = w.open(&customer_dir).await;
    let at_reader = AgentAtReader::present(agent.clone(), vpcd_address);
    Door {
        w,
        agent,
        customer,
        at_reader,
        reader: reader.to_string(),
        visit,
        later_visit,
    }
}

fn refused_kinds(events: &[TapEvent]) -> Vec<ErrorKind> {
    events
        .iter()
        .filter_map(|e| match e {
            TapEvent::Refused { error } => Some(error.kind),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_visit_over_nfc_through_pcscd() {
    let Some((vpcd_address, reader)) = pcsc_setup() else {
        return;
    };
    let _turn = READER.lock().await;
    let d = door(&vpcd_address, &reader).await;

    // The door screen is not up: the agent's phone answers nothing.
    let mut card = hold(&d.reader);
    let not_ready = d
        .customer
        .customer_tap_agent(&d.visit, &mut card, false)
        .await
        .unwrap_err();
    assert_eq!(not_ready.kind, ErrorKind::AgentNotReady);
    drop(card);

    // First hold: challenge in, proof out, checked as a scanned proof is.
    d.at_reader.arm(&d.visit);
    let mut counted = Counting {
        inner: hold(&d.reader),
        commands: 0,
        bytes: 0,
    };
    let confirmed = d
        .customer
        .customer_tap_agent(&d.visit, &mut counted, false)
        .await
        .unwrap();
    assert_eq!(confirmed.terms.agent_name, "Sanne de Vries");
    let (first_commands, first_bytes) = (counted.commands, counted.bytes);
    drop(counted);
    let events = d.at_reader.take_events();
    let [TapEvent::ProofGiven { confirmation_code }] = events.as_slice() else {
        panic!("{events:?}");
    };

    // The photo question and the code aloud, on each phone's own screen.
    let code = d
        .customer
        .customer_person_at_door(&d.visit, true)
        .await
        .unwrap();
    assert_eq!(&code.confirmation_code, confirmation_code);
    d.customer
        .customer_compare_code(&d.visit, true)
        .await
        .unwrap();

    // Second hold before the agent said "same": not yet, and nothing opened.
    let mut card = hold(&d.reader);
    let early = d
        .customer
        .customer_tap_answer(&d.visit, &mut card)
        .await
        .unwrap_err();
    assert_eq!(
        (early.kind, early.transient),
        (ErrorKind::AgentNotReady, true)
    );
    drop(card);
    assert!(d.at_reader.take_events().is_empty());

    d.agent.agent_compare_code(&d.visit, true).await.unwrap();
    let mut counted = Counting {
        inner: hold(&d.reader),
        commands: 0,
        bytes: 0,
    };
    let answered = d
        .customer
        .customer_tap_answer(&d.visit, &mut counted)
        .await
        .unwrap();
    assert_eq!(
        answered.receipt, None,
        "the agent has not recorded the visit yet"
    );
    let (second_commands, second_bytes) = (counted.commands, counted.bytes);
    drop(counted);
    let events = d.at_reader.take_events();
    let [TapEvent::CustomerConfirmed { confirmed }] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(
        confirmed.customer_data.keys().collect::<Vec<_>>(),
        ["full_name"],
        "only the fields the ticket allows"
    );

    // The agent records the visit; the next hold brings the receipt.
    d.agent
        .agent_record_outcome(&d.visit, Outcome::Verified, &["card_handover".into()], "")
        .await
        .unwrap();
    let mut counted = Counting {
        inner: hold(&d.reader),
        commands: 0,
        bytes: 0,
    };
    let kept = d
        .customer
        .customer_tap_receipt(&d.visit, &mut counted)
        .await
        .unwrap();
    assert_eq!(kept.agent_outcome, Some(Outcome::Verified));
    assert_eq!(kept.confirmation_code, code.confirmation_code);
    assert_eq!(d.at_reader.take_events(), [TapEvent::ReceiptGiven]);
    eprintln!(
        "tap figures: hold 1 {first_commands} APDUs {first_bytes} B; hold 2 {second_commands} \
         APDUs {second_bytes} B; receipt {} APDUs {} B",
        counted.commands, counted.bytes
    );
    drop(counted);

    // The result reaches the back-office as a QR visit's does.
    let synced = d.agent.sync(&mut |_| {}).await.unwrap();
    assert_eq!((synced.stored, synced.pending), (1, 0));
    let org = d.w.db.organisation(common::ORG).await.unwrap();
    let export = d.w.db.export(&org).await.unwrap();
    assert_eq!((export.len(), export[0].outcome.as_str()), (1, "verified"));
}

/// Through a relay that changes one leg: the refusal over NFC, and the same bytes refused with
/// the same error when scanned as a QR code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tampering_is_refused_as_the_qr_path_refuses_it() {
    let Some((vpcd_address, reader)) = pcsc_setup() else {
        return;
    };
    let _turn = READER.lock().await;
    let d = door(&vpcd_address, &reader).await;
    d.at_reader.arm(&d.visit);

    let flip_last = |mut m: Vec<u8>| {
        let n = m.len();
        m[n - 3] ^= 0x01;
        m
    };
    type Tamper = Box<dyn Fn(Vec<u8>) -> Vec<u8> + Send>;
    let tampered_proofs: Vec<(&str, Tamper, ErrorKind)> = vec![
        (
            "signature flipped",
            Box::new(flip_last),
            ErrorKind::BadProofSignature,
        ),
        (
            "cut short",
            Box::new(|m: Vec<u8>| m[..m.len() / 2].to_vec()),
            ErrorKind::MalformedCode,
        ),
    ];
    for (what, tamper, expected) in tampered_proofs {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = seen.clone();
        let mut relay = Relay::new(hold(&d.reader), move |leg, m| {
            if leg == Leg::Proof {
                let m = tamper(m);
                *kept.lock().unwrap() = m.clone();
                m
            } else {
                m
            }
        });
        let refused = d
            .customer
            .customer_tap_agent(&d.visit, &mut relay, true)
            .await
            .unwrap_err();
        assert_eq!(refused.kind, expected, "{what}: {refused:?}");
        let as_qr = codec::encode_text(CodeKind::Proof, &seen.lock().unwrap());
        let scanned = d
            .customer
            .customer_scan_proof(&d.visit, &as_qr)
            .await
            .unwrap_err();
        assert_eq!(scanned.kind, expected, "{what}, scanned");
        drop(relay);
    }

    // The proof with the whole ticket (several hundred bytes, in GET RESPONSE pieces on both
    // sides of the relay) passes as the short one does.
    let mut counted = Counting {
        inner: hold(&d.reader),
        commands: 0,
        bytes: 0,
    };
    let mut relay = Relay::new(
        &mut counted,
        |leg, m| {
            if leg == Leg::Proof { Vec::new() } else { m }
        },
    );
    let confirmed = d
        .customer
        .customer_tap_agent(&d.visit, &mut relay, true)
        .await
        .unwrap();
    assert_eq!(confirmed.terms.agent_name, "Sanne de Vries");
    drop(relay);
    assert!(counted.bytes > 600, "{} bytes", counted.bytes);
    eprintln!(
        "tap figures: hold 1 with the whole ticket {} APDUs {} B",
        counted.commands, counted.bytes
    );
    drop(counted);

    // A replayed proof: one the agent's phone gave for an earlier challenge, passed on as the
    // answer to a fresh one.
    let earlier = {
        let mut card = hold(&d.reader);
        d.customer
            .customer_tap_agent(&d.visit, &mut card, true)
            .await
            .unwrap();
        let mut reader = Reader::new(&mut card);
        reader.select().unwrap();
        reader.full_proof().unwrap()
    };
    let replay = earlier.clone();
    let mut relay = Relay::new(hold(&d.reader), move |leg, m| {
        if leg == Leg::Proof { replay.clone() } else { m }
    });
    let replayed = d
        .customer
        .customer_tap_agent(&d.visit, &mut relay, true)
        .await
        .unwrap_err();
    assert_eq!(replayed.kind, ErrorKind::NonceMismatch);
    drop(relay);
    let scanned = d
        .customer
        .customer_scan_proof(&d.visit, &codec::encode_text(CodeKind::Proof, &earlier))
        .await
        .unwrap_err();
    assert_eq!(scanned.kind, ErrorKind::NonceMismatch);

    // A challenge for another visit, passed to this visit's door: the agent's phone refuses it,
    // as when scanned, and the customer's phone hears why.
    d.at_reader.take_events();
    let wrong = d
        .customer
        .customer_tap_agent(&d.later_visit, &mut hold(&d.reader), true)
        .await
        .unwrap_err();
    assert_eq!(wrong.kind, ErrorKind::WrongVisit);
    assert_eq!(
        refused_kinds(&d.at_reader.take_events()),
        [ErrorKind::WrongVisit]
    );
    let challenge = d
        .customer
        .customer_challenge(&d.later_visit, false)
        .await
        .unwrap();
    let scanned = d
        .agent
        .agent_scan_challenge(&d.visit, &challenge.text)
        .await
        .unwrap_err();
    assert_eq!(scanned.kind, ErrorKind::WrongVisit);

    // A response changed on its way: the agent's phone refuses it and opens nothing.
    d.customer
        .customer_tap_agent(&d.visit, &mut hold(&d.reader), true)
        .await
        .unwrap();
    d.customer
        .customer_person_at_door(&d.visit, true)
        .await
        .unwrap();
    let response = d
        .customer
        .customer_compare_code(&d.visit, true)
        .await
        .unwrap();
    d.agent.agent_compare_code(&d.visit, true).await.unwrap();
    d.at_reader.take_events();
    let mut relay = Relay::new(hold(&d.reader), move |leg, m| {
        if leg == Leg::Response {
            flip_last(m)
        } else {
            m
        }
    });
    let refused = d
        .customer
        .customer_tap_answer(&d.visit, &mut relay)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::BadResponseSignature);
    drop(relay);
    let events = d.at_reader.take_events();
    assert_eq!(refused_kinds(&events), [ErrorKind::BadResponseSignature]);
    let bytes = Code::from_text(&response.text).unwrap().to_bytes();
    let scanned = d
        .agent
        .agent_scan_response(
            &d.visit,
            &codec::encode_text(CodeKind::Response, &flip_last(bytes)),
        )
        .await
        .unwrap_err();
    assert_eq!(scanned.kind, ErrorKind::BadResponseSignature);

    // The phones part halfway through the answer; the next hold goes on where it stopped.
    let mut parting = Parting {
        inner: hold(&d.reader),
        left: 2,
    };
    let lost: DeviceError = d
        .customer
        .customer_tap_answer(&d.visit, &mut parting)
        .await
        .unwrap_err();
    assert_eq!((lost.kind, lost.transient), (ErrorKind::NfcLinkLost, true));
    drop(parting);
    // The response got through before the link broke; sent again, it changes nothing.
    let answered = d
        .customer
        .customer_tap_answer(&d.visit, &mut hold(&d.reader))
        .await
        .unwrap();
    assert_eq!(answered.receipt, None);
    assert!(matches!(
        d.at_reader.take_events().as_slice(),
        [
            TapEvent::CustomerConfirmed { .. },
            TapEvent::CustomerConfirmed { .. }
        ]
    ));

    // A receipt changed on its way is not kept.
    d.agent
        .agent_record_outcome(&d.visit, Outcome::Verified, &[], "")
        .await
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    let mut relay = Relay::new(hold(&d.reader), move |leg, m| {
        if leg == Leg::Receipt {
            let m = flip_last(m);
            *kept.lock().unwrap() = m.clone();
            m
        } else {
            m
        }
    });
    let refused = d
        .customer
        .customer_tap_receipt(&d.visit, &mut relay)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::BadReceiptSignature);
    drop(relay);
    let as_qr = codec::encode_text(CodeKind::Receipt, &seen.lock().unwrap());
    let scanned = d
        .customer
        .customer_scan_receipt(&d.visit, &as_qr)
        .await
        .unwrap_err();
    assert_eq!(scanned.kind, ErrorKind::BadReceiptSignature);

    // Once the door screen is gone, the agent's phone answers nothing.
    d.at_reader.disarm();
    let gone = d
        .customer
        .customer_tap_receipt(&d.visit, &mut hold(&d.reader))
        .await
        .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::AgentNotReady);
}
