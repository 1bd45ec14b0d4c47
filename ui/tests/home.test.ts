import { describe, expect, it } from "vitest";
import { render, screen, fireEvent } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import { api, type AppStatus } from "../src/lib/api";
import { app, home } from "../src/lib/app.svelte";
import App from "../src/App.svelte";

const status = (role: "agent" | "customer" | null, locked = false): AppStatus => ({
  enrolment: role && { role, organisation: "Northbank Cards", serverUrl: "https://n.example", officialPhone: "+31 20 555 0100", enrolledAt: 1 },
  locked,
  pendingUploads: 0,
  rejectedUploads: 0,
  lastSync: null,
  keyStore: "file",
  platform: "mobile", nfc: { reader: false, card: false },
  development: false,
  organisations: [],
  heldUntil: null,
  newDevice: null,
});

describe("the first screen", () => {
  it("follows the enrolment, and shows the lock while the Rust side says the agent role is locked", () => {
    app.status = status(null);
    expect(home()).toEqual({ name: "onboarding" });
    app.status = status("customer");
    expect(home()).toEqual({ name: "customerHome" });
    app.status = status("agent", true);
    expect(home()).toEqual({ name: "locked" });
    app.status = status("agent", false);
    expect(home()).toEqual({ name: "agentVisits" });
  });

  it("unlocking asks the Rust side, and a locked refusal anywhere brings the lock back", async () => {
    let locked = true;
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "status") return status("agent", locked);
      if (cmd === "unlock") {
        locked = false;
        return null;
      }
      if (cmd === "agent_visits") {
        if (locked) throw { kind: "locked", message: "locked", transient: false };
        return [];
      }
      if (cmd === "sync") return { stored: 0, rejected: 0, pending: 0, visits: 0, notices: 0, clockOffset: 0 };
      if (cmd === "first_screen_shown") return 0;
      if (cmd === "plugin:event|listen") return 1;
      throw new Error(`unexpected ${cmd}`);
    });
    render(App);
    await screen.findByTestId("locked");
    await fireEvent.click(screen.getByTestId("unlock"));
    await screen.findByTestId("agent-visits");
    expect(calls).toContain("unlock");
    // Idle minutes later the Rust side refuses: the lock is back, whatever the views thought.
    locked = true;
    await api.agentVisits().catch(() => {});
    await screen.findByTestId("locked");
  });
});
