// The console's words in English and Dutch. Every key exists in both (checked by the type).

const en = {
  brand: "Doorstep console",
  sign_in_title: "Sign in",
  username: "Username",
  password: "Password",
  sign_in: "Sign in",
  signing_in: "Signing in…",
  sign_out: "Sign out",
  language: "Language",
  nav_today: "Today",
  nav_audit: "Audit log",
  nav_staff: "Staff",
  nav_line: "Official line",
  nav_reports: "Reports",
  nav_plan: "Plan visits",
  plan_title: "Plan visits",
  import_title: "Import visits from a CSV file",
  import_help: "One visit per line after the header {header}. Every line is checked; nothing is stored unless all are good.",
  csv_file: "CSV file",
  csv_text: "Or paste the CSV",
  import: "Import",
  imported: "{count} visit(s) imported.",
  import_refused: "Nothing was imported. Fix these lines and import again:",
  cancel_title: "Cancel a visit",
  cancel_help: "Its tickets go on the denylist: phones refuse them after their next sync.",
  visit_ref: "Visit reference",
  cancel_visit: "Cancel the visit",
  cancelled_visit: "Visit {ref} cancelled.",
  reports_title: "Reports from phones",
  show_closed: "Show closed reports",
  col_received: "Received",
  col_from: "From",
  col_reason: "Refused because",
  col_note: "Note",
  from_customer: "Customer {ref}",
  from_agent: "Agent {ref}",
  report_new: "New",
  report_called_back: "Called back",
  report_closed: "Closed",
  mark_called_back: "Called back",
  mark_closed: "Close",
  note_erased: "(erased after the retention period)",
  no_reports: "No reports.",
  line_title: "The official line",
  customer_ref: "Customer reference",
  look_up: "Look up",
  booked_now: "An agent is booked at this customer's door now:",
  nobody_now: "No agent of ours is booked at this customer's door now. Tell the caller to keep the door shut.",
  line_visits: "This customer's visits, from yesterday to next week",
  confirm_by_phone: "Confirm by phone",
  read_reference: "Read this reference to the customer, who reads it to the agent:",
  main_nav: "Main",
  role_admin: "Administrator",
  role_planner: "Planner",
  role_operator: "Operator",
  role_auditor: "Auditor",
  today_title: "Today's visits",
  all_agents: "All agents",
  all_states: "All states",
  filter_agent: "Agent",
  filter_state: "State",
  updated_at: "Updated {time}",
  no_visits: "No visits match.",
  col_window: "Window",
  col_visit: "Visit",
  col_agent: "Agent",
  col_customer: "Customer",
  col_purpose: "Purpose",
  col_state: "State",
  col_reports: "Reports",
  purpose_new_card: "Hand over a new card",
  purpose_card_reader: "Replace a card reader",
  purpose_collect_card: "Collect an old card",
  purpose_identity_check: "Identity check",
  state_scheduled: "Scheduled",
  state_cancelled: "Cancelled",
  state_verified: "Verified",
  state_not_home: "Not home",
  state_refused: "Refused",
  state_failed: "Failed",
  state_suspicious: "Suspicious",
  state_verified_by_office: "Verified by the office",
  audit_title: "Audit log",
  col_when: "When",
  col_who: "Who",
  col_action: "Action",
  col_subject: "Subject",
  col_detail: "Detail",
  older: "Older entries",
  staff_title: "Staff",
  add_staff: "Add a staff member",
  display_name: "Name",
  role: "Role",
  add: "Add",
  added: "{name} added.",
  col_username: "Username",
  col_name: "Name",
  col_role: "Role",
  col_status: "Status",
  active: "Active",
  disabled: "Disabled",
  err_login_refused: "The username or the password is wrong.",
  err_login_throttled: "Too many failed attempts. Try again in {seconds} seconds.",
  err_not_allowed: "Your role does not allow this.",
  err_not_signed_in: "Your session has ended. Sign in again.",
  err_generic: "Something went wrong: {message}",
} as const;

export type Key = keyof typeof en;

const nl: Record<Key, string> = {
  brand: "Doorstep-console",
  sign_in_title: "Inloggen",
  username: "Gebruikersnaam",
  password: "Wachtwoord",
  sign_in: "Inloggen",
  signing_in: "Bezig met inloggen…",
  sign_out: "Uitloggen",
  language: "Taal",
  nav_today: "Vandaag",
  nav_audit: "Auditlog",
  nav_staff: "Medewerkers",
  nav_line: "Officiële lijn",
  nav_reports: "Meldingen",
  nav_plan: "Bezoeken plannen",
  plan_title: "Bezoeken plannen",
  import_title: "Bezoeken importeren uit een CSV-bestand",
  import_help: "Eén bezoek per regel na de kopregel {header}. Elke regel wordt gecontroleerd; er wordt niets opgeslagen tenzij alle regels goed zijn.",
  csv_file: "CSV-bestand",
  csv_text: "Of plak de CSV",
  import: "Importeren",
  imported: "{count} bezoek(en) geïmporteerd.",
  import_refused: "Er is niets geïmporteerd. Verbeter deze regels en importeer opnieuw:",
  cancel_title: "Een bezoek annuleren",
  cancel_help: "De tickets komen op de weigerlijst: telefoons weigeren ze na hun volgende synchronisatie.",
  visit_ref: "Bezoeknummer",
  cancel_visit: "Bezoek annuleren",
  cancelled_visit: "Bezoek {ref} geannuleerd.",
  reports_title: "Meldingen van telefoons",
  show_closed: "Afgesloten meldingen tonen",
  col_received: "Ontvangen",
  col_from: "Van",
  col_reason: "Geweigerd omdat",
  col_note: "Toelichting",
  from_customer: "Klant {ref}",
  from_agent: "Medewerker {ref}",
  report_new: "Nieuw",
  report_called_back: "Teruggebeld",
  report_closed: "Afgesloten",
  mark_called_back: "Teruggebeld",
  mark_closed: "Afsluiten",
  note_erased: "(gewist na de bewaartermijn)",
  no_reports: "Geen meldingen.",
  line_title: "De officiële lijn",
  customer_ref: "Klantnummer",
  look_up: "Opzoeken",
  booked_now: "Er is nu een medewerker ingepland aan de deur van deze klant:",
  nobody_now: "Er is nu geen medewerker van ons ingepland aan de deur van deze klant. Zeg de beller de deur dicht te houden.",
  line_visits: "Bezoeken van deze klant, van gisteren tot volgende week",
  confirm_by_phone: "Telefonisch bevestigen",
  read_reference: "Lees deze referentie voor aan de klant, die hem aan de medewerker voorleest:",
  main_nav: "Hoofdmenu",
  role_admin: "Beheerder",
  role_planner: "Planner",
  role_operator: "Telefonist",
  role_auditor: "Auditor",
  today_title: "Bezoeken van vandaag",
  all_agents: "Alle medewerkers",
  all_states: "Alle statussen",
  filter_agent: "Medewerker",
  filter_state: "Status",
  updated_at: "Bijgewerkt om {time}",
  no_visits: "Geen bezoeken gevonden.",
  col_window: "Tijdvak",
  col_visit: "Bezoek",
  col_agent: "Medewerker",
  col_customer: "Klant",
  col_purpose: "Doel",
  col_state: "Status",
  col_reports: "Meldingen",
  purpose_new_card: "Nieuwe pas overhandigen",
  purpose_card_reader: "Kaartlezer vervangen",
  purpose_collect_card: "Oude pas ophalen",
  purpose_identity_check: "Identiteitscontrole",
  state_scheduled: "Gepland",
  state_cancelled: "Geannuleerd",
  state_verified: "Geverifieerd",
  state_not_home: "Niet thuis",
  state_refused: "Geweigerd",
  state_failed: "Mislukt",
  state_suspicious: "Verdacht",
  state_verified_by_office: "Bevestigd door kantoor",
  audit_title: "Auditlog",
  col_when: "Wanneer",
  col_who: "Wie",
  col_action: "Handeling",
  col_subject: "Onderwerp",
  col_detail: "Details",
  older: "Oudere regels",
  staff_title: "Medewerkers",
  add_staff: "Medewerker toevoegen",
  display_name: "Naam",
  role: "Rol",
  add: "Toevoegen",
  added: "{name} toegevoegd.",
  col_username: "Gebruikersnaam",
  col_name: "Naam",
  col_role: "Rol",
  col_status: "Status",
  active: "Actief",
  disabled: "Uitgeschakeld",
  err_login_refused: "De gebruikersnaam of het wachtwoord klopt niet.",
  err_login_throttled: "Te veel mislukte pogingen. Probeer het over {seconds} seconden opnieuw.",
  err_not_allowed: "Uw rol staat dit niet toe.",
  err_not_signed_in: "Uw sessie is verlopen. Log opnieuw in.",
  err_generic: "Er ging iets mis: {message}",
};

export const LANGUAGES = { en: "English", nl: "Nederlands" } as const;
export type Language = keyof typeof LANGUAGES;
const dictionaries: Record<Language, Record<Key, string>> = { en, nl };

function initial(): Language {
  const saved = globalThis.localStorage?.getItem("doorstep-console-language");
  if (saved === "en" || saved === "nl") return saved;
  return globalThis.navigator?.language?.startsWith("nl") ? "nl" : "en";
}

export const locale = $state({ language: initial() });

export function setLanguage(language: Language) {
  locale.language = language;
  globalThis.localStorage?.setItem("doorstep-console-language", language);
  document.documentElement.lang = language;
}

export function t(key: Key, values: Record<string, string | number> = {}): string {
  let text = dictionaries[locale.language][key];
  for (const [name, value] of Object.entries(values)) text = text.replace(`{${name}}`, String(value));
  return text;
}

/** A catalogue purpose in the reader's language; the office's own words as they are. */
export function purpose(text: string): string {
  const key = `purpose_${text}`;
  return key in en ? t(key as Key) : text;
}

// Dates and times as the browser's own locale writes them when it speaks the chosen language
// (en-GB keeps its 24-hour clock), else in that language's default.
function formatLocale(): string {
  const own = globalThis.navigator?.language ?? "";
  return own.startsWith(locale.language) ? own : locale.language;
}

export function time(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleTimeString(formatLocale(), {
    hour: "2-digit",
    minute: "2-digit",
  });
}

export function dateTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleString(formatLocale(), {
    dateStyle: "medium",
    timeStyle: "short",
  });
}
