import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import Onboarding from "../src/screens/Onboarding.svelte";
import { app } from "../src/lib/app.svelte";

const northbank = { name: "Northbank Cards", backOffice: "https://doorstep.northbank.example", officialPhone: "+31 20 555 0100" };
const southbank = { name: "Southbank", backOffice: "https://doorstep.southbank.example", officialPhone: "+31 10 555 0200" };

function status(organisations: (typeof northbank)[]) {
  return {
    development: false,
    organisations,
    heldUntil: null,
    locked: false,
    newDevice: null,
    enrolment: null,
    pendingUploads: 0,
    rejectedUploads: 0,
    lastSync: null,
    keyStore: "file" as const,
    platform: "desktop" as const, nfc: { reader: false, card: false },
  };
}

describe("onboarding", () => {
  beforeEach(() => {
    app.status = status([northbank, southbank]);
  });

  it("a typed code goes to the organisation chosen, which is confirmed from the pin before enrolling", async () => {
    const sent: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      sent.push([cmd, args]);
      if (cmd === "enrolment_offer") return southbank;
      if (cmd === "enrol")
        return { role: "customer", organisation: "Southbank", serverUrl: southbank.backOffice, officialPhone: southbank.officialPhone, enrolledAt: 1 };
      if (cmd === "status") return status([northbank, southbank]);
      throw new Error(`unexpected ${cmd}`);
    });
    render(Onboarding);
    await fireEvent.input(screen.getByTestId("enrol-code"), { target: { value: "ABCD-EFGH-JKMN-PQRS" } });
    await fireEvent.change(screen.getByTestId("organisation"), { target: { value: "Southbank" } });
    await fireEvent.click(screen.getByTestId("join"));
    expect((await screen.findByTestId("confirm-organisation")).textContent).toBe("Southbank");
    expect(screen.getByTestId("confirm-address").textContent).toBe("https://doorstep.southbank.example");
    expect(screen.getByTestId("confirm-phone").textContent).toBe("+31 10 555 0200");
    expect(screen.getByTestId("enrol-confirm").textContent).toContain("If someone phoned you");
    expect(sent.map(([cmd]) => cmd)).toEqual(["enrolment_offer"]);
    await fireEvent.click(screen.getByTestId("confirm-enrol"));
    expect((await screen.findByTestId("joined")).textContent).toContain("You joined Southbank");
    expect(sent.slice(0, 2)).toEqual([
      ["enrolment_offer", { code: "ABCD-EFGH-JKMN-PQRS", organisation: "Southbank" }],
      ["enrol", { code: "ABCD-EFGH-JKMN-PQRS", organisation: "Southbank" }],
    ]);
  });

  it("an invite for an organisation the app does not pin is refused and nothing is enrolled", async () => {
    const sent: string[] = [];
    mockIPC((cmd) => {
      sent.push(cmd);
      if (cmd === "enrolment_offer") throw { kind: "organisation_not_pinned", message: "not pinned", transient: false };
      throw new Error(`unexpected ${cmd}`);
    });
    render(Onboarding);
    await fireEvent.input(screen.getByTestId("enrol-code"), { target: { value: "DS2E:XYZ" } });
    expect(screen.queryByTestId("organisation")).toBeNull();
    await fireEvent.click(screen.getByTestId("join"));
    const error = await screen.findByTestId("error");
    expect(error.dataset.kind).toBe("organisation_not_pinned");
    expect(error.textContent).toContain("does not trust");
    expect(screen.queryByTestId("enrol-confirm")).toBeNull();
    expect(sent).toEqual(["enrolment_offer"]);
  });

  it("cancelling the confirmation enrols nothing; a build with no pins says so", async () => {
    const sent: string[] = [];
    mockIPC((cmd) => {
      sent.push(cmd);
      if (cmd === "enrolment_offer") return northbank;
      throw new Error(`unexpected ${cmd}`);
    });
    app.status = status([northbank]);
    render(Onboarding);
    expect(screen.queryByTestId("organisation")).toBeNull();
    expect(screen.queryByTestId("no-pins")).toBeNull();
    await fireEvent.input(screen.getByTestId("enrol-code"), { target: { value: "ABCD-EFGH-JKMN-PQRS" } });
    await fireEvent.click(screen.getByTestId("join"));
    await fireEvent.click(await screen.findByTestId("cancel-enrol"));
    expect(screen.getByTestId("enrol-code")).toBeTruthy();
    expect(sent).toEqual(["enrolment_offer"]);
  });

  it("a build that pins no organisation says so", () => {
    app.status = status([]);
    render(Onboarding);
    expect(screen.getByTestId("no-pins").textContent).toContain("trusts no organisation");
  });
});
