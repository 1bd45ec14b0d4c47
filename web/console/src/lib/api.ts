// The console's calls to its back-office. The session cookie is http-only: the page never
// sees it; it holds only the CSRF token the server gave at sign-in and sends it with changes.

import type {
  AuditEntry,
  Cancelled,
  Imported,
  ErrorBody,
  LineLookup,
  PhoneConfirmation,
  Purged,
  ReportLine,
  ReportState,
  SessionView,
  StaffRole,
  StaffView,
  VisitLine,
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

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET") headers["x-csrf-token"] = csrfToken;
  const response = await fetch(`/console/api/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const error = (parsed as ErrorBody | null) ?? { error: "unreadable", message: text };
    throw new ApiError(response.status, error, response.headers.get("retry-after"));
  }
  return parsed as T;
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

export function visits(from: number, to: number, agent?: string): Promise<VisitLine[]> {
  const query = new URLSearchParams({ from: String(from), to: String(to) });
  if (agent) query.set("agent", agent);
  return call<VisitLine[]>("GET", `visits?${query}`);
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

export function lineLookup(customer: string): Promise<LineLookup> {
  return call<LineLookup>("GET", `line?${new URLSearchParams({ customer })}`);
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
