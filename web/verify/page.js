// The verification page: fetches where the visit stands and draws what the WebAssembly core
// decided. Every check is in `check` (crates/doorstep-page); this file only asks and draws.

import init, { check } from "/verify/pkg/doorstep_page.js";
import { LANGUAGES, WORDS, reasonKey } from "/verify/i18n.js";

const organisations = JSON.parse(document.getElementById("organisations")?.textContent || "[]");
const screen = document.getElementById("screen");
let lang = pickLanguage();
// What is on screen, drawn again when the language changes.
let current = { name: "checking" };

function pickLanguage() {
  for (const wanted of navigator.languages ?? [navigator.language]) {
    const short = String(wanted).slice(0, 2).toLowerCase();
    if (short in WORDS) return short;
  }
  return "en";
}

function t(key, vars = {}) {
  return WORDS[lang][key].replace(/\{(\w+)\}/g, (_, name) => vars[name] ?? "");
}

/** An element with text (never HTML) and attributes. */
function el(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function button(text, className, onClick) {
  const b = el("button", text, { type: "button", class: className });
  b.addEventListener("click", onClick);
  return b;
}

function fromBase64(text) {
  const raw = atob(text ?? "");
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function photoType(bytes) {
  return bytes[0] === 0x89 && bytes[1] === 0x50 ? "image/png" : "image/jpeg";
}

/** Dates in the browser's own locale when it speaks the page's language (en-GB, not en-US). */
function when(seconds, options) {
  const own = (navigator.languages ?? []).find((l) => String(l).slice(0, 2).toLowerCase() === lang);
  return new Intl.DateTimeFormat(own ?? lang, options).format(new Date(seconds * 1000));
}

function drawLanguages() {
  const nav = document.getElementById("languages");
  nav.replaceChildren(
    ...Object.entries(LANGUAGES).map(([code, name]) => {
      const b = button(name, "", () => {
        lang = code;
        draw();
      });
      b.setAttribute("lang", code);
      b.setAttribute("aria-pressed", String(code === lang));
      return b;
    }),
  );
  nav.setAttribute("aria-label", "Language / Taal / Språk / Język");
}

/** The organisation to call: the one the visit names, or the only one this page serves. */
function whoToCall(answer) {
  if (answer?.organisation) return [{ name: answer.organisation, official_phone: answer.official_phone }];
  return organisations;
}

function heading(text) {
  const h = el("h1", text, { tabindex: "-1" });
  return h;
}

function drawChecking() {
  return [heading(t("checking"))];
}

function drawStop({ reason, answer }) {
  const org = answer?.organisation ?? (organisations.length === 1 ? organisations[0].name : t("this_organisation"));
  const box = el("section", null, { class: "stop", "data-screen": "stop", "data-reason": reason });
  box.append(heading(t("stop_title")), el("p", t(reasonKey(reason), { org }), { class: "reason" }));
  for (const o of whoToCall(answer)) {
    const tel = o.official_phone.replace(/[^+\d]/g, "");
    box.append(el("a", t("call", { org: o.name, phone: o.official_phone }), { class: "call", href: `tel:${tel}` }));
  }
  box.append(el("p", t("call_own")));
  return [box];
}

/** A purpose from the apps' catalogue in the page's language; the office's own words as written. */
function purpose(text) {
  const key = `purpose_${text}`;
  return key in WORDS[lang] ? t(key) : text;
}

function visitDetails(answer, checked) {
  const org = answer.organisation;
  const list = (names, prefix) =>
    names.length === 0 ? el("p", t("nothing")) : (() => {
      const ul = el("ul");
      ul.append(...names.map((n) => el("li", t(`${prefix}_${n}`))));
      return ul;
    })();
  const details = el("dl");
  const start = when(checked.window_start, { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
  const end = when(checked.window_end, { hour: "2-digit", minute: "2-digit" });
  details.append(el("dt", t("when")), el("dd", `${start} – ${end}`), el("dt", t("purpose")), el("dd", purpose(answer.purpose)));
  return [
    el("p", checked.agent_name, { class: "who" }),
    el("p", `${checked.on_behalf_of} · ${t("on_behalf_of", { org })}`, { class: "for" }),
    details,
    el("h2", t("may_see")),
    list(checked.fields, "field"),
    el("h2", t("may_check")),
    list(checked.checks, "check"),
  ];
}

function drawWho({ answer, checked }) {
  const photo = el("img", null, {
    class: "photo",
    src: `data:${photoType(fromBase64(answer.photo))};base64,${answer.photo}`,
    alt: t("photo_alt", { name: checked.agent_name, org: answer.organisation }),
  });
  const section = el("section", null, { "data-screen": "who" });
  const buttons = el("div", null, { class: "buttons" });
  buttons.append(
    button(t("yes"), "yes", () => show({ name: "compare", answer, checked })),
    button(t("no"), "", () => show({ name: "stop", reason: "person_not_in_photo", answer })),
  );
  section.append(heading(t("title")), photo, ...visitDetails(answer, checked), el("p", t("question"), { class: "question" }), buttons);
  return [section];
}

function drawCompare({ answer, checked }) {
  const section = el("section", null, { "data-screen": "compare" });
  const buttons = el("div", null, { class: "buttons" });
  buttons.append(
    button(t("same"), "yes", () => confirm(answer, checked)),
    button(t("different"), "", () => show({ name: "stop", reason: "codes_differ", answer })),
  );
  section.append(
    heading(t("compare_title")),
    el("p", t("compare_text")),
    el("p", checked.spoken_code, { class: "code", "data-code": checked.spoken_code }),
    buttons,
  );
  return [section];
}

/**
 * The customer said the photo and the code match: the back-office checks the pass once more by
 * its own clock and gives the reference the customer reads to the agent, whose receipt
 * carries it.
 */
async function confirm(answer, checked) {
  show({ name: "checking" });
  const pass = location.pathname.replace(/^\/v\//i, "");
  try {
    const response = await fetch(`/verify/api/checked/${pass}`, { method: "POST", cache: "no-store", credentials: "omit" });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || !body.reference) return show({ name: "stop", reason: body.error ?? "failed", answer });
    show({ name: "real", answer, checked, at: answer.now, reference: body.reference });
  } catch {
    show({ name: "stop", reason: "failed", answer });
  }
}

function drawReal({ answer, checked, at, reference }) {
  const org = answer.organisation;
  const banner = el("section", null, { class: "real", "data-screen": "real" });
  const time = when(at, { day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
  banner.append(heading(t("real_title")), el("p", t("real_text", { name: checked.agent_name, org, time })));
  const given = el("section", null, { class: "reference", "aria-labelledby": "reference-title" });
  given.append(
    el("h2", t("reference_title"), { id: "reference-title" }),
    el("p", reference, { class: "code", "data-reference": reference }),
    el("p", t("reference_text", { org })),
  );
  return [banner, given, el("p", t("real_keep"), { class: "note" }), ...visitDetails(answer, checked), el("p", t("real_limit", { org }), { class: "note" })];
}

const DRAW = { checking: drawChecking, stop: drawStop, who: drawWho, compare: drawCompare, real: drawReal };

function draw() {
  document.documentElement.lang = lang;
  document.title = t("title");
  drawLanguages();
  screen.replaceChildren(...DRAW[current.name](current));
}

function show(next) {
  current = next;
  draw();
  screen.querySelector("h1")?.focus();
}

async function run() {
  draw();
  const pass = location.pathname.replace(/^\/v\//i, "");
  let answer;
  try {
    const [, response] = await Promise.all([
      init(),
      fetch(`/verify/api/pass/${pass}`, { cache: "no-store", credentials: "omit" }),
    ]);
    const body = await response.json().catch(() => ({}));
    if (!response.ok) return show({ name: "stop", reason: body.error ?? "failed" });
    answer = body;
  } catch {
    return show({ name: "stop", reason: "failed" });
  }
  const keys = organisations.flatMap((o) => o.keys).join(",");
  const checked = check(location.pathname, fromBase64(answer.ticket), fromBase64(answer.photo), keys, answer.now);
  if (!checked.ok) return show({ name: "stop", reason: checked.reason, answer });
  if (answer.standing !== "booked") return show({ name: "stop", reason: answer.standing, answer });
  show({
    name: "who",
    answer,
    checked: {
      agent_name: checked.agent_name,
      on_behalf_of: checked.on_behalf_of,
      window_start: checked.window_start,
      window_end: checked.window_end,
      fields: checked.fields,
      checks: checked.checks,
      spoken_code: checked.spoken_code,
    },
  });
}

run();
