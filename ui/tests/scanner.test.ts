import { describe, expect, it, onTestFinished } from "vitest";
import { render, waitFor } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import Scanner from "../src/components/Scanner.svelte";
import { app } from "../src/lib/app.svelte";

describe("scanning", () => {
  it("on a phone the camera opens by itself and its code goes to the step", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "plugin:barcode-scanner|scan") return { content: "DS2C:CHALLENGE", format: "QR_CODE", bounds: {} };
      throw new Error(`unexpected ${cmd}`);
    });
    app.status = {
      enrolment: null, pendingUploads: 0, rejectedUploads: 0, lastSync: null, keyStore: "file", platform: "mobile", nfc: { reader: false, card: false },
      development: false, organisations: [], heldUntil: null, newDevice: null, locked: false,
    };
    onTestFinished(() => {
      app.status = null;
    });
    const scanned: string[] = [];
    render(Scanner, { label: "Scan the customer's code", onscan: (text: string) => void scanned.push(text) });
    await waitFor(() => expect(scanned).toEqual(["DS2C:CHALLENGE"]));
    expect(calls).toEqual(["plugin:barcode-scanner|scan"]);
    expect(document.activeElement?.textContent).toBe("Scan the customer's code");
  });

  it("on a desktop nothing opens by itself", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      return null;
    });
    render(Scanner, { label: "Scan", onscan: () => {} });
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toEqual([]);
  });
});
