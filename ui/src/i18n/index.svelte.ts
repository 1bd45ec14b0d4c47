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

export function t(key: Key, params: Record<string, string | number> = {}): string {
  const text: string = catalogues[i18n.locale][key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}

/// Keys are built from the core's names (`field_full_name`, `err_wrong_visit`); an unknown
/// name falls back to the name itself rather than an empty label.
export function tName(prefix: "field" | "check" | "status", name: string): string {
  const key = `${prefix}_${name}`;
  return key in en ? t(key as Key) : name;
}

export function time(seconds: number): string {
  return new Intl.DateTimeFormat(i18n.locale, { hour: "2-digit", minute: "2-digit" }).format(
    new Date(seconds * 1000),
  );
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
