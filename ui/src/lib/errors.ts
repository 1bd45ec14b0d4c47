import type { DeviceError } from "./api";
import { ERROR_KINDS } from "./bindings";
import type { Key } from "../i18n/en";
import { t } from "../i18n/index.svelte";

const rustKinds: ReadonlySet<string> = new Set(ERROR_KINDS);

/// The error in the person's language. Every kind the Rust side reports has its own text in
/// every catalogue (a test makes sure); the views' own failures name what went wrong.
export function explain(error: DeviceError): string {
  if (rustKinds.has(error.kind)) return t(`err_${error.kind}` as Key, { message: error.message });
  if (error.transient) return t("err_network");
  return t("err_other", { message: error.message });
}
