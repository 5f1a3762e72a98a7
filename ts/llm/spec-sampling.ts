// Speculative sampling (Leviathan et al. 2023, Chen et al. 2023): a draft token d drawn from the
// draft model's distribution q is kept with probability min(1, p(d) / q(d)), where p is the target
// model's distribution at the same position; when it is rejected, the token is drawn from
// norm(max(0, p - q)) instead. Either way the token is distributed exactly as p, whatever q is.
// With greedy sampling p and q are point masses, and this reduces to "keep d if it is the argmax".

/** Draws a token from probabilities (they need not sum to 1; all zero falls back to the largest index). */
export function drawFrom(probs: Float64Array, random: () => number): number {
  let total = 0;
  for (let i = 0; i < probs.length; i++) total += probs[i];
  let u = random() * total;
  let last = probs.length - 1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] <= 0) continue;
    last = i;
    u -= probs[i];
    if (u < 0) return i;
  }
  return last;
}

/** Verifies one draft token against the target; returns the token to emit and whether it is the draft. */
export function verifyDraftToken(p: Float64Array, q: Float64Array, draft: number, random: () => number): { token: number; accepted: boolean } {
  const qd = q[draft];
  if (qd > 0 && random() * qd < p[draft]) return { token: draft, accepted: true };
  const residual = new Float64Array(p.length);
  let mass = 0;
  for (let i = 0; i < p.length; i++) {
    residual[i] = Math.max(0, p[i] - q[i]);
    mass += residual[i];
  }
  // p == q up to rounding leaves no residual mass; p itself is then the right distribution.
  return { token: drawFrom(mass > 0 ? residual : p, random), accepted: false };
}
