//! `doorstep demo` against a real back-office: an embedded SQLite database served over HTTP on
//! loopback, and two phones with real device stores. The phones enrol with one-time codes, sync,
//! run the handshake through the store's saved sessions, and the agent's receipt comes back
//! countersigned; the export shows the visit completed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use doorstep_api::wire::Role;
use doorstep_core::codec::Code;
use doorstep_core::customer::AwaitingProof;
use doorstep_core::receipt::Outcome;
use doorstep_core::ticket::{Check, CheckSet};
use doorstep_core::{Policy, SoftwareKey, agent};
use doorstep_server::agents::NewAgent;
use doorstep_server::http::{AppState, router, system_clock};
use doorstep_server::organisations::NewOrganisation;
use doorstep_server::signing::KeyRing;
use doorstep_server::visits::NewVisit;
use doorstep_server::{Db, when};
use doorstep_store::{FileKeyProvider, Store};
use doorstep_sync::{Client, Syncer};

use crate::SystemRandomness;

pub const ORGANISATION: &str = "Northbank Cards";

type Failure = Box<dyn std::error::Error>;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

struct Phone {
    store: Store,
    key: Arc<SoftwareKey>,
}

impl Phone {
    async fn open(dir: &Path) -> Result<Phone, Failure> {
        std::fs::create_dir_all(dir)?;
        let keys = FileKeyProvider::new(dir.join("data.key"));
        let store = Store::open(&dir.join("device.db"), &keys).await?;
        Ok(Phone {
            store,
            key: Arc::new(SoftwareKey::generate(&mut SystemRandomness)),
        })
    }

    fn syncer(&self, url: &str) -> Result<Syncer<'_>, Failure> {
        Ok(Syncer::new(
            &self.store,
            Client::new(url)?,
            self.key.clone(),
            doorstep_sync::system_clock(),
        ))
    }
}

/// `406 859`: easier to read aloud than `406859`.
fn spaced(code: u32) -> String {
    format!("{:03} {:03}", code / 1000, code % 1000)
}

fn show(label: &str, code: &Code, qr: bool) -> Result<(), Failure> {
    let text = code.to_text();
    let symbol = doorstep_qr::Symbol::new(&text)?;
    let size = symbol.size();
    if qr {
        println!("{}", symbol.to_terminal());
    }
    println!(
        "  {label}: {} characters, QR version {} ({}×{} modules)",
        text.len(),
        size.version,
        size.modules,
        size.modules
    );
    Ok(())
}

/// The back-office's data for the demo: organisation, agent, customer, a visit happening now.
async fn set_up_backoffice(db: &Db, dir: &Path) -> Result<(), Failure> {
    let org = db
        .create_organisation(
            &NewOrganisation {
                name: ORGANISATION,
                official_phone: "+31 20 555 0100",
                retention_days: 30,
            },
            dir,
        )
        .await?;
    let agent = NewAgent {
        staff_ref: "A-0117",
        display_name: "Sanne de Vries",
        on_behalf_of: "Northbank Cards",
        photo: b"(photo of Sanne de Vries)",
    };
    db.add_agent(&org, &agent).await?;
    let data = BTreeMap::from([
        ("full_name".to_string(), "Jan Jansen".to_string()),
        (
            "postal_address".to_string(),
            "Kerkstraat 1, 3511 Utrecht".to_string(),
        ),
        ("card_last_four".to_string(), "4242".to_string()),
        ("date_of_birth".to_string(), "1970-01-01".to_string()),
    ]);
    db.add_customer(&org, "C-1001", &data).await?;
    let start = now() - 300;
    let visit = NewVisit {
        visit_ref: "V-2026-0001".into(),
        staff_ref: "A-0117".into(),
        customer_ref: "C-1001".into(),
        window_start: when::format(start),
        window_minutes: 120,
        purpose: "Hand over your new debit card".into(),
        checks: "card_handover".into(),
        fields: "full_name card_last_four".into(),
    };
    db.add_visit(&org, &visit, now()).await?;
    Ok(())
}

pub async fn run(keep: Option<PathBuf>, qr: bool) -> Result<(), Failure> {
    let temp = tempfile::tempdir()?;
    let dir = keep.clone().unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let db_path = dir.join("backoffice.db");
    if db_path.exists() {
        return Err(format!(
            "{} exists already; give an empty directory",
            db_path.display()
        )
        .into());
    }
    let db = Db::open(&format!("sqlite:{}", db_path.display())).await?;
    set_up_backoffice(&db, &dir).await?;
    let org = db.organisation(ORGANISATION).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let state = AppState::new(db.clone(), KeyRing::new(dir.clone()), system_clock());
    let server = tokio::spawn(async move { axum::serve(listener, router(state)).await });

    println!("Doorstep demo: a real back-office and two phones");
    println!();
    println!(
        "Back-office   {ORGANISATION}, SQLite {}, API {url}",
        db_path.display()
    );
    let visit = &db.visits(&org).await?[0];
    println!(
        "              visit {} from {} for {} min: agent A-0117, customer C-1001",
        visit.visit_ref,
        when::format(visit.window_start),
        visit.window_minutes
    );

    let agent_phone = Phone::open(&dir.join("agent-phone")).await?;
    let customer_phone = Phone::open(&dir.join("customer-phone")).await?;
    let client = Client::new(&url)?;
    for (phone, role, subject) in [
        (&agent_phone, Role::Agent, "A-0117"),
        (&customer_phone, Role::Customer, "C-1001"),
    ] {
        let code = db
            .issue_enrolment_code(&org, role, subject, &url, now())
            .await?
            .invite
            .code
            .to_typed();
        let enrolment =
            doorstep_sync::enrol(&phone.store, &client, &code, &*phone.key, now()).await?;
        println!(
            "Enrolment     {:<9} phone: code {code} → {} of {}",
            role.as_str(),
            role.as_str(),
            enrolment.organisation_name
        );
    }

    let customer_report = customer_phone.syncer(&url)?.sync(&mut |_| {}).await?;
    let mut agent_syncer = agent_phone.syncer(&url)?;
    let agent_report = agent_syncer.sync(&mut |_| {}).await?;
    println!(
        "Sync          customer's phone: {} notice; agent's phone: {} visit",
        customer_report.notices, agent_report.visits
    );
    let notice = customer_phone.store.notices().await?.remove(0);
    let n = notice.notice.notice();
    println!(
        "              the customer's app shows: {} on behalf of {}, \"{}\"; \
         they may see {}; kept {} days; official number {}",
        notice.notice.ticket().ticket().agent_name,
        notice.notice.ticket().ticket().on_behalf_of,
        n.purpose,
        notice
            .notice
            .ticket()
            .ticket()
            .fields
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", "),
        n.retention_days,
        n.official_phone
    );

    // At the door: the three codes, each side saving its session as the app does.
    println!("At the door");
    let t = now();
    let mut rng = SystemRandomness;
    let customer_trust = customer_phone.store.trust(Policy::default()).await?;
    let agent_trust = agent_phone.store.trust(Policy::default()).await?;
    let visit_id = notice.notice.ticket().ticket().visit_id;
    let (waiting, challenge) = AwaitingProof::start(
        notice.notice.clone(),
        customer_phone.key.public_key(),
        t,
        &mut rng,
    );
    customer_phone
        .store
        .save_session(visit_id, &waiting, t)
        .await?;
    show(
        "1 customer shows the challenge",
        &Code::Challenge(challenge.clone()),
        qr,
    )?;

    let ready = agent_phone.store.ready_for(visit_id, &agent_trust).await?;
    let to_sign = ready
        .receive_challenge(challenge, &agent_trust, t, &mut rng)
        .map_err(|r| r.error)?;
    let signature = agent_phone.key.sign(&to_sign.bytes_to_sign());
    let (awaiting, proof) = to_sign.finish(signature).map_err(|r| r.error)?;
    agent_phone
        .store
        .save_session(visit_id, &awaiting, t)
        .await?;
    show("2 agent shows the proof", &Code::Proof(proof.clone()), qr)?;

    let waiting: AwaitingProof = customer_phone
        .store
        .load_session(visit_id)
        .await?
        .ok_or("no session")?;
    let verified = waiting
        .receive_proof(&proof, &customer_trust, t)
        .map_err(|r| r.error)?;
    println!(
        "  Customer's screen: VERIFIED {} for {}. Confirmation code {}",
        verified.ticket().ticket().agent_name,
        verified.ticket().ticket().on_behalf_of,
        spaced(verified.confirmation_code())
    );
    let signature = customer_phone.key.sign(&verified.bytes_to_sign());
    let (done, response) = verified.finish(signature).map_err(|r| r.error)?;
    show(
        "3 customer shows the response",
        &Code::Response(response.clone()),
        qr,
    )?;

    let awaiting: agent::AwaitingResponse = agent_phone
        .store
        .load_session(visit_id)
        .await?
        .ok_or("no session")?;
    let verified = awaiting.receive_response(&response).map_err(|r| r.error)?;
    let shown = agent_phone.store.customer_data(&verified).await?;
    println!(
        "  Agent's screen: CUSTOMER VERIFIED. Confirmation code {}. May see: {}",
        spaced(verified.confirmation_code()),
        shown
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // The agent ticks what else was done at the door.
    let handed_over: CheckSet = [Check::CardHandover].into_iter().collect();
    let receipt = verified
        .receipt_to_sign(handed_over, now())
        .sign_with(&agent_phone.key)?;
    agent_phone
        .store
        .record_outcome(visit_id, Outcome::Verified, now())
        .await?;
    agent_phone
        .store
        .record_receipt(visit_id, &receipt, now())
        .await?;
    agent_phone.store.clear_session(visit_id).await?;
    let done = done.accept_agent_receipt(&receipt).map_err(|r| r.error)?;
    customer_phone.store.clear_session(visit_id).await?;
    let kept = done.receipt();
    println!(
        "  Both keep the receipt: outcome {}, transcript {}",
        kept.agent_receipt
            .as_ref()
            .map_or("?", |r| r.receipt().outcome().name()),
        hex::encode(&kept.transcript_hash[..8])
    );

    let pending = agent_phone.store.pending_uploads().await?;
    let report = agent_syncer.sync(&mut |_| {}).await?;
    println!(
        "Sync          agent's phone: {pending} receipt pending → {} stored and countersigned, {} pending",
        report.stored, report.pending
    );
    let log = agent_phone.store.receipt_log().await?;
    println!(
        "              receipt log: {} entr{}, every one countersigned: {}",
        log.len(),
        if log.len() == 1 { "y" } else { "ies" },
        log.iter().all(|e| e.countersignature.is_some())
    );

    let export = db.export(&org).await?;
    println!("Export        doorstep-server export --org \"{ORGANISATION}\":");
    println!("{}", serde_json::to_string_pretty(&export)?);
    server.abort();
    db.close().await;
    agent_phone.store.close().await;
    customer_phone.store.close().await;
    if let Some(dir) = keep {
        println!();
        println!("The back-office's data is kept in {}.", dir.display());
    }
    Ok(())
}
