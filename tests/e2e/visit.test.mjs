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

/// Saves the whole window in English and Dutch (for docs/screens), then returns to English.
/// A screen longer than the window is saved a second time scrolled to its end (`.end.png`),
/// so that what lies below the fold is looked at too.
async function screens(session, name) {
  if (!SCREENS) return;
  mkdirSync(SCREENS, { recursive: true });
  for (const locale of ["en", "nl"]) {
    await setLanguage(session, locale);
    await sleep(400);
    writeFileSync(join(SCREENS, `${name}.${locale}.png`), await session.screenPng());
    const scrolledFrom = await session.execute(
      `const page = document.scrollingElement;
       if (document.querySelector('[data-testid="fullscreen-code"]') || page.scrollHeight <= innerHeight + 2) return null;
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
  await agent.click('[data-testid="role-agent"]');
  await agent.chooseFile('[data-testid="scan-file"]', readFileSync(env.AGENT_INVITE_PNG));
  await agent.waitFor('[data-testid="confirm-organisation"]', { text: "Northbank Cards" });
  assert.equal(await agent.text(await agent.waitFor('[data-testid="confirm-address"]')), env.SERVER_URL);
  await agent.click('[data-testid="confirm-enrol"]');
  await agent.waitFor('[data-testid="joined"]', { text: "Northbank Cards" });
  await agent.click('[data-testid="continue"]');

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

  // The agent enrolled first, so its package waited for the customer: sync again.
  await sync(customer);
  await sync(agent);
  await customer.waitFor('[data-testid="notice"]');
  await agent.waitFor('[data-testid="visit"]');
});

let firstProof;

test("a visit completes: green on both screens with the same confirmation code", async () => {
  const notice = await customer.waitFor('[data-testid="notice"]', { text: "Hand over your new debit card" });
  assert.match(await customer.text(notice), /Sanne de Vries/);
  assert.match(await customer.text(notice), /Last four digits of the card/);
  assert.match(await customer.text(notice), /30 days/);
  await screens(customer, "03-customer-visit");
  const visits = await agent.find('[data-testid="visit"]');
  assert.equal(visits.length, 2);
  await screens(agent, "04-agent-visits");

  const visitId = await customer.attribute(notice, "data-visit-id");
  await agent.click(`[data-testid="visit"][data-visit-id="${visitId}"]`);
  await agent.waitFor('[data-testid="may-see"]', { text: "Full name" });
  await screens(agent, "05-agent-visit");
  await agent.click('[data-testid="start-door"]');

  await customer.click(`[data-testid="notice"][data-visit-id="${visitId}"] [data-testid="at-door"]`);
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
  await screens(customer, "14-customer-verified");
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
  await screens(customer, "15-customer-receipts");
  await customer.click(".back");
});

test("a challenge for another visit: the agent's app refuses it and says why", async () => {
  await customer.waitFor('[data-testid="notice"]');
  const notices = await customer.find('[data-testid="notice"]');
  assert.equal(notices.length, 2);
  // Listed by time: the visit done above first, the later one second.
  const first = await customer.attribute(notices[0], "data-visit-id");
  const other = await customer.attribute(notices[1], "data-visit-id");
  assert.match(await customer.text(notices[1]), /Collect your old card/);
  await customer.click(`[data-testid="notice"][data-visit-id="${other}"] [data-testid="at-door"]`);
  await agent.click(`[data-testid="visit"][data-visit-id="${first}"]`);
  await agent.click('[data-testid="start-door"]');
  await handOver(customer, agent);
  const red = await agent.waitFor('[data-testid="result"][data-result="refused"]');
  assert.equal(await agent.attribute(red, "data-kind"), "wrong_visit");
  assert.match(await agent.text(red), /This code belongs to a different visit/);
  await screens(agent, "16-agent-refused");
});

test("a replayed proof ends on the customer's red screen; the report is queued and synced", async () => {
  await customer.click('[data-testid="next"]');
  await customer.chooseFile('[data-testid="scan-file"]', firstProof);
  const red = await customer.waitFor('[data-testid="result"][data-result="refused"]');
  assert.equal(await customer.attribute(red, "data-kind"), "nonce_mismatch");
  assert.match(await customer.text(red), /Do not let this person in/);
  assert.match(await customer.text(await customer.waitFor('[data-testid="call"]')), /\+31 20 555 0100/);
  await screens(customer, "17-customer-refused");
  await customer.click('[data-testid="report"]');
  await customer.type('[data-testid="report-note"]', "Showed an old code");
  await customer.click('[data-testid="report-send"]');
  await customer.waitFor('[data-testid="report-queued"]');
  await customer.waitFor('[data-testid="pending"]', { text: "1 waiting to send" });
  await sync(customer);
  await customer.waitFor('[data-testid="pending"]', { text: "Everything sent" });
});

test("Different codes end red on both phones", async () => {
  await customer.click(".back");
  await customer.waitFor('[data-testid="notice"]');
  const notices = await customer.find('[data-testid="notice"]');
  const first = await customer.attribute(notices[0], "data-visit-id");
  await customer.click(`[data-testid="notice"][data-visit-id="${first}"] [data-testid="at-door"]`);
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
