import { describe, expect, it, onTestFinished } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import AgentDoor from "../src/screens/AgentDoor.svelte";
import { code, terms } from "./fixtures";
import { app } from "../src/lib/app.svelte";

async function scanPasted(text: string) {
  await fireEvent.input(await screen.findByTestId("scan-paste"), { target: { value: text } });
  await fireEvent.click(screen.getByTestId("scan-paste-submit"));
}

describe("the agent at the door", () => {
  it("challenge → proof with its code → codes compared → response → only the allowed data → signed receipt", async () => {
    const recorded: unknown[] = [];
    const calls: string[] = [];
    mockIPC((cmd, args) => {
      calls.push(cmd);
      switch (cmd) {
        case "agent_scan_challenge":
          return { proof: code("DS2P:PROOF"), confirmationCode: "406 859" };
        case "agent_compare_code":
          return null;
        case "agent_scan_response":
          return {
            confirmationCode: "406 859",
            customerData: { full_name: "Jan Jansen", card_last_four: "4242" },
            checksToRecord: ["card_handover"],
          };
        case "agent_record_outcome":
          recorded.push(args);
          return { visitId: terms.visitId, outcome: "verified", checksDone: ["device_key", "card_handover"], time: 1, code: code("DS2K:RECEIPT") };
        case "status":
          return { enrolment: null, pendingUploads: 1, rejectedUploads: 0, lastSync: null, keyStore: "file", platform: "desktop", nfc: { reader: false, card: false }, development: false, organisations: [], heldUntil: null, newDevice: null, locked: false };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(AgentDoor, { visitId: terms.visitId });
    await scanPasted("DS2C:CHALLENGE");
    expect((await screen.findByTestId("qr")).innerHTML).toContain("DS2P:PROOF");
    expect(screen.getByText(/Turn your screen brightness up/)).toBeTruthy();
    await fireEvent.click(screen.getByTestId("next"));
    expect((await screen.findByTestId("compare")).textContent).toContain("Read the codes aloud");
    expect(screen.getByTestId("confirmation").textContent).toBe("406 859");
    expect(screen.queryByTestId("scan-paste"), "no scanning the answer before the codes match").toBeNull();
    await fireEvent.click(screen.getByTestId("same"));
    await scanPasted("DS2R:RESPONSE");
    expect(calls.indexOf("agent_compare_code")).toBeLessThan(calls.indexOf("agent_scan_response"));
    expect((await screen.findByTestId("confirmation")).textContent).toBe("406 859");
    const data = screen.getByTestId("customer-data").textContent ?? "";
    expect(data).toContain("Full name");
    expect(data).toContain("Jan Jansen");
    expect(data).toContain("Last four digits of the card");
    // Nothing is chosen or ticked for the agent: saving waits for an outcome.
    expect((screen.getByTestId("save-outcome") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getAllByRole("radio").some((r) => (r as HTMLInputElement).checked)).toBe(false);
    await fireEvent.click(screen.getByTestId("outcome-verified"));
    expect(screen.getAllByRole("checkbox").some((c) => (c as HTMLInputElement).checked)).toBe(false);
    await fireEvent.click(screen.getByRole("checkbox", { name: "Card handed over" }));
    await fireEvent.input(screen.getByTestId("note"), { target: { value: "all fine" } });
    await fireEvent.click(screen.getByTestId("save-outcome"));
    await screen.findByTestId("receipt");
    expect(recorded).toEqual([{ visitId: terms.visitId, outcome: "verified", checksDone: ["card_handover"], note: "all fine" }]);
  });

  it("a challenge for another visit ends on the agent's red screen with the reason", async () => {
    mockIPC((cmd) => {
      if (cmd === "agent_scan_challenge") {
        throw { kind: "wrong_visit", message: "This code belongs to a different visit.", transient: false };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(AgentDoor, { visitId: terms.visitId });
    await scanPasted("DS2C:OTHER");
    const result = await screen.findByTestId("result");
    expect(result.dataset.kind).toBe("wrong_visit");
    expect(result.textContent).toContain("Not verified");
    expect(screen.getByTestId("reason").textContent).toBe("This code belongs to a different visit.");
  });

  it("Different codes end on the agent's red screen: the visit is recorded as suspicious", async () => {
    const compared: unknown[] = [];
    mockIPC((cmd, args) => {
      switch (cmd) {
        case "agent_scan_challenge":
          return { proof: code("DS2P:PROOF"), confirmationCode: "406 859" };
        case "agent_compare_code":
          compared.push(args);
          throw { kind: "codes_differ", message: "codes differ", transient: false };
        case "status":
          return { enrolment: null, pendingUploads: 1, rejectedUploads: 0, lastSync: null, keyStore: "file", platform: "desktop", nfc: { reader: false, card: false }, development: false, organisations: [], heldUntil: null, newDevice: null, locked: false };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(AgentDoor, { visitId: terms.visitId });
    await scanPasted("DS2C:CHALLENGE");
    await fireEvent.click(await screen.findByTestId("next"));
    await fireEvent.click(await screen.findByTestId("different"));
    const result = await screen.findByTestId("result");
    expect(result.dataset.kind).toBe("codes_differ");
    expect(screen.getByTestId("reason").textContent).toContain("The two codes are different.");
    expect(compared).toEqual([{ visitId: terms.visitId, same: false }]);
  });

  it("a code for another visit: a hint, 'Record as suspicious' and the office's number", async () => {
    const recorded: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "agent_scan_challenge") {
        throw { kind: "wrong_visit", message: "This code belongs to a different visit.", transient: false };
      }
      if (cmd === "agent_record_outcome") {
        recorded.push(args);
        return { visitId: terms.visitId, outcome: "suspicious", checksDone: [], time: 1, code: code("DS2K:RECEIPT") };
      }
      if (cmd === "status") return agentStatus;
      throw new Error(`unexpected ${cmd}`);
    });
    app.status = agentStatus;
    onTestFinished(() => {
      app.status = null;
    });
    render(AgentDoor, { visitId: terms.visitId });
    await scanPasted("DS2C:OTHER");
    expect((await screen.findByTestId("other-visit-hint")).textContent).toContain("another visit");
    expect(screen.getByTestId("call-office").getAttribute("href")).toBe("tel:+31205550100");
    await fireEvent.click(screen.getByTestId("record-suspicious"));
    await screen.findByTestId("receipt");
    expect(recorded).toEqual([{ visitId: terms.visitId, outcome: "suspicious", checksDone: [], note: "" }]);
  });

  it("the full code failing says why instead of nothing", async () => {
    mockIPC((cmd) => {
      if (cmd === "agent_scan_challenge") return { proof: code("DS2P:PROOF"), confirmationCode: "406 859" };
      if (cmd === "agent_full_proof") throw { kind: "no_handshake", message: "none", transient: false };
      throw new Error(`unexpected ${cmd}`);
    });
    render(AgentDoor, { visitId: terms.visitId });
    await scanPasted("DS2C:CHALLENGE");
    await fireEvent.click(await screen.findByTestId("full-proof"));
    expect((await screen.findByTestId("error")).dataset.kind).toBe("no_handshake");
  });

  it("plan B: the office's reference is recorded, and a misheard one is refused with the reason", async () => {
    const recorded: Record<string, unknown>[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "agent_visit") return { terms, status: "open", address: "Kerkstraat 1" };
      if (cmd === "agent_record_office_confirmation") {
        const a = args as Record<string, unknown>;
        recorded.push(a);
        if (a.reference !== "4821 0936") throw { kind: "bad_office_reference", message: "typo", transient: false };
        return { visitId: terms.visitId, outcome: "verified_by_office", checksDone: ["card_handover"], time: 1, code: code("DS2K:RECEIPT") };
      }
      if (cmd === "status") return agentStatus;
      throw new Error(`unexpected ${cmd}`);
    });
    app.status = agentStatus;
    onTestFinished(() => {
      app.status = null;
    });
    render(AgentDoor, { visitId: terms.visitId });
    await fireEvent.click(await screen.findByTestId("cannot-scan"));
    expect((await screen.findByTestId("plan-b")).textContent).toContain("call +31 20 555 0100 from their own phone");
    await fireEvent.input(screen.getByTestId("office-reference"), { target: { value: "4821 0963" } });
    await fireEvent.click(await screen.findByRole("checkbox", { name: "Card handed over" }));
    await fireEvent.click(screen.getByTestId("save-office"));
    expect((await screen.findByTestId("error")).textContent).toContain("eight digits");
    await fireEvent.input(screen.getByTestId("office-reference"), { target: { value: "4821 0936" } });
    await fireEvent.click(screen.getByTestId("save-office"));
    expect((await screen.findByTestId("receipt")).textContent).toContain("Verified by the office");
    expect(recorded.at(-1)).toEqual({ visitId: terms.visitId, reference: "4821 0936", checksDone: ["card_handover"], note: "" });
  });
});

const agentStatus = {
  enrolment: { role: "agent" as const, organisation: "Northbank Cards", serverUrl: "https://n.example", officialPhone: "+31 20 555 0100", enrolledAt: 1 },
  pendingUploads: 0, rejectedUploads: 0, lastSync: null, keyStore: "file" as const, platform: "desktop" as const, nfc: { reader: false, card: false }, development: false, organisations: [], heldUntil: null, newDevice: null, locked: false,
};
