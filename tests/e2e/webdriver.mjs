// A minimal W3C WebDriver client (enough to drive the app through tauri-driver, or WebKitGTK's
// MiniBrowser through WebKitWebDriver): sessions,
// elements, clicks, typing, scripts and screenshots. No dependencies.
import { crop, decode, encode } from "./png.mjs";

const ELEMENT = "element-6066-11e4-a52e-4f735a46c9a0";

export class WebDriverError extends Error {}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static start(base, application) {
    return Session.open(base, { "tauri:options": { application } });
  }

  /// A session with these capabilities: the app through tauri-driver, or a browser.
  static async open(base, alwaysMatch) {
    const value = await call(base, "POST", "/session", { capabilities: { alwaysMatch } });
    return new Session(base, value.sessionId);
  }

  cmd(method, path, body) {
    return call(this.base, method, `/session/${this.id}${path}`, body);
  }

  async quit() {
    await this.cmd("DELETE", "").catch(() => {});
  }

  async find(css) {
    const found = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    // WebKitGTK's driver may name the reference differently from the W3C key; keep its name.
    if (found.length > 0) this.elementKey = Object.keys(found[0])[0];
    return found.map((e) => Object.values(e)[0]);
  }

  /// Waits for an element matching `css` (and `predicate` on its text, if given).
  async waitFor(css, { timeout = 15000, text } = {}) {
    const deadline = Date.now() + timeout;
    let last = "";
    while (Date.now() < deadline) {
      for (const id of await this.find(css)) {
        // The element may be replaced between finding and reading it (a bar that changes
        // form while a sync runs): look again.
        last = await this.text(id).catch((e) => {
          if (/stale element/.test(String(e))) return null;
          throw e;
        });
        if (last === null) continue;
        if (!text || last.includes(text)) return id;
      }
      await sleep(100);
    }
    await this.keepScreen(`missing ${css}`);
    throw new WebDriverError(`no element ${css}${text ? ` with text ${JSON.stringify(text)}` : ""} (last text: ${JSON.stringify(last)})`);
  }

  async click(css, options) {
    const id = await this.waitFor(css, options);
    // Out of the sticky header's way, as a person would scroll before tapping.
    await this.execute(`arguments[0].scrollIntoView({ block: "center" })`, [{ [this.elementKey ?? ELEMENT]: id }]);
    await this.cmd("POST", `/element/${id}/click`, {});
  }

  async type(css, text) {
    const id = await this.waitFor(css);
    await this.cmd("POST", `/element/${id}/clear`, {});
    await this.cmd("POST", `/element/${id}/value`, { text });
  }

  text(id) {
    return this.cmd("GET", `/element/${id}/text`);
  }

  attribute(id, name) {
    return this.cmd("GET", `/element/${id}/attribute/${name}`);
  }

  execute(script, args = []) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  /// PNG bytes of one element as the screen shows it: cut from a screenshot of the window.
  async elementPng(css) {
    const id = await this.waitFor(css);
    const rect = await this.cmd("GET", `/element/${id}/rect`);
    const ratio = await this.execute("return window.devicePixelRatio || 1");
    const window = decode(await this.screenPng());
    const r = (v) => v * ratio;
    return encode(crop(window, r(rect.x), r(rect.y), r(rect.width), r(rect.height)));
  }

  /// Keeps what the window showed when a step failed, if E2E_FAILURES_DIR is set.
  async keepScreen(label) {
    const dir = process.env.E2E_FAILURES_DIR;
    if (!dir) return;
    const { mkdirSync, writeFileSync } = await import("node:fs");
    mkdirSync(dir, { recursive: true });
    const name = `${Date.now()}-${label.replace(/[^a-z0-9]+/gi, "_")}.png`;
    writeFileSync(`${dir}/${name}`, await this.screenPng().catch(() => Buffer.alloc(0)));
  }

  async screenPng() {
    return Buffer.from(await this.cmd("GET", "/screenshot"), "base64");
  }

  /// Hands a picture to the file input `css`, as picking the file in a dialog would.
  async chooseFile(css, png, name = "code.png") {
    await this.waitFor(css);
    await this.execute(
      `const [css, b64, name] = arguments;
       const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
       const input = document.querySelector(css);
       const files = new DataTransfer();
       files.items.add(new File([bytes], name, { type: "image/png" }));
       input.files = files.files;
       input.dispatchEvent(new Event("change", { bubbles: true }));`,
      [css, png.toString("base64"), name],
    );
  }
}

async function call(base, method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new WebDriverError(`${method} ${path}: ${response.status} ${JSON.stringify(json.value ?? json)}`);
  }
  return json.value;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
