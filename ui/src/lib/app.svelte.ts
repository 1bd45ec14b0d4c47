// Which screen is showing and the device's status, shared by every view.
import { listen } from "@tauri-apps/api/event";
import { api, asDeviceError, onLocked, type AppStatus, type DeviceError } from "./api";

export type Screen =
  | { name: "loading" }
  | { name: "locked" }
  | { name: "onboarding" }
  | { name: "agentVisits" }
  | { name: "agentVisit"; visitId: string }
  | { name: "agentDoor"; visitId: string }
  | { name: "agentPage"; visitId: string }
  | { name: "customerHome" }
  | { name: "customerDoor"; visitId: string }
  | { name: "receipts" }
  | { name: "help" };

export const app = $state({
  screen: { name: "loading" } as Screen,
  status: null as AppStatus | null,
  online: globalThis.navigator?.onLine ?? true,
  syncing: false,
  progress: null as { done: number; total: number } | null,
  syncError: null as DeviceError | null,
  // Bumped after every sync, so lists reload.
  generation: 0,
  // Read out by the live region that is on every screen from the start, so a result is heard
  // even though its panel is new.
  announcement: "",
});

/// Says `text` through the screen reader's live region (cleared first, so the same words twice
/// are heard twice).
export function announce(text: string) {
  app.announcement = "";
  setTimeout(() => (app.announcement = text), 50);
}

/// The Rust side runs the phone's own biometric or device-credential prompt and opens the agent
/// role only if it passes; the views cannot open it themselves (nothing biometric is stored).
export async function unlock(reason: string) {
  await api.unlock(reason);
  await refreshStatus();
  go(home());
}

export function go(screen: Screen) {
  app.screen = screen;
  globalThis.scrollTo?.(0, 0);
}

export function home(): Screen {
  const role = app.status?.enrolment?.role;
  if (role === "agent" && app.status?.locked) return { name: "locked" };
  if (role === "agent") return { name: "agentVisits" };
  if (role === "customer") return { name: "customerHome" };
  return { name: "onboarding" };
}

// Whatever screen asked, a refusal because the agent role locked (idle minutes) shows the lock.
onLocked(() => {
  if (app.status) app.status.locked = true;
  go({ name: "locked" });
});

export async function refreshStatus() {
  app.status = await api.status();
}

export async function syncNow() {
  if (app.syncing || !app.status?.enrolment) return;
  app.syncing = true;
  app.syncError = null;
  app.progress = null;
  try {
    await api.sync();
    app.online = true;
  } catch (e) {
    app.syncError = asDeviceError(e);
    if (app.syncError.transient) app.online = false;
  } finally {
    app.syncing = false;
    app.progress = null;
    app.generation += 1;
    await refreshStatus().catch(() => {});
  }
}

export async function start() {
  globalThis.addEventListener?.("online", () => {
    app.online = true;
    void syncNow();
  });
  globalThis.addEventListener?.("offline", () => (app.online = false));
  await listen<{ done: number; total: number }>("sync-progress", (e) => {
    app.progress = e.payload;
  }).catch(() => {});
  await refreshStatus();
  app.screen = home();
  if (app.status?.enrolment) void syncNow();
}
