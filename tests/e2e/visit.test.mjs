// End to end: two instances of the real app (agent and customer, separate data directories)
// in WebKit under Xvfb, driven through tauri-driver, against a real back-office. Every code
// crosses between the apps as a picture: a screenshot of the QR element in one app is handed
// to the other app's "scan from an image". Started by tests/e2e/run.sh, which sets the
// environment below.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Session, sleep } from "./webdriver.mjs";

const env = process.env;
const SCREENS = env.SCREENS_DIR;
let agent;
let customer;

before(async () => {
  agent = await Session.start(env.AGENT_DRIVER, env.APP);
  customer = await Session.start(env.CUSTOMER_DRIVER, env.APP);
});

after(async () => {
  // Figures for docs/benchmarks.md: each app instance with its WebKit processes, after the visit.
  // PSS shares the WebKit libraries between the processes that map them; RSS counts them in each.
  const table = execFileSync("ps", ["-eo", "pid,ppid,rss,comm"], { encoding: "utf8" });
  for (const line of table.split("\n")) {
    if (!/doorstep-app|WebKit/.test(line)) continue;
    const pid = line.trim().split(/\s+/)[0];
    let pss = "?";
    try {
      pss = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? "?";
    } catch {
      // The process ended between ps and the read.
    }
    console.log(`figure: ps ${line.trim()} pss_kb=${pss}`);
  }
  await agent?.quit();
  await customer?.quit();
});

/// Saves the whole window in English and Dutch, or the languages given, and at 200% text if
/// asked (for docs/screens), then returns to English.
/// A screen longer than the window is saved a second time scrolled to its end (`.end.png`),
/// so that what lies below the fold is looked at too.
async function screens(session, name, { locales = ["en", "nl"], largeText = false } = {}) {
  if (!SCREENS) return;
  mkdirSync(SCREENS, { recursive: true });
  for (const locale of locales) {
    await setLanguage(session, locale);
    await sleep(400);
    writeFileSync(join(SCREENS, `${name}.${locale}.png`), await session.screenPng());
    if (largeText) {
      // The system's text size at 200%: the layout must still hold.
      await session.execute(
        `document.documentElement.style.fontSize = "200%";
         document.querySelector('[data-testid="result"]')?.scrollIntoView({ block: "start" });`,
      );
      await sleep(400);
      writeFileSync(join(SCREENS, `${name}.${locale}.text200.png`), await session.screenPng());
      await session.execute(`document.documentElement.style.fontSize = ""`);
    }
    const scrolledFrom = await session.execute(
      `const page = document.scrollingElement;
       if (document.querySelector('[data-testid="fullscreen-code"], .red-screen') || page.scrollHeight <= innerHeight + 2) return null;
       const from = page.scrollTop;
       page.scrollTop = page.scrollHeight;
       return from;`,
    );
    if (scrolledFrom === null) continue;
    await sleep(400);
    writeFileSync(join(SCREENS, `${name}.${locale}.end.png`), await session.screenPng());
    await session.execute(`document.scrollingElement.scrollTop = arguments[0]`, [scrolledFrom]);
  }
  await setLanguage(session, "en");
}

async function setLanguage(session, locale) {
  await session.execute(
    `const select = document.querySelector('[data-testid="language"]');
     select.value = arguments[0];
     select.dispatchEvent(new Event("change", { bubbles: true }));`,
    [locale],
  );
}

/// Screenshots the QR on `from` and scans it on `to`.
async function handOver(from, to) {
  await from.waitFor('[data-testid="qr"] svg');
  await from.execute(`document.querySelector('[data-testid="qr"]').scrollIntoView({ block: "center" })`);
  await sleep(500); // the frame with the new code must have been painted
  const png = await from.elementPng('[data-testid="qr"]');
  if (env.E2E_FAILURES_DIR) writeFileSync(join(env.E2E_FAILURES_DIR, `handover-${Date.now()}.png`), png);
  await to.chooseFile('[data-testid="scan-file"]', png);
  return png;
}

function server(...args) {
  return execFileSync(env.SERVER_BIN, args, { encoding: "utf8" });
}

async function sync(session) {
  await session.click('[data-testid="sync-now"]', { text: "Sync now" });
  await session.waitFor('[data-testid="sync-now"]', { text: "Sync now", timeout: 30000 });
}

test("a rogue back-office's invite is refused before anything is sent", async () => {
  await customer.waitFor('[data-testid="onboarding"]');
  // This build trusts a test back-office, and every screen says so.
  await customer.waitFor('[data-testid="development-banner"]');
  await screens(customer, "01-onboarding");
  await customer.chooseFile('[data-testid="scan-file"]', readFileSync(env.ROGUE_INVITE_PNG));
  const refused = await customer.waitFor('[data-testid="error"][data-kind="organisation_not_pinned"]');
  assert.match(await customer.text(refused), /does not trust/);
  assert.equal((await customer.find('[data-testid="enrol-confirm"]')).length, 0);
  await screens(customer, "01-rogue-invite");
});

test("both phones enrol after confirming the pinned organisation: the agent by scanning the invite, the customer by typing the code", async () => {
  await agent.waitFor('[data-testid="onboarding"]');
  await agent.chooseFile('[data-testid="scan-file"]', readFileSync(env.AGENT_INVITE_PNG));
  await agent.waitFor('[data-testid="confirm-organisation"]', { text: "Northbank Cards" });
  assert.equal(await agent.text(await agent.waitFor('[data-testid="confirm-address"]')), env.SERVER_URL);
  await agent.click('[data-testid="confirm-enrol"]');
  await agent.waitFor('[data-testid="joined"]', { text: "Northbank Cards" });
  await agent.click('[data-testid="continue"]');

  // The letter's QR comes first; typing the code is the fallback.
  await customer.click('[data-testid="type-instead"]');
  await customer.type('[data-testid="enrol-code"]', env.CUSTOMER_CODE);
  await customer.click('[data-testid="join"]');
  await customer.waitFor('[data-testid="confirm-phone"]', { text: "+31 20 555 0100" });
  await screens(customer, "02-enrol-confirm");
  await customer.click('[data-testid="confirm-enrol"]');
  await customer.waitFor('[data-testid="joined"]', { text: "Northbank Cards" });
  await screens(customer, "02-joined");
  await customer.click('[data-testid="continue"]');
  // The official number, from the pin, before any visit is announced.
  await customer.waitFor('[data-testid="official-phone"]', { text: "+31 20 555 0100" });

});

test("someone at the door with no visit announced: red over everything, the pinned number first, a report", async () => {
  // The first start explains the door in four steps, once.
  await customer.waitFor('[data-testid="how-it-works"]');
  await screens(customer, "02a-customer-first-use", { locales: ["en", "nl", "sv", "pl"] });
  await customer.click('[data-testid="got-it"]');
  // Nothing has been synced yet, so no visit is announced on this phone.
  await customer.waitFor('[data-testid="no-visits"]');
  await customer.click('[data-testid="at-door"]');
  const red = await customer.waitFor('[data-testid="result"][data-kind="no_visit_now"]');
  assert.match(await customer.text(red), /No visit is booked for now/);
  assert.match(await customer.text(red), /Keep the door closed\. Do not hand over your card, PIN or papers\./);
  const call = await customer.waitFor('[data-testid="call"]');
  assert.match(await customer.text(call), /\+31 20 555 0100/);
  assert.equal(await customer.attribute(call, "href"), "tel:+31205550100");
  // It covers the whole window: the header and the sync line are under it.
  const covered = await customer.execute(
    `const r = document.querySelector(".red-screen").getBoundingClientRect();
     return r.top <= 0 && r.left <= 0 && r.bottom >= innerHeight && r.right >= innerWidth;`,
  );
  assert.equal(covered, true);
  await screens(customer, "02b-customer-no-visit", { locales: ["en", "nl", "sv", "pl"], largeText: true });
  await customer.click('[data-testid="report"]');
  await customer.type('[data-testid="report-note"]', "Rang at 10:05, said he was from the bank");
  await customer.click('[data-testid="report-send"]');
  await customer.waitFor('[data-testid="report-queued"]');
  await customer.click('[data-testid="red-back"]');

  // Now the office books the visits: two for now (the customer is asked which one is at the
  // door) and one later.
  const at = (minutes) => new Date(Date.now() + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const book = (ref, minutes, length, purpose, ...rest) =>
    server("visit", "--org", "Northbank Cards", "add", "--ref", ref, "--agent", "A-0117", "--customer", "C-1001",
      "--start", at(minutes), "--minutes", String(length), "--purpose", purpose, ...rest);
  book("V-1", -5, 120, "Hand over your new debit card", "--checks", "card_handover", "--fields", "full_name card_last_four");
  // A purpose from the app's catalogue: each phone shows it in its own language.
  book("V-3", -5, 120, "card_reader", "--checks", "identity_document", "--fields", "full_name");
  book("V-2", 10, 60, "Collect your old card", "--fields", "full_name");

  // The report of the unannounced visitor goes with the next sync; the agent syncs too.
  await sync(customer);
  await customer.waitFor('[data-testid="pending"]', { text: "Everything sent" });
  await sync(agent);
  await customer.waitFor('[data-testid="notice"]');
  await agent.waitFor('[data-testid="visit"]');
});

/// "Someone is at my door", then the visit `visitId` among those booked for now.
async function toTheDoor(visitId) {
  await customer.click('[data-testid="at-door"]');
  await customer.click(`[data-testid="choose-visit"][data-visit-id="${visitId}"]`);
}

let firstProof;

test("a visit completes: green on both screens with the same confirmation code", async () => {
  const notice = await customer.waitFor('[data-testid="notice"]', { text: "Hand over your new debit card" });
  assert.match(await customer.text(notice), /Sanne de Vries/);
  assert.match(await customer.text(notice), /Last four digits of the card/);
  assert.match(await customer.text(notice), /30 days/);
  await screens(customer, "03-customer-visit");
  const visits = await agent.find('[data-testid="visit"]');
  assert.equal(visits.length, 3);
  // Two visits at one address, told apart by purpose and the office's reference.
  await agent.waitFor('[data-testid="visit-purpose"]', { text: "Replace your card reader · V-3" });
  await agent.waitFor('[data-testid="visit-purpose"]', { text: "Hand over your new debit card · V-1" });
  await screens(agent, "04-agent-visits");

  const visitId = await customer.attribute(notice, "data-visit-id");
  await agent.click(`[data-testid="visit"][data-visit-id="${visitId}"]`);
  await agent.waitFor('[data-testid="may-see"]', { text: "Full name" });
  await screens(agent, "05-agent-visit");
  await agent.click('[data-testid="start-door"]');

  await toTheDoor(visitId);
  await screens(customer, "06-customer-challenge");
  await handOver(customer, agent);
  await agent.waitFor('[data-testid="next"]');
  await screens(agent, "07-agent-proof");
  await customer.click('[data-testid="next"]');
  firstProof = await handOver(agent, customer);

  // The photo question comes first; no code is on the customer's screen yet.
  const person = await customer.waitFor('[data-testid="person"]');
  assert.match(await customer.text(person), /Is the person at your door this person\?/);
  assert.match(await customer.text(person), /Sanne de Vries, on behalf of Northbank Cards/);
  assert.equal((await customer.find('[data-testid="confirmation"]')).length, 0);
  await screens(customer, "08-customer-person");
  await customer.click('[data-testid="person-yes"]');

  // Both read their codes aloud and say "Same".
  const customerCode = await customer.text(await customer.waitFor('[data-testid="confirmation"]'));
  await screens(customer, "09-customer-compare");
  await agent.click('[data-testid="next"]');
  const agentCode = await agent.text(await agent.waitFor('[data-testid="confirmation"]'));
  assert.match(agentCode, /^\d{3} \d{3}$/);
  assert.equal(agentCode, customerCode);
  await screens(agent, "10-agent-compare");
  await agent.click('[data-testid="same"]');
  await customer.click('[data-testid="same"]');

  await screens(customer, "11-customer-answer");
  await handOver(customer, agent);
  const data = await agent.text(await agent.waitFor('[data-testid="customer-data"]'));
  assert.match(data, /Jan Jansen/);
  assert.match(data, /4242/);
  assert.doesNotMatch(data, /1970|Kerkstraat/, "the agent sees only what the ticket allows");
  await screens(agent, "12-agent-verified");

  // Nothing is chosen for the agent: "Save" waits until they say what happened.
  assert.equal(await agent.execute(`return document.querySelector('[data-testid="save-outcome"]').disabled`), true);
  await agent.click('[data-testid="outcome-verified"]');
  await agent.click('[data-testid="check-card_handover"]');
  await agent.click('[data-testid="save-outcome"]');
  await agent.waitFor('[data-testid="receipt"]');
  await screens(agent, "13-agent-receipt");
  await customer.click('[data-testid="next"]');
  await handOver(agent, customer);
  await customer.waitFor('[data-testid="receipt-kept"]');
  const green = await customer.waitFor('[data-testid="result"][data-result="verified"]');
  assert.match(await customer.text(green), /This is your agent/);
  assert.match(await customer.text(green), /Sanne de Vries, on behalf of Northbank Cards/);
  assert.equal(await customer.text(await customer.waitFor('[data-testid="confirmation"]')), customerCode);
  await screens(customer, "14-customer-verified", { locales: ["en", "nl", "sv", "pl"], largeText: true });
});

test("the agent syncs and the back-office export shows the visit verified", async () => {
  await agent.click('[data-testid="done"]');
  await agent.waitFor('[data-testid="pending"]', { text: "1 waiting to send" });
  await sync(agent);
  await agent.waitFor('[data-testid="pending"]', { text: "Everything sent" });
  const exported = JSON.parse(server("export", "--org", "Northbank Cards", "--format", "json"));
  assert.equal(exported.length, 1);
  assert.equal(exported[0].visit_ref, "V-1");
  assert.equal(exported[0].outcome, "verified");
  assert.ok(exported[0].countersignature);
});

test("the customer keeps the receipt", async () => {
  await customer.click(".back");
  await customer.click('[data-testid="receipts-link"]');
  const kept = await customer.waitFor('[data-testid="kept-receipt"]', { text: "Sanne de Vries" });
  assert.match(await customer.text(kept), /Agent's receipt: Verified/);
  assert.match(await customer.text(kept), /The agent could see: Full name, Last four digits of the card/);
  assert.match(await customer.text(kept), /Checked at the door: The customer's phone \(automatic\), Card handed over/);
  await screens(customer, "15-customer-receipts");
  await customer.click(".back");
});

test("a challenge for another visit: the agent's app refuses it, says why and offers what to do", async () => {
  await customer.waitFor('[data-testid="notice"]');
  const notices = await customer.find('[data-testid="notice"]');
  assert.equal(notices.length, 3);
  // Listed by time: the two visits booked now first, the later one last.
  const ids = [];
  for (const n of notices) ids.push(await customer.attribute(n, "data-visit-id"));
  assert.match(await customer.text(notices[2]), /Collect your old card/);
  let first, other;
  for (const [i, n] of notices.slice(0, 2).entries()) {
    if (/Hand over your new debit card/.test(await customer.text(n))) first = ids[i];
    else other = ids[i];
  }
  await toTheDoor(other);
  await agent.click(`[data-testid="visit"][data-visit-id="${first}"]`);
  await agent.click('[data-testid="start-door"]');
  await handOver(customer, agent);
  const red = await agent.waitFor('[data-testid="result"][data-result="refused"]');
  assert.equal(await agent.attribute(red, "data-kind"), "wrong_visit");
  assert.match(await agent.text(red), /This code belongs to a different visit/);
  assert.match(await agent.text(await agent.waitFor('[data-testid="other-visit-hint"]')), /another visit/);
  await agent.waitFor('[data-testid="record-suspicious"]');
  await agent.waitFor('[data-testid="call-office"]', { text: "+31 20 555 0100" });
  await screens(agent, "16-agent-refused");
});

test("a replayed proof ends on the customer's red screen; the report is queued and synced", async () => {
  await customer.click('[data-testid="next"]');
  await customer.chooseFile('[data-testid="scan-file"]', firstProof);
  const red = await customer.waitFor('[data-testid="result"][data-result="refused"]');
  assert.equal(await customer.attribute(red, "data-kind"), "nonce_mismatch");
  assert.match(await customer.text(red), /Do not let this person in/);
  assert.match(await customer.text(await customer.waitFor('[data-testid="call"]')), /\+31 20 555 0100/);
  await screens(customer, "17-customer-refused", { locales: ["en", "nl", "sv", "pl"], largeText: true });
  await customer.click('[data-testid="report"]');
  await customer.type('[data-testid="report-note"]', "Showed an old code");
  await customer.click('[data-testid="report-send"]');
  await customer.waitFor('[data-testid="report-queued"]');
  // The sync bar is under the red screen; back home it says what waits.
  await customer.click('[data-testid="red-back"]');
  await customer.waitFor('[data-testid="pending"]', { text: "1 waiting to send" });
  await sync(customer);
  await customer.waitFor('[data-testid="pending"]', { text: "Everything sent" });
});

test("Different codes end red on both phones", async () => {
  await customer.waitFor('[data-testid="notice"]');
  const first = await customer.attribute(
    await customer.waitFor('[data-testid="notice"]', { text: "Hand over your new debit card" }),
    "data-visit-id",
  );
  await toTheDoor(first);
  // The agent is still on the red screen of the first visit's door: back to that visit.
  await agent.click(".back");
  await agent.click('[data-testid="start-door"]');
  await handOver(customer, agent);
  await agent.waitFor('[data-testid="next"]');
  await customer.click('[data-testid="next"]');
  await handOver(agent, customer);
  await customer.click('[data-testid="person-yes"]');
  await agent.click('[data-testid="next"]');
  await agent.click('[data-testid="different"]');
  await customer.click('[data-testid="different"]');
  for (const side of [agent, customer]) {
    const red = await side.waitFor('[data-testid="result"][data-result="refused"]');
    assert.equal(await side.attribute(red, "data-kind"), "codes_differ");
    assert.match(await side.text(red), /The two codes are different/);
  }
  await customer.waitFor('[data-testid="report-queued"]');
  await screens(customer, "18-customer-codes-differ");
});

test("plan B: the customer calls the official number, the office gives a reference, the agent records it", async () => {
  await customer.click('[data-testid="red-back"]');
  const planned = await customer.waitFor('[data-testid="notice"]', { text: "Replace your card reader" });
  const visitId = await customer.attribute(planned, "data-visit-id");
  // The customer's camera is broken: "I can't scan" sends them to the pinned number.
  await toTheDoor(visitId);
  await customer.click('[data-testid="cannot-scan"]');
  const planB = await customer.waitFor('[data-testid="plan-b"]');
  assert.match(await customer.text(planB), /reference of eight digits/);
  assert.equal(await customer.attribute(await customer.waitFor('[data-testid="plan-b-call"]'), "href"), "tel:+31205550100");
  await screens(customer, "19-customer-plan-b", { locales: ["en", "nl", "sv", "pl"] });

  await agent.click(".back");
  await agent.click(".back");
  await agent.click(`[data-testid="visit"][data-visit-id="${visitId}"]`);
  await agent.click('[data-testid="start-door"]');
  await agent.click('[data-testid="cannot-scan"]');
  await agent.waitFor('[data-testid="plan-b"]', { text: "+31 20 555 0100" });
  // On the official line, the operator confirms the visit and reads out the reference.
  const confirmed = server("visit", "--org", "Northbank Cards", "confirm-by-phone", "--ref", "V-3", "--by", "Operator 7");
  const reference = /Office reference: (\d{4} \d{4})/.exec(confirmed)?.[1];
  assert.ok(reference, confirmed);
  await agent.type('[data-testid="office-reference"]', reference);
  await screens(agent, "20-agent-plan-b");
  await agent.click('[data-testid="save-office"]');
  const receipt = await agent.waitFor('[data-testid="receipt"]');
  assert.match(await agent.text(receipt), /Verified by the office/);
  await agent.click('[data-testid="done"]');
  await sync(agent);
  await agent.waitFor('[data-testid="pending"]', { text: "Everything sent" });
  const exported = JSON.parse(server("export", "--org", "Northbank Cards", "--format", "json"));
  assert.deepEqual(
    exported.map((r) => [r.visit_ref, r.outcome]).sort(),
    [["V-1", "suspicious"], ["V-1", "verified"], ["V-3", "verified_by_office"]],
  );
});

test("a customer without the app checks the agent on the page; the agent records the page's reference", async () => {
  server("customer", "--org", "Northbank Cards", "add", "--ref", "C-2002", "--data", "full_name=Piet de Boer");
  const at = new Date(Date.now() - 5 * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  server("visit", "--org", "Northbank Cards", "add", "--ref", "V-5", "--agent", "A-0117", "--customer", "C-2002",
    "--start", at, "--minutes", "120", "--purpose", "Collect the old card reader", "--checks", "identity_document card_handover",
    "--fields", "full_name");
  await sync(agent);
  await agent.click('[data-testid="visit"]', { text: "Collect the old card reader" });
  assert.match(await agent.text(await agent.waitFor('[data-testid="no-app"]')), /This customer has no app/);
  await agent.click('[data-testid="start-page"]');
  const spoken = await agent.text(await agent.waitFor('[data-testid="page-spoken-code"]'));
  assert.match(spoken, /^\d{3} \d{3}$/);

  // What the customer's own camera reads: the pinned back-office's page, and the same six digits.
  await agent.waitFor('[data-testid="qr"] svg');
  await agent.execute(`document.querySelector('[data-testid="qr"]').scrollIntoView({ block: "center" })`);
  await sleep(500);
  const png = join(tmpdir(), `doorstep-page-pass-${Date.now()}.png`);
  writeFileSync(png, await agent.elementPng('[data-testid="qr"]'));
  const decoded = execFileSync(env.CLI_BIN, ["decode", "--image", png], { encoding: "utf8" });
  const url = /^page pass, \d+ characters: (\S+)$/m.exec(decoded)?.[1];
  assert.ok(url?.startsWith(`${env.SERVER_URL.toUpperCase()}/V/`), decoded);
  assert.match(decoded, new RegExp(`read aloud: ${spoken}$`, "m"));
  await screens(agent, "24-agent-page-pass", { locales: ["en", "nl", "sv", "pl"] });

  // The customer's page, once they say the photo and the digits match, asks for the reference.
  const response = await fetch(`${env.SERVER_URL}/verify/api/checked/${url.slice(url.indexOf("/V/") + 3)}`, { method: "POST" });
  assert.equal(response.status, 200);
  const { reference } = await response.json();
  assert.match(reference, /^\d{4} \d{4}$/);

  await agent.click('[data-testid="page-next"]');
  await agent.waitFor('[data-testid="page-check"]', { text: "reference of eight digits" });
  await agent.type('[data-testid="page-reference"]', reference);
  await agent.click('[data-testid="page-check-identity_document"]');
  await screens(agent, "25-agent-page-reference");
  await agent.click('[data-testid="save-page-check"]');
  const receipt = await agent.waitFor('[data-testid="receipt"]');
  assert.match(await agent.text(receipt), /Checked on the page/);
  await agent.click('[data-testid="done"]');
  await sync(agent);
  await agent.waitFor('[data-testid="pending"]', { text: "Everything sent" });
  const exported = JSON.parse(server("export", "--org", "Northbank Cards", "--format", "json"));
  const v5 = exported.find((r) => r.visit_ref === "V-5");
  assert.deepEqual([v5?.outcome, v5?.office_reference], ["checked_on_page", reference.replace(" ", "")]);
});

test(
  "one tap: the customer holds their phone to the agent's, through a real PC/SC reader",
  { skip: !env.NFC_E2E && "no pcscd with a virtual reader (make e2e runs one)" },
  async () => {
    const at = new Date(Date.now() - 5 * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    server("visit", "--org", "Northbank Cards", "add", "--ref", "V-4", "--agent", "A-0117", "--customer", "C-1001",
      "--start", at, "--minutes", "120", "--purpose", "identity_check", "--checks", "identity_document",
      "--fields", "full_name");
    await customer.click(".back");
    await sync(customer);
    await sync(agent);
    const notice = await customer.waitFor('[data-testid="notice"]', { text: "Check your identity for your account" });
    const visitId = await customer.attribute(notice, "data-visit-id");
    await agent.click(`[data-testid="visit"][data-visit-id="${visitId}"]`);
    await agent.click('[data-testid="start-door"]');
    await agent.waitFor('[data-testid="tap-ready"]', { text: "hold their phone to yours" });

    // First hold: the agent's phone is checked as a scanned proof is; the same questions follow.
    await toTheDoor(visitId);
    await screens(customer, "21-customer-tap", { locales: ["en", "nl", "sv", "pl"] });
    await customer.click('[data-testid="tap-agent"]');
    await customer.click('[data-testid="person-yes"]');
    const customerCode = await customer.text(await customer.waitFor('[data-testid="confirmation"]'));
    const agentCode = await agent.text(await agent.waitFor('[data-testid="confirmation"]'));
    assert.match(agentCode, /^\d{3} \d{3}$/);
    assert.equal(agentCode, customerCode);
    await screens(agent, "22-agent-tap-compare");
    await agent.click('[data-testid="same"]');
    await customer.click('[data-testid="same"]');

    // Second hold: the answer; the agent's screen opens what the visit may show.
    await customer.click('[data-testid="tap-answer"]');
    const data = await agent.text(await agent.waitFor('[data-testid="customer-data"]'));
    assert.match(data, /Jan Jansen/);
    assert.doesNotMatch(data, /4242|1970|Kerkstraat/, "only what this visit's ticket allows");
    await agent.click('[data-testid="outcome-verified"]');
    await agent.click('[data-testid="check-identity_document"]');
    await agent.click('[data-testid="save-outcome"]');
    await agent.waitFor('[data-testid="receipt"]');

    // A last hold brings the agent's receipt.
    await customer.click('[data-testid="tap-receipt"]');
    await customer.waitFor('[data-testid="receipt-kept"]');
    const green = await customer.waitFor('[data-testid="result"][data-result="verified"]');
    assert.match(await customer.text(green), /Sanne de Vries, on behalf of Northbank Cards/);
    await agent.waitFor('[data-testid="receipt-taken"]');
    await screens(agent, "23-agent-tap-receipt");
    await agent.click('[data-testid="done"]');
    await sync(agent);
    await agent.waitFor('[data-testid="pending"]', { text: "Everything sent" });
    const exported = JSON.parse(server("export", "--org", "Northbank Cards", "--format", "json"));
    assert.ok(exported.some((r) => r.visit_ref === "V-4" && r.outcome === "verified"));
  },
);
