//! Two devices (agent and customer) against a real back-office served on loopback, through
//! the same calls the app's commands make. Devices are closed and reopened between steps, as
//! an app killed mid-visit would be.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{ORG, enrolled, world};
use doorstep_core::Outcome;
use doorstep_core::Role;
use doorstep_core::system::unix_now as now;
use doorstep_device::{Device, ErrorKind};
use doorstep_server::db::organisations::Organisation;
use doorstep_server::testing::{Backoffice, organisation};
use doorstep_store::FileKeyProvider;

#[tokio::test]
async fn a_visit_completes_across_restarts_and_reaches_the_back_office() {
    let w = world().await;
    let (agent_dir, customer_dir, visit, _) = enrolled(&w).await;

    let customer = w.open(&customer_dir).await;
    let notice = &customer.customer_visits().await.unwrap()[0];
    assert_eq!(notice.terms.agent_name, "Sanne de Vries");
    assert_eq!(notice.terms.fields, ["full_name"]);
    let status = customer.status().await.unwrap();
    assert_eq!(
        status.enrolment.unwrap().official_phone,
        "+31 20 555 0100",
        "the number to call comes from the pin"
    );
    assert!(status.development);
    let challenge = customer.customer_challenge(&visit, false).await.unwrap();
    customer.close().await;

    let agent = w.open(&agent_dir).await;
    let listed = agent.agent_visits().await.unwrap();
    assert_eq!(listed[0].address.as_deref(), Some("Kerkstraat 1"));
    assert_eq!(listed[0].status, "open");
    let proof = agent
        .agent_scan_challenge(&visit, &challenge.text)
        .await
        .unwrap();
    agent.close().await;

    // The customer's app was closed meanwhile: the same challenge is shown again.
    let customer = w.open(&customer_dir).await;
    assert_eq!(
        customer
            .customer_challenge(&visit, false)
            .await
            .unwrap()
            .text,
        challenge.text
    );
    let confirmed = customer
        .customer_scan_proof(&visit, &proof.proof.text)
        .await
        .unwrap();
    assert_eq!(confirmed.terms.agent_name, "Sanne de Vries");
    customer.close().await;

    // Is the person at the door the one in the photo? Yes: the code to read aloud, the same
    // the agent's phone showed beside its proof.
    let customer = w.open(&customer_dir).await;
    let code = customer
        .customer_person_at_door(&visit, true)
        .await
        .unwrap();
    assert_eq!(code.confirmation_code, proof.confirmation_code);
    let response = customer.customer_compare_code(&visit, true).await.unwrap();
    // Shown again after a restart, not signed twice.
    customer.close().await;
    let customer = w.open(&customer_dir).await;
    assert_eq!(
        customer.customer_compare_code(&visit, true).await.unwrap(),
        response
    );
    customer.close().await;

    let agent = w.open(&agent_dir).await;
    // The customer's data opens only after the agent, too, said the codes match.
    let too_early = agent
        .agent_scan_response(&visit, &response.text)
        .await
        .unwrap_err();
    assert_eq!(too_early.kind, ErrorKind::CodesNotCompared);
    agent.agent_compare_code(&visit, true).await.unwrap();
    let verified = agent
        .agent_scan_response(&visit, &response.text)
        .await
        .unwrap();
    assert_eq!(verified.confirmation_code, code.confirmation_code);
    assert_eq!(
        verified.customer_data,
        BTreeMap::from([("full_name".to_string(), "Jan Jansen".to_string())]),
        "only the fields the ticket allows"
    );
    assert_eq!(verified.checks_to_record, ["card_handover"]);
    let receipt = agent
        .agent_record_outcome(&visit, Outcome::Verified, &["card_handover".into()], "")
        .await
        .unwrap();
    assert_eq!(receipt.outcome, Outcome::Verified);
    assert_eq!(receipt.checks_done, ["device_key", "card_handover"]);
    assert_eq!(agent.status().await.unwrap().pending_uploads, 1);
    let synced = agent.sync(&mut |_| {}).await.unwrap();
    assert_eq!((synced.stored, synced.pending), (1, 0));
    assert_eq!(agent.agent_visits().await.unwrap()[0].status, "verified");
    agent.close().await;

    let customer = w.open(&customer_dir).await;
    let kept = customer
        .customer_scan_receipt(&visit, &receipt.code.text)
        .await
        .unwrap();
    assert_eq!(kept.agent_outcome, Some(Outcome::Verified));
    let receipts = customer.customer_receipts().await.unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].confirmation_code, code.confirmation_code);

    let org = w.db.organisation(ORG).await.unwrap();
    let export = w.db.export(&org).await.unwrap();
    assert_eq!((export.len(), export[0].outcome.as_str()), (1, "verified"));
}

#[tokio::test]
async fn wrong_visit_and_replayed_proof_are_refused_with_their_reasons() {
    let w = world().await;
    let (agent_dir, customer_dir, now_visit, later_visit) = enrolled(&w).await;
    let agent = w.open(&agent_dir).await;
    let customer = w.open(&customer_dir).await;

    let challenge = customer
        .customer_challenge(&later_visit, false)
        .await
        .unwrap();
    let refused = agent
        .agent_scan_challenge(&now_visit, &challenge.text)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::WrongVisit);

    // A proof made for an earlier challenge does not answer a fresh one.
    let first = customer
        .customer_challenge(&now_visit, false)
        .await
        .unwrap();
    let proof = agent
        .agent_scan_challenge(&now_visit, &first.text)
        .await
        .unwrap();
    let fresh = customer.customer_challenge(&now_visit, true).await.unwrap();
    assert_ne!(fresh.text, first.text);
    let replayed = customer
        .customer_scan_proof(&now_visit, &proof.proof.text)
        .await
        .unwrap_err();
    assert_eq!(replayed.kind, ErrorKind::NonceMismatch);

    // The wrong kind of code, and a code that is not one at all.
    let wrong_kind = customer
        .customer_scan_proof(&now_visit, &fresh.text)
        .await
        .unwrap_err();
    assert_eq!(wrong_kind.kind, ErrorKind::WrongMessageKind);
    let garbage = customer
        .customer_scan_proof(&now_visit, "DS2P:%%%")
        .await
        .unwrap_err();
    assert_eq!(garbage.kind, ErrorKind::MalformedCode);

    customer
        .customer_report(Some(&now_visit), Some(replayed.kind), "old code shown")
        .await
        .unwrap();
    assert_eq!(customer.status().await.unwrap().pending_uploads, 1);
    assert_eq!(customer.sync(&mut |_| {}).await.unwrap().pending, 0);
}

#[tokio::test]
async fn outcomes_without_a_check_and_enrolment_mistakes() {
    let w = world().await;
    let (agent_dir, _, visit, _) = enrolled(&w).await;
    let agent = w.open(&agent_dir).await;

    let no_check = agent
        .agent_record_outcome(&visit, Outcome::Verified, &[], "")
        .await
        .unwrap_err();
    assert_eq!(no_check.kind, ErrorKind::CustomerNotVerified);
    let receipt = agent
        .agent_record_outcome(&visit, Outcome::NotHome, &[], "rang twice")
        .await
        .unwrap();
    assert_eq!(receipt.outcome, Outcome::NotHome);
    assert_eq!(
        agent.status().await.unwrap().pending_uploads,
        2,
        "receipt and note"
    );
    let synced = agent.sync(&mut |_| {}).await.unwrap();
    assert_eq!((synced.stored, synced.rejected, synced.pending), (2, 0, 0));

    let again = agent.enrol(&w.codes.0, None).await.unwrap_err();
    assert_eq!(again.kind, ErrorKind::AlreadyEnrolled);
    // A typed code goes to the only pinned organisation; this one it never issued.
    let fresh = w.open(&w.root.join("fresh")).await;
    let unknown = fresh.enrol("ABCD-EFGH-JKMN-PQRS", None).await.unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::UnknownEnrolmentCode, "{unknown:?}");
    assert!(!unknown.transient, "{unknown:?}");
    fresh.close().await;
    // With two organisations pinned, the person chooses; an unreachable one is worth retrying.
    let mut two = w.pins();
    two.organisations.push(
        Organisation {
            name: "Southbank".into(),
            ..w.org.clone()
        }
        .pin("http://127.0.0.1:9"),
    );
    let dir = w.root.join("two");
    let fresh = Device::open(
        &dir,
        &FileKeyProvider::new(dir.join("data.key")),
        doorstep_core::system::system_clock(),
        two,
    )
    .await
    .unwrap();
    let unchosen = fresh.enrol("ABCD-EFGH-JKMN-PQRS", None).await.unwrap_err();
    assert_eq!(unchosen.kind, ErrorKind::ChooseOrganisation);
    let offline = fresh
        .enrol("ABCD-EFGH-JKMN-PQRS", Some("Southbank"))
        .await
        .unwrap_err();
    assert!(offline.transient, "{offline:?}");
}

/// The phone scammer's "new security app": an invite to his own back-office, which calls itself
/// Northbank Cards. The phone names the organisation before enrolling, and refuses it.
#[tokio::test]
async fn a_rogue_back_office_s_invite_enrols_nobody_and_nothing_turns_green() {
    let w = world().await;
    let rogue_root = w.root.join("rogue");
    let rogue = Backoffice::create(
        &format!("sqlite:{}", w.root.join("rogue.db").display()),
        &rogue_root,
        &organisation(ORG),
    )
    .await
    .unwrap();
    rogue.add_customer("C-1", &BTreeMap::new()).await.unwrap();
    let rogue_served = rogue.serve().await.unwrap();
    let invite = doorstep_core::Code::Enrolment(
        rogue
            .invite(Role::Customer, "C-1", &rogue_served.url, now())
            .await
            .unwrap(),
    )
    .to_text();
    assert!(invite.starts_with("DS2E:"), "{invite}");

    let customer = w.open(&w.root.join("victim")).await;
    let offer = customer.enrolment_offer(&invite, None).await.unwrap_err();
    assert_eq!(offer.kind, ErrorKind::OrganisationNotPinned, "{offer:?}");
    let enrol = customer.enrol(&invite, None).await.unwrap_err();
    assert_eq!(enrol.kind, ErrorKind::OrganisationNotPinned);
    assert!(
        enrol.message.contains(&rogue_served.url),
        "{}",
        enrol.message
    );
    // Not even an http:// invite for a real-looking name gets a connection.
    let insecure = doorstep_core::Code::Enrolment(doorstep_core::enrolment::EnrolmentInvite {
        server_url: "http://northbank-cards.example".into(),
        organisation_name: ORG.into(),
        code: doorstep_core::enrolment::EnrolmentCode([7; 10]),
    })
    .to_text();
    let refused = customer.enrol(&insecure, None).await.unwrap_err();
    assert_eq!(refused.kind, ErrorKind::InsecureBackOffice);

    // Nothing was learnt: not enrolled, no notices, no door to open.
    let status = customer.status().await.unwrap();
    assert_eq!(status.enrolment, None);
    assert!(
        customer
            .customer_visits()
            .await
            .unwrap_or_default()
            .is_empty()
    );
    assert_eq!(
        customer
            .customer_challenge(&"00".repeat(16), false)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotEnrolled
    );

    // The real organisation's invite is offered with the pinned name, address and number.
    let real = w.invite(Role::Customer, "C-1").await;
    let offer = customer.enrolment_offer(&real, None).await.unwrap();
    assert_eq!(
        (
            offer.name.as_str(),
            offer.back_office.as_str(),
            offer.official_phone.as_str()
        ),
        (ORG, w.url.as_str(), "+31 20 555 0100")
    );
    let joined = customer.enrol(&real, None).await.unwrap();
    assert_eq!(joined.official_phone, "+31 20 555 0100");
}

#[tokio::test]
async fn a_code_is_read_back_from_its_own_picture() {
    let text = doorstep_core::codec::encode_text(doorstep_core::CodeKind::Receipt, b"any bytes");
    let png = doorstep_qr::Symbol::new(&text).unwrap().to_image(6);
    let mut bytes = Vec::new();
    png.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    assert_eq!(doorstep_device::decode_image(&bytes).unwrap(), text);
    let none = doorstep_device::decode_image(b"not a picture").unwrap_err();
    assert_eq!(none.kind, ErrorKind::NoCodeInImage);
}

/// The photo question and the code comparison have consequences: "No" or "Different" ends the
/// visit on that phone, with a report (customer) or a signed "suspicious" receipt (agent).
#[tokio::test]
async fn a_stranger_at_the_door_or_different_codes_end_the_visit_on_both_phones() {
    let w = world().await;
    let (agent_dir, customer_dir, visit, _) = enrolled(&w).await;
    let agent = w.open(&agent_dir).await;
    let customer = w.open(&customer_dir).await;
    let door = |fresh| {
        let (agent, customer, visit) = (&agent, &customer, visit.clone());
        async move {
            let challenge = customer.customer_challenge(&visit, fresh).await.unwrap();
            let proof = agent
                .agent_scan_challenge(&visit, &challenge.text)
                .await
                .unwrap();
            customer
                .customer_scan_proof(&visit, &proof.proof.text)
                .await
                .unwrap();
        }
    };

    // The person at the door is not the one in the signed photo.
    door(false).await;
    let stranger = customer
        .customer_person_at_door(&visit, false)
        .await
        .unwrap_err();
    assert_eq!(stranger.kind, ErrorKind::PersonNotInPhoto);
    assert_eq!(customer.status().await.unwrap().pending_uploads, 1);
    // Nothing left to answer with.
    let gone = customer
        .customer_compare_code(&visit, true)
        .await
        .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NoHandshake);

    // The codes read aloud differ: red on the customer's phone, which signs nothing...
    door(true).await;
    customer
        .customer_person_at_door(&visit, true)
        .await
        .unwrap();
    let differ = customer
        .customer_compare_code(&visit, false)
        .await
        .unwrap_err();
    assert_eq!(differ.kind, ErrorKind::CodesDiffer);
    assert_eq!(customer.status().await.unwrap().pending_uploads, 2);
    assert!(customer.customer_receipts().await.unwrap().is_empty());

    // ...and on the agent's, which records the visit as suspicious and opens no data.
    let differ = agent.agent_compare_code(&visit, false).await.unwrap_err();
    assert_eq!(differ.kind, ErrorKind::CodesDiffer);
    assert_eq!(agent.agent_visits().await.unwrap()[0].status, "suspicious");
    let synced = agent.sync(&mut |_| {}).await.unwrap();
    assert_eq!((synced.stored, synced.rejected), (1, 0));
    assert_eq!(customer.sync(&mut |_| {}).await.unwrap().stored, 2);
}

/// The three revocations the back-office can make, each picked up by the other side's phone at
/// its next sync and enforced at the door with the back-office gone.
#[tokio::test]
async fn each_revocation_reaches_the_other_phone_by_sync_and_turns_the_door_red_offline() {
    enum Revocation {
        CancelVisit,
        AgentDevice,
        Customer,
    }
    for revocation in [
        Revocation::CancelVisit,
        Revocation::AgentDevice,
        Revocation::Customer,
    ] {
        let w = world().await;
        let (agent_dir, customer_dir, visit, _) = enrolled(&w).await;
        let (syncing_dir, refusing_side, what) = match revocation {
            Revocation::CancelVisit => {
                assert_eq!(w.db.cancel_visit(&w.org, "V-1", now()).await.unwrap(), 1);
                (&customer_dir, "customer", "visit ticket")
            }
            Revocation::AgentDevice => {
                let devices = w.db.devices(&w.org).await.unwrap();
                let agent = devices.iter().find(|d| d.role == Role::Agent).unwrap();
                w.db.revoke_device(&w.org, agent.id, now()).await.unwrap();
                (&customer_dir, "customer", "agent's device")
            }
            Revocation::Customer => {
                w.db.revoke_customer(&w.org, "C-1", now()).await.unwrap();
                (&agent_dir, "agent", "customer's device")
            }
        };
        let other = w.open(syncing_dir).await;
        other.sync(&mut |_| {}).await.unwrap();
        other.close().await;
        w._served.stop();

        let customer = w.open(&customer_dir).await;
        let challenge = customer.customer_challenge(&visit, false).await.unwrap();
        let agent = w.open(&agent_dir).await;
        let proof = agent.agent_scan_challenge(&visit, &challenge.text).await;
        let refusal = if refusing_side == "agent" {
            // The revoked customer's visit left the agent's list with the package; the
            // denylist would refuse it too (the core's revoked-customer attack).
            assert!(agent.agent_visit(&visit).await.is_err());
            let refusal = proof.unwrap_err();
            assert_eq!(refusal.kind, ErrorKind::UnknownTicket, "{refusal:?}");
            agent.close().await;
            customer.close().await;
            continue;
        } else {
            let proof = proof.unwrap().proof;
            customer
                .customer_scan_proof(&visit, &proof.text)
                .await
                .unwrap_err()
        };
        assert_eq!(refusal.kind, ErrorKind::Revoked, "{what}: {refusal:?}");
        assert!(refusal.message.contains(what), "{}", refusal.message);
        agent.close().await;
        customer.close().await;
    }
}

/// The phone scammer who talks a customer out of a fresh enrolment code: his phone enrols, but
/// is held and receives nothing, while the customer's own phone is told at its next sync and
/// the back-office can stop him.
#[tokio::test]
async fn a_second_code_redeemed_is_held_and_the_earlier_phone_is_told() {
    let w = world().await;
    let (_, customer_dir, _, _) = enrolled(&w).await;
    let invite = w.invite(Role::Customer, "C-1").await;

    let thief = w.open(&w.root.join("thief")).await;
    thief.enrol(&invite, None).await.unwrap();
    let synced = thief.sync(&mut |_| {}).await.unwrap();
    assert_eq!(synced.notices, 0, "a held phone receives no notices");
    assert!(thief.customer_visits().await.unwrap().is_empty());
    let held_until = thief.status().await.unwrap().held_until.expect("held");
    assert!(held_until >= now() + 24 * 3600 - 60, "{held_until}");

    let customer = w.open(&customer_dir).await;
    assert_eq!(customer.status().await.unwrap().new_device, None);
    assert_eq!(customer.sync(&mut |_| {}).await.unwrap().notices, 2);
    let told = customer.status().await.unwrap().new_device.expect("told");
    assert!(told.enrolled_at.abs_diff(now()) < 60);
    assert_eq!(told.takes_over_at, held_until);
    assert_eq!(customer.customer_visits().await.unwrap().len(), 2);

    // The customer calls the official line; the back-office revokes the held phone.
    let held =
        w.db.devices(&w.org)
            .await
            .unwrap()
            .into_iter()
            .find(|d| d.held_until.is_some())
            .unwrap();
    w.db.revoke_device(&w.org, held.id, now()).await.unwrap();
    customer.sync(&mut |_| {}).await.unwrap();
    assert_eq!(customer.status().await.unwrap().new_device, None);
    assert_eq!(
        thief.sync(&mut |_| {}).await.unwrap_err().kind,
        ErrorKind::DeviceRevoked
    );
}

/// The thief who opens the app on a stolen agent phone: nothing that shows customer data or
/// signs at the door answers before the phone is unlocked, whatever the views do.
#[tokio::test]
async fn the_agent_role_refuses_to_sign_or_reveal_before_unlock() {
    let w = world().await;
    let (agent_dir, customer_dir, visit, _) = enrolled(&w).await;
    let customer = w.open(&customer_dir).await;
    let challenge = customer.customer_challenge(&visit, false).await.unwrap();

    let agent = w.open_locked(&agent_dir).await;
    assert!(agent.status().await.unwrap().locked);
    for refused in [
        agent
            .agent_scan_challenge(&visit, &challenge.text)
            .await
            .map(drop),
        agent.agent_visits().await.map(drop),
        agent.agent_visit(&visit).await.map(drop),
        agent
            .agent_record_outcome(&visit, Outcome::NotHome, &[], "")
            .await
            .map(drop),
    ] {
        assert_eq!(refused.unwrap_err().kind, ErrorKind::Locked);
    }
    // Syncing reveals nothing on screen and keeps the denylist fresh: allowed while locked.
    agent.sync(&mut |_| {}).await.unwrap();
    assert_eq!(
        agent.status().await.unwrap().pending_uploads,
        0,
        "nothing was signed"
    );

    agent.unlock();
    assert!(!agent.status().await.unwrap().locked);
    let proof = agent
        .agent_scan_challenge(&visit, &challenge.text)
        .await
        .unwrap();
    assert_eq!(
        proof
            .confirmation_code
            .chars()
            .filter(char::is_ascii_digit)
            .count(),
        6
    );
    agent.lock();
    assert_eq!(
        agent
            .agent_compare_code(&visit, true)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Locked
    );
    // A customer's phone has no agent role to lock.
    assert!(!customer.status().await.unwrap().locked);
}

/// What the store file holds, read with plain SQL as a thief with the phone's files would.
async fn rows(dir: &Path, query: &'static str) -> i64 {
    let url = format!("sqlite:{}", dir.join("device.db").display());
    let mut db = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar(query).fetch_one(&mut db).await.unwrap();
    sqlx::Connection::close(db).await.unwrap();
    n
}

const PERSONAL: [&str; 5] = [
    "SELECT count(*) FROM visits WHERE customer_data_sealed IS NOT NULL OR address_sealed IS NOT NULL",
    "SELECT count(*) FROM notices",
    "SELECT count(*) FROM sessions",
    "SELECT count(*) FROM kept_receipts",
    "SELECT count(*) FROM outbox WHERE acknowledged_at IS NOT NULL",
];

#[tokio::test]
async fn past_retention_a_phone_that_starts_holds_nothing_personal_but_keeps_unsynced_results() {
    let w = world().await;
    let (agent_dir, customer_dir, visit, later_visit) = enrolled(&w).await;

    // A whole visit; the agent's note and the receipt wait unsynced on the agent's phone.
    let customer = w.open(&customer_dir).await;
    let challenge = customer.customer_challenge(&visit, false).await.unwrap();
    let agent = w.open(&agent_dir).await;
    let proof = agent
        .agent_scan_challenge(&visit, &challenge.text)
        .await
        .unwrap();
    customer
        .customer_scan_proof(&visit, &proof.proof.text)
        .await
        .unwrap();
    customer
        .customer_person_at_door(&visit, true)
        .await
        .unwrap();
    let response = customer.customer_compare_code(&visit, true).await.unwrap();
    agent.agent_compare_code(&visit, true).await.unwrap();
    agent
        .agent_scan_response(&visit, &response.text)
        .await
        .unwrap();
    let receipt = agent
        .agent_record_outcome(
            &visit,
            Outcome::Verified,
            &["card_handover".into()],
            "Dog in the garden",
        )
        .await
        .unwrap();
    customer
        .customer_scan_receipt(&visit, &receipt.code.text)
        .await
        .unwrap();
    // A handshake left half done, and a report synced at once (acknowledged, so it may go).
    customer
        .customer_challenge(&later_visit, false)
        .await
        .unwrap();
    customer
        .customer_report(Some(&later_visit), None, "He did not look like the photo")
        .await
        .unwrap();
    customer.sync(&mut |_| {}).await.unwrap();
    let unsynced = agent.status().await.unwrap().pending_uploads;
    assert_eq!(unsynced, 2, "the receipt and the agent's note");
    agent.close().await;
    customer.close().await;
    for q in PERSONAL {
        let held = rows(&agent_dir, q).await + rows(&customer_dir, q).await;
        assert!(held > 0, "the test must start with personal data: {q}");
    }

    // The next day the agent's phone holds neither address nor customer field, synced or not.
    let tomorrow = now() + doorstep_store::AGENT_LOOKBACK + 3 * 3600;
    let agent = w
        .open_at(&agent_dir, std::sync::Arc::new(move || tomorrow))
        .await;
    agent.unlock();
    assert!(
        agent.agent_visits().await.unwrap().is_empty(),
        "only today's and upcoming visits"
    );
    agent.close().await;
    assert_eq!(rows(&agent_dir, PERSONAL[0]).await, 0);

    // Past the retention period, both phones erase the rest as they start: nothing is synced.
    let past = now() + 31 * 86_400;
    for dir in [&agent_dir, &customer_dir] {
        w.open_at(dir, std::sync::Arc::new(move || past))
            .await
            .close()
            .await;
        for q in PERSONAL {
            assert_eq!(rows(dir, q).await, 0, "{q} in {}", dir.display());
        }
    }
    let agent = w
        .open_at(&agent_dir, std::sync::Arc::new(move || past))
        .await;
    assert_eq!(agent.status().await.unwrap().pending_uploads, unsynced);
    assert_eq!(agent.store().verify_receipt_log().await.unwrap().0, 1);
    agent.close().await;
}

/// "Someone is at my door" finds the visit whose window is now, and nothing when nobody is
/// expected: the app then says so with the official number, before anything is scanned.
#[tokio::test]
async fn someone_at_the_door_is_matched_to_the_visit_booked_for_now_or_to_none() {
    let w = world().await;
    let (_, customer_dir, now_visit, _) = enrolled(&w).await;
    let customer = w.open(&customer_dir).await;
    let current = customer.customer_visits_now().await.unwrap();
    // V-2 starts in ten minutes: outside the five minutes' tolerance, so not at the door yet.
    assert_eq!(
        current
            .iter()
            .map(|v| v.terms.visit_id.as_str())
            .collect::<Vec<_>>(),
        [now_visit.as_str()]
    );
    customer.close().await;
    let next_week = now() + 7 * 86_400;
    let customer = w
        .open_at(&customer_dir, std::sync::Arc::new(move || next_week))
        .await;
    assert!(customer.customer_visits_now().await.unwrap().is_empty());
    // The report of an unannounced visitor names no visit and is queued for the office.
    customer
        .customer_report(None, None, "Said he was from the bank")
        .await
        .unwrap();
    assert_eq!(customer.status().await.unwrap().pending_uploads, 1);
}

/// A customer without the app checks the agent on the verification page, which gives them a
/// reference to read to the agent. The receipt "checked on the page" carries it; the
/// back-office accepts it only with a reference its page gave for that visit, and gives one
/// only for a fresh pass on a visit that is on.
#[tokio::test]
async fn a_customer_without_the_app_checks_on_the_page_and_only_its_reference_backs_the_receipt() {
    let w = world().await;
    let agent_dir = w.root.join("agent");
    let agent = w.open(&agent_dir).await;
    agent.enrol(&w.codes.0, None).await.unwrap();
    assert_eq!(agent.sync(&mut |_| {}).await.unwrap().visits, 2);
    let visits = agent.agent_visits().await.unwrap();
    assert!(
        visits.iter().all(|v| !v.customer_has_app),
        "C-1 has no phone"
    );
    let visit = visits[0].terms.visit_id.clone();
    let later = visits[1].terms.visit_id.clone();

    let pass = agent.agent_page_pass(&visit).await.unwrap();
    let path = &pass.code.text[pass.code.text.find("/V/").unwrap()..];
    let reference = doorstep_server::page::record_check(&w.db, path, now())
        .await
        .unwrap();
    // The page asked again for the same pass gives the same reference; another pass, another.
    assert_eq!(
        doorstep_server::page::record_check(&w.db, path, now() + 30)
            .await
            .unwrap(),
        reference
    );
    let other = agent.agent_page_pass(&visit).await.unwrap();
    let other_path = &other.code.text[other.code.text.find("/V/").unwrap()..];
    assert_ne!(
        doorstep_server::page::record_check(&w.db, other_path, now())
            .await
            .unwrap(),
        reference
    );
    // A pass older than the page allows gets none.
    let old = doorstep_server::page::record_check(&w.db, path, now() + 11 * 60)
        .await
        .unwrap_err();
    assert_eq!(old.kind(), "pass_too_old");

    // Not recordable without the reference; a made-up one is refused when it arrives.
    let without = agent
        .agent_record_outcome(&visit, Outcome::CheckedOnPage, &[], "")
        .await
        .unwrap_err();
    assert_eq!(without.kind, ErrorKind::BadOfficeReference);
    let made_up = doorstep_core::office::OfficeReference::generate(
        &mut doorstep_core::SeededRandomness::new("made up"),
    );
    agent
        .agent_record_page_check(&visit, &made_up.to_string(), &[], "")
        .await
        .unwrap();
    let synced = agent.sync(&mut |_| {}).await.unwrap();
    assert_eq!((synced.stored, synced.rejected), (0, 1));
    // The operator's reference backs "verified by the office", not "checked on the page".
    let by_phone =
        w.db.confirm_visit_by_phone(&w.org, "V-1", "operator 7", now())
            .await
            .unwrap();
    agent
        .agent_record_page_check(&visit, &by_phone.reference.to_string(), &[], "")
        .await
        .unwrap();
    let synced = agent.sync(&mut |_| {}).await.unwrap();
    assert_eq!((synced.stored, synced.rejected), (0, 1));

    let receipt = agent
        .agent_record_page_check(
            &visit,
            &reference.to_string(),
            &[
                "card_handover".to_string(),
                "identity_document".to_string(),
                "device_key".to_string(),
            ],
            "",
        )
        .await
        .unwrap();
    assert_eq!(receipt.outcome, Outcome::CheckedOnPage);
    // Only what the ticket allows, and not the handshake, which did not run.
    assert_eq!(receipt.checks_done, ["card_handover"]);
    let synced = agent.sync(&mut |_| {}).await.unwrap();
    assert_eq!((synced.stored, synced.rejected), (1, 0));
    let exported = w.db.export(&w.org).await.unwrap();
    assert_eq!(
        exported
            .iter()
            .map(|e| (
                e.visit_ref.as_str(),
                e.outcome.as_str(),
                e.office_reference.clone()
            ))
            .collect::<Vec<_>>(),
        [("V-1", "checked_on_page", Some(reference.digits()))]
    );

    // The later visit is not on yet; once cancelled, never.
    let later_pass = agent.agent_page_pass(&later).await.unwrap();
    let later_path = &later_pass.code.text[later_pass.code.text.find("/V/").unwrap()..];
    let early = doorstep_server::page::record_check(&w.db, later_path, now())
        .await
        .unwrap_err();
    assert!(
        ["outside_visit_window", "ticket_not_yet_valid"].contains(&early.kind()),
        "{early}"
    );
    w.db.cancel_visit(&w.org, "V-2", now()).await.unwrap();
    let cancelled = doorstep_server::page::record_check(&w.db, later_path, now() + 300)
        .await
        .unwrap_err();
    assert_eq!(cancelled.kind(), "cancelled");
}

/// A customer with no smartphone at all calls the office: plan B works for a visit whose
/// ticket names no customer key too.
#[tokio::test]
async fn a_customer_without_the_app_can_be_confirmed_by_the_office_as_well() {
    let w = world().await;
    let agent = w.open(&w.root.join("agent")).await;
    agent.enrol(&w.codes.0, None).await.unwrap();
    agent.sync(&mut |_| {}).await.unwrap();
    let visit = agent.agent_visits().await.unwrap()[0]
        .terms
        .visit_id
        .clone();
    let confirmed =
        w.db.confirm_visit_by_phone(&w.org, "V-1", "operator 7", now())
            .await
            .unwrap();
    let receipt = agent
        .agent_record_office_confirmation(
            &visit,
            &confirmed.reference.to_string(),
            &["card_handover".to_string()],
            "",
        )
        .await
        .unwrap();
    assert_eq!(receipt.outcome, Outcome::VerifiedByOffice);
    let synced = agent.sync(&mut |_| {}).await.unwrap();
    assert_eq!((synced.stored, synced.rejected), (1, 0));
}

/// Plan B: a phone cannot scan; the customer calls the official number and the operator gives
/// a reference, which the agent records. The back-office accepts that receipt only with a
/// reference it gave for that visit, and confirms only a visit that can be at the door now.
#[tokio::test]
async fn plan_b_only_the_office_s_own_reference_makes_a_visit_verified_by_the_office() {
    let w = world().await;
    let (agent_dir, _, visit, _) = enrolled(&w).await;
    let agent = w.open(&agent_dir).await;

    // A misheard digit is caught on the phone: nothing is signed or queued.
    let confirmed =
        w.db.confirm_visit_by_phone(&w.org, "V-1", "operator 7", now())
            .await
            .unwrap();
    assert_eq!(confirmed.agent_name, doorstep_server::testing::AGENT_NAME);
    let mut misheard = confirmed.reference.digits().into_bytes();
    misheard[2] = b'0' + (misheard[2] - b'0' + 1) % 10;
    let typo = agent
        .agent_record_office_confirmation(&visit, &String::from_utf8(misheard).unwrap(), &[], "")
        .await
        .unwrap_err();
    assert_eq!(typo.kind, ErrorKind::BadOfficeReference);
    assert_eq!(agent.status().await.unwrap().pending_uploads, 0);
    // "Verified by the office" is not "verified", and not recordable without the reference.
    let without = agent
        .agent_record_outcome(&visit, Outcome::VerifiedByOffice, &[], "")
        .await
        .unwrap_err();
    assert_eq!(without.kind, ErrorKind::BadOfficeReference);

    // A well-formed reference the office never gave is refused when it arrives.
    let made_up = doorstep_core::office::OfficeReference::generate(
        &mut doorstep_core::SeededRandomness::new("made up"),
    );
    assert_ne!(made_up, confirmed.reference);
    agent
        .agent_record_office_confirmation(&visit, &made_up.to_string(), &[], "")
        .await
        .unwrap();
    let synced = agent.sync(&mut |_| {}).await.unwrap();
    assert_eq!((synced.stored, synced.rejected), (0, 1));

    let receipt = agent
        .agent_record_office_confirmation(
            &visit,
            &confirmed.reference.to_string(),
            &["card_handover".to_string(), "device_key".to_string()],
            "customer's phone battery was flat",
        )
        .await
        .unwrap();
    assert_eq!(receipt.outcome, Outcome::VerifiedByOffice);
    assert!(!receipt.checks_done.contains(&"device_key"));
    let synced = agent.sync(&mut |_| {}).await.unwrap();
    assert_eq!((synced.stored, synced.rejected), (2, 0), "receipt and note");
    let exported = w.db.export(&w.org).await.unwrap();
    assert_eq!(
        exported
            .iter()
            .map(|e| (e.visit_ref.as_str(), e.outcome.as_str()))
            .collect::<Vec<_>>(),
        [("V-1", "verified_by_office")]
    );
    // The auditor sees which reference the office gave.
    assert_eq!(
        exported[0].office_reference,
        Some(confirmed.reference.digits())
    );
    let csv = doorstep_server::db::export::to_csv(&exported);
    assert!(
        csv.starts_with("visit_ref,staff_ref,customer_ref,window_start,outcome,office_reference,")
    );
    assert!(csv.contains(&format!(
        ",verified_by_office,{},",
        confirmed.reference.digits()
    )));

    // The later visit is not at the door yet; a cancelled one never will be.
    let early =
        w.db.confirm_visit_by_phone(&w.org, "V-2", "operator 7", now())
            .await
            .unwrap_err();
    assert_eq!(early.kind(), "invalid");
    w.db.cancel_visit(&w.org, "V-2", now()).await.unwrap();
    let cancelled =
        w.db.confirm_visit_by_phone(&w.org, "V-2", "operator 7", now() + 600)
            .await
            .unwrap_err();
    assert_eq!(cancelled.kind(), "invalid");
}

/// Stands in for Android Keystore or the Secure Enclave: the private key is out of the store's
/// reach, the public key comes as SubjectPublicKeyInfo, and signatures come as DER with a high
/// `s` half the time, as hardware gives them.
struct HardwareLike {
    key: p256::ecdsa::SigningKey,
    signed: std::sync::atomic::AtomicUsize,
    /// The attestation's security level (2 StrongBox), and a challenge it was made over instead
    /// of the one asked for (a replayed attestation).
    attested: Option<(u8, Option<Vec<u8>>)>,
}

impl doorstep_sync::DeviceSigner for HardwareLike {
    fn public_key(&self) -> doorstep_core::PublicKey {
        let point = self.key.verifying_key().to_sec1_point(false);
        let spki = [
            &[
                0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
                0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
            ][..],
            point.as_bytes(),
        ]
        .concat();
        doorstep_device::public_key_from_platform(&spki).unwrap()
    }

    fn sign(&self, bytes: &[u8]) -> Result<doorstep_core::Signature, doorstep_sync::SyncError> {
        use p256::ecdsa::signature::Signer;
        let low: p256::ecdsa::Signature = self.key.sign(bytes);
        let n = self
            .signed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let given = if n.is_multiple_of(2) {
            let (r, s) = low.split_scalars();
            p256::ecdsa::Signature::from_scalars(r, -*s).unwrap()
        } else {
            low
        };
        doorstep_device::signature_from_platform(
            &self.public_key(),
            bytes,
            given.to_der().as_bytes(),
        )
    }

    fn attest(
        &self,
        challenge: &[u8],
    ) -> Result<Option<doorstep_api::wire::KeyAttestation>, doorstep_sync::SyncError> {
        let Some((level, replayed)) = &self.attested else {
            return Ok(None);
        };
        let over = replayed.as_deref().unwrap_or(challenge);
        let chain =
            doorstep_server::testing::android_attestation::chain_for(&self.key, *level, over, None);
        Ok(Some(doorstep_api::wire::KeyAttestation {
            android_chain: chain
                .chain
                .into_iter()
                .map(doorstep_api::wire::Bytes)
                .collect(),
            app_attest: None,
        }))
    }
}

#[tokio::test]
async fn with_its_key_in_hardware_a_phone_enrols_and_verifies_and_its_folder_holds_no_key() {
    let w = world().await;
    let (agent_dir, customer_dir) = (w.root.join("agent"), w.root.join("customer"));
    let hardware = std::sync::Arc::new(HardwareLike {
        key: p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap(),
        signed: Default::default(),
        attested: None,
    });
    let customer = w.open_with_key(&customer_dir, hardware.clone()).await;
    customer.enrol(&w.codes.1, None).await.unwrap();
    // The agent's package names the customer's enrolled key; the notices follow it.
    let agent = w.open(&agent_dir).await;
    agent.enrol(&w.codes.0, None).await.unwrap();
    agent.sync(&mut |_| {}).await.unwrap();
    customer.sync(&mut |_| {}).await.unwrap();

    let visit = customer.customer_visits().await.unwrap()[0]
        .terms
        .visit_id
        .clone();
    let challenge = customer.customer_challenge(&visit, false).await.unwrap();
    let proof = agent
        .agent_scan_challenge(&visit, &challenge.text)
        .await
        .unwrap();
    customer
        .customer_scan_proof(&visit, &proof.proof.text)
        .await
        .unwrap();
    customer
        .customer_person_at_door(&visit, true)
        .await
        .unwrap();
    let response = customer.customer_compare_code(&visit, true).await.unwrap();
    agent.agent_compare_code(&visit, true).await.unwrap();
    // The customer's answer, signed by the hardware key, checks out on the agent's phone.
    let confirmed = agent
        .agent_scan_response(&visit, &response.text)
        .await
        .unwrap();
    assert_eq!(confirmed.customer_data["full_name"], "Jan Jansen");
    assert!(
        hardware.signed.load(std::sync::atomic::Ordering::Relaxed) >= 3,
        "enrolment, sync and the answer were signed by the hardware"
    );

    // Nothing in the customer's folder can sign: no private key was ever stored there.
    assert_eq!(customer.store().device_secret().await.unwrap(), None);
    assert!(agent.store().device_secret().await.unwrap().is_some());
}

#[tokio::test]
async fn where_attestation_is_required_only_a_key_attested_over_its_own_enrolment_enrols() {
    use doorstep_server::attestation::AttestationPolicy;
    use doorstep_server::testing::android_attestation::chain_with;
    let root = chain_with(2, b"", None).root;
    let w = common::world_attesting(AttestationPolicy {
        android_roots: vec![root],
        required: true,
    })
    .await;
    let hardware = |seed: u8, attested| {
        std::sync::Arc::new(HardwareLike {
            key: p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap(),
            signed: Default::default(),
            attested,
        })
    };

    // A software key (a copied desktop build, an emulator) is refused.
    let software = w.open(&w.root.join("software")).await;
    let refused = software.enrol(&w.codes.1, None).await.unwrap_err();
    assert_eq!(refused.kind, ErrorKind::KeyNotAttested, "{refused:?}");
    assert!(refused.message.contains("attest"), "{}", refused.message);
    software.close().await;

    // A genuine chain, but made over another enrolment's challenge: replayed, refused.
    let replayed = w
        .open_with_key(
            &w.root.join("replayed"),
            hardware(5, Some((2, Some(b"an earlier enrolment".to_vec())))),
        )
        .await;
    let refused = replayed.enrol(&w.codes.1, None).await.unwrap_err();
    assert_eq!(refused.kind, ErrorKind::KeyNotAttested, "{refused:?}");
    assert!(
        refused.message.contains("another enrolment"),
        "{}",
        refused.message
    );

    // A key made in a TEE, attested over this very code: enrolled, and the office sees it.
    let phone = w
        .open_with_key(&w.root.join("phone"), hardware(6, Some((1, None))))
        .await;
    phone.enrol(&w.codes.1, None).await.unwrap();
    let devices = w.db.devices(&w.org).await.unwrap();
    assert_eq!(devices.len(), 1, "the refused ones left nothing behind");
    assert_eq!(devices[0].attestation.as_deref(), Some("android tee"));
}
