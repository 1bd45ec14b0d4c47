import type { Outcome, VisitLine } from "./api-types";

export type VisitState = "scheduled" | "cancelled" | Outcome;

/** How a visit stands: cancelled, or the outcome of its latest receipt, or still scheduled. */
export function stateOf(line: VisitLine): VisitState {
  if (line.cancelled) return "cancelled";
  return line.outcome ?? "scheduled";
}
