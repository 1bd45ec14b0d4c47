// Generated from the Rust types by src-tauri/tests/bindings.rs; do not edit.
// DOORSTEP_WRITE_BINDINGS=1 cargo test -p doorstep-app --test bindings

export type Role = "agent" | "customer";

export type Outcome = "verified" | "not_home" | "refused" | "failed" | "suspicious" | "verified_by_office" | "checked_on_page";

export type ErrorKind = "malformed_code" | "unsupported_version" | "wrong_message_kind" | "unknown_organisation_key" | "bad_ticket_signature" | "bad_notice_signature" | "bad_denylist_signature" | "bad_proof_signature" | "bad_response_signature" | "bad_receipt_signature" | "ticket_expired" | "ticket_not_yet_valid" | "outside_visit_window" | "wrong_visit" | "wrong_agent_key" | "wrong_customer_key" | "unknown_ticket" | "nonce_mismatch" | "revoked" | "denylist_too_old" | "clock_clearly_wrong" | "signer_mismatch" | "receipt_mismatch" | "bad_countersignature" | "countersignature_mismatch" | "verified_without_customer" | "checks_not_allowed" | "organisation_not_pinned" | "insecure_back_office" | "back_office_not_as_pinned" | "bad_pins" | "bad_rotation" | "bad_office_reference" | "pass_too_old" | "not_enrolled" | "key_unavailable" | "receipt_log_broken" | "storage" | "offline" | "server_unavailable" | "rate_limited" | "clock_off" | "bad_server_answer" | "signing" | "unknown_enrolment_code" | "enrolment_code_used" | "enrolment_code_expired" | "key_already_enrolled" | "device_revoked" | "receipt_log_rewritten" | "key_not_attested" | "refused_by_server" | "locked" | "no_code_in_image" | "image_too_large" | "no_handshake" | "customer_not_verified" | "person_not_in_photo" | "codes_differ" | "codes_not_compared" | "unknown_visit" | "choose_organisation" | "already_enrolled" | "note_too_long" | "code_too_large" | "nfc_link_lost" | "agent_not_ready" | "not_a_doorstep_phone";

export type DeviceError = { kind: ErrorKind, 
/**
 * The English sentence, for logs and reports; the views show the kind's translation.
 */
message: string, 
/**
 * Whether the same step may succeed later without anyone changing anything.
 */
transient: boolean, };

export type Enrolment = { role: Role, organisation: string, serverUrl: string, 
/**
 * From the organisation pinned in the app: the number to call when in doubt.
 */
officialPhone: string, enrolledAt: number, };

export type PinnedOrganisation = { name: string, backOffice: string, officialPhone: string, };

export type NewDevice = { enrolledAt: number, takesOverAt: number, };

export type Status = { 
/**
 * The build trusts a development configuration (loopback back-offices): every screen says so.
 */
development: boolean, 
/**
 * The organisations this build trusts, for the enrolment screen.
 */
organisations: Array<PinnedOrganisation>, enrolment: Enrolment | null, 
/**
 * The agent role is locked until the platform's prompt passes (`unlock`).
 */
locked: boolean, 
/**
 * This device was enrolled for someone who already had one: it receives nothing before
 * this time, unless the organisation confirms it sooner.
 */
heldUntil: number | null, 
/**
 * A new device was enrolled for this person: when, and when it takes over (this one is
 * then revoked). If it was not them, they call the official number before then.
 */
newDevice: NewDevice | null, pendingUploads: number, rejectedUploads: number, lastSync: number | null, };

export type NfcAbility = { 
/**
 * The customer can hold this device to the agent's.
 */
reader: boolean, 
/**
 * The agent's door screen answers a reading phone.
 */
card: boolean, };

export type AppStatus = { 
/**
 * `system` (the OS key store holds the data key) or `file`.
 */
keyStore: "system" | "file", 
/**
 * `desktop` or `mobile`: which ways of scanning the views offer.
 */
platform: "desktop" | "mobile", 
/**
 * Whether the door can be done with one tap on this device.
 */
nfc: NfcAbility, 
/**
 * The build trusts a development configuration (loopback back-offices): every screen says so.
 */
development: boolean, 
/**
 * The organisations this build trusts, for the enrolment screen.
 */
organisations: Array<PinnedOrganisation>, enrolment: Enrolment | null, 
/**
 * The agent role is locked until the platform's prompt passes (`unlock`).
 */
locked: boolean, 
/**
 * This device was enrolled for someone who already had one: it receives nothing before
 * this time, unless the organisation confirms it sooner.
 */
heldUntil: number | null, 
/**
 * A new device was enrolled for this person: when, and when it takes over (this one is
 * then revoked). If it was not them, they call the official number before then.
 */
newDevice: NewDevice | null, pendingUploads: number, rejectedUploads: number, lastSync: number | null, };

export type SyncResult = { stored: number, rejected: number, pending: number, visits: number, notices: number, clockOffset: number, };

export type CodeView = { text: string, svg: string, qrVersion: number, };

export type VisitTerms = { visitId: string, agentName: string, onBehalfOf: string, windowStart: number, windowEnd: number, 
/**
 * What the agent may check at the door (`card_handover`, …).
 */
checks: Array<string>, 
/**
 * The customer's data the agent may see (`full_name`, …).
 */
fields: Array<string>, };

export type AgentVisit = { terms: VisitTerms, 
/**
 * `open`, or the recorded outcome (`verified`, `not_home`, …).
 */
status: string, address: string | null, 
/**
 * Why (a catalogue key the views translate, or the office's own words) and the office's
 * reference: visits at one address are told apart by them.
 */
purpose: string | null, visitRef: string | null, 
/**
 * False for a customer with no enrolled phone: they check the agent on the verification
 * page (the page pass), not by the handshake.
 */
customerHasApp: boolean, };

export type CustomerVisit = { terms: VisitTerms, purpose: string, retentionDays: number, organisation: string, 
/**
 * The agent's photo as a `data:` URL, checked against the ticket's hash.
 */
photo: string | null, };

export type CustomerConfirmed = { confirmationCode: string, customerData: { [key in string]: string }, 
/**
 * Checks the agent may tick besides the handshake itself.
 */
checksToRecord: Array<string>, };

export type AgentConfirmed = { terms: VisitTerms, photo: string | null, };

export type CodeToCompare = { confirmationCode: string, };

export type ProofShown = { proof: CodeView, confirmationCode: string, };

export type AgentReceipt = { visitId: string, outcome: Outcome, checksDone: Array<string>, time: number, code: CodeView, };

export type PagePassView = { code: CodeView, spokenCode: string, validUntil: number, };

export type KeptReceipt = { visitId: string, agentName: string, onBehalfOf: string, confirmationCode: string, verifiedAt: number, 
/**
 * The first bytes of the handshake's transcript hash, to quote to the organisation.
 */
reference: string, 
/**
 * Set once the agent's signed receipt was scanned: the outcome it records.
 */
agentOutcome: Outcome | null, 
/**
 * The customer data the agent could see at this visit.
 */
fieldsSeen: Array<string>, 
/**
 * What the agent's signed receipt says was checked at the door (empty until scanned).
 */
checksDone: Array<string>, };

export type TapAnswered = { receipt: KeptReceipt | null, };

export type TapEvent = { "step": "proofGiven", confirmationCode: string, } | { "step": "customerConfirmed", confirmed: CustomerConfirmed, } | { "step": "receiptGiven" } | { "step": "refused", error: DeviceError, };

/** Every error kind the app's Rust side can report. */
export const ERROR_KINDS: readonly ErrorKind[] = [
  "malformed_code",
  "unsupported_version",
  "wrong_message_kind",
  "unknown_organisation_key",
  "bad_ticket_signature",
  "bad_notice_signature",
  "bad_denylist_signature",
  "bad_proof_signature",
  "bad_response_signature",
  "bad_receipt_signature",
  "ticket_expired",
  "ticket_not_yet_valid",
  "outside_visit_window",
  "wrong_visit",
  "wrong_agent_key",
  "wrong_customer_key",
  "unknown_ticket",
  "nonce_mismatch",
  "revoked",
  "denylist_too_old",
  "clock_clearly_wrong",
  "signer_mismatch",
  "receipt_mismatch",
  "bad_countersignature",
  "countersignature_mismatch",
  "verified_without_customer",
  "checks_not_allowed",
  "organisation_not_pinned",
  "insecure_back_office",
  "back_office_not_as_pinned",
  "bad_pins",
  "bad_rotation",
  "bad_office_reference",
  "pass_too_old",
  "not_enrolled",
  "key_unavailable",
  "receipt_log_broken",
  "storage",
  "offline",
  "server_unavailable",
  "rate_limited",
  "clock_off",
  "bad_server_answer",
  "signing",
  "unknown_enrolment_code",
  "enrolment_code_used",
  "enrolment_code_expired",
  "key_already_enrolled",
  "device_revoked",
  "receipt_log_rewritten",
  "key_not_attested",
  "refused_by_server",
  "locked",
  "no_code_in_image",
  "image_too_large",
  "no_handshake",
  "customer_not_verified",
  "person_not_in_photo",
  "codes_differ",
  "codes_not_compared",
  "unknown_visit",
  "choose_organisation",
  "already_enrolled",
  "note_too_long",
  "code_too_large",
  "nfc_link_lost",
  "agent_not_ready",
  "not_a_doorstep_phone",
];
