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
        let id = Uuid::now_v7();
        let json = serde_json::to_string(data).expect("a string map serialises");
        let inserted = sqlx::query(
            "INSERT INTO customers (id, organisation_id, customer_ref, data, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.as_bytes().to_vec())
        .bind(org.id.as_bytes().to_vec())
        .bind(customer_ref)
        .bind(json)
        .bind(now_unix())
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
