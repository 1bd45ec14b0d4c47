//! Fresh databases for tests, on every backend this machine offers: always a new SQLite file,
//! and a new PostgreSQL database when `DOORSTEP_TEST_POSTGRES_URL` names a server (the test
//! scripts start one). With `DOORSTEP_REQUIRE_POSTGRES=1` a missing server fails the test
//! instead of silently testing one backend.

use std::path::Path;

use sqlx::{Connection, Executor};

pub const POSTGRES_URL_VAR: &str = "DOORSTEP_TEST_POSTGRES_URL";

/// One database URL per backend, each naming an empty database made for the caller.
pub async fn fresh_database_urls(dir: &Path) -> Vec<String> {
    let mut urls = vec![format!(
        "sqlite:{}",
        dir.join(format!("{}.db", uuid::Uuid::now_v7().simple()))
            .display()
    )];
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(base) => urls.push(fresh_postgres_database(&base).await),
        Err(_) if std::env::var("DOORSTEP_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("{POSTGRES_URL_VAR} is not set; run the tests through scripts/with-postgres.sh")
        }
        Err(_) => {}
    }
    urls
}

/// Creates a database beside the one `base` names and returns its URL.
async fn fresh_postgres_database(base: &str) -> String {
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(base)
        .await
        .expect("the test PostgreSQL server accepts connections");
    admin
        // The name is ours (a UUID), so formatting it into the statement is safe.
        .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name}"
        ))))
        .await
        .expect("a test database can be created");
    admin.close().await.ok();
    let (before_query, query) = base.split_once('?').unwrap_or((base, ""));
    let server = &before_query[..before_query.rfind('/').expect("a database path")];
    format!("{server}/{name}?{query}")
}
