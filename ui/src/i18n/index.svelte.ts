// Every string the views show comes from here. The language follows the system until the
// person picks one; the choice is remembered on the device.
import { en, type Key } from "./en";
import { nl } from "./nl";
import { sv } from "./sv";
import { pl } from "./pl";

export const catalogues = { en, nl, sv, pl } as const;
export type Locale = keyof typeof catalogues;
export const localeNames: Record<Locale, string> = {
  en: "English",
  nl: "Nederlands",
  sv: "Svenska",
  pl: "Polski",
};

const STORAGE_KEY = "doorstep.locale";

export function systemLocale(languages: readonly string[]): Locale {
  for (const tag of languages) {
    const base = tag.toLowerCase().split("-")[0];
    if (base in catalogues) return base as Locale;
  }
  return "en";
}

function initialLocale(): Locale {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
  if (saved && saved in catalogues) return saved as Locale;
  return systemLocale(globalThis.navigator?.languages ?? []);
}

export const i18n = $state({ locale: initialLocale() });

export function setLocale(locale: Locale) {
  i18n.locale = locale;
  globalThis.localStorage?.setItem(STORAGE_KEY, locale);
  document.documentElement.lang = locale;
}

/// `{count, plural, one {# day} other {# days}}` picks the form the language's plural rules
/// give for the number (Polish has one, few and many); `#` is the number.
const PLURAL = /\{(\w+), plural,((?:\s*\w+ \{[^{}]*\})+)\s*\}/g;

function plural(locale: Locale, value: number, forms: string): string {
  const options = new Map<string, string>();
  for (const m of forms.matchAll(/(\w+) \{([^{}]*)\}/g)) options.set(m[1], m[2]);
  const category = new Intl.PluralRules(locale).select(value);
  const form = options.get(category) ?? options.get("other") ?? "";
  return form.replace(/#/g, new Intl.NumberFormat(locale).format(value));
}

export function t(key: Key, params: Record<string, string | number> = {}): string {
  const locale = i18n.locale;
  const text: string = catalogues[locale][key] ?? en[key];
  return text
    .replace(PLURAL, (_, name: string, forms: string) => plural(locale, Number(params[name] ?? 0), forms))
    .replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}

/// Keys are built from the core's names (`field_full_name`, `err_wrong_visit`); an unknown
/// name falls back to the name itself rather than an empty label.
/// A visit's purpose may be a catalogue key (`new_card`): shown in the person's language; any
/// other text is the office's own words, shown as written.
export function tName(prefix: "field" | "check" | "status" | "purpose", name: string): string {
  const key = `${prefix}_${name}`;
  return key in en ? t(key as Key) : name;
}

export function time(seconds: number): string {
  return new Intl.DateTimeFormat(i18n.locale, { hour: "2-digit", minute: "2-digit" }).format(
    new Date(seconds * 1000),
  );
}

/// A visit's window in the person's language: "Thu 3 Dec, 10:00 – 12:00", the date once.
export function windowRange(start: number, end: number): string {
  const format = new Intl.DateTimeFormat(i18n.locale, {
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
  return format.formatRange(new Date(start * 1000), new Date(end * 1000));
}

export function dateTime(seconds: number): string {
  return new Intl.DateTimeFormat(i18n.locale, {
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  }).format(new Date(seconds * 1000));
}
