import { describe, expect, it, vi } from "vitest";
import { render, screen, fireEvent, waitFor } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import { spokenDigits } from "../src/lib/a11y";
import { app } from "../src/lib/app.svelte";
import CodeComparison from "../src/components/CodeComparison.svelte";
import RedScreen from "../src/components/RedScreen.svelte";

describe("what the senses besides sight get", () => {
  it("a code is read digit by digit", () => {
    expect(spokenDigits("406 859")).toBe("4 0 6, 8 5 9");
    expect(spokenDigits("4821 0936")).toBe("4 8 2 1, 0 9 3 6");
  });

  it("the code to compare is labelled digit by digit and its step's heading takes focus", () => {
    render(CodeComparison, { code: "406 859", hint: "Same?", onanswer: () => {} });
    expect(screen.getByTestId("confirmation").getAttribute("aria-label")).toBe("4 0 6, 8 5 9");
    expect(document.activeElement?.textContent).toBe("Read the codes aloud");
  });

  it("a red result is announced through the live region that was already there, and vibrates", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const vibrate = vi.fn(() => true);
    Object.defineProperty(navigator, "vibrate", { value: vibrate, configurable: true });
    mockIPC(() => null);
    try {
      render(RedScreen, { title: "Do not let this person in", reason: "The two codes are different.", kind: "codes_differ", visitId: null, onback: () => {} });
      await vi.advanceTimersByTimeAsync(100);
      await waitFor(() => expect(app.announcement).toBe("Do not let this person in. The two codes are different."));
      expect(vibrate).toHaveBeenCalledWith([180, 80, 180]);
      await fireEvent.click(screen.getByTestId("red-back"));
    } finally {
      vi.useRealTimers();
      Reflect.deleteProperty(navigator, "vibrate");
    }
  });
});
