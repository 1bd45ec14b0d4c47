//! The HTTP API's refusals, request by request: each bad input gets its status and error kind,
//! and nothing is stored.

mod support;

use doorstep_api::auth::{self, RequestParts, RequestToSign};
use doorstep_api::wire::{self, Bytes, ErrorBody, Role, UploadKind, UploadStatus, paths};
use doorstep_core::SoftwareKey;
use doorstep_server::testing::fresh_database_urls;
use support::{Backoffice, Phone, system_now};

type Answer = (u16, Vec<u8>);

/// Sends a request signed by `key` at `time` with `nonce`; returns status and body.
async fn send(
    bo: &Backoffice,
    method: &str,
    path: &str,
    body: &[u8],
    key: Option<&SoftwareKey>,
    time: u64,
    nonce: u8,
) -> Answer {
    send_to(&bo.url, method, path, body, key, time, nonce).await
}

/// As [`send`], to the server at `base`: the same arguments make the same signed request.
async fn send_to(
    base: &str,
    method: &str,
    path: &str,
    body: &[u8],
    key: Option<&SoftwareKey>,
    time: u64,
    nonce: u8,
) -> Answer {
    let client = reqwest::Client::new();
    let mut request = client.request(method.parse().unwrap(), format!("{base}{path}"));
    if let Some(key) = key {
        let parts = RequestParts { method, path, body };
        let mut n = [0u8; 16];
        n[0] = nonce;
        n[1..9].copy_from_slice(&time.to_be_bytes());
        let to_sign = RequestToSign::new(parts, key.public_key(), time, n);
        let sig = key.sign(to_sign.bytes_to_sign());
        request = request.header(auth::HEADER, to_sign.finish(sig).unwrap());
    }
    let response = request.body(body.to_vec()).send().await.unwrap();
    (
        response.status().as_u16(),
        response.bytes().await.unwrap().to_vec(),
    )
}

fn kind(body: &[u8]) -> String {
    serde_json::from_slice::<ErrorBody>(body)
        .map(|e| e.error)
        .unwrap_or_else(|_| format!("not an error body: {}", String::from_utf8_lossy(body)))
}

#[tokio::test]
async fn bad_requests_are_refused_with_their_status_and_kind() {
    let dir = tempfile::tempdir().unwrap();
    for url in fresh_database_urls(dir.path()).await {
        let bo = Backoffice::start(&url, dir.path()).await;
        bo.schedule("V", "A-1", "C-1", 1).await;
        let _customer = Phone::enrolled(&bo, Role::Customer, "C-1").await;
        let agent = Phone::enrolled(&bo, Role::Agent, "A-1").await;
        agent.syncer_via(&bo.url).sync(&mut |_| {}).await.unwrap();
        let key = &*agent.key;
        let now = system_now();
        let stranger =
            &SoftwareKey::generate(&mut doorstep_core::SeededRandomness::new("stranger"));

        let cases: Vec<(u16, &str, Answer)> = vec![
            (
                401,
                "unsigned_request",
                send(&bo, "GET", paths::DENYLIST, b"", None, now, 1).await,
            ),
            (
                // No oracle: an unknown key reads as a bad signature.
                401,
                "bad_request_signature",
                send(&bo, "GET", paths::DENYLIST, b"", Some(stranger), now, 2).await,
            ),
            (
                401,
                "stale_request",
                send(
                    &bo,
                    "GET",
                    paths::DENYLIST,
                    b"",
                    Some(key),
                    now - 3 * 3600,
                    3,
                )
                .await,
            ),
            (
                200,
                "",
                send(&bo, "GET", paths::DENYLIST, b"", Some(key), now, 4).await,
            ),
            (
                401,
                "replayed_request",
                send(&bo, "GET", paths::DENYLIST, b"", Some(key), now, 4).await,
            ),
            (
                403,
                "wrong_role",
                send(&bo, "GET", paths::CUSTOMER_NOTICES, b"", Some(key), now, 5).await,
            ),
            (
                404,
                "not_found",
                send(&bo, "GET", "/v1/nothing-here", b"", Some(key), now, 6).await,
            ),
            (
                400,
                "malformed_body",
                send(&bo, "POST", paths::UPLOADS, b"{not json", Some(key), now, 7).await,
            ),
            (
                413,
                "body_too_large",
                send(
                    &bo,
                    "POST",
                    paths::UPLOADS,
                    &vec![b' '; wire::MAX_BODY_BYTES + 1],
                    Some(key),
                    now,
                    8,
                )
                .await,
            ),
        ];
        for (status, expected, (got_status, body)) in cases {
            assert_eq!(
                got_status,
                status,
                "{expected}: {}",
                String::from_utf8_lossy(&body)
            );
            if status != 200 {
                assert_eq!(kind(&body), expected);
            }
        }

        // A signature over another body does not authorise this one.
        let (status, body) = {
            let signed_body: &[u8] = b"{\"uploads\":[]}";
            let parts = RequestParts {
                method: "POST",
                path: paths::UPLOADS,
                body: signed_body,
            };
            let to_sign = RequestToSign::new(parts, key.public_key(), now, [9; 16]);
            let signature = key.sign(to_sign.bytes_to_sign());
            let r = reqwest::Client::new()
                .post(format!("{}{}", bo.url, paths::UPLOADS))
                .header(auth::HEADER, to_sign.finish(signature).unwrap())
                .body("{\"uploads\":[{\"id\":\"0190b1c2-0000-7000-8000-000000000000\",\"kind\":\"report\",\"payload\":\"AA==\"}]}")
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
        };
        assert_eq!((status, kind(&body)), (401, "bad_request_signature".into()));

        // Too many uploads in one batch.
        let many = wire::UploadBatch {
            uploads: (0..=wire::MAX_BATCH_ITEMS)
                .map(|_| wire::Upload {
                    id: uuid::Uuid::now_v7(),
                    kind: UploadKind::Report,
                    payload: Bytes(vec![]),
                })
                .collect(),
            log: None,
        };
        let body = serde_json::to_vec(&many).unwrap();
        let (status, answer) = send(&bo, "POST", paths::UPLOADS, &body, Some(key), now, 10).await;
        assert_eq!((status, kind(&answer)), (413, "batch_too_large".into()));

        // A tampered receipt inside a well-signed batch: refused on its own, batch answered.
        agent.record_receipts(1).await;
        let mut entry = agent
            .store
            .due_uploads(now + 10, 10)
            .await
            .unwrap()
            .remove(0);
        let last = entry.payload.len() - 1;
        entry.payload[last] ^= 1;
        let batch = wire::UploadBatch {
            uploads: vec![wire::Upload {
                id: entry.id,
                kind: UploadKind::Receipt,
                payload: Bytes(entry.payload),
            }],
            log: None,
        };
        let body = serde_json::to_vec(&batch).unwrap();
        let (status, answer) = send(&bo, "POST", paths::UPLOADS, &body, Some(key), now, 11).await;
        assert_eq!(status, 200);
        let results: wire::UploadResults = serde_json::from_slice(&answer).unwrap();
        assert_eq!(results.results[0].status, UploadStatus::Rejected);
        assert_eq!(
            results.results[0].error.as_ref().unwrap().error,
            "bad_receipt_signature"
        );
        assert!(bo.exported_upload_ids().await.is_empty());
        // The genuine one still goes through afterwards.
        let report = agent.syncer_via(&bo.url).sync(&mut |_| {}).await.unwrap();
        assert_eq!(report.stored, 1);
    }
}

#[tokio::test]
async fn the_same_batch_delivered_twice_is_stored_once_with_one_countersignature() {
    let dir = tempfile::tempdir().unwrap();
    for url in fresh_database_urls(dir.path()).await {
        let bo = Backoffice::start(&url, dir.path()).await;
        bo.schedule("V", "A-1", "C-1", 4).await;
        let _customer = Phone::enrolled(&bo, Role::Customer, "C-1").await;
        let agent = Phone::enrolled(&bo, Role::Agent, "A-1").await;
        agent.syncer_via(&bo.url).sync(&mut |_| {}).await.unwrap();
        agent.record_receipts(3).await;
        let due = agent
            .store
            .due_uploads(system_now() + 10, 100)
            .await
            .unwrap();
        let batch = wire::UploadBatch {
            uploads: due
                .iter()
                .map(|e| wire::Upload {
                    id: e.id,
                    kind: UploadKind::Receipt,
                    payload: Bytes(e.payload.clone()),
                })
                .collect(),
            log: None,
        };
        let body = serde_json::to_vec(&batch).unwrap();
        let now = system_now();
        let (s1, a1) = send(&bo, "POST", paths::UPLOADS, &body, Some(&agent.key), now, 1).await;
        let (s2, a2) = send(&bo, "POST", paths::UPLOADS, &body, Some(&agent.key), now, 2).await;
        assert_eq!((s1, s2), (200, 200));
        let first: wire::UploadResults = serde_json::from_slice(&a1).unwrap();
        let second: wire::UploadResults = serde_json::from_slice(&a2).unwrap();
        assert!(
            first
                .results
                .iter()
                .all(|r| r.status == UploadStatus::Stored)
        );
        assert!(
            second
                .results
                .iter()
                .all(|r| r.status == UploadStatus::AlreadyStored)
        );
        for (a, b) in first.results.iter().zip(&second.results) {
            assert_eq!(a.countersignature, b.countersignature);
        }
        assert_eq!(bo.exported_upload_ids().await.len(), 12);
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_urls(dir.path()).await.remove(0);
    let bo = Backoffice::start(&url, dir.path()).await;
    let (status, body) = send(&bo, "GET", paths::OPENAPI, b"", None, 0, 0).await;
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        paths::ENROL,
        paths::AGENT_PACKAGE,
        paths::CUSTOMER_NOTICES,
        paths::UPLOADS,
        paths::DENYLIST,
        paths::OPENAPI,
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not described");
    }
    assert_eq!(doc["paths"].as_object().unwrap().len(), 6);
}

/// One report upload, signed by `phone`, as the app would queue it but with any JSON payload.
fn report_batch(payload: &[u8]) -> Vec<u8> {
    let batch = wire::UploadBatch {
        uploads: vec![wire::Upload {
            id: uuid::Uuid::now_v7(),
            kind: UploadKind::Report,
            payload: Bytes(payload.to_vec()),
        }],
        log: None,
    };
    serde_json::to_vec(&batch).unwrap()
}

fn first_result(answer: &Answer) -> wire::UploadResult {
    assert_eq!(answer.0, 200, "{}", String::from_utf8_lossy(&answer.1));
    let results: wire::UploadResults = serde_json::from_slice(&answer.1).unwrap();
    results.results.into_iter().next().unwrap()
}

#[tokio::test]
async fn reports_are_bounded_defined_and_about_the_devices_own_visits() {
    let dir = tempfile::tempdir().unwrap();
    for url in fresh_database_urls(dir.path()).await {
        let bo = Backoffice::start(&url, dir.path()).await;
        bo.add_customer("C-2").await;
        bo.schedule("V", "A-1", "C-1", 1).await;
        bo.schedule("W", "A-1", "C-2", 1).await;
        let customer = Phone::enrolled(&bo, Role::Customer, "C-1").await;
        let other_customer = Phone::enrolled(&bo, Role::Customer, "C-2").await;
        let agent = Phone::enrolled(&bo, Role::Agent, "A-1").await;
        agent.syncer_via(&bo.url).sync(&mut |_| {}).await.unwrap();
        customer
            .syncer_via(&bo.url)
            .sync(&mut |_| {})
            .await
            .unwrap();
        other_customer
            .syncer_via(&bo.url)
            .sync(&mut |_| {})
            .await
            .unwrap();
        let visit_of = |notices: Vec<doorstep_store::StoredNotice>| {
            uuid::Uuid::from_bytes(notices[0].notice.ticket().ticket().visit_id.0)
        };
        let own = visit_of(customer.store.notices().await.unwrap());
        let others = visit_of(other_customer.store.notices().await.unwrap());
        let report = |visit: Option<uuid::Uuid>, note: &str| {
            serde_json::to_vec(&wire::Report {
                visit_id: visit,
                reason: None,
                note: note.into(),
                time: system_now(),
            })
            .unwrap()
        };
        let key = &*customer.key;
        let now = system_now();
        let bo = &bo;
        let upload = |payload: Vec<u8>, nonce: u8| {
            let body = report_batch(&payload);
            async move { send(bo, "POST", paths::UPLOADS, &body, Some(key), now, nonce).await }
        };
        let stored = first_result(&upload(report(Some(own), "Did not match the photo"), 1).await);
        assert_eq!(stored.status, UploadStatus::Stored);
        let unannounced = first_result(&upload(report(None, "Nobody was expected"), 2).await);
        assert_eq!(unannounced.status, UploadStatus::Stored);

        let mut with_extra: serde_json::Value =
            serde_json::from_slice(&report(Some(own), "x")).unwrap();
        with_extra["customer_pin"] = "1234".into();
        for (nonce, (payload, expected)) in (3..).zip([
            (
                report(Some(others), "someone else's visit"),
                "unknown_visit",
            ),
            (serde_json::to_vec(&with_extra).unwrap(), "malformed_report"),
            (
                report(Some(own), &"é".repeat(wire::MAX_REPORT_NOTE_CHARS + 1)),
                "malformed_report",
            ),
            (vec![b' '; wire::MAX_REPORT_BYTES + 1], "malformed_report"),
        ]) {
            let result = first_result(&upload(payload, nonce).await);
            assert_eq!(result.status, UploadStatus::Rejected);
            assert_eq!(result.error.unwrap().error, expected);
        }
        // The agent may note only visits it was issued.
        let agent_note = {
            let body = report_batch(&report(Some(others), "note"));
            send(bo, "POST", paths::UPLOADS, &body, Some(&agent.key), now, 20).await
        };
        assert_eq!(
            first_result(&agent_note).status,
            UploadStatus::Stored,
            "W is A-1's too"
        );
    }
}

#[tokio::test]
async fn a_device_over_its_limit_is_told_when_to_come_back_and_its_phone_waits() {
    let dir = tempfile::tempdir().unwrap();
    for url in fresh_database_urls(dir.path()).await {
        let bo = Backoffice::start(&url, dir.path()).await;
        bo.schedule("V", "A-1", "C-1", 1).await;
        // Four a minute: the agent's enrolment request and three more.
        let limited = bo.serve_limited(4).await.unwrap();
        let _customer = Phone::enrolled(&bo, Role::Customer, "C-1").await;
        let agent = Phone::enrolled(&bo, Role::Agent, "A-1").await;
        agent.syncer_via(&bo.url).sync(&mut |_| {}).await.unwrap();
        let now = system_now();
        let get = |nonce: u8| {
            let client = reqwest::Client::new();
            let key = agent.key.clone();
            let url = limited.url.clone();
            async move {
                let parts = RequestParts {
                    method: "GET",
                    path: paths::DENYLIST,
                    body: b"",
                };
                let to_sign = RequestToSign::new(parts, key.public_key(), now, [nonce; 16]);
                let sig = key.sign(to_sign.bytes_to_sign());
                client
                    .get(format!("{url}{}", paths::DENYLIST))
                    .header(auth::HEADER, to_sign.finish(sig).unwrap())
                    .send()
                    .await
                    .unwrap()
            }
        };
        // The enrolment and the sync count too: some of the four are used already.
        let mut answers = Vec::new();
        for n in 0..5 {
            answers.push(get(n).await);
        }
        let statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
        assert_eq!(
            statuses.iter().filter(|&&s| s == 429).count(),
            3,
            "{statuses:?}"
        );
        assert!(statuses.starts_with(&[200, 200]), "{statuses:?}");
        let refused = answers.pop().unwrap();
        let retry_after: u64 = refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        assert_eq!(kind(&refused.bytes().await.unwrap()), "rate_limited");
        // The refused request did not use up its nonce, nor did it count.
        let other_device = Phone::enrolled(&bo, Role::Customer, "C-1").await;
        assert_eq!(
            other_device
                .syncer_via(&limited.url)
                .sync(&mut |_| {})
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Ok(()),
            "the limit is per device"
        );

        // The sync client honours it: what it could not send waits at least Retry-After.
        agent.record_receipts(1).await;
        let err = agent
            .syncer_via(&limited.url)
            .sync(&mut |_| {})
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "rate_limited", "{err}");
        assert!(err.is_transient());
        let pending = agent.store.due_uploads(system_now() + 1, 10).await.unwrap();
        assert!(pending.is_empty(), "nothing is due before Retry-After");
        assert_eq!(agent.store.pending_uploads().await.unwrap(), 1);
    }
}

#[tokio::test]
async fn a_captured_request_is_refused_by_a_restarted_or_another_server() {
    let dir = tempfile::tempdir().unwrap();
    for url in fresh_database_urls(dir.path()).await {
        let bo = Backoffice::start(&url, dir.path()).await;
        bo.schedule("V", "A-1", "C-1", 1).await;
        let _customer = Phone::enrolled(&bo, Role::Customer, "C-1").await;
        let agent = Phone::enrolled(&bo, Role::Agent, "A-1").await;
        let now = system_now();
        let first = send(&bo, "GET", paths::DENYLIST, b"", Some(&agent.key), now, 1).await;
        assert_eq!(first.0, 200);
        // The same signed request to a second server on the same database.
        let other = bo.serve_limited(60).await.unwrap();
        let key = Some(&*agent.key);
        let (status, body) = send_to(&other.url, "GET", paths::DENYLIST, b"", key, now, 1).await;
        assert_eq!((status, kind(&body)), (401, "replayed_request".into()));
    }
}

#[tokio::test]
async fn a_revoked_key_is_named_only_to_a_request_it_signed() {
    let dir = tempfile::tempdir().unwrap();
    for url in fresh_database_urls(dir.path()).await {
        let bo = Backoffice::start(&url, dir.path()).await;
        bo.schedule("V", "A-1", "C-1", 1).await;
        let _customer = Phone::enrolled(&bo, Role::Customer, "C-1").await;
        let agent = Phone::enrolled(&bo, Role::Agent, "A-1").await;
        bo.db.revoke_agent(&bo.org, "A-1").await.unwrap();
        let now = system_now();
        let own = send(&bo, "GET", paths::DENYLIST, b"", Some(&agent.key), now, 1).await;
        assert_eq!((own.0, kind(&own.1)), (403, "revoked_device".into()));
        // Someone else's signature under the revoked key's id learns nothing about it.
        let stranger = SoftwareKey::generate(&mut doorstep_core::SeededRandomness::new("x"));
        let parts = RequestParts {
            method: "GET",
            path: paths::DENYLIST,
            body: b"",
        };
        let to_sign = RequestToSign::new(parts, stranger.public_key(), now, [2; 16]);
        let sig = stranger.sign(to_sign.bytes_to_sign());
        let header = to_sign.finish(sig).unwrap().replace(
            &stranger.public_key().key_id().to_string(),
            &agent.key.public_key().key_id().to_string(),
        );
        let forged = reqwest::Client::new()
            .get(format!("{}{}", bo.url, paths::DENYLIST))
            .header(auth::HEADER, header)
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 401);
        assert_eq!(
            kind(&forged.bytes().await.unwrap()),
            "bad_request_signature"
        );
    }
}
