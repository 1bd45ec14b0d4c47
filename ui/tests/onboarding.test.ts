import { describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import Onboarding from "../src/screens/Onboarding.svelte";

describe("onboarding", () => {
  it("a typed code goes with the server address; the organisation joined is shown", async () => {
    const sent: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "enrol") {
        sent.push(args);
        return { role: "customer", organisation: "Northbank Cards", serverUrl: "https://n.example", enrolledAt: 1 };
      }
      if (cmd === "status") return { enrolment: null, pendingUploads: 0, rejectedUploads: 0, lastSync: null, keyStore: "file", platform: "desktop", suggestedServer: null };
      throw new Error(`unexpected ${cmd}`);
    });
    render(Onboarding);
    await fireEvent.input(screen.getByTestId("enrol-code"), { target: { value: "ABCD-EFGH-JKMN-PQRS" } });
    await fireEvent.input(screen.getByTestId("server-url"), { target: { value: "https://n.example" } });
    await fireEvent.click(screen.getByTestId("join"));
    expect((await screen.findByTestId("joined")).textContent).toContain("You joined Northbank Cards");
    expect(sent).toEqual([{ code: "ABCD-EFGH-JKMN-PQRS", serverUrl: "https://n.example" }]);
  });

  it("a scanned invite needs no server address; a refused code says why and keeps the form", async () => {
    mockIPC((cmd) => {
      if (cmd === "enrol") throw { kind: "malformed_code", message: "bad", transient: false };
      throw new Error(`unexpected ${cmd}`);
    });
    render(Onboarding);
    await fireEvent.input(screen.getByTestId("enrol-code"), { target: { value: "DS2E:XYZ" } });
    expect(screen.queryByTestId("server-url")).toBeNull();
    await fireEvent.click(screen.getByTestId("join"));
    expect((await screen.findByTestId("error")).textContent).toContain("This is not a readable Doorstep code.");
    expect(screen.getByTestId("join")).toBeTruthy();
  });
});
