import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import App from "../src/App.svelte";

const enrolment = { role: "customer", organisation: "Northbank Cards", serverUrl: "https://n.example", officialPhone: "+31 20 555 0100", enrolledAt: 1 };

function withStatus(extra: Record<string, unknown>) {
  mockIPC((cmd) => {
    if (cmd === "status")
      return { development: true, organisations: [], enrolment, heldUntil: null, newDevice: null, pendingUploads: 0, rejectedUploads: 0, lastSync: null, keyStore: "file", platform: "desktop", nfc: { reader: false, card: false }, ...extra };
    if (cmd === "sync") return { stored: 0, rejected: 0, pending: 0, visits: 0, notices: 0, clockOffset: 0 };
    if (cmd === "customer_visits") return [];
    if (cmd === "first_screen_shown") return 0;
    if (cmd === "plugin:event|listen") return 1;
    throw new Error(`unexpected ${cmd}`);
  });
}

describe("every screen of a customer's phone", () => {
  it("shows the pinned official number and the development banner, with no visit announced", async () => {
    withStatus({});
    render(App);
    expect((await screen.findByTestId("official-phone")).textContent).toContain("+31 20 555 0100");
    expect(screen.getByTestId("development-banner").textContent).toContain("Development build");
    expect(screen.queryByTestId("new-device")).toBeNull();
  });

  it("tells the earlier phone that a new one was set up, with the number to call before it takes over", async () => {
    withStatus({ newDevice: { enrolledAt: 1_800_000_000, takesOverAt: 1_800_086_400 } });
    render(App);
    const alert = await screen.findByTestId("new-device");
    expect(alert.getAttribute("role")).toBe("alert");
    expect(alert.textContent).toContain("If that was not you, call +31 20 555 0100 now");
    expect(alert.querySelector("a")?.getAttribute("href")).toBe("tel:+31 20 555 0100");
  });

  it("tells a held phone it receives nothing yet", async () => {
    withStatus({ heldUntil: 1_800_086_400 });
    render(App);
    expect((await screen.findByTestId("held")).textContent).toContain("receives nothing until");
  });
});
