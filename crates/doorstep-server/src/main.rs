//! `doorstep-server`: the back-office's administration commands and `serve`. This file parses
//! the command line and dispatches to `doorstep_server::admin`; nothing more.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use doorstep_core::Role;
use doorstep_server::db::organisations::NewOrganisation;
use doorstep_server::planning::NewVisit;
use doorstep_server::{Db, ServerError, admin};

#[derive(Parser)]
#[command(name = "doorstep-server", version, about = "The Doorstep back-office")]
struct Cli {
    /// sqlite:PATH (the default, created if missing) or postgres://USER@HOST/DB
    #[arg(
        long,
        env = "DOORSTEP_DATABASE_URL",
        default_value = "sqlite:doorstep.db"
    )]
    database_url: String,
    /// Where organisations' signing keys are kept (owner-only files).
    #[arg(long, env = "DOORSTEP_KEY_DIR", default_value = ".")]
    key_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Org {
    /// The organisation's name, as given to `init`.
    #[arg(long = "org")]
    organisation: String,
}

#[derive(Subcommand)]
enum Command {
    /// Create an organisation and its signing key.
    Init {
        #[arg(long)]
        name: String,
        /// The number customers should call when in doubt; printed in every notice.
        #[arg(long, default_value = "")]
        official_phone: String,
        /// Days personal data is kept after a visit.
        #[arg(long, default_value_t = 30)]
        retention_days: u32,
        /// Days a customer's one-time enrolment code stays valid.
        #[arg(long, default_value_t = 3)]
        customer_code_days: u32,
        /// Hours a phone enrolled for someone who already has one waits before it receives
        /// anything (unless `device confirm`); the earlier phone is told meanwhile.
        #[arg(long, default_value_t = 24)]
        cooling_off_hours: u32,
        /// Also write the pins an app build trusts this organisation by (see `pins`).
        #[arg(long, requires = "public_url")]
        pins_out: Option<PathBuf>,
        /// The back-office address the pins name.
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Rotate the organisation's signing key: a new key signs from now on, handed over by the
    /// current one, which stays trusted for the overlap and is then retired.
    RotateKey {
        #[command(flatten)]
        org: Org,
        /// Hours the current key stays trusted (at least 24, so every phone syncs meanwhile).
        #[arg(long, default_value_t = 48)]
        overlap_hours: u64,
    },
    /// Write the pins an app build embeds to trust this organisation: its name, official
    /// number, back-office address and keys. https only; http on loopback makes a development
    /// configuration.
    Pins {
        #[command(flatten)]
        org: Org,
        #[arg(long, env = "DOORSTEP_PUBLIC_URL")]
        public_url: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Manage the organisation's agents.
    Agent {
        #[command(flatten)]
        org: Org,
        #[command(subcommand)]
        action: AgentAction,
    },
    /// Manage the console's staff accounts (admin, planner, operator, auditor).
    Staff {
        #[command(flatten)]
        org: Org,
        #[command(subcommand)]
        action: StaffAction,
    },
    /// Manage the organisation's customers.
    Customer {
        #[command(flatten)]
        org: Org,
        #[command(subcommand)]
        action: CustomerAction,
    },
    /// List devices, or revoke one (a lost or stolen phone).
    Device {
        #[command(flatten)]
        org: Org,
        #[command(subcommand)]
        action: DeviceAction,
    },
    /// A one-time enrolment code for an agent's or a customer's device, as text and QR.
    EnrolCode {
        #[command(flatten)]
        org: Org,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The agent's staff reference or the customer's reference.
        #[arg(long = "for")]
        subject_ref: String,
        /// The address devices reach the API at, put in the QR.
        #[arg(
            long,
            env = "DOORSTEP_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
        /// Also write the QR as a PNG, for a letter.
        #[arg(long)]
        png: Option<PathBuf>,
    },
    /// Schedule visits.
    Visit {
        #[command(flatten)]
        org: Org,
        #[command(subcommand)]
        action: VisitAction,
    },
    /// Completed visits with their receipts and countersignatures.
    Export {
        #[command(flatten)]
        org: Org,
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
    },
    /// Erase personal data past the organisation's retention period.
    Purge {
        #[command(flatten)]
        org: Org,
    },
    /// Serve the API.
    Serve {
        #[arg(long, env = "DOORSTEP_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Signed requests one device may make per minute before `429 rate_limited`.
        #[arg(long, env = "DOORSTEP_REQUESTS_PER_MINUTE", default_value_t = doorstep_server::db::requests::DEFAULT_REQUESTS_PER_MINUTE)]
        requests_per_minute: u32,
        /// PEM file of the Android key attestation roots a phone's key chain must lead to
        /// (Google's hardware attestation roots, for real phones).
        #[arg(long, env = "DOORSTEP_ANDROID_ATTESTATION_ROOTS")]
        android_attestation_roots: Option<PathBuf>,
        /// Enrol only devices whose key is attested in secure hardware.
        #[arg(long, env = "DOORSTEP_REQUIRE_ATTESTATION")]
        require_attestation: bool,
        /// The address phones reach this back-office at, printed in the enrolment letters
        /// the console makes (default: http:// and the listening address).
        #[arg(long, env = "DOORSTEP_PUBLIC_URL")]
        public_url: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Agent,
    Customer,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Csv,
}

#[derive(Subcommand)]
enum AgentAction {
    Add {
        #[arg(long)]
        staff_ref: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        on_behalf_of: String,
        /// The photo customers will see (its hash goes into tickets).
        #[arg(long)]
        photo: PathBuf,
    },
    List,
    Revoke {
        #[arg(long)]
        staff_ref: String,
    },
}

#[derive(Subcommand)]
enum StaffAction {
    /// Add an account. Its password is read from standard input with `--password-stdin`,
    /// else made up and printed once.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: StaffRoleArg,
        #[arg(long)]
        password_stdin: bool,
    },
    List,
    /// Disable an account and end its sessions.
    Disable {
        #[arg(long)]
        username: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum StaffRoleArg {
    Admin,
    Planner,
    Operator,
    Auditor,
}

impl From<StaffRoleArg> for doorstep_server::staff::StaffRole {
    fn from(r: StaffRoleArg) -> Self {
        use doorstep_server::staff::StaffRole;
        match r {
            StaffRoleArg::Admin => StaffRole::Admin,
            StaffRoleArg::Planner => StaffRole::Planner,
            StaffRoleArg::Operator => StaffRole::Operator,
            StaffRoleArg::Auditor => StaffRole::Auditor,
        }
    }
}

#[derive(Subcommand)]
enum CustomerAction {
    /// Add a customer with the data visits may show (`--data full_name="Jan Jansen"`).
    Add {
        #[arg(long = "ref")]
        customer_ref: String,
        #[arg(long, value_parser = parse_field)]
        data: Vec<(String, String)>,
    },
    /// Revoke every device of the customer; agents' phones refuse them after their next sync.
    Revoke {
        #[arg(long = "ref")]
        customer_ref: String,
    },
}

#[derive(Subcommand)]
enum DeviceAction {
    List,
    /// Let a held device (enrolled for someone who already had one) take over now, once the
    /// person confirmed on the official line that it is theirs.
    Confirm {
        #[arg(long)]
        id: uuid::Uuid,
    },
    /// Revoke one device by the id `device list` shows.
    Revoke {
        #[arg(long)]
        id: uuid::Uuid,
    },
}

#[derive(Subcommand)]
enum VisitAction {
    Add {
        #[arg(long = "ref")]
        visit_ref: String,
        #[arg(long)]
        agent: String,
        #[arg(long)]
        customer: String,
        /// e.g. 2026-11-24T09:30:00Z
        #[arg(long)]
        start: String,
        #[arg(long, default_value_t = 120)]
        minutes: u32,
        /// In the office's words, or a key of the apps' catalogue, shown in each person's
        /// language: new_card, card_reader, collect_card, identity_check.
        #[arg(long)]
        purpose: String,
        /// Space-separated check names (device_key is always included).
        #[arg(long, default_value = "device_key")]
        checks: String,
        /// Space-separated customer field names the agent may see.
        #[arg(long, default_value = "")]
        fields: String,
    },
    /// Import a CSV file; every row or none.
    Import {
        file: PathBuf,
    },
    List,
    /// Cancel a visit: its tickets go on the denylist, so the customer's phone refuses the
    /// agent's proof after its next sync.
    Cancel {
        #[arg(long = "ref")]
        visit_ref: String,
    },
    /// Plan B, on the official line: the customer called because a phone at the door cannot
    /// scan. Once the operator has checked the customer and that the agent at the door is the
    /// one booked, this gives the reference the customer reads to the agent; the agent's app
    /// records the visit as verified by the office with it.
    ConfirmByPhone {
        #[arg(long = "ref")]
        visit_ref: String,
        /// Who confirmed it (the operator), kept with the reference.
        #[arg(long)]
        by: String,
    },
}

fn parse_field(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} is not name=value"))
}

async fn run(cli: Cli) -> Result<(), ServerError> {
    let db = Db::open(&cli.database_url).await?;
    let org = |o: Org| {
        let db = db.clone();
        async move { db.organisation(&o.organisation).await }
    };
    match cli.command {
        Command::Init {
            name,
            official_phone,
            retention_days,
            customer_code_days,
            cooling_off_hours,
            pins_out,
            public_url,
        } => {
            let new = NewOrganisation {
                name: &name,
                official_phone: &official_phone,
                retention_days,
                customer_code_days,
                cooling_off_hours,
            };
            admin::init(&db, &new, &cli.key_dir).await?;
            if let (Some(path), Some(url)) = (pins_out, public_url) {
                admin::write_pins(&db.organisation(&name).await?, &url, &path)?;
            }
        }
        Command::RotateKey {
            org: o,
            overlap_hours,
        } => admin::rotate_key(&db, &org(o).await?, &cli.key_dir, overlap_hours).await?,
        Command::Pins {
            org: o,
            public_url,
            out,
        } => admin::write_pins(&org(o).await?, &public_url, &out)?,
        Command::Agent { org: o, action } => {
            let org = org(o).await?;
            match action {
                AgentAction::Add {
                    staff_ref,
                    name,
                    on_behalf_of,
                    photo,
                } => admin::agent_add(&db, &org, &staff_ref, &name, &on_behalf_of, &photo).await?,
                AgentAction::List => admin::agent_list(&db, &org).await?,
                AgentAction::Revoke { staff_ref } => {
                    admin::agent_revoke(&db, &org, &staff_ref).await?
                }
            }
        }
        Command::Staff { org: o, action } => {
            let org = org(o).await?;
            match action {
                StaffAction::Add {
                    username,
                    name,
                    role,
                    password_stdin,
                } => {
                    admin::staff_add(&db, &org, &username, &name, role.into(), password_stdin)
                        .await?
                }
                StaffAction::List => admin::staff_list(&db, &org).await?,
                StaffAction::Disable { username } => {
                    admin::staff_disable(&db, &org, &username).await?
                }
            }
        }
        Command::Customer { org: o, action } => {
            let org = org(o).await?;
            match action {
                CustomerAction::Add { customer_ref, data } => {
                    let data: BTreeMap<_, _> = data.into_iter().collect();
                    admin::customer_add(&db, &org, &customer_ref, &data).await?;
                }
                CustomerAction::Revoke { customer_ref } => {
                    admin::customer_revoke(&db, &org, &customer_ref).await?
                }
            }
        }
        Command::Device { org: o, action } => {
            let org = org(o).await?;
            match action {
                DeviceAction::List => admin::device_list(&db, &org).await?,
                DeviceAction::Confirm { id } => admin::device_confirm(&db, &org, id).await?,
                DeviceAction::Revoke { id } => admin::device_revoke(&db, &org, id).await?,
            }
        }
        Command::EnrolCode {
            org: o,
            role,
            subject_ref,
            public_url,
            png,
        } => {
            let role = match role {
                RoleArg::Agent => Role::Agent,
                RoleArg::Customer => Role::Customer,
            };
            let org = org(o).await?;
            admin::enrol_code(&db, &org, role, &subject_ref, &public_url, png.as_deref()).await?;
        }
        Command::Visit { org: o, action } => {
            let org = org(o).await?;
            match action {
                VisitAction::Add {
                    visit_ref,
                    agent,
                    customer,
                    start,
                    minutes,
                    purpose,
                    checks,
                    fields,
                } => {
                    let visit = NewVisit {
                        visit_ref,
                        staff_ref: agent,
                        customer_ref: customer,
                        window_start: start,
                        window_minutes: minutes,
                        purpose,
                        checks,
                        fields,
                    };
                    admin::visit_add(&db, &org, &visit).await?;
                }
                VisitAction::Import { file } => admin::visit_import(&db, &org, &file).await?,
                VisitAction::List => admin::visit_list(&db, &org).await?,
                VisitAction::Cancel { visit_ref } => {
                    admin::visit_cancel(&db, &org, &visit_ref).await?
                }
                VisitAction::ConfirmByPhone { visit_ref, by } => {
                    admin::visit_confirm_by_phone(&db, &org, &visit_ref, &by).await?
                }
            }
        }
        Command::Export { org: o, format } => {
            admin::export(&db, &org(o).await?, matches!(format, Format::Csv)).await?
        }
        Command::Purge { org: o } => admin::purge(&db, &org(o).await?).await?,
        Command::Serve {
            listen,
            requests_per_minute,
            android_attestation_roots,
            require_attestation,
            public_url,
        } => {
            let policy = admin::attestation_policy(
                android_attestation_roots.as_deref(),
                require_attestation,
            )?;
            admin::serve(
                &db,
                cli.key_dir.clone(),
                listen,
                requests_per_minute,
                policy,
                public_url,
            )
            .await?
        }
    }
    db.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DOORSTEP_LOG")
                .unwrap_or_else(|_| "doorstep_server=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("doorstep-server: {e}");
            ExitCode::FAILURE
        }
    }
}
