import { describe, expect, it } from "vitest";
import { catalogues, setLocale, systemLocale, t } from "../src/i18n/index.svelte";
import { en } from "../src/i18n/en";
import { ERROR_KINDS } from "../src/lib/bindings";
import { explain } from "../src/lib/errors";

// A plain `{name}` or the number of a `{name, plural, …}`.
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)(?:\}|, plural,)/g)].map((m) => m[1]).sort();

describe("catalogues", () => {
  for (const [locale, catalogue] of Object.entries(catalogues)) {
    it(`${locale} has every English key, no empty text and the same placeholders`, () => {
      expect(Object.keys(catalogue).sort()).toEqual(Object.keys(en).sort());
      for (const [key, text] of Object.entries(catalogue)) {
        expect(text.trim(), key).not.toBe("");
        expect(placeholders(text), key).toEqual(placeholders(en[key as keyof typeof en]));
      }
    });
  }

  // ERROR_KINDS is generated from the Rust side's closed list, so a kind added there without a
  // text here fails this test.
  for (const [locale, catalogue] of Object.entries(catalogues)) {
    it(`${locale} explains every error kind the app can report in its own words`, () => {
      const missing = ERROR_KINDS.filter((kind) => !(`err_${kind}` in catalogue));
      expect(missing).toEqual([]);
      setLocale(locale as keyof typeof catalogues);
      for (const kind of ERROR_KINDS) {
        const text = explain({ kind, message: "(English sentence)", transient: false });
        expect(text, kind).not.toBe(t("err_other", { message: "(English sentence)" }));
      }
      setLocale("en");
    });
  }

  it("follows the system's language, falling back to English", () => {
    expect(systemLocale(["nl-BE", "en"])).toBe("nl");
    expect(systemLocale(["de-DE", "sv-SE"])).toBe("sv");
    expect(systemLocale(["de-DE"])).toBe("en");
  });

  it("switches language and fills placeholders", () => {
    setLocale("pl");
    expect(t("customer_call", { phone: "+48 22 000" })).toBe("Zadzwoń pod oficjalny numer: +48 22 000");
    setLocale("en");
    expect(t("sync_pending", { count: 3 })).toBe("3 waiting to send");
  });

  it("picks each language's plural form for the number", () => {
    const kept = (locale: keyof typeof catalogues, days: number) => {
      setLocale(locale);
      return t("customer_kept", { days });
    };
    try {
      expect(kept("en", 1)).toContain("for 1 day.");
      expect(kept("en", 30)).toContain("for 30 days.");
      expect(kept("nl", 1)).toContain("1 dag.");
      expect(kept("nl", 30)).toContain("30 dagen.");
      expect(kept("sv", 1)).toContain("1 dag framåt");
      expect(kept("sv", 30)).toContain("30 dagar framåt");
      expect(kept("pl", 1)).toContain("przez 1 dzień.");
      expect(kept("pl", 3)).toContain("przez 3 dni.");
      expect(kept("pl", 30)).toContain("przez 30 dni.");
      setLocale("pl");
      expect(t("sync_pending", { count: 1 })).toBe("1 czeka na wysłanie");
      expect(t("sync_pending", { count: 3 })).toBe("3 czekają na wysłanie");
      expect(t("sync_pending", { count: 5 })).toBe("5 czeka na wysłanie");
      expect(t("sync_rejected", { count: 22 })).toContain("odrzuciło 22 wyniki");
      expect(t("sync_rejected", { count: 25 })).toContain("odrzuciło 25 wyników");
      setLocale("nl");
      expect(t("sync_pending", { count: 1 })).toBe("1 wacht op verzending");
      expect(t("sync_pending", { count: 3 })).toBe("3 wachten op verzending");
    } finally {
      setLocale("en");
    }
  });

  it("no text still holds an unfilled placeholder or a plural the rules did not resolve", () => {
    for (const locale of Object.keys(catalogues) as (keyof typeof catalogues)[]) {
      setLocale(locale);
      for (const key of Object.keys(en) as (keyof typeof en)[]) {
        const params = Object.fromEntries(placeholders(en[key]).map((p) => [p, 2]));
        expect(t(key, params), `${locale} ${key}`).not.toMatch(/[{}]/);
      }
    }
    setLocale("en");
  });
});
