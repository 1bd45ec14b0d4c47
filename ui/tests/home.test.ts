import { describe, expect, it } from "vitest";
import { app, home } from "../src/lib/app.svelte";
import type { AppStatus } from "../src/lib/api";

const status = (role: "agent" | "customer" | null, platform: "desktop" | "mobile"): AppStatus => ({
  enrolment: role && { role, organisation: "Northbank Cards", serverUrl: "https://n.example", officialPhone: "+31 20 555 0100", enrolledAt: 1 },
  pendingUploads: 0,
  rejectedUploads: 0,
  lastSync: null,
  keyStore: "file",
  platform,
  development: false,
  organisations: [],
  heldUntil: null,
  newDevice: null,
});

describe("the first screen", () => {
  it("follows the enrolment, and on phones keeps the agent role locked until unlocked", () => {
    app.status = status(null, "desktop");
    expect(home()).toEqual({ name: "onboarding" });
    app.status = status("customer", "mobile");
    expect(home()).toEqual({ name: "customerHome" });
    app.status = status("agent", "desktop");
    expect(home()).toEqual({ name: "agentVisits" });
    app.status = status("agent", "mobile");
    expect(home()).toEqual({ name: "locked" });
    app.unlocked = true;
    expect(home()).toEqual({ name: "agentVisits" });
  });
});
