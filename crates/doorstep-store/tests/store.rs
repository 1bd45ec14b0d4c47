//! The device store on real SQLite files.

use std::collections::BTreeMap;
use std::path::Path;

use doorstep_core::countersignature::Countersignature;
use doorstep_core::customer::AwaitingProof;
use doorstep_core::receipt::Outcome;
use doorstep_core::scenario::Scenario;
use doorstep_core::{Policy, Role, SeededRandomness, UploadKind, agent};
use doorstep_store::{Enrolment, FileKeyProvider, PackagedVisit, Store, StoreError};

struct Device {
    _dir: tempfile::TempDir,
    store: Store,
    s: Scenario,
}

fn customer_data() -> BTreeMap<String, String> {
    [
        ("full_name", "Jan Jansen"),
        ("card_last_four", "4242"),
        ("date_of_birth", "1970-01-01"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

async fn open(dir: &Path) -> Store {
    Store::open(
        &dir.join("device.db"),
        &FileKeyProvider::new(dir.join("data.key")),
    )
    .await
    .unwrap()
}

async fn agent_device() -> Device {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let s = Scenario::new("store");
    store
        .enrol(&Enrolment {
            role: Role::Agent,
            organisation_name: "Northbank".into(),
            organisation_keys: s.organisation_keys(),
            server_url: "http://127.0.0.1:1".into(),
            official_phone: "+31 20 555 0100".into(),
            device_key: s.agent_key.public_key(),
            enrolled_at: s.now,
            retention_days: 30,
        })
        .await
        .unwrap();
    let trust = store.trust(Policy::default()).await.unwrap();
    store
        .put_package(
            &[PackagedVisit {
                ticket: s.ticket_encoded.clone(),
                customer_key: Some(s.customer_key.public_key()),
                customer_data: customer_data(),
                address: Some("Kerkstraat 1, 3511 Utrecht".into()),
                purpose: Some("Hand over your new debit card".into()),
                visit_ref: Some("V-2026-0001".into()),
            }],
            &trust,
        )
        .await
        .unwrap();
    Device {
        _dir: dir,
        store,
        s,
    }
}

/// Runs the handshake against the stored visit, saving the agent's state between steps as the
/// app does, and returns the verified state.
async fn verify_customer(d: &Device) -> agent::CustomerVerified {
    let s = &d.s;
    let trust = s.trust();
    let mut rng = SeededRandomness::new("store handshake");
    let (waiting, challenge) =
        AwaitingProof::start(s.notice(), s.customer_key.public_key(), s.now, &mut rng);
    let ready = d.store.ready_for(s.ticket.visit_id, &trust).await.unwrap();
    let to_sign = ready
        .receive_challenge(challenge, &trust, s.now, &mut rng)
        .unwrap();
    let signature = s.agent_key.sign(&to_sign.bytes_to_sign());
    let (awaiting, proof) = to_sign.finish(signature).unwrap();
    d.store
        .save_session(s.ticket.visit_id, &awaiting, s.now)
        .await
        .unwrap();
    let awaiting: agent::AwaitingResponse = d
        .store
        .load_session(s.ticket.visit_id)
        .await
        .unwrap()
        .unwrap();
    let verified = waiting
        .receive_proof(&proof, &trust, s.now)
        .unwrap()
        .person_confirmed();
    let signature = s.customer_key.sign(&verified.bytes_to_sign());
    let (_, response) = verified.finish(signature).unwrap();
    awaiting.codes_match().receive_response(&response).unwrap()
}

async fn signed_receipt(d: &Device, verified: &agent::CustomerVerified) -> Vec<u8> {
    verified
        .receipt_to_sign(Default::default(), d.s.now)
        .sign_with(&d.s.agent_key)
        .unwrap()
}

/// A verified visit whose signed receipt is recorded in the log.
/// The back-office's countersignature on an upload, made with the scenario's organisation key.
fn countersign(d: &Device, id: uuid::Uuid, payload: &[u8], at: u64) -> Vec<u8> {
    Countersignature::new(*id.as_bytes(), payload, at)
        .to_sign(d.s.organisation_key.public_key())
        .sign_with(&d.s.organisation_key)
        .unwrap()
}

async fn completed_visit(
    d: &Device,
) -> (agent::CustomerVerified, Vec<u8>, doorstep_store::ReceiptId) {
    let verified = verify_customer(d).await;
    let receipt = signed_receipt(d, &verified).await;
    let id = d
        .store
        .record_receipt(d.s.ticket.visit_id, &receipt, d.s.now)
        .await
        .unwrap();
    (verified, receipt, id)
}

#[tokio::test]
async fn an_unenrolled_store_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    assert!(matches!(
        store.enrolment().await,
        Err(StoreError::NotEnrolled)
    ));
}

#[tokio::test]
async fn the_enrolment_reads_back() {
    let d = agent_device().await;
    let e = d.store.enrolment().await.unwrap();
    assert_eq!(e.role, Role::Agent);
    assert_eq!(e.organisation_keys, d.s.organisation_keys());
    assert_eq!(e.device_key, d.s.agent_key.public_key());
}

#[tokio::test]
async fn a_package_with_a_forged_ticket_is_refused_whole() {
    let d = agent_device().await;
    let trust = d.store.trust(Policy::default()).await.unwrap();
    let mut forged = d.s.ticket_encoded.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let result = d
        .store
        .put_package(
            &[PackagedVisit {
                ticket: forged,
                customer_key: Some(d.s.customer_key.public_key()),
                customer_data: customer_data(),
                address: Some("Kerkstraat 1, 3511 Utrecht".into()),
                purpose: None,
                visit_ref: None,
            }],
            &trust,
        )
        .await;
    assert!(matches!(result, Err(StoreError::Protocol(_))), "{result:?}");
    assert_eq!(d.store.visits().await.unwrap().len(), 1);
}

#[tokio::test]
async fn customer_data_opens_only_for_a_verified_customer_and_only_allowed_fields() {
    let d = agent_device().await;
    let verified = verify_customer(&d).await;
    let data = d.store.customer_data(&verified).await.unwrap();
    assert_eq!(
        data.get("full_name").map(String::as_str),
        Some("Jan Jansen")
    );
    assert_eq!(data.get("card_last_four").map(String::as_str), Some("4242"));
    assert!(
        !data.contains_key("date_of_birth"),
        "the ticket does not allow it"
    );
}

#[tokio::test]
async fn personal_data_is_not_readable_in_the_database_file() {
    let d = agent_device().await;
    d.store
        .save_session(d.s.ticket.visit_id, &"Jan Jansen session", d.s.now)
        .await
        .unwrap();
    let dir = d._dir.path().to_path_buf();
    d.store.close().await;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for personal in [&b"Jan Jansen"[..], b"Kerkstraat", b"new debit card"] {
            assert!(!bytes.windows(personal.len()).any(|w| w == personal));
        }
    }
}

#[tokio::test]
async fn a_session_survives_closing_and_reopening_the_store() {
    let d = agent_device().await;
    let trust = d.s.trust();
    let ready = d
        .store
        .ready_for(d.s.ticket.visit_id, &trust)
        .await
        .unwrap();
    d.store
        .save_session(d.s.ticket.visit_id, &ready, 1)
        .await
        .unwrap();
    let dir = d._dir.path().to_path_buf();
    d.store.close().await;
    let store = open(&dir).await;
    let back: agent::Ready = store
        .load_session(d.s.ticket.visit_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.ticket(), ready.ticket());
    store.clear_session(d.s.ticket.visit_id).await.unwrap();
    assert!(
        store
            .load_session::<agent::Ready>(d.s.ticket.visit_id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_store_opened_with_another_key_cannot_read_sealed_data() {
    let d = agent_device().await;
    d.store
        .save_session(d.s.ticket.visit_id, &"state", 1)
        .await
        .unwrap();
    let dir = d._dir.path().to_path_buf();
    d.store.close().await;
    let other = Store::open(
        &dir.join("device.db"),
        &FileKeyProvider::new(dir.join("other.key")),
    )
    .await
    .unwrap();
    let result = other.load_session::<String>(d.s.ticket.visit_id).await;
    assert!(matches!(result, Err(StoreError::Sealing)), "{result:?}");
}

#[tokio::test]
async fn receipts_form_a_chain_that_shows_alteration_and_removal() {
    let d = agent_device().await;
    let verified = verify_customer(&d).await;
    let receipt = signed_receipt(&d, &verified).await;
    for i in 0..3 {
        d.store
            .record_receipt(d.s.ticket.visit_id, &receipt, d.s.now + i)
            .await
            .unwrap();
    }
    let (count, _) = d.store.verify_receipt_log().await.unwrap();
    assert_eq!(count, 3);

    // The schema itself refuses edits and deletions.
    let db = d._dir.path().join("device.db");
    let raw = sqlx::SqlitePool::connect(&format!("sqlite:{}", db.display()))
        .await
        .unwrap();
    assert!(
        sqlx::query("DELETE FROM receipts WHERE seq = 2")
            .execute(&raw)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("UPDATE receipts SET recorded_at = 0 WHERE seq = 2")
            .execute(&raw)
            .await
            .is_err()
    );

    // Someone with raw access drops the guards; the chain still tells.
    sqlx::query("DROP TRIGGER receipts_are_append_only")
        .execute(&raw)
        .await
        .unwrap();
    sqlx::query("UPDATE receipts SET recorded_at = 0 WHERE seq = 2")
        .execute(&raw)
        .await
        .unwrap();
    assert!(matches!(
        d.store.verify_receipt_log().await,
        Err(StoreError::ChainBroken { seq: 2 })
    ));
    sqlx::query("DROP TRIGGER receipts_are_never_deleted")
        .execute(&raw)
        .await
        .unwrap();
    sqlx::query("DELETE FROM receipts WHERE seq = 2")
        .execute(&raw)
        .await
        .unwrap();
    assert!(matches!(
        d.store.verify_receipt_log().await,
        Err(StoreError::ChainBroken { seq: 3 })
    ));
}

#[tokio::test]
async fn an_upload_leaves_the_queue_only_with_its_countersignature() {
    let d = agent_device().await;
    let (_, receipt, id) = completed_visit(&d).await;
    let now = d.s.now;
    d.store
        .record_outcome(d.s.ticket.visit_id, Outcome::Verified, now)
        .await
        .unwrap();
    assert_eq!(d.store.pending_uploads().await.unwrap(), 1);
    let due = d.store.due_uploads(now, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, id.0);
    assert_eq!(due[0].kind, UploadKind::Receipt);
    assert_eq!(due[0].payload, receipt);

    d.store.defer_upload(id.0, now, now + 60).await.unwrap();
    // A clock set back by more than any backoff does not strand the entry.
    assert_eq!(
        d.store.due_uploads(now - 2 * 3600, 10).await.unwrap().len(),
        1
    );
    assert!(d.store.due_uploads(now + 59, 10).await.unwrap().is_empty());
    let again = d.store.due_uploads(now + 60, 10).await.unwrap();
    assert_eq!(again[0].attempts, 1);

    // A countersignature for other content, or not the organisation's, is refused and the
    // upload stays queued.
    let for_other = countersign(&d, id.0, b"another receipt", now + 61);
    assert!(matches!(
        d.store.acknowledge_upload(id.0, &for_other, now + 61).await,
        Err(StoreError::Protocol(
            doorstep_core::Error::CountersignatureMismatch
        ))
    ));
    let mut forged = countersign(&d, id.0, &receipt, now + 61);
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert!(
        d.store
            .acknowledge_upload(id.0, &forged, now + 61)
            .await
            .is_err()
    );
    assert_eq!(d.store.pending_uploads().await.unwrap(), 1);

    let first = countersign(&d, id.0, &receipt, now + 61);
    d.store
        .acknowledge_upload(id.0, &first, now + 61)
        .await
        .unwrap();
    let second = countersign(&d, id.0, &receipt, now + 62);
    d.store
        .acknowledge_upload(id.0, &second, now + 62)
        .await
        .unwrap();
    assert_eq!(d.store.pending_uploads().await.unwrap(), 0);
    let log = d.store.receipt_log().await.unwrap();
    assert_eq!(log[0].countersignature.as_deref(), Some(&first[..]));
}

#[tokio::test]
async fn a_rejected_upload_is_kept_marked_and_no_longer_sent() {
    let d = agent_device().await;
    let (_, _, id) = completed_visit(&d).await;
    d.store
        .reject_upload(id.0, "unknown_visit", "not this agent's visit")
        .await
        .unwrap();
    assert!(
        d.store
            .due_uploads(u64::MAX / 2, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(d.store.pending_uploads().await.unwrap(), 0);
    let rejected = d.store.rejected_uploads().await.unwrap();
    assert_eq!(
        rejected,
        vec![(
            id.0,
            "unknown_visit".into(),
            "not this agent's visit".into()
        )]
    );
    assert_eq!(d.store.receipt_log().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_older_denylist_never_replaces_a_newer_one() {
    let d = agent_device().await;
    let sign = |seq: u64| {
        let mut list = d.s.denylist.clone();
        list.sequence = seq;
        list.to_sign(d.s.organisation_key.public_key())
            .sign_with(&d.s.organisation_key)
            .unwrap()
    };
    d.store.put_denylist(&sign(9)).await.unwrap();
    d.store.put_denylist(&sign(3)).await.unwrap();
    assert_eq!(d.store.denylist().await.unwrap(), Some(sign(9)));
    let mut forged = sign(10);
    forged[5] ^= 1;
    assert!(d.store.put_denylist(&forged).await.is_err());
}

#[tokio::test]
async fn an_agents_visit_keeps_its_customer_data_until_the_day_after_and_its_receipt_for_good() {
    let d = agent_device().await;
    let (verified, receipt, id) = completed_visit(&d).await;
    let end = d.s.ticket.window_end();
    let address = |summaries: Vec<doorstep_store::VisitSummary>| {
        summaries.first().and_then(|v| v.address.clone())
    };
    let lookback = doorstep_store::AGENT_LOOKBACK;

    let same_day = d.store.purge(end + lookback - 1, 30).await.unwrap();
    assert_eq!(same_day, Default::default());
    assert_eq!(d.store.customer_data(&verified).await.unwrap().len(), 2);
    assert_eq!(
        address(d.store.visit_summaries(end + lookback - 1).await.unwrap()).as_deref(),
        Some("Kerkstraat 1, 3511 Utrecht")
    );
    let summary = &d.store.visit_summaries(end).await.unwrap()[0];
    assert_eq!(
        (summary.purpose.as_deref(), summary.visit_ref.as_deref()),
        (Some("Hand over your new debit card"), Some("V-2026-0001"))
    );
    // The next day the visit is off the list.
    assert!(
        d.store
            .visit_summaries(end + lookback)
            .await
            .unwrap()
            .is_empty()
    );

    // Unsynced, the data still goes: the result needs none of it.
    let next_day = d.store.purge(end + lookback, 30).await.unwrap();
    assert_eq!(next_day.customer_data, 1);
    let raw = sqlx::SqlitePool::connect(&format!(
        "sqlite:{}",
        d._dir.path().join("device.db").display()
    ))
    .await
    .unwrap();
    let purposes: Vec<Option<Vec<u8>>> = sqlx::query_scalar("SELECT purpose_sealed FROM visits")
        .fetch_all(&raw)
        .await
        .unwrap();
    raw.close().await;
    assert_eq!(purposes, [None], "the purpose goes with the address");
    assert!(d.store.customer_data(&verified).await.unwrap().is_empty());
    assert_eq!(d.store.pending_uploads().await.unwrap(), 1);

    // After the retention period the row goes too, once its result is synced.
    let later = end + 31 * 86_400;
    assert_eq!(d.store.purge(later, 30).await.unwrap().visits, 0);
    let countersignature = countersign(&d, id.0, &receipt, later);
    d.store
        .acknowledge_upload(id.0, &countersignature, later)
        .await
        .unwrap();
    let due = d.store.purge(later + 30 * 86_400, 30).await.unwrap();
    assert_eq!((due.visits, due.uploads), (1, 1));
    assert!(d.store.visits().await.unwrap().is_empty());
    assert_eq!(d.store.verify_receipt_log().await.unwrap().0, 1);
}

#[tokio::test]
async fn no_back_office_makes_a_phone_keep_data_longer_than_the_cap() {
    let d = agent_device().await;
    let mut e = d.store.enrolment().await.unwrap();
    e.retention_days = 10_000;
    d.store.enrol(&e).await.unwrap();
    assert_eq!(
        d.store.enrolment().await.unwrap().retention_days,
        doorstep_store::MAX_RETENTION_DAYS
    );
    let end = d.s.ticket.window_end();
    let cap = u64::from(doorstep_store::MAX_RETENTION_DAYS) * 86_400;
    assert_eq!(d.store.purge(end + cap, 10_000).await.unwrap().visits, 1);
}

#[tokio::test]
async fn a_visit_the_package_no_longer_holds_leaves_the_phone_unless_it_has_a_result() {
    let d = agent_device().await;
    let trust = d.store.trust(Policy::default()).await.unwrap();
    d.store.put_package(&[], &trust).await.unwrap();
    assert!(d.store.visits().await.unwrap().is_empty());

    let d = agent_device().await;
    let _ = completed_visit(&d).await;
    d.store.put_package(&[], &trust).await.unwrap();
    assert_eq!(d.store.visits().await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_device_key_is_stored_once_and_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    assert_eq!(store.device_secret().await.unwrap(), None);
    store.put_device_secret(&[7; 32]).await.unwrap();
    assert_eq!(store.device_secret().await.unwrap(), Some(vec![7; 32]));
    assert!(store.put_device_secret(&[8; 32]).await.is_err());
    assert_eq!(store.device_secret().await.unwrap(), Some(vec![7; 32]));
    store.close().await;
    let raw = std::fs::read(dir.path().join("device.db")).unwrap();
    assert!(
        !raw.windows(32).any(|w| w == [7; 32]),
        "the key is on disk in clear"
    );
}

#[tokio::test]
async fn a_notice_keeps_the_agents_photo_only_if_it_matches_the_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let s = Scenario::new("store");
    store
        .enrol(&Enrolment {
            role: Role::Customer,
            organisation_name: "Northbank".into(),
            organisation_keys: s.organisation_keys(),
            server_url: "http://127.0.0.1:1".into(),
            official_phone: "+31 20 555 0100".into(),
            device_key: s.customer_key.public_key(),
            enrolled_at: s.now,
            retention_days: 30,
        })
        .await
        .unwrap();
    let wrong = store
        .put_notice(&s.notice_encoded, Some(b"another face"), s.now)
        .await;
    assert!(matches!(wrong, Err(StoreError::Damaged(_))), "{wrong:?}");
    let photo = b"agent photo A-0117";
    let visit = store
        .put_notice(&s.notice_encoded, Some(photo), s.now)
        .await
        .unwrap();
    assert_eq!(visit, s.ticket.visit_id);
    let notices = store.notices().await.unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].photo.as_deref(), Some(&photo[..]));

    let report = store
        .purge(s.ticket.window_end() + 30 * 86_400, 30)
        .await
        .unwrap();
    assert_eq!(report.notices, 1);
    assert!(store.notices().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_queued_report_is_sealed_on_disk_and_sent_as_written() {
    let d = agent_device().await;
    let note = b"{\"note\":\"Mrs Jansen lives alone, key under the mat\"}";
    let id = d
        .store
        .enqueue(UploadKind::Report, note, d.s.now)
        .await
        .unwrap();
    let due = d.store.due_uploads(d.s.now, 10).await.unwrap();
    assert_eq!((due[0].id, due[0].payload.as_slice()), (id, &note[..]));
    let dir = d._dir.path().to_path_buf();
    d.store.close().await;
    let mut raw = std::fs::read(dir.join("device.db")).unwrap();
    if let Ok(wal) = std::fs::read(dir.join("device.db-wal")) {
        raw.extend(wal);
    }
    assert!(
        !raw.windows(11).any(|w| w == b"lives alone"),
        "the note is on disk in clear"
    );
}
