import { ApiError } from "./api";
import { t } from "./i18n.svelte";

/** A sentence for the person, in their language, for whatever a call threw. */
export function describe(e: unknown): string {
  if (e instanceof ApiError) {
    switch (e.kind) {
      case "login_refused":
        return t("err_login_refused");
      case "login_throttled":
        return t("err_login_throttled", { seconds: e.retryAfter ?? 900 });
      case "not_allowed":
        return t("err_not_allowed");
      case "not_signed_in":
        return t("err_not_signed_in");
    }
    return t("err_generic", { message: e.message });
  }
  return t("err_generic", { message: e instanceof Error ? e.message : String(e) });
}
