// What the console's and the verification page's browser tests share: a free port, Debian's
// Chromium as this machine's closed network wants it started, screenshots, and axe-core's
// WCAG 2.2 AA check. Each suite passes in its own playwright-core and axe-core.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:net";

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Debian's Chromium, without the background connections this closed network refuses. */
export function launchChromium(chromium) {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** The whole page as `dir/name.png`, when a screens folder was asked for. */
export async function screenshot(page, dir, name) {
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** axe-core's WCAG 2.0–2.2 A and AA violations on the page, as "rule: targets". */
export async function axeViolations(page, axeSource) {
  // Evaluated through the driver: the page's own policy rightly refuses inline scripts.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    globalThis.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] } }),
  );
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
