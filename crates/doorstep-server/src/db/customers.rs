//! The organisation's customers and the personal data visits may show. Data is kept as a JSON
//! map of field names (those of [`CustomerField`]); unknown names are refused on entry so nothing
//! is stored that no visit could ever show.

use std::collections::BTreeMap;

use doorstep_core::ticket::{CustomerField, FieldSet};
use sqlx::Row;
use uuid::Uuid;

use super::organisations::Organisation;
use super::rows;
use crate::{Db, ServerError, now_unix};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: Uuid,
    pub customer_ref: String,
    /// None once purged.
    pub data: Option<BTreeMap<String, String>>,
}

impl Customer {
    /// The fields a visit may show, and nothing else.
    /// The place of the visit; the agent needs it whatever the ticket lets them see.
    pub fn address(&self) -> Option<String> {
        self.data.as_ref()?.get("postal_address").cloned()
    }

    pub fn data_for(&self, fields: FieldSet) -> BTreeMap<String, String> {
        let Some(data) = &self.data else {
            return BTreeMap::new();
        };
        fields
            .iter()
            .filter_map(|f| {
                data.get(f.name())
                    .map(|v| (f.name().to_string(), v.clone()))
            })
            .collect()
    }
}

/// The digits of a phone number that identify it whatever prefix it is written with
/// (`+31 6 1234 5678`, `06-12345678`): its last nine. `None` for fewer than six digits, which
/// would find too many.
pub fn phone_key(number: &str) -> Option<String> {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return None;
    }
    Some(digits[digits.len().saturating_sub(9)..].iter().collect())
}

fn phone_key_of(data: &BTreeMap<String, String>) -> Option<String> {
    data.get(CustomerField::PhoneNumber.name())
        .and_then(|n| phone_key(n))
}

/// A customer as the console lists them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CustomerLine {
    pub customer_ref: String,
    /// The fields a visit may show; `None` once erased or purged.
    pub data: Option<BTreeMap<String, String>>,
    pub revoked: bool,
    /// When their personal data was erased (on request or by retention).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub erased_at: Option<i64>,
}

/// What erasing a customer on request did. What stays is listed by the console with why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Erasure {
    pub devices_revoked: u64,
    pub visits_cancelled: u64,
    pub reports_erased: u64,
    pub codes_withdrawn: u64,
}

fn check_fields(data: &BTreeMap<String, String>) -> Result<(), ServerError> {
    for name in data.keys() {
        if !CustomerField::ALL.iter().any(|f| f.name() == name) {
            return Err(ServerError::Invalid(format!(
                "unknown customer field {name:?} (known: {})",
                CustomerField::ALL
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(())
}

impl Db {
    pub async fn add_customer(
        &self,
        org: &Organisation,
        customer_ref: &str,
        data: &BTreeMap<String, String>,
    ) -> Result<Customer, ServerError> {
        check_fields(data)?;
        if customer_ref.trim().is_empty() || customer_ref.len() > 64 {
            return Err(ServerError::Invalid(
                "a customer reference has 1 to 64 characters".into(),
            ));
        }
        let id = Uuid::now_v7();
        let json = serde_json::to_string(data).expect("a string map serialises");
        let inserted = sqlx::query(
            "INSERT INTO customers (id, organisation_id, customer_ref, data, created_at, phone_key) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.as_bytes().to_vec())
        .bind(org.id.as_bytes().to_vec())
        .bind(customer_ref)
        .bind(json)
        .bind(now_unix())
        .bind(phone_key_of(data))
        .execute(&self.pool)
        .await;
        match inserted {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(ServerError::CustomerExists(customer_ref.into()))
            }
            Err(e) => Err(e.into()),
            Ok(_) => Ok(Customer {
                id,
                customer_ref: customer_ref.into(),
                data: Some(data.clone()),
            }),
        }
    }

    pub async fn customer(
        &self,
        org: &Organisation,
        customer_ref: &str,
    ) -> Result<Customer, ServerError> {
        let row = sqlx::query(
            "SELECT id, customer_ref, data FROM customers WHERE organisation_id = $1 AND customer_ref = $2",
        )
        .bind(org.id.as_bytes().to_vec())
        .bind(customer_ref)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| ServerError::UnknownCustomer(customer_ref.into()))?;
        customer_from_row(&row)
    }

    /// Replaces the fields a visit may show. Visits already packaged keep what they were
    /// issued with; the next package and notice carry the new values.
    pub async fn update_customer(
        &self,
        org: &Organisation,
        customer_ref: &str,
        data: &BTreeMap<String, String>,
    ) -> Result<Customer, ServerError> {
        check_fields(data)?;
        let customer = self.customer(org, customer_ref).await?;
        if customer.data.is_none() {
            return Err(ServerError::Invalid(format!(
                "customer {customer_ref}'s data was erased; add them anew under a new reference"
            )));
        }
        sqlx::query("UPDATE customers SET data = $1, phone_key = $2 WHERE id = $3")
            .bind(serde_json::to_string(data).expect("a string map serialises"))
            .bind(phone_key_of(data))
            .bind(customer.id.as_bytes().to_vec())
            .execute(&self.pool)
            .await?;
        Ok(Customer {
            data: Some(data.clone()),
            ..customer
        })
    }

    /// Customers whose reference starts with `search`, or whose phone number is `search`, in
    /// reference order from `offset`; and how many match in all.
    pub async fn customer_lines(
        &self,
        org: &Organisation,
        search: &str,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<CustomerLine>, u64), ServerError> {
        let search = search.trim();
        let prefix = format!(
            "{}%",
            search
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let phone = phone_key(search).unwrap_or_default();
        let filter = "organisation_id = $1 AND (customer_ref LIKE $2 ESCAPE '\\' OR ($3 <> '' AND phone_key = $3))";
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM customers WHERE {filter}"
        )))
        .bind(org.id.as_bytes().to_vec())
        .bind(&prefix)
        .bind(&phone)
        .fetch_one(&self.pool)
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, customer_ref, data, revoked_at, purged_at FROM customers WHERE {filter}
             ORDER BY customer_ref LIMIT $4 OFFSET $5"
        )))
        .bind(org.id.as_bytes().to_vec())
        .bind(&prefix)
        .bind(&phone)
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await?;
        let lines = rows
            .iter()
            .map(|r| {
                let customer = customer_from_row(r)?;
                Ok(CustomerLine {
                    customer_ref: customer.customer_ref,
                    data: customer.data,
                    revoked: r.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
                    erased_at: r.try_get("purged_at")?,
                })
            })
            .collect::<Result<Vec<_>, ServerError>>()?;
        Ok((lines, u64::try_from(total).unwrap_or(0)))
    }

    /// The references of customers whose phone number is `number`, however it is written.
    pub async fn customers_by_phone(
        &self,
        org: &Organisation,
        number: &str,
    ) -> Result<Vec<String>, ServerError> {
        let Some(key) = phone_key(number) else {
            return Ok(Vec::new());
        };
        Ok(sqlx::query_scalar(
            "SELECT customer_ref FROM customers WHERE organisation_id = $1 AND phone_key = $2
             ORDER BY customer_ref LIMIT 20",
        )
        .bind(org.id.as_bytes().to_vec())
        .bind(key)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Erases a customer on their request: their personal data and the text of reports about
    /// their visits go, their devices are revoked, their enrolment codes withdrawn and their
    /// coming visits cancelled. Their reference and the receipts of past visits stay: a receipt
    /// holds no personal data and is the organisation's evidence of what happened at the door.
    pub async fn erase_customer(
        &self,
        org: &Organisation,
        customer_ref: &str,
        now: u64,
    ) -> Result<Erasure, ServerError> {
        let customer = self.customer(org, customer_ref).await?;
        let id = customer.id.as_bytes().to_vec();
        let coming: Vec<String> = sqlx::query_scalar(
            "SELECT visit_ref FROM visits WHERE customer_id = $1 AND cancelled_at IS NULL
               AND completed_at IS NULL AND window_start + window_minutes * 60 > $2",
        )
        .bind(&id)
        .bind(rows::signed(now))
        .fetch_all(&self.pool)
        .await?;
        for visit_ref in &coming {
            self.cancel_visit(org, visit_ref, now).await?;
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE customers SET data = NULL, phone_key = NULL, purged_at = $1,
                    revoked_at = COALESCE(revoked_at, $1) WHERE id = $2",
        )
        .bind(rows::signed(now))
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        let devices_revoked = sqlx::query(
            "UPDATE devices SET revoked_at = $1 WHERE subject_id = $2 AND revoked_at IS NULL",
        )
        .bind(rows::signed(now))
        .bind(&id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let codes_withdrawn = sqlx::query(
            "DELETE FROM enrolment_codes WHERE subject_id = $1 AND redeemed_at IS NULL",
        )
        .bind(&id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // Reports the customer's phones sent, and reports about their visits.
        let reports_erased = sqlx::query(
            "UPDATE results SET payload = $1
             WHERE kind = 'report' AND length(payload) > 0
               AND (device_id IN (SELECT d.id FROM devices d WHERE d.subject_id = $2)
                    OR visit_id IN (SELECT v.id FROM visits v WHERE v.customer_id = $2))",
        )
        .bind(Vec::<u8>::new())
        .bind(&id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(Erasure {
            devices_revoked,
            visits_cancelled: coming.len() as u64,
            reports_erased,
            codes_withdrawn,
        })
    }

    /// Fills `phone_key` for customers stored before it existed.
    pub(crate) async fn backfill_phone_keys(&self) -> Result<(), ServerError> {
        let rows = sqlx::query(
            "SELECT id, customer_ref, data FROM customers WHERE phone_key IS NULL AND data IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let customer = customer_from_row(row)?;
            let key = customer.data.as_ref().and_then(phone_key_of);
            sqlx::query("UPDATE customers SET phone_key = $1 WHERE id = $2")
                .bind(key.unwrap_or_default())
                .bind(customer.id.as_bytes().to_vec())
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn customer_by_id(&self, id: Uuid) -> Result<Customer, ServerError> {
        let row = sqlx::query("SELECT id, customer_ref, data FROM customers WHERE id = $1")
            .bind(id.as_bytes().to_vec())
            .fetch_one(&self.pool)
            .await?;
        customer_from_row(&row)
    }
}

fn customer_from_row(row: &sqlx::any::AnyRow) -> Result<Customer, ServerError> {
    let data: Option<String> = row.try_get("data")?;
    let data = data
        .map(|d| serde_json::from_str(&d))
        .transpose()
        .map_err(|e| ServerError::Damaged(format!("customer data: {e}")))?;
    Ok(Customer {
        id: rows::uuid(row, "id")?,
        customer_ref: row.try_get("customer_ref")?,
        data,
    })
}
