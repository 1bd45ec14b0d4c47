//! The sync client against a real back-office on loopback, on SQLite and PostgreSQL: whatever
//! the network does, every receipt reaches the back-office exactly once and leaves the phone's
//! outbox only with its countersignature.

mod support;

use std::collections::BTreeSet;

use doorstep_api::wire::Role;
use doorstep_server::testing::fresh_database_urls;
use doorstep_sync::{Progress, SyncError};
use support::proxy::{Cut, CutProxy};
use support::{Backoffice, Phone};

async fn backoffices(dir: &tempfile::TempDir) -> Vec<Backoffice> {
    let mut all = Vec::new();
    for url in fresh_database_urls(dir.path()).await {
        all.push(Backoffice::start(&url, dir.path()).await);
    }
    all
}

/// Every receipt is in the export once, and every one on the phone is countersigned.
async fn assert_exactly_once(bo: &Backoffice, phone: &Phone, expected: usize) {
    let exported = bo.exported_upload_ids().await;
    let unique: BTreeSet<_> = exported.iter().collect();
    assert_eq!(unique.len(), exported.len(), "a receipt was stored twice");
    assert_eq!(phone.store.rejected_uploads().await.unwrap(), vec![]);
    let log = phone.store.receipt_log().await.unwrap();
    assert_eq!(log.len(), expected);
    let on_phone: BTreeSet<_> = log.iter().map(|e| e.id.0.to_string()).collect();
    let on_server: BTreeSet<_> = exported.iter().cloned().collect();
    assert!(
        on_phone.is_subset(&on_server),
        "a receipt was lost: {} on the phone, {} on the server, {} pending, {} countersigned",
        on_phone.len(),
        on_server.len(),
        phone.store.pending_uploads().await.unwrap(),
        log.iter().filter(|e| e.countersignature.is_some()).count()
    );
    assert!(log.iter().all(|e| e.countersignature.is_some()));
    assert_eq!(phone.store.pending_uploads().await.unwrap(), 0);
    phone.store.verify_receipt_log().await.unwrap();
}

#[tokio::test]
async fn an_agent_and_a_customer_enrol_pull_and_the_results_arrive_countersigned() {
    let dir = tempfile::tempdir().unwrap();
    for bo in backoffices(&dir).await {
        bo.schedule("V", "A-1", "C-1", 12).await;
        let customer = Phone::enrolled(&bo, Role::Customer, "C-1").await;
        let agent = Phone::enrolled(&bo, Role::Agent, "A-1").await;
        assert_eq!(
            agent.store.enrolment().await.unwrap().organisation_keys,
            bo.org.keys
        );

        let report = customer
            .syncer_via(&bo.url)
            .sync(&mut |_| {})
            .await
            .unwrap();
        assert_eq!(report.notices, 12);
        assert_eq!(customer.store.notices().await.unwrap().len(), 12);

        let mut syncer = agent.syncer_via(&bo.url);
        assert_eq!(syncer.sync(&mut |_| {}).await.unwrap().visits, 12);
        agent.record_receipts(5).await;
        let mut seen = Vec::new();
        let report = syncer.sync(&mut |p| seen.push(p)).await.unwrap();
        assert_eq!((report.stored, report.pending), (60, 0));
        assert_eq!(seen.first(), Some(&Progress { done: 0, total: 60 }));
        assert_eq!(
            seen.last(),
            Some(&Progress {
                done: 60,
                total: 60
            })
        );
        assert!(seen.windows(2).all(|w| w[0].done <= w[1].done));
        assert_exactly_once(&bo, &agent, 60).await;
        assert!(
            agent
                .store
                .checkpoint(doorstep_sync::LAST_SYNC_CHECKPOINT)
                .await
                .unwrap()
                .is_some()
        );

        // Nothing new: nothing sent.
        let again = syncer.sync(&mut |_| {}).await.unwrap();
        assert_eq!((again.stored, again.already_stored), (0, 0));
    }
}

#[tokio::test]
async fn connections_cut_mid_request_or_mid_response_lose_and_duplicate_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for bo in backoffices(&dir).await {
        bo.schedule("V", "A-1", "C-1", 3).await;
        let _customer = Phone::enrolled(&bo, Role::Customer, "C-1").await;
        let agent = Phone::enrolled(&bo, Role::Agent, "A-1").await;
        let proxy = CutProxy::start(bo.addr()).await;
        let mut syncer = agent.syncer_via(&proxy.url);
        // Retry within a second, so the rounds below need no clock games.
        syncer.backoff = doorstep_sync::Backoff {
            base_secs: 0,
            max_secs: 1,
        };
        syncer.sync(&mut |_| {}).await.unwrap();

        let mut recorded = 0;
        let mut failures = 0;
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for round in 0..30 {
            recorded += agent.record_receipts(1).await.len();
            // A cut somewhere in the first 3 kB of the request or of the response.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed % 3000) as usize;
            proxy.set(if round % 2 == 0 {
                Cut::Request(at)
            } else {
                Cut::Response(at)
            });
            match syncer.push(&mut Default::default(), &mut |_| {}).await {
                Ok(()) => {}
                Err(e) => {
                    assert!(e.is_transient(), "{e}");
                    failures += 1;
                }
            }
            proxy.set(Cut::Never);
        }
        assert!(
            failures > 10,
            "the cuts must actually break requests ({failures})"
        );
        // Past the last backoff, a clean sync delivers whatever the cut ones did not.
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        let last = syncer.sync(&mut |_| {}).await;
        assert!(last.is_ok(), "{last:?}");
        assert_exactly_once(&bo, &agent, recorded).await;
    }
}

#[tokio::test]
async fn a_revoked_agents_phone_is_refused_and_keeps_every_result() {
    let dir = tempfile::tempdir().unwrap();
    for bo in backoffices(&dir).await {
        bo.schedule("V", "A-1", "C-1", 2).await;
        let _customer = Phone::enrolled(&bo, Role::Customer, "C-1").await;
        let agent = Phone::enrolled(&bo, Role::Agent, "A-1").await;
        let mut syncer = agent.syncer_via(&bo.url);
        syncer.sync(&mut |_| {}).await.unwrap();
        agent.record_receipts(2).await;
        bo.db.revoke_agent(&bo.org, "A-1").await.unwrap();
        let err = syncer.sync(&mut |_| {}).await.unwrap_err();
        assert_eq!(err.kind(), "revoked_device", "{err}");
        assert!(!err.is_transient());
        assert_eq!(agent.store.pending_uploads().await.unwrap(), 4);
        assert_eq!(agent.store.receipt_log().await.unwrap().len(), 4);
        assert!(bo.exported_upload_ids().await.is_empty());
    }
}

#[tokio::test]
async fn a_phone_clock_hours_off_still_syncs_and_says_by_how_much() {
    let dir = tempfile::tempdir().unwrap();
    for bo in backoffices(&dir).await {
        bo.schedule("V", "A-1", "C-1", 1).await;
        let _customer = Phone::enrolled(&bo, Role::Customer, "C-1").await;
        let agent = Phone::enrolled(&bo, Role::Agent, "A-1").await;
        agent.clock.shift(-3 * 3600);
        let mut syncer = agent.syncer_via(&bo.url);
        let report = syncer.sync(&mut |_| {}).await.unwrap();
        assert!(
            (3 * 3600 - 5..=3 * 3600 + 5).contains(&report.clock_offset),
            "{report:?}"
        );
        assert_eq!(report.visits, 1);
        agent.record_receipts(1).await;
        syncer.sync(&mut |_| {}).await.unwrap();
        assert_exactly_once(&bo, &agent, 1).await;
    }
}

#[tokio::test]
async fn fifty_phones_sync_at_once() {
    let dir = tempfile::tempdir().unwrap();
    for bo in backoffices(&dir).await {
        let mut phones = Vec::new();
        let _customer_phone = {
            for i in 0..50 {
                bo.add_agent(&format!("A-{}", i + 100)).await;
                bo.schedule(&format!("V{i}"), &format!("A-{}", i + 100), "C-1", 1)
                    .await;
            }
            Phone::enrolled(&bo, Role::Customer, "C-1").await
        };
        for i in 0..50 {
            phones.push(Phone::enrolled(&bo, Role::Agent, &format!("A-{}", i + 100)).await);
        }
        for p in &phones {
            p.syncer_via(&bo.url).sync(&mut |_| {}).await.unwrap();
            p.record_receipts(4).await;
        }
        let results = futures_join_all(phones.iter().map(|p| async {
            let mut s = p.syncer_via(&bo.url);
            s.sync(&mut |_| {}).await
        }))
        .await;
        for r in &results {
            assert!(r.is_ok(), "{r:?}");
        }
        let exported = bo.exported_upload_ids().await;
        assert_eq!(exported.len(), 200);
        assert_eq!(exported.iter().collect::<BTreeSet<_>>().len(), 200);
        for p in &phones {
            assert_eq!(p.store.pending_uploads().await.unwrap(), 0);
        }
    }
}

/// Runs futures concurrently on this task.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut outputs: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if outputs[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => outputs[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("ready")).collect()
}

#[tokio::test]
async fn an_enrolment_code_cannot_be_used_twice_over_the_api() {
    let dir = tempfile::tempdir().unwrap();
    for bo in backoffices(&dir).await {
        let code = bo.code(Role::Customer, "C-1").await;
        let pin = bo.org.pin(&bo.url);
        let first = Phone::new("first").await;
        doorstep_sync::enrol(
            &first.store,
            &pin,
            &code,
            &*first.key,
            support::system_now(),
        )
        .await
        .unwrap();
        let second = Phone::new("second").await;
        let err = doorstep_sync::enrol(
            &second.store,
            &pin,
            &code,
            &*second.key,
            support::system_now(),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, SyncError::Refused { status: 409, kind, .. } if kind == "enrolment_code_used"),
            "{err}"
        );
        assert!(second.store.enrolment().await.is_err());
    }
}

/// A back-office at the pinned address that is not the pinned organisation (a hijacked name,
/// a look-alike server) enrols nobody: its own keys are not the pin's.
#[tokio::test]
async fn a_back_office_that_is_not_the_pinned_organisation_enrols_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let real = Backoffice::start(
        &format!("sqlite:{}", dir.path().join("real.db").display()),
        dir.path(),
    )
    .await;
    let rogue = Backoffice::start(
        &format!("sqlite:{}", dir.path().join("rogue.db").display()),
        dir.path(),
    )
    .await;
    assert_eq!(real.org.name, rogue.org.name);
    // The build pins the real organisation; the rogue answers at the pinned address.
    let pin = real.org.pin(&rogue.url);
    let phone = Phone::new("customer").await;
    let code = rogue.code(Role::Customer, "C-1").await;
    let err = doorstep_sync::enrol(
        &phone.store,
        &pin,
        &code,
        &*phone.key,
        support::system_now(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "back_office_not_as_pinned", "{err}");
    assert!(phone.store.enrolment().await.is_err());
    // Through the real back-office, the same pin enrols and records the pinned number.
    let code = real.code(Role::Customer, "C-1").await;
    let enrolment = doorstep_sync::enrol(
        &phone.store,
        &real.org.pin(&real.url),
        &code,
        &*phone.key,
        support::system_now(),
    )
    .await
    .unwrap();
    assert_eq!(enrolment.official_phone, real.org.official_phone);
    assert_eq!(enrolment.organisation_keys, real.org.keys);
}

/// A rotated organisation key reaches phones only through the hand-over the trusted key
/// signed; a build pinning the old key still enrols; a forged hand-over changes nothing.
#[tokio::test]
async fn a_new_organisation_key_is_trusted_only_through_a_hand_over_from_a_trusted_one() {
    use doorstep_core::rotation::{KeyRotation, MIN_OVERLAP};
    let dir = tempfile::tempdir().unwrap();
    for bo in backoffices(&dir).await {
        bo.schedule("R", "A-1", "C-1", 1).await;
        let customer = Phone::enrolled(&bo, Role::Customer, "C-1").await;
        let old = bo.org.keys[0];
        let now = support::system_now();
        let new = bo
            .db
            .rotate_key(&bo.org, &bo.key_dir, MIN_OVERLAP, now)
            .await
            .unwrap();
        // Enrolled after the rotation with a pin naming only the old key.
        let agent = Phone::enrolled(&bo, Role::Agent, "A-1").await;
        assert_eq!(
            agent.store.enrolment().await.unwrap().organisation_keys,
            [old, new]
        );
        assert_eq!(
            agent
                .syncer_via(&bo.url)
                .sync(&mut |_| {})
                .await
                .unwrap()
                .visits,
            1
        );
        // The customer learns the new key before the notice it signed.
        let synced = customer
            .syncer_via(&bo.url)
            .sync(&mut |_| {})
            .await
            .unwrap();
        assert_eq!(synced.notices, 1);
        assert_eq!(
            customer.store.enrolment().await.unwrap().organisation_keys,
            [old, new]
        );

        // A hand-over signed by a key nobody trusts, served by a compromised back-office.
        let mallory = doorstep_core::SoftwareKey::generate(
            &mut doorstep_core::SeededRandomness::new("mallory"),
        );
        let forged = KeyRotation {
            issued_at: now + 1,
            new_key: mallory.public_key(),
            replaces: mallory.public_key().key_id(),
            retire_at: now + 1 + MIN_OVERLAP,
        }
        .to_sign(mallory.public_key())
        .sign_with(&mallory)
        .unwrap();
        bo.insert_key_rotation(&mallory.public_key(), &forged, now + 1)
            .await
            .unwrap();
        let err = customer
            .syncer_via(&bo.url)
            .sync(&mut |_| {})
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "unknown_organisation_key", "{err}");
        assert_eq!(
            customer.store.enrolment().await.unwrap().organisation_keys,
            [old, new]
        );
    }
}

/// The log's chain hash, as a tamperer with the store file recomputes it.
fn chain_hash(prev: &[u8], id: &[u8], visit: &[u8], receipt: &[u8], recorded_at: i64) -> Vec<u8> {
    let len = (receipt.len() as u64).to_be_bytes();
    let at = (recorded_at as u64).to_be_bytes();
    doorstep_core::keys::sha256(&[b"DS1 receipt log", prev, id, visit, &len, receipt, &at]).to_vec()
}

/// Someone with the phone's files drops the log's triggers, removes the first receipt and
/// rewrites the chain so that the phone's own check passes.
async fn rewrite_log(phone: &Phone) {
    use sqlx::{Connection, Row};
    let url = format!("sqlite:{}", phone.dir.path().join("device.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    for trigger in [
        "receipts_are_append_only",
        "receipts_are_never_deleted",
        "countersignatures_are_written_once",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {trigger}")))
            .execute(&mut db)
            .await
            .unwrap();
    }
    sqlx::query("DELETE FROM receipts WHERE seq = 1")
        .execute(&mut db)
        .await
        .unwrap();
    let rows =
        sqlx::query("SELECT seq, id, visit_id, receipt, recorded_at FROM receipts ORDER BY seq")
            .fetch_all(&mut db)
            .await
            .unwrap();
    let mut prev = vec![0u8; 32];
    for (n, r) in (1i64..).zip(&rows) {
        let hash = chain_hash(
            &prev,
            &r.get::<Vec<u8>, _>("id"),
            &r.get::<Vec<u8>, _>("visit_id"),
            &r.get::<Vec<u8>, _>("receipt"),
            r.get("recorded_at"),
        );
        sqlx::query("UPDATE receipts SET seq = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?")
            .bind(n)
            .bind(&prev)
            .bind(&hash)
            .bind(r.get::<i64, _>("seq"))
            .execute(&mut db)
            .await
            .unwrap();
        prev = hash;
    }
    db.close().await.unwrap();
}

/// An agent's phone with `visits` visits, a receipt for each, synced: its log anchored once.
async fn agent_with_an_anchored_log(bo: &Backoffice, visits: usize) -> Phone {
    bo.schedule("V", "A-1", "C-1", visits).await;
    Phone::enrolled(bo, Role::Customer, "C-1").await;
    let agent = Phone::enrolled(bo, Role::Agent, "A-1").await;
    let mut syncer = agent.syncer_via(&bo.url);
    syncer.sync(&mut |_| {}).await.unwrap();
    agent.record_receipts(1).await;
    syncer.sync(&mut |_| {}).await.unwrap();
    drop(syncer);
    agent
}

#[tokio::test]
async fn a_receipt_log_rewritten_on_the_phone_is_reported_at_the_next_sync() {
    let dir = tempfile::tempdir().unwrap();
    for bo in backoffices(&dir).await {
        let agent = agent_with_an_anchored_log(&bo, 3).await;
        let mut syncer = agent.syncer_via(&bo.url);
        // Honest syncs, with and without anything new to upload, keep passing.
        syncer.sync(&mut |_| {}).await.unwrap();
        agent.record_receipts(1).await;
        syncer.sync(&mut |_| {}).await.unwrap();
        let device = bo
            .db
            .device_by_key(agent.key.public_key().key_id())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(bo.db.log_rewritten_at(&device).await.unwrap(), None);

        rewrite_log(&agent).await;
        let (entries, _) = agent.store.verify_receipt_log().await.unwrap();
        assert_eq!(entries, 5, "the phone's own check is fooled");
        let err = syncer.sync(&mut |_| {}).await.unwrap_err();
        assert_eq!(err.kind(), "receipt_log_rewritten", "{err}");
        assert!(bo.db.log_rewritten_at(&device).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn a_phone_that_lost_its_anchor_is_still_checked_against_the_back_office_s() {
    let dir = tempfile::tempdir().unwrap();
    for bo in backoffices(&dir).await {
        let agent = agent_with_an_anchored_log(&bo, 2).await;
        let mut syncer = agent.syncer_via(&bo.url);
        // An answer lost on the way, or the checkpoint cleared: the phone sends its whole
        // chain and an intact log still passes.
        let forget = || async {
            agent
                .store
                .set_checkpoint(doorstep_sync::LOG_ANCHOR_CHECKPOINT, "forgotten")
                .await
                .unwrap();
        };
        forget().await;
        syncer.sync(&mut |_| {}).await.unwrap();
        // Forgetting the anchor does not hide a rewrite.
        rewrite_log(&agent).await;
        forget().await;
        let err = syncer.sync(&mut |_| {}).await.unwrap_err();
        assert_eq!(err.kind(), "receipt_log_rewritten", "{err}");
    }
}
