// The console's calls to its back-office. The session cookie is http-only: the page never
// sees it; it holds only the CSRF token the server gave at sign-in and sends it with changes.

import type {
  AgentLine,
  AuditEntry,
  Cancelled,
  CustomerPage,
  Erasure,
  Imported,
  ErrorBody,
  LineLookup,
  NewVisit,
  OrganisationView,
  Settings,
  PhoneConfirmation,
  Purged,
  ReportLine,
  ReportState,
  SessionView,
  StaffRole,
  StaffView,
  VisitDetail,
  VisitPage,
} from "./api-types";

export class ApiError extends Error {
  readonly status: number;
  readonly kind: string;
  /** Seconds to wait, when the server said so. */
  readonly retryAfter: number | null;
  constructor(status: number, body: ErrorBody, retryAfter: string | null) {
    super(body.message);
    this.status = status;
    this.kind = body.error;
    this.retryAfter = retryAfter === null ? null : Number(retryAfter);
  }
}

let csrfToken = "";

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET") headers["x-csrf-token"] = csrfToken;
  const response = await fetch(`/console/api/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (!response.ok) await fail(response);
  return response;
}

async function fail(response: Response): Promise<never> {
  const text = await response.text();
  let parsed: ErrorBody | null = null;
  try {
    parsed = text ? (JSON.parse(text) as ErrorBody) : null;
  } catch {
    parsed = null;
  }
  throw new ApiError(response.status, parsed ?? { error: "unreadable", message: text }, response.headers.get("retry-after"));
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(method, path, body);
  if (response.status === 204 || response.status === 201) return undefined as T;
  return (await response.json()) as T;
}

function remember(session: SessionView): SessionView {
  csrfToken = session.csrf_token;
  return session;
}

/** The current session, or null when signed out. */
export async function currentSession(): Promise<SessionView | null> {
  try {
    return remember(await call<SessionView>("GET", "session"));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function signIn(username: string, password: string): Promise<SessionView> {
  return remember(await call<SessionView>("POST", "session", { username, password }));
}

export async function signOut(): Promise<void> {
  await call<void>("DELETE", "session");
  csrfToken = "";
}

export interface VisitFilter {
  agent?: string;
  state?: string;
  offset?: number;
  limit?: number;
}

export function visits(from: number, to: number, filter: VisitFilter = {}): Promise<VisitPage> {
  const query = new URLSearchParams({ from: String(from), to: String(to) });
  if (filter.agent) query.set("agent", filter.agent);
  if (filter.state) query.set("state", filter.state);
  if (filter.offset) query.set("offset", String(filter.offset));
  if (filter.limit) query.set("limit", String(filter.limit));
  return call<VisitPage>("GET", `visits?${query}`);
}

export function visit(visitRef: string): Promise<VisitDetail> {
  return call<VisitDetail>("GET", `visits/${encodeURIComponent(visitRef)}`);
}

export function bookVisit(visit: NewVisit): Promise<void> {
  return call<void>("POST", "bookings", visit);
}

export function agents(): Promise<AgentLine[]> {
  return call<AgentLine[]>("GET", "agents");
}

export function addAgent(agent: {
  staff_ref: string;
  display_name: string;
  on_behalf_of: string;
  /** base64 */
  photo: string;
}): Promise<void> {
  return call<void>("POST", "agents", agent);
}

export function agentPhotoUrl(staffRef: string): string {
  return `/console/api/agents/${encodeURIComponent(staffRef)}/photo`;
}

export function revokeAgent(staffRef: string): Promise<void> {
  return call<void>("POST", `agents/${encodeURIComponent(staffRef)}/revoke`);
}

export function revokeDevice(id: string): Promise<void> {
  return call<void>("POST", `devices/${encodeURIComponent(id)}/revoke`);
}

/** A fresh enrolment letter (a new one-time code each time) as a PDF file. */
export async function enrolmentLetter(kind: "agents" | "customers", ref: string): Promise<Blob> {
  const response = await send("POST", `${kind}/${encodeURIComponent(ref)}/letter`);
  return response.blob();
}

export function customers(search: string, offset = 0, limit = 50): Promise<CustomerPage> {
  const query = new URLSearchParams({ search, offset: String(offset), limit: String(limit) });
  return call<CustomerPage>("GET", `customers?${query}`);
}

export function addCustomer(customerRef: string, data: Record<string, string>): Promise<void> {
  return call<void>("POST", "customers", { customer_ref: customerRef, data });
}

export function editCustomer(customerRef: string, data: Record<string, string>): Promise<void> {
  return call<void>("PUT", `customers/${encodeURIComponent(customerRef)}`, { data });
}

export function revokeCustomer(customerRef: string): Promise<void> {
  return call<void>("POST", `customers/${encodeURIComponent(customerRef)}/revoke`);
}

export function eraseCustomer(customerRef: string): Promise<Erasure> {
  return call<Erasure>("POST", `customers/${encodeURIComponent(customerRef)}/erase`);
}

export function auditLog(before?: string): Promise<AuditEntry[]> {
  const query = new URLSearchParams({ limit: "50" });
  if (before) query.set("before", before);
  return call<AuditEntry[]>("GET", `audit?${query}`);
}

export function staff(): Promise<StaffView[]> {
  return call<StaffView[]>("GET", "staff");
}

export function addStaff(add: {
  username: string;
  display_name: string;
  role: StaffRole;
  password: string;
}): Promise<StaffView> {
  return call<StaffView>("POST", "staff", add);
}

/** By customer reference, or by the phone number the caller calls from. */
export function lineLookup(search: string): Promise<LineLookup> {
  return call<LineLookup>("GET", `line?${new URLSearchParams({ search })}`);
}

export function confirmByPhone(visitRef: string): Promise<PhoneConfirmation> {
  return call<PhoneConfirmation>("POST", `visits/${encodeURIComponent(visitRef)}/confirm-by-phone`);
}

export function reports(): Promise<ReportLine[]> {
  return call<ReportLine[]>("GET", "reports");
}

export function handleReport(id: string, state: ReportState): Promise<void> {
  return call<void>("PUT", `reports/${encodeURIComponent(id)}`, { state });
}

export function importVisits(csv: string): Promise<Imported> {
  return call<Imported>("POST", "visits/import", { csv });
}

export function cancelVisit(visitRef: string): Promise<Cancelled> {
  return call<Cancelled>("POST", `visits/${encodeURIComponent(visitRef)}/cancel`);
}

export function runPurge(): Promise<Purged> {
  return call<Purged>("POST", "purge");
}

/** Where the browser downloads an export from (a plain link: the cookie goes with it). */
export function exportUrl(format: "csv" | "json"): string {
  return `/console/api/export?format=${format}`;
}

export function disableStaff(username: string): Promise<void> {
  return call<void>("POST", `staff/${encodeURIComponent(username)}/disable`);
}

export function organisation(): Promise<OrganisationView> {
  return call<OrganisationView>("GET", "organisation");
}

export function updateSettings(settings: Settings): Promise<OrganisationView> {
  return call<OrganisationView>("PUT", "organisation", settings);
}
