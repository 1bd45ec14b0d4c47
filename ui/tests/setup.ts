import { afterEach } from "vitest";
import { cleanup } from "@testing-library/svelte";
import { clearMocks } from "@tauri-apps/api/mocks";

// jsdom has no scrolling; each screen starts at the top in the real WebView.
globalThis.scrollTo = () => {};

afterEach(() => {
  cleanup();
  clearMocks();
});
