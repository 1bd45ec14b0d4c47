//! Reading typed values back from rows, the same way on both backends.

use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::ServerError;

pub(crate) fn uuid(row: &AnyRow, column: &str) -> Result<Uuid, ServerError> {
    let bytes: Vec<u8> = row.try_get(column)?;
    Uuid::from_slice(&bytes).map_err(|_| ServerError::Damaged(format!("{column} is not a UUID")))
}

pub(crate) fn fixed<const N: usize>(row: &AnyRow, column: &str) -> Result<[u8; N], ServerError> {
    let bytes: Vec<u8> = row.try_get(column)?;
    bytes
        .try_into()
        .map_err(|_| ServerError::Damaged(format!("{column} has the wrong length")))
}

pub(crate) fn unsigned(row: &AnyRow, column: &str) -> Result<u64, ServerError> {
    let v: i64 = row.try_get(column)?;
    u64::try_from(v).map_err(|_| ServerError::Damaged(format!("{column} is negative")))
}

pub(crate) fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
