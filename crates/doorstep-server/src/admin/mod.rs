//! The `doorstep-server` commands, one function each; `main.rs` parses the command line and
//! calls them. Each prints what the operator needs and delegates the work to the database.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use doorstep_core::codec::Code;
use doorstep_core::system::{system_clock, unix_now};
use doorstep_core::{Role, when};

use crate::db::agents::NewAgent;
use crate::db::export;
use crate::db::organisations::{NewOrganisation, Organisation};
use crate::http::{AppState, router};
use crate::keys::{KeyRing, signing_key_path};
use crate::planning::NewVisit;
use crate::{Db, ServerError};

fn read(path: &Path) -> Result<Vec<u8>, ServerError> {
    std::fs::read(path).map_err(|e| ServerError::io(format!("cannot read {}", path.display()), e))
}

pub async fn init(db: &Db, new: &NewOrganisation<'_>, key_dir: &Path) -> Result<(), ServerError> {
    let org = db.create_organisation(new, key_dir).await?;
    println!(
        "organisation {} ({}) with signing key {}",
        org.name,
        org.id,
        org.keys[0].key_id()
    );
    println!(
        "private key: {}",
        signing_key_path(key_dir, &org.id).display()
    );
    Ok(())
}

/// Writes the pin an app build embeds for `org` with its back-office at `public_url`. An
/// `http://` loopback address makes it a development configuration (the demo, the tests);
/// anything else must be `https://`.
pub fn write_pins(org: &Organisation, public_url: &str, path: &Path) -> Result<(), ServerError> {
    let pins = doorstep_core::pins::Pins {
        development: !public_url.to_ascii_lowercase().starts_with("https://"),
        organisations: vec![org.pin(public_url)],
    }
    .checked()
    .map_err(|e| ServerError::Invalid(e.to_string()))?;
    let json = serde_json::to_string_pretty(&pins)
        .map_err(|e| ServerError::Invalid(format!("the pins cannot be written: {e}")))?;
    std::fs::write(path, json + "\n")
        .map_err(|e| ServerError::io(format!("cannot write {}", path.display()), e))?;
    let kind = if pins.development {
        "development pins (loopback, not for a release build)"
    } else {
        "pins"
    };
    println!(
        "{kind} for {} at {public_url}: {}",
        org.name,
        path.display()
    );
    Ok(())
}

pub async fn rotate_key(
    db: &Db,
    org: &Organisation,
    key_dir: &Path,
    overlap_hours: u64,
) -> Result<(), ServerError> {
    let now = unix_now();
    let new = db
        .rotate_key(org, key_dir, overlap_hours * 3600, now)
        .await?;
    println!(
        "new signing key {} for {}; the previous key is trusted until {}; phones learn it at their next sync",
        new.key_id(),
        org.name,
        when::format(now + overlap_hours * 3600)
    );
    println!("new app builds should pin the new key too (doorstep-server pins)");
    Ok(())
}

pub async fn customer_revoke(
    db: &Db,
    org: &Organisation,
    customer_ref: &str,
) -> Result<(), ServerError> {
    db.revoke_customer(org, customer_ref, unix_now()).await?;
    println!(
        "customer {customer_ref} revoked, with their devices; agents' phones refuse them after their next sync"
    );
    Ok(())
}

pub async fn device_list(db: &Db, org: &Organisation) -> Result<(), ServerError> {
    for d in db.devices(org).await? {
        let status = match (d.revoked_at, d.held_until) {
            (Some(t), _) => format!("revoked {}", when::format(t)),
            (None, Some(t)) => format!("held until {}", when::format(t)),
            (None, None) => "active".into(),
        };
        println!(
            "{}  {:<8} {:<12} key {}  enrolled {}  last sync {}  {status}  key attested: {}",
            d.id,
            d.role.as_str(),
            d.subject_ref,
            d.key_id,
            when::format(d.enrolled_at),
            d.last_seen_at.map_or("never".to_string(), when::format),
            d.attestation.as_deref().unwrap_or("no (software key)")
        );
    }
    Ok(())
}

pub async fn device_revoke(db: &Db, org: &Organisation, id: uuid::Uuid) -> Result<(), ServerError> {
    db.revoke_device(org, id, unix_now()).await?;
    println!("device {id} revoked; the other side's phones refuse it after their next sync");
    Ok(())
}

pub async fn device_confirm(
    db: &Db,
    org: &Organisation,
    id: uuid::Uuid,
) -> Result<(), ServerError> {
    db.confirm_device(org, id, unix_now()).await?;
    println!(
        "device {id} confirmed: it takes over now, and the person's earlier device is revoked"
    );
    Ok(())
}

pub async fn visit_cancel(db: &Db, org: &Organisation, visit_ref: &str) -> Result<(), ServerError> {
    let tickets = db.cancel_visit(org, visit_ref, unix_now()).await?;
    println!(
        "visit {visit_ref} cancelled; {tickets} ticket(s) on the denylist, refused at the door after the customer's next sync"
    );
    Ok(())
}

pub async fn visit_confirm_by_phone(
    db: &Db,
    org: &Organisation,
    visit_ref: &str,
    by: &str,
) -> Result<(), ServerError> {
    let c = db
        .confirm_visit_by_phone(org, visit_ref, by, unix_now())
        .await?;
    println!(
        "visit {} — agent {} ({}), {} for {} minutes",
        c.visit_ref,
        c.agent_name,
        c.agent_staff_ref,
        doorstep_core::when::format(c.window_start),
        c.window_minutes
    );
    println!("Office reference: {}", c.reference);
    println!(
        "Read it to the customer, who reads it to the agent; the agent's app records the visit as verified by the office."
    );
    Ok(())
}

pub async fn agent_add(
    db: &Db,
    org: &Organisation,
    staff_ref: &str,
    name: &str,
    on_behalf_of: &str,
    photo: &Path,
) -> Result<(), ServerError> {
    let photo = read(photo)?;
    let agent = NewAgent {
        staff_ref,
        display_name: name,
        on_behalf_of,
        photo: &photo,
    };
    let agent = db.add_agent(org, &agent).await?;
    println!("agent {} ({}) added", agent.staff_ref, agent.display_name);
    Ok(())
}

pub async fn agent_list(db: &Db, org: &Organisation) -> Result<(), ServerError> {
    for a in db.agents(org).await? {
        let status = if a.revoked_at.is_some() {
            "revoked"
        } else {
            "active"
        };
        println!(
            "{:<12} {:<8} {} (on behalf of {})",
            a.staff_ref, status, a.display_name, a.on_behalf_of
        );
    }
    Ok(())
}

pub async fn agent_revoke(db: &Db, org: &Organisation, staff_ref: &str) -> Result<(), ServerError> {
    db.revoke_agent(org, staff_ref).await?;
    println!("agent {staff_ref} revoked, with their devices");
    Ok(())
}

/// A console account. Without `password_stdin` a password is made up and printed once; only
/// its Argon2id hash is kept.
pub async fn staff_add(
    db: &Db,
    org: &Organisation,
    username: &str,
    name: &str,
    role: crate::staff::StaffRole,
    password_stdin: bool,
) -> Result<(), ServerError> {
    let salt = crate::console::random()?;
    let (password, made_up) = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| ServerError::io("cannot read the password", e))?;
        (line.trim_end_matches(['\r', '\n']).to_string(), false)
    } else {
        (made_up_password()?, true)
    };
    let hash = crate::staff::hash_password(&password, salt)?;
    let added = db
        .add_staff(
            org,
            crate::db::staff::NewStaff {
                username,
                display_name: name,
                role,
                password_hash: &hash,
            },
            doorstep_core::system::unix_now(),
        )
        .await?;
    db.audit(
        org.id,
        None,
        "staff_added",
        &added.username,
        added.role.as_str(),
        doorstep_core::system::unix_now(),
    )
    .await?;
    if made_up {
        println!(
            "staff {} ({}) added; password: {password}",
            added.username,
            added.role.as_str()
        );
    } else {
        println!("staff {} ({}) added", added.username, added.role.as_str());
    }
    Ok(())
}

/// Four groups of five letters and digits without look-alikes: about 100 bits, easy to type.
fn made_up_password() -> Result<String, ServerError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let bytes: [u8; 20] = crate::console::random()?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    Ok(chars
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

pub async fn staff_list(db: &Db, org: &Organisation) -> Result<(), ServerError> {
    for s in db.list_staff(org).await? {
        let status = if s.disabled_at.is_some() {
            "disabled"
        } else {
            "active"
        };
        println!(
            "{:<24} {:<9} {:<9} {}",
            s.username,
            s.role.as_str(),
            status,
            s.display_name
        );
    }
    Ok(())
}

pub async fn staff_disable(db: &Db, org: &Organisation, username: &str) -> Result<(), ServerError> {
    let now = doorstep_core::system::unix_now();
    let staff = db.disable_staff(org, username, now).await?;
    db.audit(org.id, None, "staff_disabled", &staff.username, "", now)
        .await?;
    println!("staff {} disabled; their sessions ended", staff.username);
    Ok(())
}

pub async fn customer_add(
    db: &Db,
    org: &Organisation,
    customer_ref: &str,
    data: &BTreeMap<String, String>,
) -> Result<(), ServerError> {
    db.add_customer(org, customer_ref, data).await?;
    println!("customer {customer_ref} added with {} field(s)", data.len());
    Ok(())
}

pub async fn enrol_code(
    db: &Db,
    org: &Organisation,
    role: Role,
    subject_ref: &str,
    public_url: &str,
    png: Option<&Path>,
) -> Result<(), ServerError> {
    let issued = db
        .issue_enrolment_code(org, role, subject_ref, public_url, unix_now())
        .await?;
    let text = Code::Enrolment(issued.invite.clone()).to_text();
    let symbol =
        doorstep_qr::Symbol::new(&text).map_err(|e| ServerError::Invalid(format!("QR: {e}")))?;
    println!("{}", symbol.to_terminal());
    println!(
        "Enrolment code for {} ({}): {}",
        subject_ref,
        role.as_str(),
        issued.invite.code.to_typed()
    );
    println!("Server: {public_url}");
    println!(
        "Valid until {} and for one device only.",
        when::format(issued.expires_at)
    );
    println!("QR text: {text}");
    if let Some(path) = png {
        symbol.to_image(8).save(path).map_err(|e| {
            ServerError::io(
                format!("cannot write {}", path.display()),
                std::io::Error::other(e),
            )
        })?;
        println!("QR image: {}", path.display());
    }
    Ok(())
}

pub async fn visit_add(db: &Db, org: &Organisation, visit: &NewVisit) -> Result<(), ServerError> {
    let id = db.add_visit(org, visit, unix_now()).await?;
    println!("visit {} scheduled ({id})", visit.visit_ref);
    Ok(())
}

pub async fn visit_import(db: &Db, org: &Organisation, file: &Path) -> Result<(), ServerError> {
    let text = String::from_utf8(read(file)?)
        .map_err(|_| ServerError::Invalid(format!("{} is not UTF-8", file.display())))?;
    let ids = db.import_visits(org, &text, unix_now()).await?;
    println!("{} visit(s) imported", ids.len());
    Ok(())
}

pub async fn visit_list(db: &Db, org: &Organisation) -> Result<(), ServerError> {
    for v in db.visits(org).await? {
        let status = if v.completed_at.is_some() {
            "completed"
        } else {
            "open"
        };
        println!(
            "{:<12} {:<9} {} {} min  {}",
            v.visit_ref,
            status,
            when::format(v.window_start),
            v.window_minutes,
            v.purpose
        );
    }
    Ok(())
}

/// Completed visits as JSON or CSV.
pub async fn export(db: &Db, org: &Organisation, csv: bool) -> Result<(), ServerError> {
    let results = db.export(org).await?;
    if csv {
        print!("{}", export::to_csv(&results));
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&results).expect("serialisable")
        );
    }
    Ok(())
}

pub async fn purge(db: &Db, org: &Organisation) -> Result<(), ServerError> {
    let purged = db.purge(org, unix_now()).await?;
    println!(
        "personal data of {} customer(s) and the text of {} report(s) erased ({} days retention)",
        purged.customers, purged.reports, org.retention_days
    );
    Ok(())
}

/// The attestation policy `serve` applies, from its options.
pub fn attestation_policy(
    roots: Option<&std::path::Path>,
    required: bool,
) -> Result<crate::attestation::AttestationPolicy, ServerError> {
    let android_roots = match roots {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ServerError::io(format!("cannot read {}", path.display()), e))?;
            crate::attestation::certificates_from_pem(&text)?
        }
        None => Vec::new(),
    };
    // Nothing could be verified, so every enrolment would be refused.
    if required && android_roots.is_empty() {
        return Err(ServerError::Invalid(
            "--require-attestation needs --android-attestation-roots".into(),
        ));
    }
    Ok(crate::attestation::AttestationPolicy {
        android_roots,
        required,
    })
}

/// Serves the API until Ctrl-C.
pub async fn serve(
    db: &Db,
    key_dir: PathBuf,
    listen: SocketAddr,
    requests_per_minute: u32,
    attestation: crate::attestation::AttestationPolicy,
    public_url: Option<String>,
) -> Result<(), ServerError> {
    let mut state = AppState::new(db.clone(), KeyRing::new(key_dir), system_clock());
    state.requests_per_minute = requests_per_minute;
    state.attestation = std::sync::Arc::new(attestation);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| ServerError::io(format!("cannot listen on {listen}"), e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| ServerError::io("the listening socket has no address", e))?;
    state.public_url = public_url.unwrap_or_else(|| format!("http://{bound}"));
    println!(
        "doorstep-server listening on http://{bound} (API description at http://{bound}{})",
        doorstep_api::wire::paths::OPENAPI
    );
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        tokio::signal::ctrl_c().await.ok();
    })
    .await
    .map_err(|e| ServerError::io("the server stopped", e))
}
