// The app's commands, typed. Each mirrors a Rust view in crates/doorstep-device/src/views.rs.
import { invoke } from "@tauri-apps/api/core";

export interface DeviceError {
  kind: string;
  message: string;
  transient: boolean;
}

export function asDeviceError(e: unknown): DeviceError {
  if (e && typeof e === "object" && "kind" in e && "message" in e) {
    const d = e as DeviceError;
    return { kind: String(d.kind), message: String(d.message), transient: Boolean(d.transient) };
  }
  return { kind: "other", message: String(e), transient: false };
}

export type Role = "agent" | "customer";

export interface Enrolment {
  role: Role;
  organisation: string;
  serverUrl: string;
  enrolledAt: number;
}

export interface AppStatus {
  enrolment: Enrolment | null;
  pendingUploads: number;
  rejectedUploads: number;
  lastSync: number | null;
  keyStore: "system" | "file";
  platform: "desktop" | "mobile";
  suggestedServer: string | null;
}

export interface SyncResult {
  stored: number;
  rejected: number;
  pending: number;
  visits: number;
  notices: number;
  clockOffset: number;
}

export interface CodeView {
  text: string;
  svg: string;
  qrVersion: number;
}

export interface VisitTerms {
  visitId: string;
  agentName: string;
  onBehalfOf: string;
  windowStart: number;
  windowEnd: number;
  checks: string[];
  fields: string[];
}

export interface AgentVisit {
  terms: VisitTerms;
  status: string;
  address: string | null;
}

export interface CustomerVisit {
  terms: VisitTerms;
  purpose: string;
  retentionDays: number;
  officialPhone: string;
  organisation: string;
  photo: string | null;
}

export interface CustomerConfirmed {
  confirmationCode: string;
  customerData: Record<string, string>;
  checksToRecord: string[];
}

export interface AgentConfirmed {
  terms: VisitTerms;
  photo: string | null;
  confirmationCode: string;
  response: CodeView;
}

export type Outcome = "verified" | "not_home" | "refused" | "failed" | "suspicious";

export interface AgentReceipt {
  visitId: string;
  outcome: Outcome;
  checksDone: string[];
  time: number;
  code: CodeView;
}

export interface KeptReceipt {
  visitId: string;
  agentName: string;
  onBehalfOf: string;
  confirmationCode: string;
  verifiedAt: number;
  reference: string;
  agentOutcome: Outcome | null;
}

export const api = {
  status: () => invoke<AppStatus>("status"),
  firstScreenShown: () => invoke<number>("first_screen_shown"),
  enrol: (code: string, serverUrl: string | null) => invoke<Enrolment>("enrol", { code, serverUrl }),
  sync: () => invoke<SyncResult>("sync"),
  decodeImage: (pngBase64: string) => invoke<string>("decode_image", { pngBase64 }),
  agentVisits: () => invoke<AgentVisit[]>("agent_visits"),
  agentVisit: (visitId: string) => invoke<AgentVisit>("agent_visit", { visitId }),
  agentScanChallenge: (visitId: string, text: string) =>
    invoke<CodeView>("agent_scan_challenge", { visitId, text }),
  agentFullProof: (visitId: string) => invoke<CodeView>("agent_full_proof", { visitId }),
  agentScanResponse: (visitId: string, text: string) =>
    invoke<CustomerConfirmed>("agent_scan_response", { visitId, text }),
  agentRecordOutcome: (visitId: string, outcome: Outcome, checksDone: string[], note: string) =>
    invoke<AgentReceipt>("agent_record_outcome", { visitId, outcome, checksDone, note }),
  customerVisits: () => invoke<CustomerVisit[]>("customer_visits"),
  customerChallenge: (visitId: string, fresh: boolean) =>
    invoke<CodeView>("customer_challenge", { visitId, fresh }),
  customerScanProof: (visitId: string, text: string) =>
    invoke<AgentConfirmed>("customer_scan_proof", { visitId, text }),
  customerScanReceipt: (visitId: string, text: string) =>
    invoke<KeptReceipt>("customer_scan_receipt", { visitId, text }),
  customerReport: (visitId: string | null, reason: string | null, note: string) =>
    invoke<null>("customer_report", { visitId, reason, note }),
  customerReceipts: () => invoke<KeptReceipt[]>("customer_receipts"),
};
