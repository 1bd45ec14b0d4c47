//! The attack matrix: every refusal the protocol promises, each with its own error.

use doorstep_core::Role;
use doorstep_core::scenario::{Scenario, Tamper};
use doorstep_core::{Error, SeededRandomness};

fn refused(tamper: Tamper) -> (Role, Error) {
    let scenario = Scenario::new("attacks");
    let run = scenario.run(Some(tamper), &mut SeededRandomness::new(tamper.name()));
    assert!(!run.completed(), "{} was not refused", tamper.name());
    run.refused.expect("a refused run says why")
}

macro_rules! attack {
    ($name:ident, $tamper:ident, $role:ident, $pattern:pat) => {
        #[test]
        fn $name() {
            let (role, error) = refused(Tamper::$tamper);
            assert!(matches!(error, $pattern), "got {error:?}");
            assert_eq!(role, Role::$role, "refused by the wrong side: {error}");
        }
    };
}

attack!(
    malformed_code,
    MalformedCode,
    Customer,
    Error::MalformedCode { .. }
);
attack!(
    unsupported_version,
    UnsupportedVersion,
    Customer,
    Error::UnsupportedVersion { .. }
);
attack!(
    forged_ticket,
    ForgedTicket,
    Customer,
    Error::UnknownOrganisationKey { .. }
);
attack!(
    altered_ticket,
    AlteredTicket,
    Customer,
    Error::BadTicketSignature
);
attack!(
    forged_proof,
    ForgedProof,
    Customer,
    Error::BadProofSignature
);
attack!(
    forged_response,
    ForgedResponse,
    Agent,
    Error::BadResponseSignature
);
attack!(
    expired_ticket,
    ExpiredTicket,
    Customer,
    Error::TicketExpired
);
attack!(
    not_yet_valid,
    NotYetValid,
    Customer,
    Error::TicketNotYetValid
);
attack!(
    outside_window,
    OutsideWindow,
    Customer,
    Error::OutsideVisitWindow
);
attack!(wrong_visit, WrongVisit, Customer, Error::WrongVisit);
attack!(
    wrong_agent_key,
    WrongAgentKey,
    Customer,
    Error::WrongAgentKey
);
attack!(
    wrong_customer_key,
    WrongCustomerKey,
    Agent,
    Error::WrongCustomerKey
);
attack!(
    replayed_proof,
    ReplayedProof,
    Customer,
    Error::NonceMismatch
);
attack!(
    replayed_response,
    ReplayedResponse,
    Agent,
    Error::NonceMismatch
);
attack!(revoked_agent, RevokedAgent, Customer, Error::Revoked { .. });
attack!(
    revoked_customer,
    RevokedCustomer,
    Agent,
    Error::Revoked { .. }
);
attack!(
    stale_denylist,
    StaleDenylist,
    Customer,
    Error::DenylistTooOld
);
attack!(
    clock_wrong,
    ClockWrong,
    Agent,
    Error::ClockClearlyWrong { .. }
);
attack!(
    tampered_receipt,
    TamperedReceipt,
    Customer,
    Error::BadReceiptSignature
);

#[test]
fn every_tamper_has_a_distinct_name_and_parses_back() {
    for t in Tamper::ALL {
        assert_eq!(Tamper::from_name(t.name()), Some(t));
    }
    assert_eq!(Tamper::from_name("nonsense"), None);
}

#[test]
fn every_error_kind_has_a_sentence() {
    for t in Tamper::ALL {
        let (_, e) = refused(t);
        assert!(e.to_string().len() > 20, "{}", e.kind());
        assert!(!e.kind().contains(' '));
    }
}
