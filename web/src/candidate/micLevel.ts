/** RMS level of a byte time-domain buffer, scaled to 0–100. */
export function levelFromSamples(samples: Uint8Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const sample of samples) {
    const centred = (sample - 128) / 128;
    sum += centred * centred;
  }
  return Math.min(100, Math.round(Math.sqrt(sum / samples.length) * 300));
}
