import { describe, expect, it, onTestFinished } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import CustomerHome from "../src/screens/CustomerHome.svelte";
import { app } from "../src/lib/app.svelte";
import { customerVisit, terms } from "./fixtures";

type Calls = { cmd: string; args: Record<string, unknown> }[];

function backend(now: (typeof customerVisit)[]): Calls {
  const calls: Calls = [];
  mockIPC((cmd, args) => {
    calls.push({ cmd, args: args as Record<string, unknown> });
    switch (cmd) {
      case "customer_visits":
        return [customerVisit];
      case "customer_visits_now":
        return now;
      case "customer_report":
        return null;
      case "status":
        return app.status;
    }
    throw new Error(`unexpected ${cmd}`);
  });
  return calls;
}

function enrolled() {
  app.status = {
    enrolment: { role: "customer", organisation: "Northbank Cards", serverUrl: "https://n.example", officialPhone: "+31 20 555 0100", enrolledAt: 1 },
    pendingUploads: 0, rejectedUploads: 0, lastSync: null, keyStore: "file", platform: "mobile", nfc: { reader: false, card: false }, development: false, organisations: [], heldUntil: null, newDevice: null, locked: false,
  };
  onTestFinished(() => {
    app.status = null;
    app.screen = { name: "loading" };
  });
}

describe("the customer's home", () => {
  it("someone at the door with no visit booked for now: red, the pinned number first, and a report naming no visit", async () => {
    enrolled();
    const calls = backend([]);
    render(CustomerHome);
    await fireEvent.click(await screen.findByTestId("at-door"));
    const red = await screen.findByTestId("result");
    expect(red.dataset.kind).toBe("no_visit_now");
    expect(red.textContent).toContain("No visit is booked for now");
    expect(red.textContent).toContain("Northbank Cards has not announced anyone");
    expect(screen.getByTestId("call").getAttribute("href")).toBe("tel:+31205550100");
    expect(screen.queryByTestId("try-again"), "nothing to try again").toBeNull();
    await fireEvent.click(screen.getByTestId("report"));
    await fireEvent.input(screen.getByTestId("report-note"), { target: { value: "Said he was from the bank" } });
    await fireEvent.click(screen.getByTestId("report-send"));
    await screen.findByTestId("report-queued");
    expect(calls.find((c) => c.cmd === "customer_report")?.args).toEqual({
      visitId: null,
      reason: null,
      note: "Said he was from the bank",
    });
  });

  it("goes straight to the door for the one visit booked now, and asks which when there are two", async () => {
    enrolled();
    backend([customerVisit]);
    const { unmount } = render(CustomerHome);
    await fireEvent.click(await screen.findByTestId("at-door"));
    expect(app.screen).toEqual({ name: "customerDoor", visitId: terms.visitId });
    unmount();

    const other = { ...customerVisit, purpose: "Collect your old card", terms: { ...terms, visitId: "ff".repeat(16) } };
    backend([customerVisit, other]);
    render(CustomerHome);
    await fireEvent.click(await screen.findByTestId("at-door"));
    const choices = await screen.findAllByTestId("choose-visit");
    expect(choices.map((c) => c.textContent)).toEqual([
      expect.stringContaining("Hand over your new debit card"),
      expect.stringContaining("Collect your old card"),
    ]);
    await fireEvent.click(choices[1]);
    expect(app.screen).toEqual({ name: "customerDoor", visitId: "ff".repeat(16) });
  });

  it("a notice says what the agent will check and see, what they never ask, and how long it is kept", async () => {
    enrolled();
    backend([]);
    render(CustomerHome);
    const notice = await screen.findByTestId("notice");
    expect(screen.getByTestId("will-check").textContent).toContain("Card handed over");
    expect(screen.getByTestId("will-check").textContent).not.toContain("automatic");
    expect(screen.getByTestId("can-see").textContent).toContain("Last four digits of the card");
    expect(screen.getByTestId("never-asks").textContent).toContain("for your PIN");
    expect(screen.getByTestId("kept").textContent).toContain("30 days");
    expect(notice.textContent).toContain("Hand over your new debit card");
  });

  it("the first time, the steps at the door come first; once understood, from 'How it works'", async () => {
    enrolled();
    backend([]);
    localStorage.removeItem("doorstep.howItWorksSeen");
    const { unmount } = render(CustomerHome);
    const how = await screen.findByTestId("how-it-works");
    expect(how.querySelectorAll("li")).toHaveLength(4);
    expect(how.textContent).toContain("keep the door closed and call the official number");
    await fireEvent.click(screen.getByTestId("got-it"));
    expect(screen.queryByTestId("how-it-works")).toBeNull();
    unmount();
    render(CustomerHome);
    await screen.findByTestId("notice");
    expect(screen.queryByTestId("how-it-works"), "shown once").toBeNull();
    await fireEvent.click(screen.getByTestId("help-link"));
    expect(app.screen).toEqual({ name: "help" });
  });
});
