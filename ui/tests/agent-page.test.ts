import { describe, expect, it, onTestFinished } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import AgentPage from "../src/screens/AgentPage.svelte";
import AgentVisit from "../src/screens/AgentVisit.svelte";
import { code, terms } from "./fixtures";
import { app } from "../src/lib/app.svelte";

const PAGE_URL = "HTTPS://N.EXAMPLE/V/B5PC606DCX0QUIIREMNEYXM2V3BORAJ";
const appLess = { ...terms, checks: ["identity_document", "card_handover"] };

describe("a customer without the app", () => {
  it("the visit offers the page code instead of the handshake", async () => {
    mockIPC((cmd) => {
      if (cmd === "agent_visit") return { terms: appLess, status: "open", address: "Kerkstraat 1", purpose: null, visitRef: "V-1", customerHasApp: false };
      throw new Error(`unexpected ${cmd}`);
    });
    render(AgentVisit, { visitId: terms.visitId });
    expect((await screen.findByTestId("no-app")).textContent).toContain("They check you on the organisation's own page");
    expect(screen.getByTestId("start-page").textContent).toContain("show the page code");
    expect(screen.queryByTestId("start-door"), "no handshake: the customer has no phone to answer").toBeNull();
    await fireEvent.click(screen.getByTestId("start-page"));
    expect(app.screen).toEqual({ name: "agentPage", visitId: terms.visitId });
  });

  it("the page code with its six digits and until when; a new one; the reference recorded, a misheard one refused", async () => {
    const recorded: Record<string, unknown>[] = [];
    let passes = 0;
    const validUntil = Math.floor(Date.now() / 1000) + 600;
    mockIPC((cmd, args) => {
      const a = args as Record<string, unknown>;
      switch (cmd) {
        case "agent_visit":
          return { terms: appLess, status: "open", address: null, purpose: null, visitRef: null, customerHasApp: false };
        case "agent_page_pass":
          passes += 1;
          return { code: code(`${PAGE_URL}${passes}`), spokenCode: passes === 1 ? "146 428" : "986 070", validUntil };
        case "agent_record_page_check":
          recorded.push(a);
          if (a.reference !== "6227 6103") throw { kind: "bad_office_reference", message: "typo", transient: false };
          return { visitId: terms.visitId, outcome: "checked_on_page", checksDone: ["identity_document"], time: 1, code: code("DS2K:RECEIPT") };
        case "status":
          return null;
      }
      throw new Error(`unexpected ${cmd}`);
    });
    onTestFinished(() => {
      app.status = null;
    });
    render(AgentPage, { visitId: terms.visitId });
    expect((await screen.findByTestId("qr")).innerHTML).toContain(`${PAGE_URL}1`);
    expect(screen.getByTestId("page-spoken-code").textContent).toBe("146 428");
    expect(screen.getByTestId("page-pass-valid-until").textContent).toMatch(/until \d{2}:\d{2}/);
    await fireEvent.click(screen.getByTestId("page-pass-new"));
    expect((await screen.findByText("986 070")).dataset.testid).toBe("page-spoken-code");
    expect(screen.getByTestId("qr").innerHTML).toContain(`${PAGE_URL}2`);

    await fireEvent.click(screen.getByTestId("page-next"));
    expect((await screen.findByTestId("page-check")).textContent).toContain("reference of eight digits");
    // Nothing ticked for the agent; the handshake's own check is not offered.
    const boxes = screen.getAllByRole("checkbox") as HTMLInputElement[];
    expect(boxes.map((b) => b.value)).toEqual(["identity_document", "card_handover"]);
    expect(boxes.some((b) => b.checked)).toBe(false);
    expect((screen.getByTestId("save-page-check") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(screen.getByTestId("page-reference"), { target: { value: "6227 6130" } });
    await fireEvent.click(screen.getByRole("checkbox", { name: "Identity document" }));
    await fireEvent.click(screen.getByTestId("save-page-check"));
    expect((await screen.findByTestId("error")).dataset.kind).toBe("bad_office_reference");
    await fireEvent.input(screen.getByTestId("page-reference"), { target: { value: "6227 6103" } });
    await fireEvent.click(screen.getByTestId("save-page-check"));
    expect((await screen.findByTestId("receipt")).textContent).toContain("Checked on the page");
    expect(recorded.at(-1)).toEqual({ visitId: terms.visitId, reference: "6227 6103", checksDone: ["identity_document"], note: "" });
  });

  it("a code older than ten minutes says so before the customer's page refuses it", async () => {
    mockIPC((cmd) => {
      if (cmd === "agent_visit") return { terms: appLess, status: "open", address: null, purpose: null, visitRef: null, customerHasApp: false };
      if (cmd === "agent_page_pass") return { code: code(PAGE_URL), spokenCode: "146 428", validUntil: Math.floor(Date.now() / 1000) - 1 };
      throw new Error(`unexpected ${cmd}`);
    });
    render(AgentPage, { visitId: terms.visitId });
    expect((await screen.findByTestId("page-pass-expired")).textContent).toContain("Show a new one");
  });

  it("a customer with no smartphone: plan B from the page code, with the office's reference", async () => {
    const recorded: Record<string, unknown>[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "agent_visit") return { terms: appLess, status: "open", address: null, purpose: null, visitRef: null, customerHasApp: false };
      if (cmd === "agent_page_pass") return { code: code(PAGE_URL), spokenCode: "146 428", validUntil: Math.floor(Date.now() / 1000) + 600 };
      if (cmd === "agent_record_office_confirmation") {
        recorded.push(args as Record<string, unknown>);
        return { visitId: terms.visitId, outcome: "verified_by_office", checksDone: ["identity_document"], time: 1, code: code("DS2K:RECEIPT") };
      }
      if (cmd === "status") return null;
      throw new Error(`unexpected ${cmd}`);
    });
    render(AgentPage, { visitId: terms.visitId });
    await fireEvent.click(await screen.findByTestId("cannot-scan"));
    expect((await screen.findByTestId("plan-b")).textContent).toContain("reference of eight digits");
    await fireEvent.input(screen.getByTestId("office-reference"), { target: { value: "4821 0936" } });
    await fireEvent.click(await screen.findByRole("checkbox", { name: "Identity document" }));
    await fireEvent.click(screen.getByTestId("save-office"));
    expect((await screen.findByTestId("receipt")).textContent).toContain("Verified by the office");
    expect(recorded).toEqual([{ visitId: terms.visitId, reference: "4821 0936", checksDone: ["identity_document"], note: "" }]);
  });
});
