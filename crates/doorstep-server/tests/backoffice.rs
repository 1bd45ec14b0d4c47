//! The back-office's behaviour, on a fresh SQLite file and a fresh PostgreSQL database each.

mod support;

use std::collections::HashSet;

use doorstep_api::wire::{Bytes, Role, Upload, UploadKind, UploadStatus};
use doorstep_core::KeyId;
use doorstep_core::countersignature::Countersignature;
use doorstep_core::enrolment::EnrolmentCode;
use doorstep_core::notice::{Denylist, VerifiedNotice};
use doorstep_core::receipt::UnverifiedOutcome;
use doorstep_core::ticket::{NO_CUSTOMER_KEY, SignedTicket};
use doorstep_core::{SeededRandomness, SoftwareKey};
use doorstep_server::ServerError;
use doorstep_server::db::devices::ENROLMENT_CODE_LIFETIME;
use doorstep_server::db::export::Purged;
use doorstep_server::ingest::ingest;
use doorstep_server::planning::CSV_HEADER;
use support::{NOW, PHOTO, World, customer_data, enrol, new_org, visit};
use uuid::Uuid;

fn upload(kind: UploadKind, payload: Vec<u8>) -> Upload {
    Upload {
        id: Uuid::now_v7(),
        kind,
        payload: Bytes(payload),
    }
}

#[tokio::test]
async fn an_enrolment_code_enrols_one_device_once_before_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    for w in World::on_every_backend(&dir).await {
        let code =
            w.db.issue_enrolment_code(&w.org, Role::Customer, "C-1", "https://x", NOW)
                .await
                .unwrap();
        let code = code.invite.code;
        let key = |s| SoftwareKey::generate(&mut SeededRandomness::new(s)).public_key();
        // Expired first (a later attempt at the right time still works: nothing was used up).
        let late = NOW + ENROLMENT_CODE_LIFETIME;
        assert!(matches!(
            w.db.enrol_device(&code, key("a"), None, late).await,
            Err(ServerError::EnrolmentCodeExpired)
        ));
        let (device, org) = w.db.enrol_device(&code, key("a"), None, NOW).await.unwrap();
        assert_eq!(
            (device.role, org.name.as_str()),
            (Role::Customer, "Northbank")
        );
        assert!(matches!(
            w.db.enrol_device(&code, key("b"), None, NOW).await,
            Err(ServerError::EnrolmentCodeUsed)
        ));
        assert!(matches!(
            w.db.enrol_device(&EnrolmentCode([7; 10]), key("c"), None, NOW)
                .await,
            Err(ServerError::UnknownEnrolmentCode)
        ));
        // The customer had a device: the new one is held for the cooling-off period, the
        // earlier one keeps working, and takes over only after it.
        assert_eq!(device.held_until, Some(NOW + 24 * 3600));
        let earlier = || async {
            w.db.device_by_key(w.customer_key.public_key().key_id())
                .await
                .unwrap()
                .unwrap()
        };
        assert_eq!(earlier().await.revoked_at, None);
        w.db.release_held_devices(NOW + 24 * 3600 - 1)
            .await
            .unwrap();
        assert_eq!(earlier().await.revoked_at, None);
        w.db.release_held_devices(NOW + 24 * 3600).await.unwrap();
        assert!(earlier().await.revoked_at.is_some());
        let taken_over =
            w.db.device_by_key(key("a").key_id())
                .await
                .unwrap()
                .unwrap();
        assert_eq!((taken_over.held_until, taken_over.revoked_at), (None, None));
        // A customer's code lasts the organisation's days (3 here), an agent's two weeks.
        let short =
            w.db.issue_enrolment_code(&w.org, Role::Customer, "C-1", "https://x", NOW)
                .await
                .unwrap();
        assert_eq!(short.expires_at, NOW + 3 * 86_400);
        // A key can be enrolled once.
        let again =
            w.db.issue_enrolment_code(&w.org, Role::Customer, "C-1", "https://x", NOW)
                .await
                .unwrap();
        assert!(matches!(
            w.db.enrol_device(&again.invite.code, key("a"), None, NOW)
                .await,
            Err(ServerError::KeyAlreadyEnrolled)
        ));
        // A revoked agent gets no new code.
        w.db.revoke_agent(&w.org, "A-1").await.unwrap();
        assert!(matches!(
            w.db.issue_enrolment_code(&w.org, Role::Agent, "A-1", "https://x", NOW)
                .await,
            Err(ServerError::AgentRevoked(_))
        ));
    }
}

#[tokio::test]
async fn a_csv_import_reports_every_bad_line_and_stores_nothing_unless_all_are_good() {
    let dir = tempfile::tempdir().unwrap();
    for w in World::on_every_backend(&dir).await {
        let header = CSV_HEADER.join(",");
        let bad = format!(
            "{header}\n\
             V-2,A-1,C-1,2026-11-24T09:00:00Z,90,Deliver card,card_handover,full_name\n\
             V-3,A-9,C-1,2026-11-24T09:00:00Z,90,Deliver card,,\n\
             V-4,A-1,C-1,24/11/2026,90,Deliver card,,\n\
             V-2,A-1,C-1,2026-11-24T11:00:00Z,90,Again,,\n\
             V-1,A-1,C-1,2026-11-24T11:00:00Z,90,Exists,,\n\
             V-5,A-1,C-1,2026-11-24T11:00:00Z,90,Bad field,,shoe_size\n\
             V-6,A-1\n"
        );
        let Err(ServerError::Import(errors)) = w.db.import_visits(&w.org, &bad, NOW).await else {
            panic!("the import must be refused");
        };
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7, 8], "{errors:?}");
        assert!(errors[0].message.contains("no agent \"A-9\""));
        assert!(errors[1].message.contains("window_start"));
        assert!(errors[2].message.contains("also on line 2"));
        assert!(errors[3].message.contains("already exists"));
        assert!(errors[4].message.contains("shoe_size"));
        assert!(errors[5].message.contains("columns"));
        assert_eq!(
            w.db.visits(&w.org).await.unwrap().len(),
            1,
            "nothing stored"
        );

        let good = format!(
            "{header}\n\
             V-2,A-1,C-1,2026-11-24T09:00:00Z,90,Deliver card,card_handover,full_name\n\
             V-3,A-1,C-1,2026-11-24 13:00,60,\"Check address, then card\",address_confirmation,postal_address full_name\n"
        );
        assert_eq!(
            w.db.import_visits(&w.org, &good, NOW).await.unwrap().len(),
            2
        );
        let visits = w.db.visits(&w.org).await.unwrap();
        assert_eq!(visits.len(), 3);
        let v3 = visits.iter().find(|v| v.visit_ref == "V-3").unwrap();
        assert_eq!(v3.purpose, "Check address, then card");
        assert_eq!(v3.window_minutes, 60);
        // Importing the same file twice stores nothing the second time.
        assert!(matches!(
            w.db.import_visits(&w.org, &good, NOW).await,
            Err(ServerError::Import(_))
        ));
    }
}

#[tokio::test]
async fn the_package_and_the_notice_carry_the_same_ticket_valid_only_in_the_window() {
    let dir = tempfile::tempdir().unwrap();
    for w in World::on_every_backend(&dir).await {
        let package =
            w.db.agent_package(&w.org, &w.agent_device, &w.signer, NOW)
                .await
                .unwrap();
        assert_eq!(package.visits.len(), 1);
        let packaged = &package.visits[0];
        let ticket = w.ticket().await;
        let t = ticket.ticket();
        assert_eq!(t.visit_id, w.visit);
        assert_eq!((t.not_before, t.not_after), (NOW + 3600, NOW + 3600 + 7200));
        assert_eq!(t.agent_key, w.agent_key.public_key());
        assert_eq!(t.customer_key_id, w.customer_key.public_key().key_id());
        assert_eq!(
            packaged.customer_key.0,
            w.customer_key.public_key().as_bytes()
        );
        // Only the fields the visit allows; the address and birth date stay home.
        let shown: Vec<_> = packaged.customer_data.keys().cloned().collect();
        assert_eq!(shown, vec!["card_last_four", "full_name"]);
        Denylist::verify(&package.denylist.0, &w.org.keys).unwrap();

        let notices =
            w.db.customer_notices(&w.org, &w.customer_device, &w.signer, NOW)
                .await
                .unwrap();
        assert_eq!(notices.notices.len(), 1);
        let notice = VerifiedNotice::verify(&notices.notices[0].notice.0, &w.org.keys).unwrap();
        assert_eq!(
            notice.ticket().encoded(),
            ticket.encoded(),
            "the very same ticket"
        );
        assert_eq!(notice.notice().official_phone, "+31 20 555 0100");
        assert_eq!(notice.notice().retention_days, 30);
        assert_eq!(notices.notices[0].agent_photo.as_ref().unwrap().0, PHOTO);

        // Each side may only pull its own.
        assert!(matches!(
            w.db.agent_package(&w.org, &w.customer_device, &w.signer, NOW)
                .await,
            Err(ServerError::WrongRole(Role::Agent))
        ));
        // After the window the visit is no longer handed out.
        let later =
            w.db.agent_package(&w.org, &w.agent_device, &w.signer, NOW + 3 * 3600)
                .await
                .unwrap();
        assert!(later.visits.is_empty());
    }
}

#[tokio::test]
async fn a_customer_without_a_phone_is_visited_on_a_ticket_naming_no_key_until_they_enrol() {
    let dir = tempfile::tempdir().unwrap();
    for w in World::on_every_backend(&dir).await {
        w.db.add_customer(&w.org, "C-2", &customer_data())
            .await
            .unwrap();
        w.db.add_visit(&w.org, &visit("V-2", "A-1", "C-2", NOW + 600), NOW)
            .await
            .unwrap();
        let package =
            w.db.agent_package(&w.org, &w.agent_device, &w.signer, NOW)
                .await
                .unwrap();
        assert_eq!(
            (package.visits.len(), package.awaiting_customer_enrolment),
            (2, 1)
        );
        // Each packaged visit: the customer key id its ticket names, and the key sent with it.
        let customer_keys = |p: &doorstep_api::wire::AgentPackage| -> Vec<(KeyId, usize)> {
            p.visits
                .iter()
                .map(|v| {
                    let t = SignedTicket::verify(&v.ticket.0, &w.org.keys).unwrap();
                    (t.ticket().customer_key_id, v.customer_key.0.len())
                })
                .collect()
        };
        let app_less: Vec<_> = customer_keys(&package)
            .into_iter()
            .filter(|&(id, len)| id == NO_CUSTOMER_KEY && len == 0)
            .collect();
        assert_eq!(app_less.len(), 1, "C-2's visit names no customer key");
        // Nothing on the agent's phone could open C-2's data: none is sent.
        let sent: Vec<usize> = package
            .visits
            .iter()
            .map(|v| v.customer_data.len())
            .collect();
        assert!(sent.contains(&0) && sent.iter().any(|&n| n > 0), "{sent:?}");
        enrol(&w.db, &w.org, Role::Customer, "C-2", "customer 2").await;
        let package =
            w.db.agent_package(&w.org, &w.agent_device, &w.signer, NOW)
                .await
                .unwrap();
        assert_eq!(
            (package.visits.len(), package.awaiting_customer_enrolment),
            (2, 0)
        );
        assert!(
            customer_keys(&package)
                .iter()
                .all(|&(id, len)| id != NO_CUSTOMER_KEY && len == 33),
            "once enrolled, every ticket names the customer's key"
        );
    }
}

#[tokio::test]
async fn an_upload_is_stored_once_countersigned_and_redelivery_returns_the_same() {
    let dir = tempfile::tempdir().unwrap();
    for w in World::on_every_backend(&dir).await {
        let ticket = w.ticket().await;
        let receipt = w.receipt(&ticket, UnverifiedOutcome::Refused, NOW + 3700);
        let up = upload(UploadKind::Receipt, receipt.clone());
        let first = ingest(
            &w.db,
            &w.agent_device,
            std::slice::from_ref(&up),
            &w.signer,
            NOW + 3800,
        )
        .await
        .unwrap();
        assert_eq!(first[0].status, UploadStatus::Stored);
        let cs = first[0].countersignature.clone().unwrap();
        let checked =
            Countersignature::verify(&cs.0, &w.org.keys, *up.id.as_bytes(), &receipt).unwrap();
        assert_eq!(checked.received_at, NOW + 3800);

        let again = ingest(
            &w.db,
            &w.agent_device,
            std::slice::from_ref(&up),
            &w.signer,
            NOW + 9999,
        )
        .await
        .unwrap();
        assert_eq!(again[0].status, UploadStatus::AlreadyStored);
        assert_eq!(again[0].countersignature, Some(cs));

        // The same id with other content is refused, and the stored one is untouched.
        let mut altered = up.clone();
        altered.payload = Bytes(w.receipt(&ticket, UnverifiedOutcome::Suspicious, NOW + 3700));
        let refused = ingest(&w.db, &w.agent_device, &[altered], &w.signer, NOW + 3800)
            .await
            .unwrap();
        assert_eq!(refused[0].error.as_ref().unwrap().error, "upload_id_reused");

        let exported = w.db.export(&w.org).await.unwrap();
        assert_eq!(exported.len(), 1);
        assert_eq!(exported[0].outcome, "refused");
        assert_eq!(exported[0].visit_ref, "V-1");
        assert_eq!(exported[0].upload_id, up.id.to_string());
        let visits = w.db.visits(&w.org).await.unwrap();
        assert!(visits[0].completed_at.is_some());
    }
}

#[tokio::test]
async fn forged_foreign_and_misdirected_uploads_are_refused_each_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    for w in World::on_every_backend(&dir).await {
        let ticket = w.ticket().await;
        let good = w.receipt(&ticket, UnverifiedOutcome::NotHome, NOW + 3700);
        let mut forged = good.clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;

        // A second organisation's agent signs a receipt for our visit with its own key.
        let south_dir = dir
            .path()
            .join(format!("south-{}", Uuid::now_v7().simple()));
        std::fs::create_dir(&south_dir).unwrap();
        let south =
            w.db.create_organisation(&new_org("Southbank"), &south_dir)
                .await
                .unwrap();
        w.db.add_agent(
            &south,
            &doorstep_server::db::agents::NewAgent {
                staff_ref: "S-1",
                display_name: "Eve",
                on_behalf_of: "Southbank",
                photo: b"eve",
            },
        )
        .await
        .unwrap();
        let (eve_key, eve_device) = enrol(&w.db, &south, Role::Agent, "S-1", "eve").await;
        let eve_receipt = doorstep_core::receipt::Receipt::without_handshake(
            &ticket,
            UnverifiedOutcome::Refused,
            Default::default(),
            None,
            NOW,
        )
        .to_sign(eve_key.public_key())
        .sign_with(&eve_key)
        .unwrap();
        let south_signer = doorstep_server::keys::KeyRing::new(south_dir)
            .signer(&south)
            .unwrap();
        let eve_result = ingest(
            &w.db,
            &eve_device,
            &[upload(UploadKind::Receipt, eve_receipt)],
            &south_signer,
            NOW,
        )
        .await
        .unwrap();
        assert_eq!(eve_result[0].error.as_ref().unwrap().error, "unknown_visit");

        let not_ours = w.receipt(&ticket, UnverifiedOutcome::NotHome, NOW); // signed by our agent
        let results = ingest(
            &w.db,
            &w.agent_device,
            &[
                upload(UploadKind::Receipt, forged),
                upload(UploadKind::Receipt, b"not cbor".to_vec()),
                upload(UploadKind::Report, b"{}".to_vec()),
                upload(UploadKind::Receipt, good),
            ],
            &w.signer,
            NOW,
        )
        .await
        .unwrap();
        let kinds: Vec<_> = results
            .iter()
            .map(|r| r.error.as_ref().map_or("stored", |e| e.error.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                "bad_receipt_signature",
                "malformed_code",
                "malformed_report",
                "stored"
            ]
        );
        // Our agent's receipt uploaded through the customer's device is refused too.
        let via_customer = ingest(
            &w.db,
            &w.customer_device,
            &[upload(UploadKind::Receipt, not_ours)],
            &w.signer,
            NOW,
        )
        .await
        .unwrap();
        assert_eq!(via_customer[0].error.as_ref().unwrap().error, "wrong_role");
        // "Not home" keeps the visit open for another try.
        assert!(w.db.visits(&w.org).await.unwrap()[0].completed_at.is_none());
        assert!(w.db.export(&south).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn revoking_an_agent_puts_their_device_on_a_newer_denylist() {
    let dir = tempfile::tempdir().unwrap();
    for w in World::on_every_backend(&dir).await {
        let first = w.db.current_denylist(&w.org, &w.signer, NOW).await.unwrap();
        assert_eq!(
            w.db.current_denylist(&w.org, &w.signer, NOW + 10)
                .await
                .unwrap(),
            first
        );
        let first = Denylist::verify(&first, &w.org.keys).unwrap();
        assert!(first.agent_keys.is_empty());
        w.db.revoke_agent(&w.org, "A-1").await.unwrap();
        let second =
            w.db.current_denylist(&w.org, &w.signer, NOW + 20)
                .await
                .unwrap();
        let second = Denylist::verify(&second, &w.org.keys).unwrap();
        assert_eq!(second.sequence, first.sequence + 1);
        assert_eq!(second.agent_keys, vec![w.agent_key.public_key().key_id()]);
        // Unchanged but old: signed again so devices always find a fresh one.
        let third =
            w.db.current_denylist(&w.org, &w.signer, NOW + 20 + 3600)
                .await
                .unwrap();
        let third = Denylist::verify(&third, &w.org.keys).unwrap();
        assert_eq!(
            (third.sequence, third.issued_at),
            (second.sequence + 1, NOW + 3620)
        );
    }
}

#[tokio::test]
async fn cancelling_a_visit_and_revoking_a_device_or_customer_fill_the_denylist() {
    let dir = tempfile::tempdir().unwrap();
    for w in World::on_every_backend(&dir).await {
        let serial = w.ticket().await.ticket().serial;
        assert_eq!(w.db.cancel_visit(&w.org, "V-1", NOW).await.unwrap(), 1);
        let list =
            w.db.current_denylist(&w.org, &w.signer, NOW + 1)
                .await
                .unwrap();
        let list = Denylist::verify(&list, &w.org.keys).unwrap();
        assert_eq!(list.ticket_serials, vec![serial]);
        // The cancelled visit leaves the package and the notices.
        let package =
            w.db.agent_package(&w.org, &w.agent_device, &w.signer, NOW + 2)
                .await
                .unwrap();
        assert!(package.visits.is_empty());
        let notices =
            w.db.customer_notices(&w.org, &w.customer_device, &w.signer, NOW + 2)
                .await
                .unwrap();
        assert!(notices.notices.is_empty());
        // A day after the window ended, the serial may leave the list.
        let later = NOW + 3600 + 7200 + 24 * 3600 + 1;
        let list =
            w.db.current_denylist(&w.org, &w.signer, later)
                .await
                .unwrap();
        assert!(
            Denylist::verify(&list, &w.org.keys)
                .unwrap()
                .ticket_serials
                .is_empty()
        );
        assert!(matches!(
            w.db.cancel_visit(&w.org, "V-9", NOW).await,
            Err(ServerError::UnknownVisit(_))
        ));

        let devices = w.db.devices(&w.org).await.unwrap();
        assert_eq!(devices.len(), 2);
        let agent = devices.iter().find(|d| d.role == Role::Agent).unwrap();
        assert_eq!(agent.subject_ref, "A-1");
        w.db.revoke_device(&w.org, agent.id, NOW + 3).await.unwrap();
        assert!(matches!(
            w.db.revoke_device(&w.org, uuid::Uuid::now_v7(), NOW).await,
            Err(ServerError::UnknownDevice(_))
        ));
        let issued_before =
            w.db.issue_enrolment_code(
                &w.org,
                Role::Customer,
                "C-1",
                "https://doorstep.example",
                NOW + 3,
            )
            .await
            .unwrap();
        w.db.revoke_customer(&w.org, "C-1", NOW + 4).await.unwrap();
        let spare = SoftwareKey::generate(&mut SeededRandomness::new("spare"));
        assert!(matches!(
            w.db.enrol_device(
                &issued_before.invite.code,
                spare.public_key(),
                None,
                NOW + 4
            )
            .await,
            Err(ServerError::CustomerRevoked(_))
        ));
        let list =
            w.db.current_denylist(&w.org, &w.signer, NOW + 5)
                .await
                .unwrap();
        let list = Denylist::verify(&list, &w.org.keys).unwrap();
        assert_eq!(list.agent_keys, vec![w.agent_key.public_key().key_id()]);
        assert_eq!(
            list.customer_keys,
            vec![w.customer_key.public_key().key_id()]
        );
        // A revoked customer gets no new code, so no new device.
        assert!(matches!(
            w.db.issue_enrolment_code(
                &w.org,
                Role::Customer,
                "C-1",
                "https://doorstep.example",
                NOW + 6
            )
            .await,
            Err(ServerError::CustomerRevoked(_))
        ));
    }
}

#[tokio::test]
async fn a_held_device_takes_over_when_confirmed_and_both_devices_hear_their_standing() {
    let dir = tempfile::tempdir().unwrap();
    for w in World::on_every_backend(&dir).await {
        let (_, held) = enrol(&w.db, &w.org, Role::Customer, "C-1", "second phone").await;
        assert_eq!(held.held_until, Some(NOW + 24 * 3600));
        let notices =
            w.db.customer_notices(&w.org, &held, &w.signer, NOW)
                .await
                .unwrap();
        assert!(notices.notices.is_empty());
        assert_eq!(notices.standing.held_until, Some(NOW + 24 * 3600));
        let earlier =
            w.db.customer_notices(&w.org, &w.customer_device, &w.signer, NOW)
                .await
                .unwrap();
        assert_eq!(earlier.notices.len(), 1);
        let told = earlier.standing.new_device.unwrap();
        assert_eq!(
            (told.enrolled_at, told.takes_over_at),
            (NOW, NOW + 24 * 3600)
        );
        // Confirmed on the official line: it takes over now, the earlier one is revoked.
        assert!(matches!(
            w.db.confirm_device(&w.org, w.customer_device.id, NOW + 60)
                .await,
            Err(ServerError::Invalid(_))
        ));
        w.db.confirm_device(&w.org, held.id, NOW + 60)
            .await
            .unwrap();
        let held =
            w.db.device_by_key(held.public_key.key_id())
                .await
                .unwrap()
                .unwrap();
        assert_eq!(held.held_until, None);
        let notices =
            w.db.customer_notices(&w.org, &held, &w.signer, NOW + 60)
                .await
                .unwrap();
        assert_eq!(notices.notices.len(), 1);
        assert_eq!(notices.standing, Default::default());
        let earlier =
            w.db.device_by_key(w.customer_key.public_key().key_id())
                .await
                .unwrap()
                .unwrap();
        assert_eq!(earlier.revoked_at, Some(i64::try_from(NOW + 60).unwrap()));
    }
}

#[tokio::test]
async fn purge_erases_a_customers_data_only_after_the_retention_period_and_no_open_visit() {
    let dir = tempfile::tempdir().unwrap();
    for w in World::on_every_backend(&dir).await {
        let ticket = w.ticket().await;
        let window_end = NOW + 3600 + 7200;
        // Open visit: nothing to erase however late.
        assert_eq!(
            w.db.purge(&w.org, window_end - 1).await.unwrap(),
            Purged::default()
        );
        // The customer reports the visitor; the note is personal data too.
        // About the visit the customer's phone was told of.
        w.ticket().await;
        let report = serde_json::to_vec(&doorstep_api::wire::Report {
            visit_id: Some(uuid::Uuid::from_bytes(w.visit.0)),
            reason: Some("bad_proof_signature".into()),
            note: "A man in a grey coat, would not wait for the call".into(),
            time: NOW + 3650,
        })
        .unwrap();
        let report = upload(UploadKind::Report, report);
        let sent = ingest(
            &w.db,
            &w.customer_device,
            std::slice::from_ref(&report),
            &w.signer,
            NOW + 3650,
        )
        .await
        .unwrap();
        assert_eq!(sent[0].status, UploadStatus::Stored);
        let receipt = w.receipt(&ticket, UnverifiedOutcome::Refused, NOW + 3700);
        ingest(
            &w.db,
            &w.agent_device,
            &[upload(UploadKind::Receipt, receipt)],
            &w.signer,
            NOW + 3700,
        )
        .await
        .unwrap();
        let day = 86_400;
        let completed = NOW + 3700;
        assert_eq!(
            w.db.purge(&w.org, completed + 30 * day - 1).await.unwrap(),
            Purged {
                customers: 0,
                reports: 1
            },
            "the report arrived earlier, so its time is up first"
        );
        assert_eq!(
            w.db.customer(&w.org, "C-1").await.unwrap().data,
            Some(customer_data())
        );
        assert_eq!(
            w.db.purge(&w.org, completed + 30 * day + 1).await.unwrap(),
            Purged {
                customers: 1,
                reports: 0
            }
        );
        assert_eq!(w.db.customer(&w.org, "C-1").await.unwrap().data, None);
        // The audit trail stays, and a late redelivery of the report is still recognised.
        assert_eq!(w.db.export(&w.org).await.unwrap().len(), 1);
        let again = ingest(
            &w.db,
            &w.customer_device,
            &[report],
            &w.signer,
            completed + 31 * day,
        )
        .await
        .unwrap();
        assert_eq!(again[0].status, UploadStatus::AlreadyStored);
        assert_eq!(again[0].countersignature, sent[0].countersignature);
    }
}

/// A stolen or cloned agent phone can sign anything with the agent's key, but not the
/// customer's answer: "verified" needs both.
#[tokio::test]
async fn a_verified_receipt_is_stored_only_with_the_customers_answer_and_allowed_checks() {
    use doorstep_core::cbor::MapBuilder;
    use doorstep_core::signed::{DocumentKind, encode_envelope, signed_bytes};
    use doorstep_core::ticket::Check;
    use doorstep_core::{Policy, Trust, agent, customer};

    let dir = tempfile::tempdir().unwrap();
    for w in World::on_every_backend(&dir).await {
        let ticket = w.ticket().await;
        let t = ticket.ticket();
        let at = t.window_start + 60;
        let trust = Trust::new(
            w.org.keys.clone(),
            Policy {
                require_denylist: false,
                ..Policy::default()
            },
        );
        // A real handshake between the world's two devices.
        let mut rng = SeededRandomness::new("door");
        let (waiting, challenge) = customer::AwaitingProof::start_without_notice(
            t.visit_id,
            w.customer_key.public_key(),
            at,
            &mut rng,
        );
        let to_sign = agent::Ready::new(ticket.encoded(), w.customer_key.public_key(), &trust)
            .unwrap()
            .receive_challenge(challenge, &trust, at, &mut rng)
            .unwrap();
        let agent_signature = w.agent_key.sign(&to_sign.bytes_to_sign());
        let (awaiting, proof) = to_sign.finish(agent_signature).unwrap();
        let shown = waiting
            .receive_proof(&proof, &trust, at)
            .unwrap()
            .person_confirmed();
        let customer_signature = w.customer_key.sign(&shown.bytes_to_sign());
        let (_, response) = shown.finish(customer_signature).unwrap();
        let verified = awaiting.codes_match().receive_response(&response).unwrap();
        let genuine = verified
            .receipt_to_sign(Default::default(), at + 30)
            .sign_with(&w.agent_key)
            .unwrap();

        // What a doctored agent app uploads: "verified", signed by the agent's key, with the
        // transcript hash but without the customer's answer.
        let mut payload = MapBuilder::new();
        payload
            .entry(1, |e| {
                e.bytes(&t.visit_id.0);
            })
            .entry(2, |e| {
                e.uint(t.serial);
            })
            .entry(3, |e| {
                e.uint(1);
            })
            .entry(4, |e| {
                e.uint(1);
            })
            .entry(5, |e| {
                e.bytes(&verified.transcript_hash());
            })
            .entry(6, |e| {
                e.uint(at + 30);
            });
        let payload = payload.finish();
        let key_id = w.agent_key.public_key().key_id();
        let signature = w
            .agent_key
            .sign(&signed_bytes(DocumentKind::Receipt, key_id, &payload));
        let agent_only = encode_envelope(key_id, &payload, &signature);

        let not_allowed = Check::ALL
            .iter()
            .copied()
            .find(|c| !t.checks.contains(*c))
            .expect("the visit leaves some check out");
        let claims_more = doorstep_core::receipt::Receipt::without_handshake(
            &ticket,
            UnverifiedOutcome::Refused,
            [not_allowed].into_iter().collect(),
            None,
            at,
        )
        .to_sign(w.agent_key.public_key())
        .sign_with(&w.agent_key)
        .unwrap();

        let results = ingest(
            &w.db,
            &w.agent_device,
            &[
                upload(UploadKind::Receipt, agent_only),
                upload(UploadKind::Receipt, claims_more),
                upload(UploadKind::Receipt, genuine),
            ],
            &w.signer,
            at + 60,
        )
        .await
        .unwrap();
        let kinds: Vec<_> = results
            .iter()
            .map(|r| r.error.as_ref().map_or("stored", |e| e.error.as_str()))
            .collect();
        assert_eq!(
            kinds,
            ["verified_without_customer", "checks_not_allowed", "stored"]
        );
        let exported = w.db.export(&w.org).await.unwrap();
        assert_eq!(exported.len(), 1);
        assert_eq!(exported[0].outcome, "verified");

        // The visit's page: the ticket as the organisation signed it, and the one receipt with
        // the three signatures behind "verified", each by the key it should be.
        let auditor =
            support::signed_in(&w, "aud", doorstep_server::staff::StaffRole::Auditor).await;
        let page = doorstep_server::console::visit(&w.db, &auditor, "V-1")
            .await
            .unwrap();
        let hex_id = |k: doorstep_core::PublicKey| hex::encode(k.key_id().0);
        assert_eq!(page.records.tickets.len(), 1);
        let shown = &page.records.tickets[0];
        assert_eq!(shown.serial, t.serial);
        assert_eq!(shown.organisation.key_id, hex_id(w.org.keys[0]));
        assert_eq!(shown.agent_key_id, hex_id(w.agent_key.public_key()));
        assert_eq!(page.records.receipts.len(), 1);
        let receipt = &page.records.receipts[0];
        assert_eq!(receipt.outcome, doorstep_core::Outcome::Verified);
        assert_eq!(receipt.agent.key_id, hex_id(w.agent_key.public_key()));
        let customer = receipt.customer.as_ref().expect("the customer's signature");
        assert_eq!(customer.key_id, hex_id(w.customer_key.public_key()));
        assert_eq!(receipt.back_office.key_id, hex_id(w.org.keys[0]));
        for signature in [&receipt.agent, customer, &receipt.back_office] {
            assert_eq!(hex::decode(&signature.signature).unwrap().len(), 64);
        }
        assert_eq!(page.line.outcome, Some(doorstep_core::Outcome::Verified));
        assert!(
            page.reports.is_empty(),
            "an auditor does not handle reports"
        );
        assert!(matches!(
            doorstep_server::console::visit(&w.db, &auditor, "V-404").await,
            Err(ServerError::UnknownVisit(_))
        ));
    }
}

async fn day_view(
    w: &World,
    who: &doorstep_server::console::SignedIn,
    from: u64,
    to: u64,
    agent: Option<&str>,
) -> Result<Vec<doorstep_server::db::staff::VisitLine>, ServerError> {
    let query = doorstep_server::db::staff::VisitQuery {
        from,
        to,
        agent_ref: agent,
        limit: 100,
        ..Default::default()
    };
    Ok(doorstep_server::console::visits(&w.db, who, &query)
        .await?
        .lines)
}

#[tokio::test]
async fn the_console_s_day_view_shows_each_visit_s_state_as_results_come_in() {
    use doorstep_server::staff::StaffRole;
    let dir = tempfile::tempdir().unwrap();
    for w in World::on_every_backend(&dir).await {
        let operator = support::signed_in(&w, "olga", StaffRole::Operator).await;
        let day = (NOW, NOW + 86_400);
        let lines = day_view(&w, &operator, day.0, day.1, None).await.unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(
            (
                lines[0].visit_ref.as_str(),
                lines[0].agent_ref.as_str(),
                lines[0].customer_ref.as_str(),
                lines[0].cancelled,
                lines[0].outcome
            ),
            ("V-1", "A-1", "C-1", false, None)
        );
        // Another day, another agent: nothing.
        assert!(
            day_view(&w, &operator, day.1, day.1 + 86_400, None)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            day_view(&w, &operator, day.0, day.1, Some("A-2"))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            day_view(&w, &operator, day.0, day.0 + 40 * 86_400, None).await,
            Err(ServerError::Invalid(_))
        ));

        // The agent's phone syncs a result: the view shows it.
        let ticket = w.ticket().await;
        let receipt = w.receipt(&ticket, UnverifiedOutcome::Suspicious, NOW + 3700);
        ingest(
            &w.db,
            &w.agent_device,
            &[upload(UploadKind::Receipt, receipt)],
            &w.signer,
            NOW + 3800,
        )
        .await
        .unwrap();
        let lines = day_view(&w, &operator, day.0, day.1, Some("A-1"))
            .await
            .unwrap();
        assert_eq!(lines[0].outcome, Some(doorstep_core::Outcome::Suspicious));
        w.db.cancel_visit(&w.org, "V-1", NOW + 3900).await.unwrap();
        let lines = day_view(&w, &operator, day.0, day.1, None).await.unwrap();
        assert!(lines[0].cancelled);
    }
}

#[tokio::test]
async fn reports_queue_for_the_official_line_and_move_from_new_to_called_back_to_closed() {
    use doorstep_server::console;
    use doorstep_server::db::staff::ReportState;
    use doorstep_server::staff::StaffRole;
    let dir = tempfile::tempdir().unwrap();
    for w in World::on_every_backend(&dir).await {
        let operator = support::signed_in(&w, "olga", StaffRole::Operator).await;
        let planner = support::signed_in(&w, "piet", StaffRole::Planner).await;
        // About the visit the customer's phone was told of.
        w.ticket().await;
        let report = serde_json::to_vec(&doorstep_api::wire::Report {
            visit_id: Some(uuid::Uuid::from_bytes(w.visit.0)),
            reason: Some("bad_proof_signature".into()),
            note: "A man in a grey coat, would not wait for the call".into(),
            time: NOW + 100,
        })
        .unwrap();
        ingest(
            &w.db,
            &w.customer_device,
            &[upload(UploadKind::Report, report)],
            &w.signer,
            NOW + 120,
        )
        .await
        .unwrap();

        let queue = console::reports(&w.db, &operator).await.unwrap();
        assert_eq!(queue.len(), 1);
        let r = &queue[0];
        assert_eq!(
            (
                r.from_role,
                r.from_ref.as_str(),
                r.reason.as_deref(),
                r.state
            ),
            (
                Role::Customer,
                "C-1",
                Some("bad_proof_signature"),
                ReportState::New
            )
        );
        assert!(r.note.contains("grey coat"));
        // The visit's page shows it to the operator, not to the planner.
        let visit_ref = r.visit_ref.as_deref().expect("the report names its visit");
        let seen = console::visit(&w.db, &operator, visit_ref).await.unwrap();
        assert_eq!(seen.reports.len(), 1);
        assert!(seen.reports[0].note.contains("grey coat"));
        let planned = console::visit(&w.db, &planner, visit_ref).await.unwrap();
        assert!(planned.reports.is_empty());
        assert!(matches!(
            console::reports(&w.db, &planner).await,
            Err(ServerError::NotAllowed(StaffRole::Planner))
        ));

        let id = r.id;
        for state in [ReportState::CalledBack, ReportState::Closed] {
            console::handle_report(&w.db, &operator, id, state, NOW + 200)
                .await
                .unwrap();
            assert_eq!(
                console::reports(&w.db, &operator).await.unwrap()[0].state,
                state
            );
        }
        assert!(
            console::handle_report(&w.db, &operator, id, ReportState::New, NOW + 300)
                .await
                .is_err()
        );
        assert!(
            console::handle_report(&w.db, &operator, Uuid::now_v7(), ReportState::Closed, NOW)
                .await
                .is_err()
        );
        let log = w.db.audit_log(w.org.id, None, 10).await.unwrap();
        assert_eq!(
            log.iter()
                .filter(|e| e.action == "report_handled" && e.subject == id.to_string())
                .count(),
            2
        );

        // Past the retention period the note is erased; the line stays, empty.
        let later = NOW + 120 + u64::from(w.org.retention_days) * 86_400 + 1;
        w.db.purge(&w.org, later).await.unwrap();
        let queue = console::reports(&w.db, &operator).await.unwrap();
        assert_eq!(queue[0].note, "");
        assert_eq!(queue[0].state, ReportState::Closed);
    }
}

#[tokio::test]
async fn the_console_pages_through_a_month_of_ten_thousand_visits() {
    use doorstep_server::db::staff::VisitQuery;
    use doorstep_server::staff::StaffRole;
    let dir = tempfile::tempdir().unwrap();
    for w in World::on_every_backend(&dir).await {
        // Ten thousand visits over the month ahead, one every four minutes, by CSV import.
        let start = NOW + 86_400;
        let mut csv = doorstep_server::planning::CSV_HEADER.join(",");
        for i in 0..10_000u64 {
            csv.push_str(&format!(
                "\nV-{i:05},A-1,C-1,{},30,new_card,card_handover,full_name",
                doorstep_core::when::format(start + i * 240)
            ));
        }
        let imported = w.db.import_visits(&w.org, &csv, NOW).await.unwrap();
        assert_eq!(imported.len(), 10_000);

        let planner = support::signed_in(&w, "piet", StaffRole::Planner).await;
        let month = |offset, limit| VisitQuery {
            from: start,
            to: start + 31 * 86_400,
            offset,
            limit,
            ..Default::default()
        };
        let first = doorstep_server::console::visits(&w.db, &planner, &month(0, 200))
            .await
            .unwrap();
        assert_eq!(first.total, 10_000);
        assert_eq!(first.lines.len(), 200);
        assert_eq!(first.lines[0].visit_ref, "V-00000");
        let last = doorstep_server::console::visits(&w.db, &planner, &month(9_900, 200))
            .await
            .unwrap();
        assert_eq!(last.lines.len(), 100);
        assert_eq!(last.lines[99].visit_ref, "V-09999");
        // A page is never larger than the cap, whatever is asked.
        let asked_too_much = doorstep_server::console::visits(&w.db, &planner, &month(0, 100_000))
            .await
            .unwrap();
        assert_eq!(
            asked_too_much.lines.len(),
            doorstep_server::db::staff::MAX_VISIT_PAGE as usize
        );
    }
}

#[tokio::test]
async fn the_page_gives_one_reference_per_pass_even_to_two_pages_asking_at_once() {
    let dir = tempfile::tempdir().unwrap();
    for w in World::on_every_backend(&dir).await {
        let visit = w.visit.0;
        let (first, second) = tokio::join!(
            w.db.page_reference_for_pass(visit, b"pass one", "48210936", NOW),
            w.db.page_reference_for_pass(visit, b"pass one", "11111116", NOW),
        );
        let first = first.unwrap();
        assert_eq!(first, second.unwrap(), "the same pass, the same reference");
        let again =
            w.db.page_reference_for_pass(visit, b"pass one", "22222222", NOW + 60)
                .await
                .unwrap();
        assert_eq!(again, first);
        let other =
            w.db.page_reference_for_pass(visit, b"pass two", "33333333", NOW)
                .await
                .unwrap();
        assert_eq!(other, "33333333");
        let given = w.db.page_references(&[visit, [9; 16]]).await.unwrap();
        assert_eq!(
            given,
            HashSet::from([(visit, first), (visit, other)]),
            "{:?}",
            w.db.backend()
        );
        // The office's references are another table's: none of the page's is one.
        assert!(w.db.office_references(&[visit]).await.unwrap().is_empty());
    }
}
