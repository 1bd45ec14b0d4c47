import type { CodeView, CustomerVisit, VisitTerms } from "../src/lib/api";

export const terms: VisitTerms = {
  visitId: "00112233445566778899aabbccddeeff",
  agentName: "Sanne de Vries",
  onBehalfOf: "Northbank Cards",
  windowStart: 1_795_000_000,
  windowEnd: 1_795_007_200,
  checks: ["device_key", "card_handover"],
  fields: ["full_name", "card_last_four"],
};

export const code = (text: string): CodeView => ({
  text,
  svg: `<svg xmlns="http://www.w3.org/2000/svg" data-text="${text}"></svg>`,
  qrVersion: 9,
});

export const customerVisit: CustomerVisit = {
  terms,
  purpose: "Hand over your new debit card",
  retentionDays: 30,
  organisation: "Northbank Cards",
  photo: null,
};
