import { enrolmentLetter } from "./api";

/** Hands a file the page fetched to the browser's downloads, under `name`. */
export function saveFile(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy by now.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A picked file's bytes as base64, for a JSON body. */
export async function base64Of(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** A fresh enrolment letter for an agent or a customer, handed to the browser's downloads. */
export async function printLetter(kind: "agents" | "customers", ref: string) {
  saveFile(await enrolmentLetter(kind, ref), `enrolment-letter-${ref}.pdf`);
}
