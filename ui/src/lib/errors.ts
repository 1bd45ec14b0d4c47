import type { DeviceError } from "./api";
import { en, type Key } from "../i18n/en";
import { t } from "../i18n/index.svelte";

/// The error in the person's language: by its kind when the catalogue knows it, a network
/// message for anything transient, else the English sentence the core wrote.
export function explain(error: DeviceError): string {
  const key = `err_${error.kind}`;
  if (key in en) return t(key as Key);
  if (error.transient) return t("err_network");
  return t("err_other", { message: error.message });
}
