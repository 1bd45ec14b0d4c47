import { afterEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import CustomerDoor from "../src/screens/CustomerDoor.svelte";
import AgentDoor from "../src/screens/AgentDoor.svelte";
import { app } from "../src/lib/app.svelte";
import type { AppStatus, DeviceError, TapEvent } from "../src/lib/api";
import { code, terms } from "./fixtures";

type Calls = { cmd: string; args: Record<string, unknown> }[];

const status = (role: "agent" | "customer", nfc: { reader: boolean; card: boolean }): AppStatus => ({
  enrolment: { role, organisation: "Northbank Cards", serverUrl: "https://n.example", officialPhone: "+31 20 555 0100", enrolledAt: 1 },
  pendingUploads: 0, rejectedUploads: 0, lastSync: null, keyStore: "file", platform: "desktop", nfc,
  development: false, organisations: [], heldUntil: null, newDevice: null, locked: false,
});

const linkLost: DeviceError = { kind: "nfc_link_lost", message: "parted", transient: true };

function customerBackend(tapAgent: () => unknown, tapAnswer: () => unknown, tapReceipt: () => unknown): Calls {
  const calls: Calls = [];
  mockIPC((cmd, args) => {
    calls.push({ cmd, args: args as Record<string, unknown> });
    switch (cmd) {
      case "customer_challenge":
        return code("DS2C:CHALLENGE");
      case "customer_tap_agent":
        return tapAgent();
      case "customer_person_at_door":
        return { confirmationCode: "406 859" };
      case "customer_compare_code":
        return code("DS2R:RESPONSE");
      case "customer_tap_answer":
        return tapAnswer();
      case "customer_tap_receipt":
        return tapReceipt();
      case "customer_report":
        return null;
      case "status":
        return app.status;
    }
    throw new Error(`unexpected ${cmd}`);
  });
  return calls;
}

afterEach(() => {
  app.status = null;
});

describe("one tap at the door, the customer's side", () => {
  it("offers no tap without a reader", async () => {
    customerBackend(() => null, () => null, () => null);
    app.status = status("customer", { reader: false, card: false });
    render(CustomerDoor, { visitId: terms.visitId });
    await screen.findByTestId("fullscreen-code");
    expect(screen.queryByTestId("tap-agent")).toBeNull();
  });

  it("holds: the agent checked, the same questions, then the answer and a receipt taken later", async () => {
    let parted = true;
    const calls = customerBackend(
      () => {
        // The first hold is cut short: said so, and tried again.
        if (parted) {
          parted = false;
          throw linkLost;
        }
        return { terms, photo: null };
      },
      () => ({ receipt: null }),
      () => ({}),
    );
    app.status = status("customer", { reader: true, card: false });
    render(CustomerDoor, { visitId: terms.visitId });
    await fireEvent.click(await screen.findByTestId("tap-agent"));
    expect((await screen.findByTestId("error")).textContent).toContain("moved apart too soon");
    expect(screen.getByTestId("fullscreen-code")).toBeTruthy();
    await fireEvent.click(screen.getByTestId("tap-agent"));
    await fireEvent.click(await screen.findByTestId("person-yes"));
    await fireEvent.click(await screen.findByTestId("same"));
    await fireEvent.click(await screen.findByTestId("tap-answer"));
    // No receipt yet: one more hold brings it.
    await fireEvent.click(await screen.findByTestId("tap-receipt"));
    expect((await screen.findByTestId("result")).dataset.result).toBe("verified");
    expect(calls.filter((c) => c.cmd.startsWith("customer_tap")).map((c) => c.cmd)).toEqual([
      "customer_tap_agent",
      "customer_tap_agent",
      "customer_tap_answer",
      "customer_tap_receipt",
    ]);
    expect(calls.find((c) => c.cmd === "customer_tap_agent")?.args).toEqual({ visitId: terms.visitId, fresh: false });
  });

  it("a refusal over the tap ends red, as a scanned one does", async () => {
    customerBackend(
      () => {
        throw { kind: "bad_proof_signature", message: "forged", transient: false };
      },
      () => null,
      () => null,
    );
    app.status = status("customer", { reader: true, card: false });
    render(CustomerDoor, { visitId: terms.visitId });
    await fireEvent.click(await screen.findByTestId("tap-agent"));
    const red = await screen.findByTestId("result");
    expect(red.dataset.kind).toBe("bad_proof_signature");
    expect(screen.getByTestId("call").textContent).toContain("+31 20 555 0100");
  });
});

describe("one tap at the door, the agent's side", () => {
  function agentBackend(): Calls {
    const calls: Calls = [];
    mockIPC(
      (cmd, args) => {
        calls.push({ cmd, args: args as Record<string, unknown> });
        switch (cmd) {
          case "agent_visit":
            return { terms, status: "open", address: null, purpose: null, visitRef: null };
          case "agent_door_open":
          case "agent_door_close":
          case "agent_compare_code":
            return null;
          case "status":
            return app.status;
        }
        throw new Error(`unexpected ${cmd}`);
      },
      { shouldMockEvents: true },
    );
    return calls;
  }

  it("arms the card for this visit while the door is up, and each tap moves the screen on", async () => {
    const calls = agentBackend();
    app.status = status("agent", { reader: false, card: true });
    const { unmount } = render(AgentDoor, { visitId: terms.visitId });
    expect((await screen.findByTestId("tap-ready")).textContent).toContain("hold their phone to yours");
    expect(calls.find((c) => c.cmd === "agent_door_open")?.args).toEqual({ visitId: terms.visitId });
    await new Promise((r) => setTimeout(r, 0));
    await emit("door-tap", { step: "proofGiven", confirmationCode: "406 859" } satisfies TapEvent);
    expect((await screen.findByTestId("confirmation")).textContent).toBe("406 859");
    await fireEvent.click(screen.getByTestId("same"));
    await screen.findByTestId("tap-ready");
    await emit("door-tap", {
      step: "customerConfirmed",
      confirmed: { confirmationCode: "406 859", customerData: { full_name: "Jan Jansen" }, checksToRecord: ["card_handover"] },
    } satisfies TapEvent);
    expect((await screen.findByTestId("customer-data")).textContent).toContain("Jan Jansen");
    unmount();
    expect(calls.map((c) => c.cmd)).toContain("agent_door_close");
  });

  it("a refused tap shows why, with the office's number", async () => {
    agentBackend();
    app.status = status("agent", { reader: false, card: true });
    render(AgentDoor, { visitId: terms.visitId });
    await screen.findByTestId("tap-ready");
    await new Promise((r) => setTimeout(r, 0));
    await emit("door-tap", {
      step: "refused",
      error: { kind: "wrong_visit", message: "another visit", transient: false },
    } satisfies TapEvent);
    const result = await screen.findByTestId("result");
    expect(result.dataset.kind).toBe("wrong_visit");
    expect(screen.getByTestId("call-office").textContent).toContain("+31 20 555 0100");
  });
});
