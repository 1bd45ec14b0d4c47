//! The console's sign-in, roles, CSRF and audit log, over HTTP against a served back-office on
//! each backend. Cookies are handled by hand here, as a browser would, to check what is set.

use doorstep_server::http::CSRF_HEADER;
use doorstep_server::staff::{SESSION_IDLE_SECONDS, StaffRole};
use doorstep_server::testing::{Backoffice, Served, fresh_database_urls, organisation};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, ORIGIN, RETRY_AFTER, SET_COOKIE};
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = "admin pass phrase";
const PLANNER_PASSWORD: &str = "planner pass phrase";

async fn backoffices(dir: &tempfile::TempDir) -> Vec<(Backoffice, Served)> {
    let mut out = Vec::new();
    for url in fresh_database_urls(dir.path()).await {
        let office = Backoffice::create(
            &url,
            &dir.path().join(uuid::Uuid::now_v7().to_string()),
            &organisation("Northbank Cards"),
        )
        .await
        .unwrap();
        office
            .add_staff("ada", StaffRole::Admin, ADMIN_PASSWORD)
            .await;
        office
            .add_staff("piet", StaffRole::Planner, PLANNER_PASSWORD)
            .await;
        let served = office.serve().await.unwrap();
        out.push((office, served));
    }
    out
}

/// A signed-in browser: the session cookie and the CSRF token the page holds.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

async fn sign_in_raw(
    served: &Served,
    username: &str,
    password: &str,
    cookie: Option<&str>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{}/console/api/session", served.url))
        .json(&json!({ "username": username, "password": password }));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.unwrap()
}

async fn sign_in(served: &Served, username: &str, password: &str) -> Browser {
    let response = sign_in_raw(served, username, password, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let set = response.headers()[SET_COOKIE].to_str().unwrap().to_string();
    let body: Value = response.json().await.unwrap();
    Browser {
        http: reqwest::Client::new(),
        base: served.url.clone(),
        cookie: set.split(';').next().unwrap().to_string(),
        csrf: body["csrf_token"].as_str().unwrap().to_string(),
    }
}

impl Browser {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .header(CSRF_HEADER, &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }
}

impl Browser {
    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .header(CSRF_HEADER, &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.send(reqwest::Method::PUT, path, body).await;
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }
}

/// A PDF's text and the QR codes on its page, as poppler reads and renders them.
fn read_letter(pdf: &[u8]) -> (String, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("letter.pdf");
    std::fs::write(&file, pdf).unwrap();
    let text = std::process::Command::new("pdftotext")
        .args(["-layout".as_ref(), file.as_os_str(), "-".as_ref()])
        .output()
        .expect("pdftotext (poppler-utils, installed by scripts/setup.sh)");
    assert!(text.status.success());
    let rendered = dir.path().join("page");
    let status = std::process::Command::new("pdftoppm")
        .args([
            "-png".as_ref(),
            "-r".as_ref(),
            "100".as_ref(),
            file.as_os_str(),
            rendered.as_os_str(),
        ])
        .status()
        .expect("pdftoppm");
    assert!(status.success());
    let png = std::fs::read(dir.path().join("page-1.png")).unwrap();
    (
        String::from_utf8(text.stdout).unwrap(),
        doorstep_qr::decode_png(&png).unwrap(),
    )
}

fn new_operator() -> Value {
    json!({
        "username": "olga",
        "display_name": "Olga Operator",
        "role": "operator",
        "password": "operator pass phrase",
    })
}

#[tokio::test]
async fn each_role_reaches_only_its_own_pages_and_every_action_is_in_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    for (office, served) in backoffices(&dir).await {
        let response = sign_in_raw(&served, "piet", PLANNER_PASSWORD, None).await;
        let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_string();
        for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/console"] {
            assert!(set_cookie.contains(attribute), "{set_cookie}");
        }
        let planner = sign_in(&served, "piet", PLANNER_PASSWORD).await;
        let (status, me) = planner.get("/console/api/session").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["staff"]["role"], "planner");
        assert_eq!(me["organisation"], "Northbank Cards");

        // A planner cannot reach the admin's pages, nor the auditor's.
        let (status, body) = planner.get("/console/api/staff").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"], "not_allowed");
        let (status, _) = planner.post("/console/api/staff", new_operator()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = planner.get("/console/api/audit").await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let admin = sign_in(&served, "ADA ", ADMIN_PASSWORD).await;
        let (status, added) = admin.post("/console/api/staff", new_operator()).await;
        assert_eq!(status, StatusCode::OK, "{added}");
        assert_eq!(added["role"], "operator");
        let (status, listed) = admin.get("/console/api/staff").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed.as_array().unwrap().len(), 3);
        // The new account signs in with the password it was given.
        sign_in(&served, "olga", "operator pass phrase").await;

        let (status, log) = admin.get("/console/api/audit").await;
        assert_eq!(status, StatusCode::OK);
        let lines: Vec<(String, String, String)> = log
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["staff_username"].as_str().unwrap().into(),
                    e["action"].as_str().unwrap().into(),
                    e["subject"].as_str().unwrap().into(),
                )
            })
            .collect();
        let expected = [
            ("olga", "sign_in", "olga"),
            ("ada", "staff_added", "olga"),
            ("ada", "sign_in", "ada"),
            ("piet", "sign_in", "piet"),
            ("piet", "sign_in", "piet"),
        ];
        assert_eq!(
            lines,
            expected
                .iter()
                .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
                .collect::<Vec<_>>()
        );
        drop(office);
    }
}

#[tokio::test]
async fn a_change_without_the_session_s_token_or_from_another_site_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (office, served) in backoffices(&dir).await {
        let admin = sign_in(&served, "ada", ADMIN_PASSWORD).await;
        let attempt = |csrf: Option<&str>, origin: Option<&str>| {
            let mut request = admin
                .http
                .post(format!("{}/console/api/staff", served.url))
                .header(COOKIE, &admin.cookie)
                .json(&new_operator());
            if let Some(csrf) = csrf {
                request = request.header(CSRF_HEADER, csrf);
            }
            if let Some(origin) = origin {
                request = request.header(ORIGIN, origin);
            }
            request.send()
        };
        // A forged form or fetch from another site carries the cookie but not the token.
        for (csrf, origin) in [
            (None, None),
            (Some("0".repeat(64)), None),
            (
                Some(admin.csrf.clone()),
                Some("https://evil.example".to_string()),
            ),
        ] {
            let response = attempt(csrf.as_deref(), origin.as_deref()).await.unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "csrf_rejected");
        }
        // A sign-in posted from another site is refused too (login CSRF).
        let response = reqwest::Client::new()
            .post(format!("{}/console/api/session", served.url))
            .header(ORIGIN, "https://evil.example")
            .json(&json!({ "username": "ada", "password": ADMIN_PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        // From the console's own page it goes through, once.
        let own_origin = format!("http://{}", served.addr);
        let response = attempt(Some(&admin.csrf), Some(&own_origin)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(office.db.list_staff(&office.org).await.unwrap().len(), 3);
    }
}

#[tokio::test]
async fn a_planted_ended_or_idle_session_opens_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (office, served) in backoffices(&dir).await {
        // Session fixation: a cookie chosen by someone else before sign-in is not adopted.
        let planted = format!("doorstep_console={}", "ab".repeat(32));
        let response = sign_in_raw(&served, "ada", ADMIN_PASSWORD, Some(&planted)).await;
        let set = response.headers()[SET_COOKIE].to_str().unwrap().to_string();
        assert!(!set.contains(&"ab".repeat(32)), "{set}");
        let planted_browser = Browser {
            http: reqwest::Client::new(),
            base: served.url.clone(),
            cookie: planted.clone(),
            csrf: String::new(),
        };
        assert_eq!(
            planted_browser.get("/console/api/session").await.0,
            StatusCode::UNAUTHORIZED
        );

        // Signing in again ends the session the browser came with.
        let first = sign_in(&served, "ada", ADMIN_PASSWORD).await;
        let second = sign_in_raw(&served, "ada", ADMIN_PASSWORD, Some(&first.cookie)).await;
        assert_eq!(second.status(), StatusCode::OK);
        assert_eq!(
            first.get("/console/api/session").await.0,
            StatusCode::UNAUTHORIZED
        );

        // Signed out: the cookie is cleared and its session is gone on the server too.
        let browser = sign_in(&served, "ada", ADMIN_PASSWORD).await;
        let response = browser
            .http
            .delete(format!("{}/console/api/session", served.url))
            .header(COOKIE, &browser.cookie)
            .header(CSRF_HEADER, &browser.csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert!(
            response.headers()[SET_COOKIE]
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
        assert_eq!(
            browser.get("/console/api/session").await.0,
            StatusCode::UNAUTHORIZED
        );

        // Idle too long.
        let idle = sign_in(&served, "piet", PLANNER_PASSWORD).await;
        office.clock.shift(SESSION_IDLE_SECONDS as i64 + 1);
        assert_eq!(
            idle.get("/console/api/session").await.0,
            StatusCode::UNAUTHORIZED
        );

        // A disabled account's open session ends at once.
        let piet = sign_in(&served, "piet", PLANNER_PASSWORD).await;
        office
            .db
            .disable_staff(&office.org, "piet", 0)
            .await
            .unwrap();
        assert_eq!(
            piet.get("/console/api/session").await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            sign_in_raw(&served, "piet", PLANNER_PASSWORD, None)
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn wrong_passwords_throttle_and_a_wrong_name_reads_as_a_wrong_password() {
    let dir = tempfile::tempdir().unwrap();
    for (_office, served) in backoffices(&dir).await {
        let wrong_name = sign_in_raw(&served, "nobody", "whatever pass phrase", None).await;
        let wrong_password = sign_in_raw(&served, "ada", "whatever pass phrase", None).await;
        assert_eq!(wrong_name.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
        let (a, b): (Value, Value) = (
            wrong_name.json().await.unwrap(),
            wrong_password.json().await.unwrap(),
        );
        assert_eq!(a, b, "the answer does not tell which names exist");

        // Five wrong passwords for one name: even the right one waits now.
        for _ in 0..4 {
            sign_in_raw(&served, "ada", "whatever pass phrase", None).await;
        }
        let throttled = sign_in_raw(&served, "ada", ADMIN_PASSWORD, None).await;
        assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = throttled.headers()[RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&wait), "{wait}");
        let body: Value = throttled.json().await.unwrap();
        assert_eq!(body["error"], "login_throttled");
        // Other names still sign in from elsewhere... and from here, until twenty failures
        // from this address, whatever names they tried.
        sign_in(&served, "piet", PLANNER_PASSWORD).await;
        for n in 0..14 {
            let r = sign_in_raw(&served, &format!("guess{n}"), "whatever pass phrase", None).await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {n}");
        }
        let sprayed = sign_in_raw(&served, "piet", PLANNER_PASSWORD, None).await;
        assert_eq!(sprayed.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test]
async fn the_audit_log_cannot_be_changed_or_emptied_in_the_database() {
    let dir = tempfile::tempdir().unwrap();
    for url in fresh_database_urls(dir.path()).await {
        let office = Backoffice::create(&url, &dir.path().join("keys"), &organisation("Org"))
            .await
            .unwrap();
        office
            .db
            .audit(office.org.id, None, "staff_added", "ada", "admin", 1)
            .await
            .unwrap();
        sqlx::any::install_default_drivers();
        let raw_url = match url.strip_prefix("sqlite:") {
            Some(path) => format!("sqlite://{path}"),
            None => url.clone(),
        };
        let pool = sqlx::AnyPool::connect(&raw_url).await.unwrap();
        for sql in [
            "UPDATE audit_log SET action = 'nothing'",
            "DELETE FROM audit_log",
        ] {
            let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        if url.starts_with("postgres") {
            let err = sqlx::query("TRUNCATE audit_log")
                .execute(&pool)
                .await
                .unwrap_err();
            assert!(err.to_string().contains("append-only"), "{err}");
        }
        let log = office.db.audit_log(office.org.id, None, 10).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].action, "staff_added");
    }
}

#[tokio::test]
async fn the_operator_tells_a_caller_who_is_booked_at_their_door_and_confirms_it_by_phone() {
    let dir = tempfile::tempdir().unwrap();
    for (office, served) in backoffices(&dir).await {
        let now = doorstep_core::system::unix_now();
        office.add_agent("A-1", b"photo").await.unwrap();
        let data = doorstep_server::testing::customer_data();
        office.add_customer("C-1", &data).await.unwrap();
        office.add_customer("C-2", &data).await.unwrap();
        let at = |r: &str, c: &str, start| doorstep_server::testing::visit(r, "A-1", c, start);
        office
            .add_visit(&at("V-NOW", "C-1", now - 300), now - 600)
            .await
            .unwrap();
        office
            .add_visit(&at("V-LATER", "C-1", now + 86_400), now)
            .await
            .unwrap();
        office
            .add_visit(&at("V-OTHER", "C-2", now - 300), now - 600)
            .await
            .unwrap();
        office
            .add_staff("olga", StaffRole::Operator, "operator pass phrase")
            .await;
        let operator = sign_in(&served, "olga", "operator pass phrase").await;

        let (status, found) = operator.get("/console/api/line?search=C-1").await;
        assert_eq!(status, StatusCode::OK, "{found}");
        let refs: Vec<&str> = found["visits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["visit_ref"].as_str().unwrap())
            .collect();
        assert_eq!(refs, ["V-NOW", "V-LATER"], "only this customer's");
        assert_eq!(found["booked_now"], json!(["V-NOW"]));
        let (_, nobody) = operator.get("/console/api/line?search=C-9").await;
        assert_eq!(nobody["booked_now"], json!([]));

        // Plan B: confirmed by phone, a reference to read out; only for the visit of now.
        let (status, confirmed) = operator
            .post("/console/api/visits/V-NOW/confirm-by-phone", json!(null))
            .await;
        assert_eq!(status, StatusCode::OK, "{confirmed}");
        assert_eq!(confirmed["agent_ref"], "A-1");
        let reference = confirmed["reference"].as_str().unwrap().replace(' ', "");
        assert_eq!(reference.len(), 8);
        assert!(reference.chars().all(|c| c.is_ascii_digit()));
        let (status, later) = operator
            .post("/console/api/visits/V-LATER/confirm-by-phone", json!(null))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{later}");

        // A planner does not answer the official line.
        let planner = sign_in(&served, "piet", PLANNER_PASSWORD).await;
        assert_eq!(
            planner.get("/console/api/line?search=C-1").await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            planner
                .post("/console/api/visits/V-NOW/confirm-by-phone", json!(null))
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        let log = office.db.audit_log(office.org.id, None, 20).await.unwrap();
        assert!(log.iter().any(|e| e.action == "visit_confirmed_by_phone"
            && e.subject == "V-NOW"
            && e.staff_username == "olga"));
        assert!(
            log.iter()
                .any(|e| e.action == "line_lookup" && e.subject == "C-1")
        );
    }
}

#[tokio::test]
async fn a_planner_imports_visits_all_or_none_and_cancels_one() {
    let dir = tempfile::tempdir().unwrap();
    for (office, served) in backoffices(&dir).await {
        office.add_agent("A-1", b"photo").await.unwrap();
        let data = doorstep_server::testing::customer_data();
        office.add_customer("C-1", &data).await.unwrap();
        let planner = sign_in(&served, "piet", PLANNER_PASSWORD).await;
        let start = doorstep_core::when::format(doorstep_core::system::unix_now() + 86_400);
        let header = doorstep_server::planning::CSV_HEADER.join(",");
        let good = format!("V-10,A-1,C-1,{start},60,new_card,device_key,full_name");
        let bad = format!("V-11,A-9,C-1,{start},60,new_card,device_key,full_name");
        let (status, refused) = planner
            .post(
                "/console/api/visits/import",
                json!({ "csv": format!("{header}\n{good}\n{bad}\n") }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(refused["error"], "import_refused");
        assert!(
            refused["message"].as_str().unwrap().contains("line 3"),
            "{refused}"
        );
        assert!(office.db.visits(&office.org).await.unwrap().is_empty());

        let fixed = bad.replace("A-9", "A-1");
        let (status, imported) = planner
            .post(
                "/console/api/visits/import",
                json!({ "csv": format!("{header}\n{good}\n{fixed}\n") }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{imported}");
        assert_eq!(imported["imported"], 2);

        let (status, cancelled) = planner
            .post("/console/api/visits/V-11/cancel", json!(null))
            .await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        assert_eq!(
            planner
                .post("/console/api/visits/V-99/cancel", json!(null))
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        office
            .add_staff("olga", StaffRole::Operator, "operator pass phrase")
            .await;
        let operator = sign_in(&served, "olga", "operator pass phrase").await;
        assert_eq!(
            operator
                .post("/console/api/visits/V-10/cancel", json!(null))
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        let log = office.db.audit_log(office.org.id, None, 20).await.unwrap();
        let actions: Vec<(&str, &str)> = log
            .iter()
            .map(|e| (e.action.as_str(), e.subject.as_str()))
            .collect();
        assert!(
            actions.contains(&("visits_imported", "2 visit(s)")),
            "{actions:?}"
        );
        assert!(
            actions.contains(&("visit_cancelled", "V-11")),
            "{actions:?}"
        );
    }
}

#[tokio::test]
async fn an_auditor_exports_results_and_only_an_admin_runs_the_purge() {
    let dir = tempfile::tempdir().unwrap();
    for (office, served) in backoffices(&dir).await {
        office
            .add_staff("aud", StaffRole::Auditor, "auditor pass phrase")
            .await;
        let auditor = sign_in(&served, "aud", "auditor pass phrase").await;
        let response = auditor
            .http
            .get(format!("{}/console/api/export?format=csv", served.url))
            .header(COOKIE, &auditor.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let csv = response.text().await.unwrap();
        assert!(csv.starts_with("visit_ref,"), "{csv}");
        let (status, json) = auditor.get("/console/api/export?format=json").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json, json!([]));
        assert_eq!(
            auditor.get("/console/api/export?format=xml").await.0,
            StatusCode::BAD_REQUEST
        );
        let planner = sign_in(&served, "piet", PLANNER_PASSWORD).await;
        assert_eq!(
            planner.get("/console/api/export?format=csv").await.0,
            StatusCode::FORBIDDEN
        );

        assert_eq!(
            auditor.post("/console/api/purge", json!(null)).await.0,
            StatusCode::FORBIDDEN
        );
        let admin = sign_in(&served, "ada", ADMIN_PASSWORD).await;
        let (status, purged) = admin.post("/console/api/purge", json!(null)).await;
        assert_eq!(status, StatusCode::OK, "{purged}");
        assert_eq!(purged, json!({ "customers": 0, "reports": 0 }));
        let log = office.db.audit_log(office.org.id, None, 20).await.unwrap();
        assert!(
            log.iter()
                .any(|e| e.action == "export" && e.detail == "csv")
        );
        assert!(
            log.iter()
                .any(|e| e.action == "purge" && e.detail.contains("0 customer(s)"))
        );
    }
}

/// The smallest thing that passes for a PNG photo: the signature, then anything.
fn photo() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\nthe agent's face")
}

#[tokio::test]
async fn a_planner_adds_an_agent_prints_their_letter_and_revokes_the_phone_it_enrolled() {
    use doorstep_core::codec::Code;
    let dir = tempfile::tempdir().unwrap();
    for (office, served) in backoffices(&dir).await {
        let planner = sign_in(&served, "piet", PLANNER_PASSWORD).await;
        let agent = json!({
            "staff_ref": "A-7", "display_name": "Łucja Nowak",
            "on_behalf_of": "Northbank Cards", "photo": photo(),
        });
        let (status, body) = planner.post("/console/api/agents", agent.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(
            planner.post("/console/api/agents", agent).await.0,
            StatusCode::CONFLICT
        );
        let gif = json!({
            "staff_ref": "A-8", "display_name": "Gif", "on_behalf_of": "Northbank Cards",
            "photo": "R0lGODlhAQABAAAAACw=",
        });
        let (status, refused) = planner.post("/console/api/agents", gif).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(refused["message"].as_str().unwrap().contains("JPEG or PNG"));

        // The letter: a PDF whose QR code and typed code are one fresh enrolment code.
        let response = planner
            .send(
                reqwest::Method::POST,
                "/console/api/agents/A-7/letter",
                json!(null),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/pdf");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let pdf = response.bytes().await.unwrap();
        let (text, codes) = read_letter(&pdf);
        assert!(text.contains("Lucja Nowak (A-7)"), "{text}");
        assert!(text.contains(&office.org.official_phone), "{text}");
        assert_eq!(codes.len(), 1, "one QR code on the page");
        let Ok(Code::Enrolment(invite)) = Code::from_text(&codes[0]) else {
            panic!("the letter's QR code is an enrolment code: {}", codes[0]);
        };
        assert_eq!(invite.server_url, served.url);
        assert!(
            text.contains(&invite.code.to_typed()),
            "the typed code is the QR's"
        );

        // The phone enrols with it; the agents page shows the device; the planner revokes it.
        let key = doorstep_core::SoftwareKey::generate(&mut doorstep_core::SeededRandomness::new(
            "phone",
        ));
        let now = doorstep_core::system::unix_now();
        let (device, _) = office
            .db
            .enrol_device(&invite.code, key.public_key(), None, now)
            .await
            .unwrap();
        let (status, agents) = planner.get("/console/api/agents").await;
        assert_eq!(status, StatusCode::OK);
        let listed = &agents[0]["devices"][0];
        assert_eq!(agents[0]["staff_ref"], "A-7");
        assert_eq!(listed["id"], device.id.to_string());
        assert!(listed["enrolled_at"].as_u64().unwrap() >= now);
        assert_eq!(listed["last_seen_at"], Value::Null);
        assert_eq!(listed["attestation"], Value::Null);
        let operator_cannot = {
            office
                .add_staff("olga", StaffRole::Operator, "operator pass phrase")
                .await;
            sign_in(&served, "olga", "operator pass phrase").await
        };
        let revoke = format!("/console/api/devices/{}/revoke", device.id);
        assert_eq!(
            operator_cannot.post(&revoke, json!(null)).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            operator_cannot.get("/console/api/agents").await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            planner.post(&revoke, json!(null)).await.0,
            StatusCode::NO_CONTENT
        );
        let (_, agents) = planner.get("/console/api/agents").await;
        assert!(agents[0]["devices"][0]["revoked_at"].as_u64().is_some());
        assert_eq!(
            planner
                .post("/console/api/agents/A-7/revoke", json!(null))
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        let (_, agents) = planner.get("/console/api/agents").await;
        assert_eq!(agents[0]["revoked"], true);

        let log = office.db.audit_log(office.org.id, None, 50).await.unwrap();
        for action in [
            "agent_added",
            "enrolment_letter",
            "device_revoked",
            "agent_revoked",
        ] {
            assert!(
                log.iter()
                    .any(|e| e.action == action && e.staff_username == "piet"),
                "{action} in the audit log"
            );
        }
    }
}

#[tokio::test]
async fn customers_are_found_by_phone_edited_and_erased_on_request_keeping_their_receipts_only() {
    let dir = tempfile::tempdir().unwrap();
    for (office, served) in backoffices(&dir).await {
        let planner = sign_in(&served, "piet", PLANNER_PASSWORD).await;
        let customer = json!({
            "customer_ref": "C-5",
            "data": {"full_name": "Anna de Vries", "phone_number": "+31 6 1234 5678",
                     "postal_address": "Dorpsstraat 3, 1234 AB Ergens", "card_last_four": ""},
        });
        assert_eq!(
            planner.post("/console/api/customers", customer).await.0,
            StatusCode::CREATED
        );
        let (status, refused) = planner
            .post(
                "/console/api/customers",
                json!({"customer_ref": "C-6", "data": {"shoe_size": "42"}}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");

        // Found by the number however it is written; a blank field is no field.
        let (status, found) = planner
            .get("/console/api/customers?search=06-12345678")
            .await;
        assert_eq!(status, StatusCode::OK, "{found}");
        assert_eq!(found["total"], 1);
        assert_eq!(found["customers"][0]["customer_ref"], "C-5");
        assert_eq!(found["customers"][0]["data"].get("card_last_four"), None);
        let (status, _) = planner
            .put(
                "/console/api/customers/C-5",
                json!({"data": {"full_name": "Anna de Vries", "phone_number": "0687654321"}}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, old_number) = planner
            .get("/console/api/customers?search=0612345678")
            .await;
        assert_eq!(old_number["total"], 0);

        // The operator on the official line finds the caller by the number they call from.
        office.add_agent("A-1", b"photo").await.unwrap();
        let now = doorstep_core::system::unix_now();
        office
            .add_visit(
                &doorstep_server::testing::visit("V-5", "A-1", "C-5", now - 300),
                now - 600,
            )
            .await
            .unwrap();
        office
            .add_visit(
                &doorstep_server::testing::visit("V-6", "A-1", "C-5", now + 86_400),
                now,
            )
            .await
            .unwrap();
        office
            .add_staff("olga", StaffRole::Operator, "operator pass phrase")
            .await;
        let operator = sign_in(&served, "olga", "operator pass phrase").await;
        let (status, line) = operator
            .get("/console/api/line?search=%2B31687654321")
            .await;
        assert_eq!(status, StatusCode::OK, "{line}");
        assert_eq!(line["customer_refs"], json!(["C-5"]));
        assert_eq!(line["booked_now"], json!(["V-5"]));

        let response = planner
            .send(
                reqwest::Method::POST,
                "/console/api/customers/C-5/letter",
                json!(null),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let (text, codes) = read_letter(&response.bytes().await.unwrap());
        assert!(text.contains("Anna de Vries (C-5)"), "{text}");
        assert_eq!(codes.len(), 1);

        // Erased on request: the data, the pending code and the coming visit go; the
        // reference stays, and the number finds nobody any more.
        let (status, erased) = planner
            .post("/console/api/customers/C-5/erase", json!(null))
            .await;
        assert_eq!(status, StatusCode::OK, "{erased}");
        assert_eq!(
            erased["visits_cancelled"], 2,
            "the visit of now and the one tomorrow"
        );
        assert_eq!(erased["codes_withdrawn"], 1);
        let (_, after) = planner.get("/console/api/customers?search=C-5").await;
        assert_eq!(after["customers"][0]["data"], Value::Null);
        assert_eq!(after["customers"][0]["revoked"], true);
        assert!(after["customers"][0]["erased_at"].as_i64().is_some());
        let (_, line) = operator.get("/console/api/line?search=0687654321").await;
        assert_eq!(line["customer_refs"], json!([]));
        assert_eq!(
            planner
                .put(
                    "/console/api/customers/C-5",
                    json!({"data": {"full_name": "X"}})
                )
                .await
                .0,
            StatusCode::BAD_REQUEST,
            "an erased customer is not filled in again"
        );
        let log = office.db.audit_log(office.org.id, None, 50).await.unwrap();
        let erasure = log.iter().find(|e| e.action == "customer_erased").unwrap();
        assert_eq!(erasure.subject, "C-5");
        let edit = log.iter().find(|e| e.action == "customer_edited").unwrap();
        assert_eq!(
            edit.detail, "full_name phone_number",
            "field names, never values"
        );
    }
}

#[tokio::test]
async fn a_planner_books_one_visit_and_pages_through_a_day_of_them() {
    let dir = tempfile::tempdir().unwrap();
    for (office, served) in backoffices(&dir).await {
        office.add_agent("A-1", b"photo").await.unwrap();
        let data = doorstep_server::testing::customer_data();
        office.add_customer("C-1", &data).await.unwrap();
        let planner = sign_in(&served, "piet", PLANNER_PASSWORD).await;
        let start = doorstep_core::system::unix_now() / 86_400 * 86_400 + 2 * 86_400;
        let booking = |visit_ref: &str, minute: u64, agent: &str| {
            json!({
                "visit_ref": visit_ref, "staff_ref": agent, "customer_ref": "C-1",
                "window_start": doorstep_core::when::format(start + minute * 60),
                "window_minutes": 30, "purpose": "Hand over your new card",
                "checks": "card_handover", "fields": "full_name",
            })
        };
        for i in 0..7 {
            let (status, body) = planner
                .post(
                    "/console/api/bookings",
                    booking(&format!("V-{i}"), i * 30, "A-1"),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        let (status, refused) = planner
            .post("/console/api/bookings", booking("V-X", 0, "A-9"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            refused["message"].as_str().unwrap().contains("A-9"),
            "{refused}"
        );
        assert_eq!(
            planner
                .post("/console/api/bookings", booking("V-0", 0, "A-1"))
                .await
                .0,
            StatusCode::CONFLICT,
            "a reference already used"
        );
        planner
            .post("/console/api/visits/V-3/cancel", json!(null))
            .await;

        let day = |rest: &str| {
            format!(
                "/console/api/visits?from={start}&to={}{rest}",
                start + 86_400
            )
        };
        let (status, first) = planner.get(&day("&limit=3")).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        assert_eq!(first["total"], 7);
        let refs = |page: &Value| -> Vec<String> {
            page["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["visit_ref"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(refs(&first), ["V-0", "V-1", "V-2"]);
        let (_, last) = planner.get(&day("&limit=3&offset=6")).await;
        assert_eq!(refs(&last), ["V-6"]);
        let (_, cancelled) = planner.get(&day("&state=cancelled")).await;
        assert_eq!(refs(&cancelled), ["V-3"]);
        let (_, scheduled) = planner.get(&day("&state=scheduled")).await;
        assert_eq!(scheduled["total"], 6);
        assert_eq!(
            planner.get(&day("&state=teleported")).await.0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(first["agents"][0]["agent_ref"], "A-1");

        let (status, page) = planner.get("/console/api/visits/V-1").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["line"]["visit_ref"], "V-1");
        assert_eq!(
            page["records"]["checks"],
            json!(["device_key", "card_handover"])
        );
        assert_eq!(page["records"]["receipts"], json!([]));
        assert_eq!(
            planner.get("/console/api/visits/V-404").await.0,
            StatusCode::NOT_FOUND
        );
        let log = office.db.audit_log(office.org.id, None, 50).await.unwrap();
        assert_eq!(log.iter().filter(|e| e.action == "visit_booked").count(), 7);
    }
}

#[tokio::test]
async fn an_admin_changes_the_organisation_s_settings_within_bounds_and_disables_staff() {
    let dir = tempfile::tempdir().unwrap();
    for (office, served) in backoffices(&dir).await {
        let admin = sign_in(&served, "ada", ADMIN_PASSWORD).await;
        let (status, org) = admin.get("/console/api/organisation").await;
        assert_eq!(status, StatusCode::OK, "{org}");
        assert_eq!(org["official_phone"], office.org.official_phone);
        assert_eq!(org["key_ids"].as_array().unwrap().len(), 1);
        let settings =
            json!({"retention_days": 60, "customer_code_days": 7, "cooling_off_hours": 24});
        let (status, changed) = admin.put("/console/api/organisation", settings).await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(
            office
                .db
                .organisation_by_id(office.org.id)
                .await
                .unwrap()
                .retention_days,
            60
        );
        let (status, refused) = admin
            .put(
                "/console/api/organisation",
                json!({"retention_days": 0, "customer_code_days": 7, "cooling_off_hours": 24}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(refused["message"].as_str().unwrap().contains("retention"));
        // The official number is pinned in app builds: not a setting here.
        let (status, _) = admin
            .put(
                "/console/api/organisation",
                json!({"retention_days": 60, "customer_code_days": 7, "cooling_off_hours": 24,
                       "official_phone": "+1 555 0199"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        let planner = sign_in(&served, "piet", PLANNER_PASSWORD).await;
        assert_eq!(
            planner.get("/console/api/organisation").await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            planner
                .post("/console/api/staff/ada/disable", json!(null))
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            admin
                .post("/console/api/staff/ada/disable", json!(null))
                .await
                .0,
            StatusCode::BAD_REQUEST,
            "not yourself"
        );
        assert_eq!(
            admin
                .post("/console/api/staff/piet/disable", json!(null))
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            planner.get("/console/api/session").await.0,
            StatusCode::UNAUTHORIZED
        );
        let log = office.db.audit_log(office.org.id, None, 20).await.unwrap();
        assert!(log.iter().any(|e| e.action == "settings_changed"));
        assert!(
            log.iter()
                .any(|e| e.action == "staff_disabled" && e.subject == "piet")
        );
    }
}
