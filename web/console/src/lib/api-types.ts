// Generated from the Rust types by crates/doorstep-server/tests/console_types.rs; do not edit.
// DOORSTEP_WRITE_BINDINGS=1 cargo test -p doorstep-server --test console_types

export type ErrorBody = { error: string, message: string, };

export type Outcome = "verified" | "not_home" | "refused" | "failed" | "suspicious" | "verified_by_office";

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

export type LineLookup = { customer_ref: string, visits: Array<VisitLine>, 
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
