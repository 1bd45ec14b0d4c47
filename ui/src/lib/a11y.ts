// What screen readers and the senses get besides the screen.

/// A code read digit by digit ("4 0 6, 8 5 9"), not as a number ("four hundred and six").
export function spokenDigits(code: string): string {
  return code
    .trim()
    .split(/\s+/)
    .map((group) => [...group].join(" "))
    .join(", ");
}

/// Svelte action: the new step's heading takes focus, so a screen reader starts there.
export function focusHere(node: HTMLElement) {
  if (!node.hasAttribute("tabindex")) node.setAttribute("tabindex", "-1");
  node.focus();
}

/// A short vibration and tone on a result, where the platform offers them (the web view's
/// vibration API on Android, Web Audio where present); silent elsewhere.
export function feedback(result: "ok" | "bad") {
  try {
    globalThis.navigator?.vibrate?.(result === "ok" ? [60] : [180, 80, 180]);
  } catch {
    // Not offered: the screen says it.
  }
  const Audio = (globalThis as { AudioContext?: typeof AudioContext }).AudioContext;
  if (!Audio) return;
  try {
    const context = new Audio();
    const tones = result === "ok" ? [660, 880] : [330, 220];
    tones.forEach((frequency, i) => {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.value = 0.08;
      oscillator.connect(gain).connect(context.destination);
      const start = context.currentTime + i * 0.15;
      oscillator.start(start);
      oscillator.stop(start + 0.12);
    });
    setTimeout(() => void context.close(), 600);
  } catch {
    // No audio output: the screen says it.
  }
}
