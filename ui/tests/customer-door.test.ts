import { describe, expect, it, onTestFinished } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import CustomerDoor from "../src/screens/CustomerDoor.svelte";
import { app } from "../src/lib/app.svelte";
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
        return code("DS2C:CHALLENGE");
      case "customer_scan_proof":
        return proof((args as { text: string }).text);
      case "customer_person_at_door":
        if (!(args as { isThisPerson: boolean }).isThisPerson)
          throw { kind: "person_not_in_photo", message: "not the agent", transient: false };
        return { confirmationCode: "406 859" };
      case "customer_compare_code":
        if (!(args as { same: boolean }).same) throw { kind: "codes_differ", message: "codes differ", transient: false };
        return code("DS2R:RESPONSE");
      case "customer_report":
        return null;
      case "customer_scan_receipt":
        if ((args as { text: string }).text !== "DS2K:RECEIPT") throw { kind: "receipt_mismatch", message: "not ours", transient: false };
        return null;
      case "status":
        return { enrolment: null, pendingUploads: 1, rejectedUploads: 0, lastSync: null, keyStore: "file", platform: "desktop", nfc: { reader: false, card: false }, development: false, organisations: [], heldUntil: null, newDevice: null, locked: false };
    }
    throw new Error(`unexpected ${cmd}`);
  });
  return calls;
}

async function scanPasted(text: string) {
  await fireEvent.click(await screen.findByTestId("next"));
  await pasteCode(text);
}

async function pasteCode(text: string) {
  await fireEvent.input(screen.getByTestId("scan-paste"), { target: { value: text } });
  await fireEvent.click(screen.getByTestId("scan-paste-submit"));
}

describe("the customer at the door", () => {
  it("asks about the person in the photo first, then shows the code to read aloud, and only then the answer", async () => {
    const calls = backend(() => ({ terms, photo: null }));
    render(CustomerDoor, { visitId: terms.visitId });
    expect((await screen.findByTestId("qr")).innerHTML).toContain("DS2C:CHALLENGE");
    await scanPasted("DS2P:PROOF");
    const person = await screen.findByTestId("person");
    expect(person.textContent).toContain("Is the person at your door this person?");
    expect(person.textContent).toContain("Sanne de Vries, on behalf of Northbank Cards");
    expect(screen.queryByTestId("confirmation"), "no code before the photo question").toBeNull();
    await fireEvent.click(screen.getByTestId("person-yes"));
    const compare = await screen.findByTestId("compare");
    expect(compare.textContent).toContain("Read the codes aloud");
    expect(screen.getByTestId("confirmation").textContent).toBe("406 859");
    expect(screen.queryByTestId("qr"), "no answer before the codes match").toBeNull();
    expect(calls.map((c) => c.cmd)).not.toContain("customer_compare_code");
    await fireEvent.click(screen.getByTestId("same"));
    const answer = await screen.findByTestId("fullscreen-code");
    expect(answer.getAttribute("aria-label")).toBe("Show your answer to the agent");
    expect(screen.getByTestId("qr").innerHTML).toContain("DS2R:RESPONSE");
    expect(calls.find((c) => c.cmd === "customer_scan_proof")?.args).toEqual({ visitId: terms.visitId, text: "DS2P:PROOF" });
    expect(calls.find((c) => c.cmd === "customer_compare_code")?.args).toEqual({ visitId: terms.visitId, same: true });
  });

  it("after the answer: the agent's receipt kept, then green with name and code", async () => {
    const calls = backend(() => ({ terms, photo: null }));
    render(CustomerDoor, { visitId: terms.visitId });
    await scanPasted("DS2P:PROOF");
    await fireEvent.click(await screen.findByTestId("person-yes"));
    await fireEvent.click(await screen.findByTestId("same"));
    await screen.findByTestId("fullscreen-code");
    await fireEvent.click(screen.getByTestId("next"));
    await pasteCode("DS2K:OTHER");
    expect((await screen.findByRole("alert")).textContent).toContain("This receipt is not for this visit.");
    expect(screen.queryByTestId("receipt-kept")).toBeNull();
    await pasteCode("DS2K:RECEIPT");
    await screen.findByTestId("receipt-kept");
    expect(screen.queryByRole("alert"), "the refusal of the first receipt is not left standing").toBeNull();
    const result = screen.getByTestId("result");
    expect(result.dataset.result).toBe("verified");
    expect(result.textContent).toContain("This is your agent");
    expect(screen.getByTestId("confirmation").textContent).toBe("406 859");
    expect(calls.filter((c) => c.cmd === "customer_scan_receipt").map((c) => c.args.text)).toEqual(["DS2K:OTHER", "DS2K:RECEIPT"]);
  });

  it("No to the photo, or Different codes, ends red with the report already filed", async () => {
    for (const [button, answer, kind, words] of [
      ["person-no", null, "person_not_in_photo", "The person at your door is not the agent in the photo."],
      ["person-yes", "different", "codes_differ", "The two codes are different."],
    ] as const) {
      const calls = backend(() => ({ terms, photo: null }));
      const { unmount } = render(CustomerDoor, { visitId: terms.visitId });
      await scanPasted("DS2P:PROOF");
      await fireEvent.click(await screen.findByTestId(button));
      if (answer) await fireEvent.click(await screen.findByTestId(answer));
      const result = await screen.findByTestId("result");
      expect(result.dataset.result).toBe("refused");
      expect(result.dataset.kind).toBe(kind);
      expect(screen.getByTestId("reason").textContent).toContain(words);
      await screen.findByTestId("report-queued");
      expect(screen.queryByTestId("qr")).toBeNull();
      expect(calls.map((c) => c.cmd)).not.toContain("customer_report");
      unmount();
    }
  });

  it("the challenge fills the screen and still says what waits to be sent, and that the phone is offline", async () => {
    backend(() => null);
    app.status = {
      enrolment: { role: "customer", organisation: "Northbank Cards", serverUrl: "https://n.example", officialPhone: "+31 20 555 0100", enrolledAt: 1 },
      pendingUploads: 2, rejectedUploads: 0, lastSync: null, keyStore: "file", platform: "desktop", nfc: { reader: false, card: false }, development: true, organisations: [], heldUntil: null, newDevice: null, locked: false,
    };
    app.online = false;
    try {
      render(CustomerDoor, { visitId: terms.visitId });
      const challenge = await screen.findByTestId("fullscreen-code");
      expect(challenge.textContent).toContain("Turn your screen brightness up");
      expect(document.activeElement?.textContent).toBe("Show this to the agent");
      expect(screen.getByTestId("fullscreen-sync").textContent).toMatch(/Offline\s*·\s*2 waiting to send/);
      // Over the whole screen too: the pinned number, and that this build trusts a test back-office.
      expect(screen.getByTestId("fullscreen-official-phone").textContent).toContain("+31 20 555 0100");
      expect(screen.getByTestId("fullscreen-development")).toBeTruthy();
    } finally {
      app.status = null;
      app.online = true;
    }
  });

  it("refused: red with the reason in words, the official number, and a report that is queued", async () => {
    const calls = backend(() => {
      throw { kind: "wrong_visit", message: "This code belongs to a different visit.", transient: false };
    });
    // The number comes from the pinned organisation the phone enrolled with.
    app.status = {
      enrolment: { role: "customer", organisation: "Northbank Cards", serverUrl: "https://n.example", officialPhone: "+31 20 555 0100", enrolledAt: 1 },
      pendingUploads: 0, rejectedUploads: 0, lastSync: null, keyStore: "file", platform: "desktop", nfc: { reader: false, card: false }, development: false, organisations: [], heldUntil: null, newDevice: null, locked: false,
    };
    onTestFinished(() => {
      app.status = null;
    });
    render(CustomerDoor, { visitId: terms.visitId });
    await scanPasted("DS2P:OTHER");
    const result = await screen.findByTestId("result");
    expect(result.dataset.result).toBe("refused");
    expect(result.textContent).toContain("✖");
    expect(result.textContent).toContain("Do not let this person in");
    expect(screen.getByTestId("reason").textContent).toBe("This code belongs to a different visit.");
    // Call first, as a tel: link with the pinned number, which never breaks across lines.
    await waitFor(() => expect(screen.getByTestId("call").getAttribute("href")).toBe("tel:+31205550100"));
    expect(screen.getByTestId("call").querySelector(".phone-number")?.textContent).toBe("+31 20 555 0100");
    expect(screen.getByTestId("advice").textContent).toBe(
      "Keep the door closed. Do not hand over your card, PIN or papers. A real agent will wait while you call.",
    );
    const order = [...result.querySelectorAll("[data-testid]")].map((e) => e.getAttribute("data-testid"));
    expect(order.indexOf("call")).toBeLessThan(order.indexOf("report"));
    expect(order.indexOf("report")).toBeLessThan(order.indexOf("try-again"));
    // The verdict is what a screen reader says first.
    expect(document.activeElement?.textContent).toBe("Do not let this person in");
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

  it("a failure outside the Rust side's kinds still says what happened", async () => {
    backend(() => {
      throw "disk full";
    });
    render(CustomerDoor, { visitId: terms.visitId });
    await scanPasted("DS2P:PROOF");
    expect((await screen.findByTestId("reason")).textContent).toBe("Something went wrong: disk full");
  });

  it("every kind the Rust side reports has its own words, a storage failure too", async () => {
    backend(() => {
      throw { kind: "storage", message: "disk full", transient: false };
    });
    render(CustomerDoor, { visitId: terms.visitId });
    await scanPasted("DS2P:PROOF");
    expect((await screen.findByTestId("reason")).textContent).toBe(
      "This phone's storage could not be read or written.",
    );
  });

  it("I can't scan: plan B sends the customer to the official number, never the visitor's", async () => {
    backend(() => null);
    app.status = {
      enrolment: { role: "customer", organisation: "Northbank Cards", serverUrl: "https://n.example", officialPhone: "+31 20 555 0100", enrolledAt: 1 },
      pendingUploads: 0, rejectedUploads: 0, lastSync: null, keyStore: "file", platform: "desktop", nfc: { reader: false, card: false }, development: false, organisations: [], heldUntil: null, newDevice: null, locked: false,
    };
    onTestFinished(() => {
      app.status = null;
    });
    render(CustomerDoor, { visitId: terms.visitId });
    await fireEvent.click(await screen.findByTestId("cannot-scan"));
    const planB = await screen.findByTestId("plan-b");
    expect(planB.textContent).toContain("reference of eight digits");
    expect(planB.textContent).toContain("Never use the visitor's phone");
    expect(screen.getByTestId("plan-b-call").getAttribute("href")).toBe("tel:+31205550100");
  });
});
