// The console in a real Chromium (Debian's, driven by playwright-core) against a real
// doorstep-server on a fresh SQLite file, or with CONSOLE_DATABASE=postgres on a fresh database
// of the PostgreSQL scripts/with-postgres.sh runs: signing in, the day's visits updating as the
// back-office changes and as phones sync, agents, customers and their letters, a visit's
// signatures, reports, roles, attacks on sign-in, both languages, and axe-core finding no
// WCAG 2.2 AA violation.
// SERVER_BIN names the server (default: the workspace's debug build); SCREENS_DIR keeps
// screenshots.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { freePort, launchChromium, screenshot, axeViolations as checkAxe } from "../../browser-tests.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../../..");
const SERVER_BIN = process.env.SERVER_BIN ?? join(root, "target/debug/doorstep-server");
// Two phones with software keys, as `doorstep phones` runs them.
const PHONES_BIN = process.env.PHONES_BIN ?? join(root, "target/debug/doorstep");
const AGENT_PHOTO = join(root, "tests/e2e/fixtures/agent.png");
const SCREENS_DIR = process.env.SCREENS_DIR;
const AXE = readFileSync(join(here, "../node_modules/axe-core/axe.min.js"), "utf8");
const ORG = "Northbank Cards";
const ADMIN_PASSWORD = "admin pass phrase";
const PLANNER_PASSWORD = "planner pass phrase";
const OPERATOR_PASSWORD = "operator on the line";

const work = mkdtempSync(join(tmpdir(), "doorstep-console-"));

function databaseUrl() {
  if (process.env.CONSOLE_DATABASE !== "postgres") return `sqlite:${join(work, "backoffice.db")}`;
  const base = process.env.DOORSTEP_TEST_POSTGRES_URL;
  assert.ok(base, "CONSOLE_DATABASE=postgres runs under scripts/with-postgres.sh");
  const name = `console_${process.pid}`;
  const host = new URL(base).searchParams.get("host");
  execFileSync("psql", ["-h", host, "-U", "doorstep", "-d", "doorstep", "-qc", `CREATE DATABASE ${name}`]);
  return base.replace("localhost/doorstep?", `localhost/${name}?`);
}

const env = {
  ...process.env,
  DOORSTEP_DATABASE_URL: databaseUrl(),
  DOORSTEP_KEY_DIR: join(work, "keys"),
};
mkdirSync(env.DOORSTEP_KEY_DIR);

function server(args, input = "") {
  return execFileSync(SERVER_BIN, args, { env, input, encoding: "utf8" });
}


// The visits start soon (the back-office books none in the past); the pages' clock is set
// after both have begun, so "today" in the browser is a day both windows overlap, at any hour.
const SOON = Date.now() + 30 * 60_000;
const PAGE_NOW = SOON + 15 * 60_000;

/** `minutes` after SOON, as the server's CLI takes it (UTC, RFC 3339). */
function soonPlus(minutes) {
  return new Date(SOON + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

let serving;
let base;
let browser;

before(async () => {
  server(["init", "--name", ORG, "--official-phone", "+31 20 555 0100"]);
  const org = ["--org", ORG];
  server(["staff", ...org, "add", "--username", "ada", "--name", "Ada Admin", "--role", "admin", "--password-stdin"], `${ADMIN_PASSWORD}\n`);
  server(["staff", ...org, "add", "--username", "otto", "--name", "Otto Operator", "--role", "operator", "--password-stdin"], `${OPERATOR_PASSWORD}\n`);
  server(["staff", ...org, "add", "--username", "piet", "--name", "Piet Planner", "--role", "planner", "--password-stdin"], `${PLANNER_PASSWORD}\n`);
  const photo = AGENT_PHOTO;
  for (const [ref, name] of [["A-0117", "Sanne de Vries"], ["A-0204", "Joost Bakker"]]) {
    server(["agent", ...org, "add", "--staff-ref", ref, "--name", name, "--on-behalf-of", ORG, "--photo", photo]);
  }
  server(["customer", ...org, "add", "--ref", "C-1001", "--data", "full_name=Jan Jansen"]);
  server(["customer", ...org, "add", "--ref", "C-1002", "--data", "full_name=Eva de Wit"]);
  server(["visit", ...org, "add", "--ref", "V-1", "--agent", "A-0117", "--customer", "C-1001", "--start", soonPlus(0), "--purpose", "new_card"]);
  server(["visit", ...org, "add", "--ref", "V-2", "--agent", "A-0204", "--customer", "C-1002", "--start", soonPlus(10), "--purpose", "card_reader"]);
  // Someone is at C-1001's door right now (the official line's case).
  const fiveMinutesAgo = new Date(Date.now() - 5 * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  server(["visit", ...org, "add", "--ref", "V-3", "--agent", "A-0204", "--customer", "C-1001", "--start", fiveMinutesAgo, "--purpose", "collect_card"]);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  serving = spawn(SERVER_BIN, ["serve", "--listen", `127.0.0.1:${port}`], { env, stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/console/`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await launchChromium(chromium);
});

after(async () => {
  await browser?.close();
  serving?.kill();
  rmSync(work, { recursive: true, force: true });
});

const screen = (page, name) => screenshot(page, SCREENS_DIR, name);

const axeViolations = (page) => checkAxe(page, AXE);

async function newPage(context) {
  const page = await context.newPage();
  await page.clock.setFixedTime(new Date(PAGE_NOW));
  return page;
}

async function signIn(context, username, password) {
  const page = await newPage(context);
  await page.goto(`${base}/console/`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Today's visits" }).waitFor();
  return page;
}

test("an admin signs in, sees the day's visits change without a reload, and the audit log", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-GB" });
  const page = await newPage(context);
  const response = await page.goto(`${base}/console/`);
  const csp = response.headers()["content-security-policy"];
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "01-sign-in");

  await page.getByLabel("Username").fill("ada");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "The username or the password is wrong." }).waitFor();

  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Today's visits" }).waitFor();
  const row = (ref) => page.locator(`tr[data-visit="${ref}"]`);
  await row("V-1").getByText("Scheduled").waitFor();
  await row("V-2").getByText("Scheduled").waitFor();
  // The session cookie is not readable by the page.
  assert.equal(await page.evaluate(() => document.cookie), "");
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "02-today");

  // The office cancels V-2 elsewhere: the list shows it within its refresh.
  server(["visit", "--org", ORG, "cancel", "--ref", "V-2"]);
  await row("V-2").getByText("Cancelled").waitFor({ timeout: 15_000 });
  // Filters go to the server; the rows follow.
  await page.getByLabel("State").selectOption("cancelled");
  await row("V-1").waitFor({ state: "detached" });
  assert.equal(await page.locator("tbody tr[data-visit]").count(), 1);
  await page.getByLabel("State").selectOption("");
  await row("V-1").waitFor();
  await page.getByLabel("Agent").selectOption("A-0117");
  await row("V-2").waitFor({ state: "detached" });
  assert.deepEqual(await page.locator("tbody tr[data-visit]").evaluateAll((rows) => rows.map((r) => r.dataset.visit)), ["V-1"]);

  await page.getByRole("link", { name: "Audit log" }).click();
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
  // The entries arrive after the heading; read them once the first has rendered.
  await page.locator("tbody tr td:nth-child(3)").first().waitFor();
  const actions = await page.locator("tbody tr td:nth-child(3)").allTextContents();
  assert.equal(actions[0], "sign_in", actions.join());
  assert.equal(actions.filter((a) => a === "staff_added").length, 3, actions.join());
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "03-audit");

  await page.getByRole("link", { name: "Staff" }).click();
  await page.getByLabel("Username").fill("olga");
  await page.getByLabel("Name", { exact: true }).fill("Olga Operator");
  await page.getByLabel("Role").selectOption("operator");
  await page.getByLabel("Password").fill("operator pass phrase");
  await page.getByRole("button", { name: "Add" }).click();
  await page.getByRole("status").filter({ hasText: "Olga Operator added." }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "04-staff");
  const olga = page.locator("tr", { hasText: "Olga Operator" });
  await olga.getByRole("button", { name: "Disable" }).click();
  await olga.getByRole("button", { name: "Yes, disable" }).click();
  await page.getByRole("status").filter({ hasText: "olga disabled; their sessions ended." }).waitFor();
  await olga.getByText("Disabled").waitFor();

  await page.getByRole("link", { name: "Organisation" }).click();
  await page.getByText("+31 20 555 0100").waitFor();
  await page.getByLabel("Days personal data is kept after a visit").fill("45");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "Settings saved." }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "13-organisation");

  await page.getByRole("link", { name: "Exports" }).click();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download CSV" }).click(),
  ]);
  assert.equal(download.suggestedFilename(), "doorstep-results.csv");
  const exported = readFileSync(await download.path(), "utf8");
  assert.match(exported, /^visit_ref,staff_ref,customer_ref,/);
  await page.getByRole("button", { name: "Run the purge now" }).click();
  await page.getByText("0 customer(s) and 0 report text(s) erased.").waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "08-exports");

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await context.close();
});

test("a planner sees neither the audit log nor staff, and the server refuses them too", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await signIn(context, "piet", PLANNER_PASSWORD);
  assert.equal(await page.getByRole("link", { name: "Audit log" }).count(), 0);
  assert.equal(await page.getByRole("link", { name: "Staff" }).count(), 0);
  const status = await page.evaluate(async () => (await fetch("/console/api/audit")).status);
  assert.equal(status, 403);

  // A CSV import with one bad row stores nothing and names the line; fixed, it goes in whole.
  await page.getByRole("link", { name: "Plan visits" }).click();
  const start = new Date(Date.now() + 2 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const header = "visit_ref,staff_ref,customer_ref,window_start,window_minutes,purpose,checks,fields";
  const good = `V-10,A-0117,C-1001,${start},60,new_card,device_key,full_name`;
  const bad = `V-11,A-9999,C-1002,${start},60,card_reader,device_key,full_name`;
  await page.getByLabel("Or paste the CSV").fill(`${header}\n${good}\n${bad}\n`);
  await page.getByRole("button", { name: "Import" }).click();
  await page.getByText("Nothing was imported. Fix these lines and import again:").waitFor();
  const rows = await page.locator(".row-errors li").allTextContents();
  assert.equal(rows.length, 1, rows.join());
  assert.match(rows[0], /^line 3: /);
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "07-import-refused");
  await page.getByLabel("Or paste the CSV").fill(`${header}\n${good}\n${bad.replace("A-9999", "A-0204")}\n`);
  await page.getByRole("button", { name: "Import" }).click();
  await page.getByText("2 visit(s) imported.").waitFor();
  await page.getByLabel("Visit reference").fill("V-11");
  await page.getByRole("button", { name: "Cancel the visit" }).click();
  await page.getByText("Visit V-11 cancelled.").waitFor();
  const listed = server(["visit", "--org", ORG, "list"]);
  assert.match(listed, /V-10/);
  assert.match(listed, /V-11/);
  await context.close();
});

test("the console speaks Dutch", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await signIn(context, "ada", ADMIN_PASSWORD);
  await page.getByLabel("Language").selectOption("nl");
  await page.getByRole("heading", { name: "Bezoeken van vandaag" }).waitFor();
  await page.locator('tr[data-visit="V-2"]').getByText("Geannuleerd").waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), "nl");
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "05-today-nl");
  await context.close();
});

test("the operator tells a caller who is booked at their door, and confirms the visit by phone", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${base}/console/`);
  await page.getByLabel("Username").fill("otto");
  await page.getByLabel("Password").fill(OPERATOR_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: "Official line" }).click();
  assert.equal(await page.getByRole("link", { name: "Audit log" }).count(), 0);

  await page.getByLabel("Customer reference").fill("C-1002");
  await page.getByRole("button", { name: "Look up" }).click();
  await page.getByText("No agent of ours is booked at this customer's door now.").waitFor();

  await page.getByLabel("Customer reference").fill("C-1001");
  await page.getByRole("button", { name: "Look up" }).click();
  await page.getByText("An agent is booked at this customer's door now:").waitFor();
  await page.getByText("Joost Bakker").first().waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await page.getByRole("button", { name: "Confirm by phone" }).click();
  const digits = await page.locator(".reference .digits").textContent();
  assert.match(digits, /^\d{4} \d{4}$/);
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "06-official-line");

  await page.getByRole("link", { name: "Reports" }).click();
  await page.getByRole("heading", { name: "Reports from phones" }).waitFor();
  await page.getByText("No reports.").waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await context.close();
});

/** The typed code printed in an enrolment letter (its text is not compressed). */
function codeInLetter(pdf) {
  const match = pdf.toString("latin1").match(/\/F3 [\d.]+ Tf [\d. ]+ Td \(([A-Z0-9-]+)\) Tj/);
  assert.ok(match, "the letter has a typed code");
  return match[1];
}

/** `date` as a datetime-local field takes it, in the browser's (and this process's) zone. */
function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

async function downloadLetter(page, row) {
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    row.getByRole("button", { name: "Print enrolment letter" }).click(),
  ]);
  const pdf = readFileSync(await download.path());
  assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
  return { name: download.suggestedFilename(), code: codeInLetter(pdf) };
}

test("a planner enrols an agent and a customer by letter, books a visit, watches it go verified as the phones sync, and revokes the phone", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-GB" });
  // The real clock: the phones meet at the door now.
  const page = await context.newPage();
  await page.goto(`${base}/console/`);
  await page.getByLabel("Username").fill("piet");
  await page.getByLabel("Password").fill(PLANNER_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Today's visits" }).waitFor();

  await page.getByRole("link", { name: "Agents" }).click();
  await page.getByLabel("Agent's staff reference").fill("A-0300");
  await page.getByLabel("Name", { exact: true }).fill("Mira Jansen");
  await page.getByLabel(/^Photo customers will see/).setInputFiles(AGENT_PHOTO);
  await page.getByRole("button", { name: "Add" }).click();
  await page.getByRole("status").filter({ hasText: "Mira Jansen added." }).waitFor();
  const agentRow = page.locator('tr[data-agent="A-0300"]');
  await agentRow.getByText("No phone enrolled").waitFor();
  const agentLetter = await downloadLetter(page, agentRow);
  assert.equal(agentLetter.name, "enrolment-letter-A-0300.pdf");

  await page.getByRole("link", { name: "Customers" }).click();
  await page.getByRole("button", { name: "Add a customer" }).click();
  await page.getByLabel("Customer reference").fill("C-3000");
  await page.getByLabel("Full name").fill("Kees Visser");
  await page.getByLabel("Phone number", { exact: true }).fill("+31 6 5555 0300");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "Customer C-3000 saved." }).waitFor();
  await page.getByLabel("Reference or phone number").fill("06-5555 0300");
  await page.getByRole("button", { name: "Look up" }).click();
  const customerRow = page.locator('tr[data-customer="C-3000"]');
  await customerRow.getByText("Kees Visser").waitFor();
  assert.equal(await page.locator("tr[data-customer]").count(), 1);
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "11-customers");
  const customerLetter = await downloadLetter(page, customerRow);
  assert.notEqual(customerLetter.code, agentLetter.code);

  await page.getByRole("link", { name: "Plan visits" }).click();
  await page.getByLabel("New visit's reference").fill("V-300");
  await page.getByLabel("Agent's staff reference").fill("A-0300");
  await page.getByLabel("Customer reference").fill("C-3000");
  await page.getByLabel("Start").fill(localInput(new Date(Date.now() - 5 * 60_000)));
  await page.getByLabel("Minutes").fill("90");
  await page.getByLabel("Purpose").fill("new_card");
  await page.getByLabel("Card handover").check();
  await page.getByRole("button", { name: "Book", exact: true }).click();
  await page.getByRole("status").filter({ hasText: "Visit V-300 booked." }).waitFor();
  assert.deepEqual(await axeViolations(page), []);

  await page.getByRole("link", { name: "Today" }).click();
  const row = page.locator('tr[data-visit="V-300"]');
  await row.getByText("Scheduled").waitFor();
  // The phones enrol with the letters' codes, meet at the door and sync; the customer's
  // phone also reports the visitor. The open page follows without a reload.
  const pins = join(work, "pins.json");
  server(["pins", "--org", ORG, "--public-url", base, "--out", pins]);
  execFileSync(PHONES_BIN, ["phones", "--dir", join(work, "phones"), "--pins", pins,
    "--agent-code", agentLetter.code, "--customer-code", customerLetter.code,
    "--report", "The visitor asked for my PIN"], { encoding: "utf8" });
  await row.getByText("Verified", { exact: true }).waitFor({ timeout: 15_000 });
  assert.equal(await row.locator("td").last().textContent(), "1", "one report about it");

  await row.getByRole("link", { name: "V-300" }).click();
  await page.getByRole("heading", { name: "Visit V-300" }).waitFor();
  const receipt = page.locator('article[data-receipt="verified"]');
  for (const who of ["Signed by the agent's device", "Signed by the customer's device", "Countersigned by the back-office"]) {
    await receipt.getByText(who).waitFor();
  }
  assert.equal(await receipt.locator("code.hex").count(), 4, "transcript and three signatures");
  assert.equal(await receipt.getByText("Not signed").count(), 0);
  await page.locator("article[data-ticket]").getByText("Signed by the organisation").waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "09-visit");

  await page.getByRole("link", { name: "Agents" }).click();
  const device = agentRow.locator(".device");
  await device.getByText(/last sync/).waitFor();
  await device.getByText("key: software key, not attested").waitFor();
  await device.getByRole("button", { name: "Revoke phone" }).click();
  await device.getByRole("button", { name: "Yes, revoke this phone" }).click();
  await page.getByRole("status").filter({ hasText: "The phone is revoked" }).waitFor();
  await device.getByText(/revoked/).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "10-agents");
  await context.close();

  // The operator handles the customer's report.
  const operatorContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const operator = await operatorContext.newPage();
  await operator.goto(`${base}/console/`);
  await operator.getByLabel("Username").fill("otto");
  await operator.getByLabel("Password").fill(OPERATOR_PASSWORD);
  await operator.getByRole("button", { name: "Sign in" }).click();
  await operator.getByRole("link", { name: "Reports" }).click();
  const report = operator.locator("tr", { hasText: "The visitor asked for my PIN" });
  await report.getByText("Customer C-3000").waitFor();
  await report.getByRole("button", { name: "Called back" }).click();
  await report.getByRole("button", { name: "Close" }).click();
  await report.waitFor({ state: "detached" });
  await operator.getByLabel("Show closed reports").check();
  await report.getByText("Closed").waitFor();
  assert.deepEqual(await axeViolations(operator), []);
  await operatorContext.close();

  // The customer asks to be forgotten: their data goes, the receipts stay, and why is shown.
  const again = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const planner = await signIn(again, "piet", PLANNER_PASSWORD);
  await planner.getByRole("link", { name: "Customers" }).click();
  await planner.getByLabel("Reference or phone number").fill("C-3000");
  await planner.getByRole("button", { name: "Look up" }).click();
  const erasable = planner.locator('tr[data-customer="C-3000"]');
  await erasable.getByRole("button", { name: "Erase on request" }).click();
  await erasable.getByRole("button", { name: "Yes, erase their data" }).click();
  await planner.getByRole("heading", { name: "Customer C-3000's personal data is erased" }).waitFor();
  await planner.getByText("The receipts of past visits").waitFor();
  await erasable.getByText(/^erased/).waitFor();
  assert.equal(await erasable.getByText("Kees Visser").count(), 0);
  assert.deepEqual(await axeViolations(planner), []);
  await screen(planner, "12-erased");
  await again.close();

  const admin = await signIn(await browser.newContext(), "ada", ADMIN_PASSWORD);
  await admin.getByRole("link", { name: "Audit log" }).click();
  await admin.getByRole("heading", { name: "Audit log" }).waitFor();
  await admin.locator("tbody tr td:nth-child(3)").first().waitFor();
  const actions = await admin.locator("tbody tr td:nth-child(3)").allTextContents();
  for (const action of ["staff_added", "staff_disabled", "settings_changed", "visits_imported", "visit_cancelled", "visit_confirmed_by_phone", "export", "purge",
    "agent_added", "enrolment_letter", "customer_added", "visit_booked", "device_revoked", "report_handled", "customer_erased"]) {
    assert.ok(actions.includes(action), `${action} in ${actions.join()}`);
  }
});

test("a session planted before sign-in is worthless, and wrong passwords throttle sign-in", async () => {
  // A session id the attacker chose, planted in the victim's browser before they sign in.
  const chosen = "ab".repeat(32);
  const victim = await browser.newContext();
  await victim.addCookies([{ name: "doorstep_console", value: chosen, domain: "127.0.0.1", path: "/console" }]);
  const page = await signIn(victim, "ada", ADMIN_PASSWORD);
  await page.getByText("Ada Admin").waitFor();
  const jar = await victim.cookies();
  assert.equal(jar.length, 1, "the server's cookie replaced the planted one");
  const [fresh] = jar;
  assert.equal(fresh.name, "doorstep_console");
  assert.ok(fresh.httpOnly && fresh.secure && fresh.sameSite === "Strict");
  assert.notEqual(fresh.value, chosen, "signing in starts a session of the server's choosing");
  const attacker = await browser.newContext();
  await attacker.addCookies([{ name: "doorstep_console", value: chosen, domain: "127.0.0.1", path: "/console" }]);
  const attackerPage = await attacker.newPage();
  await attackerPage.goto(`${base}/console/`);
  await attackerPage.getByRole("heading", { name: "Sign in" }).waitFor();
  const status = await attackerPage.evaluate(async () => (await fetch("/console/api/session")).status);
  assert.equal(status, 401, "the planted id opens nothing");
  await victim.close();
  await attacker.close();

  // Last in this file: 20 failures from one address throttle every sign-in from it.
  const context = await browser.newContext();
  const login = await newPage(context);
  await login.goto(`${base}/console/`);
  // One sign-in through the form; the answer the page shows for it.
  const attempt = async (password) => {
    await login.getByLabel("Password").fill(password);
    const [response] = await Promise.all([
      login.waitForResponse((r) => r.url().endsWith("/console/api/session") && r.request().method() === "POST"),
      login.getByRole("button", { name: "Sign in" }).click(),
    ]);
    const shown = login.getByRole("alert").filter({ hasText: /\S/ }).first();
    await shown.waitFor();
    return { status: response.status(), text: (await shown.textContent()).trim() };
  };
  const answers = [];
  for (let i = 0; i < 20; i++) {
    await login.getByLabel("Username").fill(i < 5 ? "piet" : `nobody-${i}`);
    answers.push(await attempt(`wrong password ${i}`));
  }
  assert.deepEqual(answers.slice(0, 5).map((a) => a.status), [401, 401, 401, 401, 401]);
  assert.equal(answers.at(-1).status, 429, "the address has had its 20");
  assert.equal(answers[0].text, "The username or the password is wrong.");
  await login.getByLabel("Username").fill("piet");
  const right = await attempt(PLANNER_PASSWORD);
  assert.equal(right.status, 429, "the right password too, once throttled");
  assert.match(right.text, /^Too many failed attempts\. Try again in \d+ seconds\.$/);
  await login.getByLabel("Username").fill("ada");
  assert.equal((await attempt(ADMIN_PASSWORD)).status, 429, "the address is throttled for everyone");
  assert.deepEqual(await axeViolations(login), []);
  await context.close();
});
