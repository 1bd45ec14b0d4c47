// The app's commands, typed. The types come from the Rust side (bindings.ts, generated from
// crates/doorstep-device/src/views.rs and the app shell), so the two cannot drift.
import { invoke as tauriInvoke } from "@tauri-apps/api/core";
import type * as Rust from "./bindings";

// Every type the Rust side sends, except DeviceError, which the views widen below.
export type * from "./bindings";

/** An error as the views hold it: a kind from the Rust side, or one of the views' own (the
 *  camera would not open; something failed outside Rust, e.g. the IPC itself). */
export type DeviceError = Omit<Rust.DeviceError, "kind"> & { kind: Rust.ErrorKind | "camera" | "other" };

export function asDeviceError(e: unknown): DeviceError {
  if (e && typeof e === "object" && "kind" in e && "message" in e) {
    const d = e as Rust.DeviceError;
    return { kind: d.kind, message: String(d.message), transient: Boolean(d.transient) };
  }
  return { kind: "other", message: String(e), transient: false };
}

let lockedHandler: (() => void) | null = null;

/** Called whenever the Rust side refuses because the agent role is locked. */
export function onLocked(handler: () => void) {
  lockedHandler = handler;
}

async function invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await tauriInvoke<T>(cmd, args);
  } catch (e) {
    if (e && typeof e === "object" && (e as { kind?: unknown }).kind === "locked") lockedHandler?.();
    throw e;
  }
}

export const api = {
  status: () => invoke<Rust.AppStatus>("status"),
  firstScreenShown: () => invoke<number>("first_screen_shown"),
  unlock: (reason: string) => invoke<null>("unlock", { reason }),
  enrolmentOffer: (code: string, organisation: string | null) =>
    invoke<Rust.PinnedOrganisation>("enrolment_offer", { code, organisation }),
  enrol: (code: string, organisation: string | null) => invoke<Rust.Enrolment>("enrol", { code, organisation }),
  sync: () => invoke<Rust.SyncResult>("sync"),
  decodeImage: (pngBase64: string) => invoke<string>("decode_image", { pngBase64 }),
  agentVisits: () => invoke<Rust.AgentVisit[]>("agent_visits"),
  agentVisit: (visitId: string) => invoke<Rust.AgentVisit>("agent_visit", { visitId }),
  agentScanChallenge: (visitId: string, text: string) =>
    invoke<Rust.ProofShown>("agent_scan_challenge", { visitId, text }),
  agentFullProof: (visitId: string) => invoke<Rust.CodeView>("agent_full_proof", { visitId }),
  agentCompareCode: (visitId: string, same: boolean) => invoke<null>("agent_compare_code", { visitId, same }),
  agentScanResponse: (visitId: string, text: string) =>
    invoke<Rust.CustomerConfirmed>("agent_scan_response", { visitId, text }),
  agentRecordOutcome: (visitId: string, outcome: Rust.Outcome, checksDone: string[], note: string) =>
    invoke<Rust.AgentReceipt>("agent_record_outcome", { visitId, outcome, checksDone, note }),
  agentRecordOfficeConfirmation: (visitId: string, reference: string, checksDone: string[], note: string) =>
    invoke<Rust.AgentReceipt>("agent_record_office_confirmation", { visitId, reference, checksDone, note }),
  agentPagePass: (visitId: string) => invoke<Rust.PagePassView>("agent_page_pass", { visitId }),
  agentRecordPageCheck: (visitId: string, reference: string, checksDone: string[], note: string) =>
    invoke<Rust.AgentReceipt>("agent_record_page_check", { visitId, reference, checksDone, note }),
  customerVisits: () => invoke<Rust.CustomerVisit[]>("customer_visits"),
  customerVisitsNow: () => invoke<Rust.CustomerVisit[]>("customer_visits_now"),
  customerChallenge: (visitId: string, fresh: boolean) =>
    invoke<Rust.CodeView>("customer_challenge", { visitId, fresh }),
  customerScanProof: (visitId: string, text: string) =>
    invoke<Rust.AgentConfirmed>("customer_scan_proof", { visitId, text }),
  customerPersonAtDoor: (visitId: string, isThisPerson: boolean) =>
    invoke<Rust.CodeToCompare>("customer_person_at_door", { visitId, isThisPerson }),
  customerCompareCode: (visitId: string, same: boolean) =>
    invoke<Rust.CodeView>("customer_compare_code", { visitId, same }),
  customerScanReceipt: (visitId: string, text: string) =>
    invoke<Rust.KeptReceipt>("customer_scan_receipt", { visitId, text }),
  customerReport: (visitId: string | null, reason: Rust.ErrorKind | null, note: string) =>
    invoke<null>("customer_report", { visitId, reason, note }),
  customerReceipts: () => invoke<Rust.KeptReceipt[]>("customer_receipts"),
  // One tap: the agent's door card is armed while the door screen is up; the customer's phone
  // reads it, hold by hold.
  agentDoorOpen: (visitId: string) => invoke<null>("agent_door_open", { visitId }),
  agentDoorClose: () => invoke<null>("agent_door_close"),
  customerTapAgent: (visitId: string, fresh: boolean) =>
    invoke<Rust.AgentConfirmed>("customer_tap_agent", { visitId, fresh }),
  customerTapAnswer: (visitId: string) => invoke<Rust.TapAnswered>("customer_tap_answer", { visitId }),
  customerTapReceipt: (visitId: string) => invoke<Rust.KeptReceipt>("customer_tap_receipt", { visitId }),
};
