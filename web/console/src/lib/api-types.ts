// Generated from the Rust types by crates/doorstep-server/tests/console_types.rs; do not edit.
// DOORSTEP_WRITE_BINDINGS=1 cargo test -p doorstep-server --test console_types

export type ErrorBody = { error: string, message: string, };

export type Outcome = "verified" | "not_home" | "refused" | "failed" | "suspicious" | "verified_by_office" | "checked_on_page";

export type Role = "agent" | "customer";

export type StaffRole = "admin" | "planner" | "operator" | "auditor";

export type StaffView = { username: string, display_name: string, role: StaffRole, disabled: boolean, };

export type SessionView = { staff: StaffView, organisation: string, 
/**
 * To send back in the `x-csrf-token` header with every change.
 */
csrf_token: string, };

export type AuditEntry = { id: string, at: number, staff_username: string, action: string, subject: string, detail: string, };

export type VisitLine = { visit_ref: string, agent_ref: string, agent_name: string, customer_ref: string, window_start: number, window_minutes: number, purpose: string, cancelled: boolean, 
/**
 * The outcome of the latest receipt received; none yet while the visit is scheduled.
 */
outcome: Outcome | null, 
/**
 * Reports (a customer's or an agent's) received about this visit.
 */
reports: number, };

export type LineLookup = { search: string, customer_refs: Array<string>, visits: Array<VisitLine>, 
/**
 * The visits whose window is now, not cancelled: a caller with someone at the door is
 * told who should be there, or that nobody should.
 */
booked_now: Array<string>, };

export type PhoneConfirmation = { visit_ref: string, agent_name: string, agent_ref: string, window_start: number, window_minutes: number, reference: string, };

export type ReportState = "new" | "called_back" | "closed";

export type ReportLine = { id: string, received_at: number, 
/**
 * Who sent it: a customer's phone or an agent's.
 */
from_role: Role, 
/**
 * The customer's or the agent's reference.
 */
from_ref: string, visit_ref: string | null, 
/**
 * The error the phone refused the visitor with, if any.
 */
reason: string | null, 
/**
 * Empty once the retention period erased it.
 */
note: string, state: ReportState, };

export type Imported = { imported: number, };

export type Cancelled = { tickets_denied: number, };

export type Purged = { customers: number, reports: number, };

export type AgentName = { agent_ref: string, agent_name: string, };

export type VisitPage = { lines: Array<VisitLine>, total: number, agents: Array<AgentName>, };

export type SignatureView = { key_id: string, signature: string, };

export type TicketView = { serial: number, issued_at: number, not_before: number, not_after: number, agent_name: string, on_behalf_of: string, 
/**
 * The agent's device key the ticket names.
 */
agent_key_id: string, customer_key_id: string, checks: Array<string>, fields: Array<string>, 
/**
 * The organisation's signature over the ticket.
 */
organisation: SignatureView, };

export type ReceiptView = { upload_id: string, outcome: Outcome, ticket_serial: number, time: number, received_at: number, checks_done: Array<string>, transcript_hash: string | null, office_reference: string | null, 
/**
 * The agent's device signed the receipt.
 */
agent: SignatureView, 
/**
 * The customer's device signed its answer inside it: present for a verified visit, and
 * only then.
 */
customer: SignatureView | null, 
/**
 * The back-office's countersignature, made when the receipt arrived.
 */
back_office: SignatureView, };

export type VisitRecords = { checks: Array<string>, fields: Array<string>, tickets: Array<TicketView>, receipts: Array<ReceiptView>, };

export type VisitDetail = { line: VisitLine, records: VisitRecords, 
/**
 * Reports about the visit; empty for a role that neither handles reports nor audits.
 */
reports: Array<ReportLine>, };

export type NewVisit = { visit_ref: string, staff_ref: string, customer_ref: string, 
/**
 * See [`when::parse`] for the accepted forms.
 */
window_start: string, window_minutes: number, purpose: string, 
/**
 * Check names separated by spaces (`device_key identity_document`).
 */
checks: string, 
/**
 * Customer field names separated by spaces (`full_name postal_address`).
 */
fields: string, };

export type DeviceListing = { id: string, role: Role, 
/**
 * The agent's staff reference or the customer's reference.
 */
subject_ref: string, key_id: string, enrolled_at: number, revoked_at: number | null, 
/**
 * Enrolled for someone who already had a device: receives nothing until then.
 */
held_until: number | null, 
/**
 * What the key's attestation showed at enrolment; `None`: none was sent.
 */
attestation: string | null, 
/**
 * Its last signed request (a sync); `None`: none since enrolment.
 */
last_seen_at: number | null, };

export type AgentLine = { staff_ref: string, display_name: string, on_behalf_of: string, revoked: boolean, devices: Array<DeviceListing>, };

export type CustomerLine = { customer_ref: string, 
/**
 * The fields a visit may show; `None` once erased or purged.
 */
data: { [key in string]: string } | null, revoked: boolean, 
/**
 * When their personal data was erased (on request or by retention).
 */
erased_at: number | null, };

export type CustomerPage = { customers: Array<CustomerLine>, total: number, };

export type Erasure = { devices_revoked: number, visits_cancelled: number, reports_erased: number, codes_withdrawn: number, };

export type Settings = { retention_days: number, customer_code_days: number, cooling_off_hours: number, };

export type OrganisationView = { name: string, official_phone: string, settings: Settings, 
/**
 * Key ids, oldest first; the last signs now.
 */
key_ids: Array<string>, };
