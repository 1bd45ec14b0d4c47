import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import CustomerDoor from "../src/screens/CustomerDoor.svelte";
import { code, customerVisit, terms } from "./fixtures";

type Calls = { cmd: string; args: Record<string, unknown> }[];

function backend(proof: (text: string) => unknown): Calls {
  const calls: Calls = [];
  mockIPC((cmd, args) => {
    calls.push({ cmd, args: args as Record<string, unknown> });
    switch (cmd) {
      case "customer_visits":
        return [customerVisit];
      case "customer_challenge":
        return code("DS1C:CHALLENGE");
      case "customer_scan_proof":
        return proof((args as { text: string }).text);
      case "customer_report":
        return null;
      case "status":
        return { enrolment: null, pendingUploads: 1, rejectedUploads: 0, lastSync: null, keyStore: "file", platform: "desktop", suggestedServer: null };
    }
    throw new Error(`unexpected ${cmd}`);
  });
  return calls;
}

async function scanPasted(text: string) {
  await fireEvent.click(await screen.findByTestId("next"));
  await fireEvent.input(screen.getByTestId("scan-paste"), { target: { value: text } });
  await fireEvent.click(screen.getByTestId("scan-paste-submit"));
}

describe("the customer at the door", () => {
  it("shows the challenge, then a green result with name and confirmation code", async () => {
    const calls = backend(() => ({ terms, photo: null, confirmationCode: "406 859", response: code("DS1R:RESPONSE") }));
    render(CustomerDoor, { visitId: terms.visitId });
    expect((await screen.findByTestId("qr")).innerHTML).toContain("DS1C:CHALLENGE");
    await scanPasted("DS1P:PROOF");
    const result = await screen.findByTestId("result");
    expect(result.dataset.result).toBe("verified");
    expect(result.textContent).toContain("This is your agent");
    expect(result.textContent).toContain("Sanne de Vries, on behalf of Northbank Cards");
    expect(screen.getByTestId("confirmation").textContent).toBe("406 859");
    expect(calls.find((c) => c.cmd === "customer_scan_proof")?.args).toEqual({ visitId: terms.visitId, text: "DS1P:PROOF" });
  });

  it("refused: red with the reason in words, the official number, and a report that is queued", async () => {
    const calls = backend(() => {
      throw { kind: "wrong_visit", message: "This code belongs to a different visit.", transient: false };
    });
    render(CustomerDoor, { visitId: terms.visitId });
    await scanPasted("DS1P:OTHER");
    const result = await screen.findByTestId("result");
    expect(result.dataset.result).toBe("refused");
    expect(result.textContent).toContain("✖");
    expect(result.textContent).toContain("Do not let this person in");
    expect(screen.getByTestId("reason").textContent).toBe("This code belongs to a different visit.");
    await waitFor(() => expect(screen.getByTestId("call").getAttribute("href")).toBe("tel:+31 20 555 0100"));
    await fireEvent.click(screen.getByTestId("report"));
    await fireEvent.input(screen.getByTestId("report-note"), { target: { value: "Wrong badge" } });
    await fireEvent.click(screen.getByTestId("report-send"));
    await screen.findByTestId("report-queued");
    expect(calls.find((c) => c.cmd === "customer_report")?.args).toEqual({
      visitId: terms.visitId,
      reason: "wrong_visit",
      note: "Wrong badge",
    });
  });

  it("an error the catalogue does not know still says what happened", async () => {
    backend(() => {
      throw { kind: "storage", message: "disk full", transient: false };
    });
    render(CustomerDoor, { visitId: terms.visitId });
    await scanPasted("DS1P:PROOF");
    expect((await screen.findByTestId("reason")).textContent).toBe("Something went wrong: disk full");
  });
});
