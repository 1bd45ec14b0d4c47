import { describe, expect, it } from "vitest";
import { catalogues, setLocale, systemLocale, t } from "../src/i18n/index.svelte";
import { en } from "../src/i18n/en";
import { ERROR_KINDS } from "../src/lib/bindings";
import { explain } from "../src/lib/errors";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

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
});
