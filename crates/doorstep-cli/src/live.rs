//! `doorstep demo` against a real back-office: an embedded SQLite database served over HTTP on
//! loopback, and two phones, each a `doorstep_device::Device` with a real store, making the same
//! calls the app's commands make. The phones enrol with one-time codes, sync, do the visit at the
//! door, and the agent's receipt comes back countersigned; the export shows the visit completed.
//! This file only sets the scene and prints.

use std::path::{Path, PathBuf};

use doorstep_core::pins::Pins;
use doorstep_core::system::{system_clock, unix_now};
use doorstep_core::{Outcome, Role, when};
use doorstep_device::Device;
use doorstep_device::views::CodeView;
use doorstep_server::testing::{self, Backoffice};
use doorstep_store::FileKeyProvider;

pub const ORGANISATION: &str = "Northbank Cards";

type Failure = Box<dyn std::error::Error>;

/// Both phones trust only the demo's back-office, pinned on loopback: a development
/// configuration, as no release build could have.
async fn open_phone(dir: &Path, pins: &Pins) -> Result<Device, Failure> {
    let keys = FileKeyProvider::new(dir.join("data.key"));
    Ok(Device::open(dir, &keys, system_clock(), pins.clone()).await?)
}

fn show(label: &str, code: &CodeView, qr: bool) -> Result<(), Failure> {
    let symbol = doorstep_qr::Symbol::new(&code.text)?;
    let size = symbol.size();
    if qr {
        println!("{}", symbol.to_terminal());
    }
    println!(
        "  {label}: {} characters, QR version {} ({}×{} modules)",
        code.text.len(),
        size.version,
        size.modules,
        size.modules
    );
    Ok(())
}

/// The back-office's data for the demo: organisation, agent, customer, a visit happening now.
async fn set_up_backoffice(db_path: &Path, dir: &Path) -> Result<Backoffice, Failure> {
    let url = format!("sqlite:{}", db_path.display());
    let office = Backoffice::create(&url, dir, &testing::organisation(ORGANISATION)).await?;
    office
        .add_agent("A-0117", b"(photo of Sanne de Vries)")
        .await?;
    office
        .add_customer("C-1001", &testing::customer_data())
        .await?;
    let visit = doorstep_server::planning::NewVisit {
        purpose: "Hand over your new debit card".into(),
        fields: "full_name card_last_four".into(),
        ..testing::visit("V-2026-0001", "A-0117", "C-1001", unix_now() - 300)
    };
    office.add_visit(&visit, unix_now()).await?;
    Ok(office)
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
    let office = set_up_backoffice(&db_path, &dir).await?;
    let served = office.serve().await?;
    let url = served.url.clone();

    println!("Doorstep demo: a real back-office and two phones");
    println!();
    println!(
        "Back-office   {ORGANISATION}, SQLite {}, API {url}",
        db_path.display()
    );
    let visit = &office.db.visits(&office.org).await?[0];
    println!(
        "              visit {} from {} for {} min: agent A-0117, customer C-1001",
        visit.visit_ref,
        when::format(visit.window_start),
        visit.window_minutes
    );

    let pins = Pins {
        development: true,
        organisations: vec![office.org.pin(&url)],
    };
    let agent = open_phone(&dir.join("agent-phone"), &pins).await?;
    // The agent passed the phone's unlock prompt.
    agent.unlock();
    let customer = open_phone(&dir.join("customer-phone"), &pins).await?;
    for (phone, role, subject) in [
        (&agent, Role::Agent, "A-0117"),
        (&customer, Role::Customer, "C-1001"),
    ] {
        let code = office.code(role, subject, &url, unix_now()).await?;
        let joined = phone.enrol(&code, None).await?;
        println!(
            "Enrolment     {:<9} phone: code {code} → {} of {}",
            role.as_str(),
            joined.role.as_str(),
            joined.organisation
        );
    }

    let customer_sync = customer.sync(&mut |_| {}).await?;
    let agent_sync = agent.sync(&mut |_| {}).await?;
    println!(
        "Sync          customer's phone: {} notice; agent's phone: {} visit",
        customer_sync.notices, agent_sync.visits
    );
    let notice = customer.customer_visits().await?.remove(0);
    println!(
        "              the customer's app shows: {} on behalf of {}, \"{}\"; \
         they may see {}; kept {} days; official number {} (from the pin)",
        notice.terms.agent_name,
        notice.terms.on_behalf_of,
        notice.purpose,
        notice.terms.fields.join(", "),
        notice.retention_days,
        pins.organisations[0].official_phone
    );

    visit_at_the_door(&agent, &customer, qr).await?;
    let log = agent.store().receipt_log().await?;
    println!(
        "              receipt log: {} entr{}, every one countersigned: {}",
        log.len(),
        if log.len() == 1 { "y" } else { "ies" },
        log.iter().all(|e| e.countersignature.is_some())
    );

    let export = office.db.export(&office.org).await?;
    println!("Export        doorstep-server export --org \"{ORGANISATION}\":");
    println!("{}", serde_json::to_string_pretty(&export)?);
    drop(served);
    office.db.close().await;
    agent.close().await;
    customer.close().await;
    if let Some(dir) = keep {
        println!();
        println!("The back-office's data is kept in {}.", dir.display());
    }
    Ok(())
}

/// The three codes at the door between two enrolled, synced phones, each saving its session as
/// the app does, then the agent's phone syncs the receipt. The customer's first notice is the
/// visit.
async fn visit_at_the_door(agent: &Device, customer: &Device, qr: bool) -> Result<(), Failure> {
    let notice =
        customer.customer_visits().await?.into_iter().next().ok_or(
            "the customer's phone has no visit: is one booked for now, and did both sync?",
        )?;
    // At the door: the three codes, each phone saving its session as the app does.
    println!("At the door");
    let visit_id = &notice.terms.visit_id;
    let challenge = customer.customer_challenge(visit_id, false).await?;
    show("1 customer shows the challenge", &challenge, qr)?;
    let proof = agent
        .agent_scan_challenge(visit_id, &challenge.text)
        .await?;
    show("2 agent shows the proof", &proof.proof, qr)?;
    println!(
        "  Agent's screen: confirmation code {}, to read aloud",
        proof.confirmation_code
    );
    let confirmed = customer
        .customer_scan_proof(visit_id, &proof.proof.text)
        .await?;
    println!(
        "  Customer's screen: {} for {}, with the signed photo. Is the person at your door this person? Yes",
        confirmed.terms.agent_name, confirmed.terms.on_behalf_of
    );
    let code = customer.customer_person_at_door(visit_id, true).await?;
    println!(
        "  Both read aloud: customer {}, agent {}. Both tap Same",
        code.confirmation_code, proof.confirmation_code
    );
    agent.agent_compare_code(visit_id, true).await?;
    let response = customer.customer_compare_code(visit_id, true).await?;
    show("3 customer shows the response", &response, qr)?;
    let verified = agent.agent_scan_response(visit_id, &response.text).await?;
    println!(
        "  Agent's screen: CUSTOMER VERIFIED. Confirmation code {}. May see: {}",
        verified.confirmation_code,
        verified
            .customer_data
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // The agent ticks what else was done at the door.
    let receipt = agent
        .agent_record_outcome(
            visit_id,
            Outcome::Verified,
            &["card_handover".to_string()],
            "",
        )
        .await?;
    let kept = customer
        .customer_scan_receipt(visit_id, &receipt.code.text)
        .await?;
    let transcript = customer
        .store()
        .kept_receipts()
        .await?
        .remove(0)
        .transcript_hash;
    println!(
        "  Both keep the receipt: outcome {}, transcript {}",
        kept.agent_outcome.map_or("?", Outcome::name),
        hex::encode(&transcript[..8])
    );

    let pending = agent.status().await?.pending_uploads;
    let report = agent.sync(&mut |_| {}).await?;
    println!(
        "Sync          agent's phone: {pending} receipt pending → {} stored and countersigned, {} pending",
        report.stored, report.pending
    );
    Ok(())
}

/// `doorstep phones`: two phones with software keys and stores in `dir` against a running
/// back-office that `pins` trusts. Each enrols with its one-time code, both sync, and they do
/// the customer's first visit at the door; the receipt goes back. With `report`, the customer's
/// phone then reports the visitor with that note. For trying the console by hand and in its
/// browser tests.
pub async fn phones(
    dir: PathBuf,
    pins: PathBuf,
    agent_code: String,
    customer_code: String,
    report: Option<String>,
) -> Result<(), Failure> {
    let pins: Pins = serde_json::from_str(&std::fs::read_to_string(&pins)?)?;
    let pins = pins.checked()?;
    let agent = open_phone(&dir.join("agent-phone"), &pins).await?;
    agent.unlock();
    let customer = open_phone(&dir.join("customer-phone"), &pins).await?;
    for (phone, code, who) in [
        (&agent, &agent_code, "agent"),
        (&customer, &customer_code, "customer"),
    ] {
        let joined = phone.enrol(code, None).await?;
        println!(
            "Enrolment     {who:<9} phone → {} of {}",
            joined.role.as_str(),
            joined.organisation
        );
    }
    let customer_sync = customer.sync(&mut |_| {}).await?;
    let agent_sync = agent.sync(&mut |_| {}).await?;
    println!(
        "Sync          customer's phone: {} notice(s); agent's phone: {} visit(s)",
        customer_sync.notices, agent_sync.visits
    );
    visit_at_the_door(&agent, &customer, false).await?;
    if let Some(note) = report {
        let visit = customer.customer_visits().await?.into_iter().next();
        let visit_id = visit.map(|v| v.terms.visit_id);
        customer
            .customer_report(visit_id.as_deref(), None, &note)
            .await?;
        let sent = customer.sync(&mut |_| {}).await?;
        println!(
            "Report        customer's phone: sent ({} stored)",
            sent.stored
        );
    }
    agent.close().await;
    customer.close().await;
    Ok(())
}

/// The agent's phone in `dir/agent-phone`, trusting the pins in `pins`, unlocked.
async fn agent_phone(
    dir: &Path,
    pins: &Path,
    clock: doorstep_core::system::Clock,
) -> Result<Device, Failure> {
    let pins: Pins = serde_json::from_str(&std::fs::read_to_string(pins)?)?;
    let home = dir.join("agent-phone");
    let keys = FileKeyProvider::new(home.join("data.key"));
    let agent = Device::open(&home, &keys, clock, pins.checked()?).await?;
    agent.unlock();
    Ok(agent)
}

async fn next_open_visit(agent: &Device) -> Result<doorstep_device::views::AgentVisit, Failure> {
    Ok(agent
        .agent_visits()
        .await?
        .into_iter()
        .find(|v| v.status == "open")
        .ok_or("the agent's phone has no open visit")?)
}

/// The agent's phone in `dir/agent-phone`, already enrolled: for its next open visit, the
/// customer checked it on the page and read out `reference`. Records it, with every check the
/// ticket asks for done, and syncs.
pub async fn page_check(dir: PathBuf, pins: PathBuf, reference: String) -> Result<(), Failure> {
    let agent = agent_phone(&dir, &pins, doorstep_core::system::system_clock()).await?;
    let visit = next_open_visit(&agent).await?;
    let checks: Vec<String> = visit.terms.checks.iter().map(|c| c.to_string()).collect();
    let receipt = agent
        .agent_record_page_check(&visit.terms.visit_id, &reference, &checks, "")
        .await?;
    let synced = agent.sync(&mut |_| {}).await?;
    println!(
        "{}; back-office stored {}, rejected {}",
        receipt.outcome.name(),
        synced.stored,
        synced.rejected
    );
    agent.close().await;
    Ok(())
}

/// The agent's phone in `dir/agent-phone` (enrolled with `agent_code` and synced first if it
/// is new) shows the code for a customer without the app for its next open visit: the URL on
/// standard output, its QR's size on standard error, and with `png` the QR as an image.
pub async fn page_pass(
    dir: PathBuf,
    pins: PathBuf,
    agent_code: Option<String>,
    png: Option<PathBuf>,
    clock_behind_minutes: u64,
) -> Result<(), Failure> {
    let behind = clock_behind_minutes * 60;
    let clock: doorstep_core::system::Clock =
        std::sync::Arc::new(move || doorstep_core::system::unix_now().saturating_sub(behind));
    let agent = agent_phone(&dir, &pins, clock).await?;
    // A new phone enrols and syncs; one already enrolled uses what it holds, as at a door
    // without a network.
    if let Some(code) = agent_code {
        agent.enrol(&code, None).await?;
        agent.sync(&mut |_| {}).await?;
    }
    let visit = next_open_visit(&agent).await?;
    let pass = agent.agent_page_pass(&visit.terms.visit_id).await?;
    let code = pass.code;
    let symbol = doorstep_qr::Symbol::new(&code.text)?;
    if let Some(png) = png {
        symbol.to_image(8).save(&png)?;
    }
    println!("{}", code.text);
    let size = symbol.size();
    eprintln!(
        "{} characters, QR version {} ({}×{} modules); read aloud: {}",
        code.text.len(),
        size.version,
        size.modules,
        size.modules,
        pass.spoken_code
    );
    agent.close().await;
    Ok(())
}
