//! `doorstep-server`: the back-office's administration commands and `serve`. Each command parses
//! its arguments, calls the library and prints the result; nothing more.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use doorstep_api::wire::Role;
use doorstep_core::codec::Code;
use doorstep_server::agents::NewAgent;
use doorstep_server::http::{AppState, router, system_clock};
use doorstep_server::organisations::{NewOrganisation, signing_key_path};
use doorstep_server::signing::KeyRing;
use doorstep_server::visits::NewVisit;
use doorstep_server::{Db, ServerError, export, when};

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
    },
    /// Manage the organisation's agents.
    Agent {
        #[command(flatten)]
        org: Org,
        #[command(subcommand)]
        action: AgentAction,
    },
    /// Add a customer with the data visits may show (`--data full_name="Jan Jansen"`).
    Customer {
        #[command(flatten)]
        org: Org,
        #[arg(long = "ref")]
        customer_ref: String,
        #[arg(long, value_parser = parse_field)]
        data: Vec<(String, String)>,
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
}

fn parse_field(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} is not name=value"))
}

fn read(path: &PathBuf) -> Result<Vec<u8>, ServerError> {
    std::fs::read(path)
        .map_err(|e| ServerError::Invalid(format!("cannot read {}: {e}", path.display())))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn run(cli: Cli) -> Result<(), ServerError> {
    let db = Db::open(&cli.database_url).await?;
    match cli.command {
        Command::Init {
            name,
            official_phone,
            retention_days,
        } => {
            let new = NewOrganisation {
                name: &name,
                official_phone: &official_phone,
                retention_days,
            };
            let org = db.create_organisation(&new, &cli.key_dir).await?;
            println!(
                "organisation {} ({}) with signing key {}",
                org.name,
                org.id,
                org.keys[0].key_id()
            );
            println!(
                "private key: {}",
                signing_key_path(&cli.key_dir, &org.id).display()
            );
        }
        Command::Agent { org, action } => {
            let org = db.organisation(&org.organisation).await?;
            match action {
                AgentAction::Add {
                    staff_ref,
                    name,
                    on_behalf_of,
                    photo,
                } => {
                    let photo = read(&photo)?;
                    let agent = NewAgent {
                        staff_ref: &staff_ref,
                        display_name: &name,
                        on_behalf_of: &on_behalf_of,
                        photo: &photo,
                    };
                    let agent = db.add_agent(&org, &agent).await?;
                    println!("agent {} ({}) added", agent.staff_ref, agent.display_name);
                }
                AgentAction::List => {
                    for a in db.agents(&org).await? {
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
                }
                AgentAction::Revoke { staff_ref } => {
                    db.revoke_agent(&org, &staff_ref).await?;
                    println!("agent {staff_ref} revoked, with their devices");
                }
            }
        }
        Command::Customer {
            org,
            customer_ref,
            data,
        } => {
            let org = db.organisation(&org.organisation).await?;
            let data: BTreeMap<_, _> = data.into_iter().collect();
            db.add_customer(&org, &customer_ref, &data).await?;
            println!("customer {customer_ref} added with {} field(s)", data.len());
        }
        Command::EnrolCode {
            org,
            role,
            subject_ref,
            public_url,
            png,
        } => {
            let org = db.organisation(&org.organisation).await?;
            let role = match role {
                RoleArg::Agent => Role::Agent,
                RoleArg::Customer => Role::Customer,
            };
            let issued = db
                .issue_enrolment_code(&org, role, &subject_ref, &public_url, now())
                .await?;
            let text = Code::Enrolment(issued.invite.clone()).to_text();
            let symbol = doorstep_qr::Symbol::new(&text)
                .map_err(|e| ServerError::Invalid(format!("QR: {e}")))?;
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
                symbol.to_image(8).save(&path).map_err(|e| {
                    ServerError::Invalid(format!("cannot write {}: {e}", path.display()))
                })?;
                println!("QR image: {}", path.display());
            }
        }
        Command::Visit { org, action } => {
            let org = db.organisation(&org.organisation).await?;
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
                    let id = db.add_visit(&org, &visit, now()).await?;
                    println!("visit {} scheduled ({id})", visit.visit_ref);
                }
                VisitAction::Import { file } => {
                    let text = String::from_utf8(read(&file)?).map_err(|_| {
                        ServerError::Invalid(format!("{} is not UTF-8", file.display()))
                    })?;
                    let ids = db.import_visits(&org, &text, now()).await?;
                    println!("{} visit(s) imported", ids.len());
                }
                VisitAction::List => {
                    for v in db.visits(&org).await? {
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
                }
            }
        }
        Command::Export { org, format } => {
            let org = db.organisation(&org.organisation).await?;
            let results = db.export(&org).await?;
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&results).expect("serialisable")
                ),
                Format::Csv => print!("{}", export::to_csv(&results)),
            }
        }
        Command::Purge { org } => {
            let org = db.organisation(&org.organisation).await?;
            let purged = db.purge(&org, now()).await?;
            println!(
                "personal data of {} customer(s) and the text of {} report(s) erased ({} days retention)",
                purged.customers, purged.reports, org.retention_days
            );
        }
        Command::Serve { listen } => {
            let state = AppState::new(
                db.clone(),
                KeyRing::new(cli.key_dir.clone()),
                system_clock(),
            );
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| ServerError::Invalid(format!("cannot listen on {listen}: {e}")))?;
            let bound = listener
                .local_addr()
                .map_err(|e| ServerError::Invalid(e.to_string()))?;
            println!(
                "doorstep-server listening on http://{bound} (API description at http://{bound}{})",
                doorstep_api::wire::paths::OPENAPI
            );
            axum::serve(listener, router(state))
                .with_graceful_shutdown(async {
                    tokio::signal::ctrl_c().await.ok();
                })
                .await
                .map_err(|e| ServerError::Invalid(format!("server stopped: {e}")))?;
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
