//! Against a real Secret Service (gnome-keyring started by `scripts/with-keyring.sh`).

use doorstep_keyring::KeyringKeyProvider;
use doorstep_store::{KeyProvider, Store, StoreError};

fn keyring_available() -> bool {
    let available = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
    if !available && std::env::var("DOORSTEP_REQUIRE_KEYRING").as_deref() == Ok("1") {
        panic!("no session bus; run the tests through scripts/with-keyring.sh");
    }
    available
}

#[test]
fn the_data_key_is_made_once_kept_in_the_key_store_and_separate_per_store() {
    if !keyring_available() {
        return;
    }
    let account = format!("test {}", uuid::Uuid::now_v7());
    let provider = KeyringKeyProvider::new(&account).unwrap();
    let first = provider.data_key().unwrap();
    assert_eq!(
        KeyringKeyProvider::new(&account)
            .unwrap()
            .data_key()
            .unwrap(),
        first
    );
    let other = KeyringKeyProvider::new(&format!("{account} other")).unwrap();
    assert_ne!(other.data_key().unwrap(), first);
    provider.forget().unwrap();
    other.forget().unwrap();
    assert_ne!(
        provider.data_key().unwrap(),
        first,
        "a forgotten key is gone"
    );
    provider.forget().unwrap();
}

#[tokio::test]
async fn a_store_sealed_under_the_key_store_does_not_open_without_it() {
    if !keyring_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let account = format!("store {}", uuid::Uuid::now_v7());
    let provider = KeyringKeyProvider::new(&account).unwrap();
    let path = dir.path().join("device.db");
    let store = Store::open(&path, &provider).await.unwrap();
    let state = vec!["resumable".to_string()];
    let visit = doorstep_core_visit();
    store.save_session(visit, &state, 1).await.unwrap();
    store.close().await;

    let reopened = Store::open(&path, &provider).await.unwrap();
    let back: Option<Vec<String>> = reopened.load_session(visit).await.unwrap();
    assert_eq!(back, Some(state));
    reopened.close().await;

    // The data directory alone is not enough: with the key gone, nothing opens.
    provider.forget().unwrap();
    let without_key = Store::open(&path, &provider).await.unwrap();
    assert!(matches!(
        without_key.load_session::<Vec<String>>(visit).await,
        Err(StoreError::Sealing)
    ));
    provider.forget().unwrap();
}

fn doorstep_core_visit() -> doorstep_core::ticket::VisitId {
    doorstep_core::ticket::VisitId([7; 16])
}
