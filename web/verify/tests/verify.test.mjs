// The verification page for a customer without the app, in a real Chromium (Debian's, driven
// by playwright-core) with a phone's viewport, against a real doorstep-server on a fresh SQLite
// file. The agents' codes come from their phones as the device crate makes them
// (`doorstep page-pass`), opened as the URLs they hold: a real visit checked to the end in
// four languages; an old, cancelled, revoked, altered and foreign code each ending red with its
// reason and the official number; axe-core finding no WCAG 2.2 AA violation; the endpoint's
// limit; and the bytes and time of a load on a throttled mobile link.
// SERVER_BIN and PHONES_BIN name the binaries (default: the workspace's debug build);
// SCREENS_DIR keeps screenshots.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { freePort, launchChromium, screenshot, axeViolations as checkAxe } from "../../browser-tests.mjs";
import { WORDS } from "../i18n.js";
import { Session, sleep } from "../../../tests/e2e/webdriver.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../../..");
const SERVER_BIN = process.env.SERVER_BIN ?? join(root, "target/debug/doorstep-server");
const PHONES_BIN = process.env.PHONES_BIN ?? join(root, "target/debug/doorstep");
const AGENT_PHOTO = join(root, "tests/e2e/fixtures/agent.png");
const SCREENS_DIR = process.env.SCREENS_DIR;
const AXE = readFileSync(join(here, "../node_modules/axe-core/axe.min.js"), "utf8");
const ORG = "Northbank Cards";
const PHONE = "+31 20 555 0100";
// WebKit, the engine of Safari on every iPhone: WebKitGTK's MiniBrowser through WebKitWebDriver
// (both come with the app's WebKit), under a display. `make verify-e2e` sets VERIFY_WEBKIT=1.
const WEBKIT = process.env.VERIFY_WEBKIT === "1";
const MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
const PHONE_VIEWPORT = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

const work = mkdtempSync(join(tmpdir(), "doorstep-verify-"));
const servers = [];
let browser;
let base;
let foreignBase;


/** A back-office of its own: a database, a key directory, an organisation, a running server. */
async function backOffice(name, org, phone) {
  const dir = join(work, name);
  mkdirSync(join(dir, "keys"), { recursive: true });
  const env = { ...process.env, DOORSTEP_DATABASE_URL: `sqlite:${join(dir, "backoffice.db")}`, DOORSTEP_KEY_DIR: join(dir, "keys") };
  const run = (args) => execFileSync(SERVER_BIN, args, { env, encoding: "utf8" });
  run(["init", "--name", org, "--official-phone", phone]);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  servers.push(spawn(SERVER_BIN, ["serve", "--listen", `127.0.0.1:${port}`, "--public-url", url], { env, stdio: "ignore" }));
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/v1/openapi.json`)).status < 500) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  const pins = join(dir, "pins.json");
  run(["pins", "--org", org, "--public-url", url, "--out", pins]);
  return { dir, run, url, pins, org: ["--org", org] };
}

/** An agent with a visit booked now, whose phone enrols and syncs. */
function agentWithVisit(office, ref, name, visit) {
  office.run(["agent", ...office.org, "add", "--staff-ref", ref, "--name", name, "--on-behalf-of", "Northbank Card Services", "--photo", AGENT_PHOTO]);
  office.run(["customer", ...office.org, "add", "--ref", `C-${ref}`, "--data", "full_name=Jan Jansen"]);
  const tenMinutesAgo = new Date(Date.now() - 10 * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  office.run(["visit", ...office.org, "add", "--ref", visit, "--agent", ref, "--customer", `C-${ref}`, "--start", tenMinutesAgo, "--purpose", "new_card",
    "--checks", "identity_document card_handover", "--fields", "full_name card_last_four"]);
  const code = office.run(["enrol-code", ...office.org, "--role", "agent", "--for", ref, "--public-url", office.url]).match(/Enrolment code for \S+ \(agent\): (\S+)/)[1];
  const dir = join(office.dir, `phone-${ref}`);
  pagePass(office, dir, ["--agent-code", code]);
  return dir;
}

/** The agent's phone shows its code: the URL and the six digits to read aloud. */
function pagePass(office, dir, extra = []) {
  const out = execFileSync(PHONES_BIN, ["page-pass", "--dir", dir, "--pins", office.pins, ...extra], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return out.trim();
}

let office;
const phones = {};
let webkitDriver;

before(async () => {
  office = await backOffice("northbank", ORG, PHONE);
  base = office.url;
  phones.real = agentWithVisit(office, "A-0117", "Sanne de Vries", "V-1");
  phones.recorded = agentWithVisit(office, "A-0412", "Ruben Smit", "V-4");
  phones.cancelled = agentWithVisit(office, "A-0204", "Joost Bakker", "V-2");
  phones.revoked = agentWithVisit(office, "A-0305", "Mira Jansen", "V-3");
  const foreign = await backOffice("southbank", "Southbank Loans", "+31 10 555 0199");
  foreignBase = foreign.url;
  phones.foreign = agentWithVisit(foreign, "S-1", "Tom Visser", "S-V-1");
  phones.foreignOffice = foreign;
  browser = await launchChromium(chromium);
  if (WEBKIT) {
    const port = await freePort();
    webkitDriver = spawn("WebKitWebDriver", [`--port=${port}`], { stdio: "ignore" });
    servers.push(webkitDriver);
    for (let i = 0; i < 100; i++) {
      try {
        await fetch(`http://127.0.0.1:${port}/status`);
        break;
      } catch {}
      await sleep(100);
    }
    webkitDriver.url = `http://127.0.0.1:${port}`;
  }
});

after(async () => {
  await browser?.close();
  for (const s of servers) s.kill();
  rmSync(work, { recursive: true, force: true });
});

const screen = (page, name) => screenshot(page, SCREENS_DIR, name);

const axeViolations = (page) => checkAxe(page, AXE);

async function phonePage(locale = "en-GB") {
  const context = await browser.newContext({ ...PHONE_VIEWPORT, locale });
  return context.newPage();
}

/** The URL the agent's phone shows, with the six digits it shows beside it. */
function showCode(dir, extra = []) {
  return pagePass(office, dir, extra);
}

function showCodeWithDigits(dir) {
  const result = spawnSyncText(PHONES_BIN, ["page-pass", "--dir", dir, "--pins", office.pins]);
  const digits = result.stderr.match(/read aloud: (\d{3} \d{3})/)[1];
  return { url: result.stdout.trim(), digits };
}

function spawnSyncText(bin, args) {
  const r = spawnSync(bin, args, { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r;
}

async function expectStop(page, reason) {
  const stop = page.locator('[data-screen="stop"]');
  await stop.waitFor();
  assert.equal(await stop.getAttribute("data-reason"), reason);
  const call = stop.locator("a.call");
  assert.equal(await call.getAttribute("href"), "tel:+31205550100");
  return stop;
}

test("a real visit: the photo, who, when, what they may see; the photo question, the read-aloud code, and the receipt", async () => {
  const { url, digits } = showCodeWithDigits(phones.real);
  assert.match(url, /^HTTP:\/\/127\.0\.0\.1:\d+\/V\/[0-9A-Z$*+:-]+$/, "capitals only, for a QR's alphanumeric mode");
  const page = await phonePage();
  const response = await page.goto(url);
  const headers = response.headers();
  assert.match(headers["content-security-policy"], /script-src 'self' 'wasm-unsafe-eval'/);
  assert.match(headers["content-security-policy"], /connect-src 'self'/);
  assert.match(headers["content-security-policy"], /style-src 'sha256-[A-Za-z0-9+/]+=*';/, "the inlined style sheet, by its hash only");
  assert.equal(headers["set-cookie"], undefined);
  const who = page.locator('[data-screen="who"]');
  await who.waitFor();
  await who.getByText("Sanne de Vries").waitFor();
  await who.getByText(`Northbank Card Services · on behalf of ${ORG}`).waitFor();
  await who.getByText("Hand over your new card").waitFor();
  await who.getByRole("img", { name: `Photo of Sanne de Vries, signed by ${ORG}` }).waitFor();
  assert.ok(await who.locator("img.photo").evaluate((img) => img.naturalWidth > 0), "the photo draws");
  await who.getByRole("heading", { name: "What this person may see about you" }).waitFor();
  assert.deepEqual(await who.locator("ul").first().locator("li").allTextContents(), ["Full name", "Last four digits of the card"]);
  assert.deepEqual(await who.locator("ul").nth(1).locator("li").allTextContents(), ["Identity document", "Card handed over"],
    "the checks the agent makes, without the app's handshake");
  assert.equal(await page.evaluate(() => document.cookie), "");
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "01-who");

  await page.getByRole("button", { name: "Yes, this is them" }).click();
  const compare = page.locator('[data-screen="compare"]');
  await compare.waitFor();
  assert.equal(await compare.locator(".code").textContent(), digits, "the agent's phone shows the same six digits");
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "02-compare");

  await page.getByRole("button", { name: "Same" }).click();
  const real = page.locator('[data-screen="real"]');
  await real.getByRole("heading", { name: "This visit is real" }).waitFor();
  await real.getByText(/Sanne de Vries is visiting on behalf of Northbank Cards/).waitFor();
  const given = page.getByRole("region", { name: "Read this reference to the visitor" });
  const reference = await given.locator("[data-reference]").textContent();
  assert.match(reference, /^\d{4} \d{4}$/);
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "03-real");

  // Reloaded, the page gives the same reference for the same code.
  await page.reload();
  await page.getByRole("button", { name: "Yes, this is them" }).click();
  await page.getByRole("button", { name: "Same" }).click();
  assert.equal(await page.locator("[data-reference]").textContent(), reference);
  await page.context().close();
});

test("the agent's phone records the reference the customer read out; the back-office takes only the one it gave", async () => {
  const { url } = showCodeWithDigits(phones.recorded);
  const page = await phonePage();
  await page.goto(url);
  await page.getByRole("button", { name: "Yes, this is them" }).click();
  await page.getByRole("button", { name: "Same" }).click();
  const reference = await page.locator("[data-reference]").textContent();
  await page.context().close();
  const misheard = reference.replace(/^(\d)/, (d) => String((Number(d) + 1) % 10));
  const refused = spawnSync(PHONES_BIN, ["page-check", "--dir", phones.recorded, "--pins", office.pins, "--reference", misheard], { encoding: "utf8" });
  assert.notEqual(refused.status, 0, "a misheard digit is caught on the phone");
  assert.match(refused.stderr, /reference/i);
  const recorded = spawnSyncText(PHONES_BIN, ["page-check", "--dir", phones.recorded, "--pins", office.pins, "--reference", reference]);
  assert.equal(recorded.stdout.trim(), "checked_on_page; back-office stored 1, rejected 0");
});

test("the person is not the one in the photo, or the codes differ: red, with the official number", async () => {
  const { url } = showCodeWithDigits(phones.real);
  const page = await phonePage();
  await page.goto(url);
  await page.getByRole("button", { name: "No" }).click();
  const stop = await expectStop(page, "person_not_in_photo");
  await stop.getByRole("heading", { name: "Keep the door shut" }).waitFor();
  await stop.getByRole("link", { name: `Call ${ORG}: ${PHONE}` }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "04-not-this-person");

  await page.goto(url);
  await page.getByRole("button", { name: "Yes, this is them" }).click();
  await page.getByRole("button", { name: "Different" }).click();
  await expectStop(page, "codes_differ");
  await page.context().close();
});

test("an old, cancelled, revoked, altered and foreign code each end red with their reason", async () => {
  const page = await phonePage();
  const old = showCode(phones.real, ["--clock-behind-minutes", "20"]);
  await page.goto(old);
  const stop = await expectStop(page, "pass_too_old");
  await stop.getByText("This code is old. A real visitor's phone shows a fresh one.").waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await screen(page, "05-old-code");

  const cancelled = showCode(phones.cancelled);
  office.run(["visit", ...office.org, "cancel", "--ref", "V-2"]);
  await page.goto(cancelled);
  (await expectStop(page, "cancelled")).getByText("This visit was cancelled.");

  const revoked = showCode(phones.revoked);
  office.run(["agent", ...office.org, "revoke", "--staff-ref", "A-0305"]);
  await page.goto(revoked);
  await (await expectStop(page, "agent_revoked")).getByText(`This person may no longer visit on behalf of ${ORG}.`).waitFor();

  // One character of the signature changed: the back-office will not even say the visit exists.
  const real = showCode(phones.real);
  const last = real.at(-1) === "0" ? "1" : "0";
  await page.goto(real.slice(0, -1) + last);
  const altered = page.locator('[data-screen="stop"]');
  await altered.waitFor();
  assert.ok(["unknown_pass", "malformed_code"].includes(await altered.getAttribute("data-reason")));

  // Another organisation's agent, whose code is opened on this organisation's page.
  const foreign = pagePass(phones.foreignOffice, phones.foreign);
  const path = new URL(foreign).pathname;
  await page.goto(`${base}${path}`);
  await (await expectStop(page, "unknown_pass")).getByText(`This code does not belong to any visit of ${ORG}.`).waitFor();
  await screen(page, "06-foreign");

  // Not a code at all.
  await page.goto(`${base}/V/NOT-A-CODE`);
  await expectStop(page, "malformed_code");
  await page.context().close();
});

test("the page speaks English, Dutch, Swedish and Polish, each with every word, and passes axe in each", async () => {
  const keys = Object.keys(WORDS.en).sort();
  for (const lang of ["nl", "sv", "pl"]) assert.deepEqual(Object.keys(WORDS[lang]).sort(), keys, lang);
  const { url } = showCodeWithDigits(phones.real);
  for (const [locale, lang] of [["nl-NL", "nl"], ["sv-SE", "sv"], ["pl-PL", "pl"], ["en-US", "en"]]) {
    const page = await phonePage(locale);
    await page.goto(url);
    await page.locator('[data-screen="who"]').waitFor();
    assert.equal(await page.locator("html").getAttribute("lang"), lang);
    await page.getByRole("heading", { name: WORDS[lang].title }).waitFor();
    await page.getByText(WORDS[lang].question).waitFor();
    await page.getByText(WORDS[lang].purpose_new_card).waitFor();
    assert.deepEqual(await axeViolations(page), [], lang);
    if (lang !== "en") await screen(page, `07-who-${lang}`);
    await page.getByRole("button", { name: WORDS[lang].no, exact: true }).click();
    await page.getByRole("heading", { name: WORDS[lang].stop_title }).waitFor();
    assert.deepEqual(await axeViolations(page), [], `${lang}, red`);
    await page.context().close();
  }
  // The person may switch language on the page.
  const page = await phonePage("en-GB");
  await page.goto(url);
  await page.locator('[data-screen="who"]').waitFor();
  await page.getByRole("button", { name: "Polski" }).click();
  await page.getByRole("heading", { name: WORDS.pl.title }).waitFor();
  assert.equal(await page.locator("html").getAttribute("lang"), "pl");
  await page.context().close();
});

test("in WebKit, Safari's engine, the page checks the visit to the reference and ends red on an altered code", { skip: !WEBKIT && "set VERIFY_WEBKIT=1 under a display (make verify-e2e does)" }, async () => {
  const { url, digits } = showCodeWithDigits(phones.real);
  const session = await Session.open(webkitDriver.url, {
    browserName: "MiniBrowser",
    "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] },
  });
  try {
    await session.cmd("POST", "/window/rect", { width: 390, height: 844 });
    await session.cmd("POST", "/url", { url });
    const who = await session.waitFor('[data-screen="who"]', { text: "Sanne de Vries", timeout: 30000 });
    assert.match(await session.text(who), /Hand over your new card/);
    assert.match(await session.execute("return navigator.userAgent"), /AppleWebKit\/605/);
    assert.equal(await session.execute("return document.querySelector('img.photo').naturalWidth > 0"), true, "the photo draws");
    await session.click('[data-screen="who"] button.yes');
    const code = await session.text(await session.waitFor('[data-screen="compare"] .code'));
    assert.equal(code, digits, "the same six digits as the agent's phone");
    await session.click('[data-screen="compare"] button.yes');
    const reference = await session.text(await session.waitFor("[data-reference]"));
    assert.match(reference, /^\d{4} \d{4}$/);
    if (SCREENS_DIR) writeFileSync(join(SCREENS_DIR, "08-webkit-real.png"), await session.screenPng());

    const altered = url.slice(0, -3) + (url.endsWith("A") ? "BBB" : "AAA");
    await session.cmd("POST", "/url", { url: altered });
    const stop = await session.waitFor('[data-screen="stop"]', { timeout: 30000 });
    assert.match(await session.text(stop), /Keep the door shut/);
    assert.equal(await session.execute(`return document.querySelector('[data-screen="stop"] a.call').getAttribute("href")`), "tel:+31205550100");
  } finally {
    await session.quit();
  }
});

test("on a throttled Fast 3G link with a 4× slower CPU: bytes transferred and the time to the first screen", async () => {
  const { url } = showCodeWithDigits(phones.real);
  const page = await phonePage();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  // Chrome's DevTools "Fast 3G" preset: 1.44 Mbit/s down, 675 kbit/s up, 562.5 ms latency.
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 562.5,
    downloadThroughput: (1.44 * 1024 * 1024) / 8,
    uploadThroughput: (675 * 1024) / 8,
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  let bytes = 0;
  cdp.on("Network.loadingFinished", (e) => {
    bytes += e.encodedDataLength;
  });
  const encodings = {};
  cdp.on("Network.responseReceived", (e) => {
    const name = new URL(e.response.url).pathname.split("/").pop();
    encodings[name] = e.response.headers["content-encoding"] ?? e.response.headers["Content-Encoding"] ?? "none";
  });
  const started = Date.now();
  await page.goto(url);
  await page.locator('[data-screen="who"], [data-screen="stop"]').first().waitFor({ timeout: 60_000 });
  const verdictMs = Date.now() - started;
  assert.equal(await page.locator('[data-screen="stop"]').count(), 0, "the visit is shown");
  // The first screen ("Checking this visit…") is in the page's HTML; the verdict follows the
  // WebAssembly and the back-office's answer.
  const firstPaint = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1);
  console.log(
    `verify page figures: ${bytes} bytes transferred; first screen painted at ${Math.round(firstPaint)} ms, ` +
      `the visit shown ${verdictMs} ms after navigation began (Fast 3G, CPU ×4)`,
  );
  assert.ok(bytes < 300 * 1024, `${bytes} bytes`);
  assert.equal(encodings["doorstep_page_bg.wasm"], "gzip", JSON.stringify(encodings));
  assert.equal(encodings["page.js"], "gzip", JSON.stringify(encodings));
  await page.context().close();
});

test("the endpoint answers an address thirty times a minute, then 429 with Retry-After", async () => {
  const path = new URL(showCode(phones.real)).pathname.slice(3);
  // This test's questions share the address of the ones before; count until refused.
  let status = 200;
  let asked = 0;
  let response;
  while (status !== 429 && asked < 80) {
    response = await fetch(`${base}/verify/api/pass/${path}`);
    status = response.status;
    asked++;
  }
  assert.equal(status, 429, `refused after ${asked} questions`);
  assert.ok(Number(response.headers.get("retry-after")) > 0);
  assert.equal(response.headers.get("set-cookie"), null);
});
