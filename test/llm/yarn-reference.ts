// YaRN's rotary frequencies and attention factor written out for the tests from the method's
// definition (arXiv 2309.00071, with the whole-dimension ramp of its reference code that
// transformers and vLLM follow), apart from ts/llm/rope.ts: frequency i of head dimension D is
// theta_i = base^(-2i/D); over the original context L it turns r_i = L theta_i / (2 pi) times.
// Dimensions turning at least beta_fast times keep theta_i, those turning at most beta_slow times
// become theta_i / s, and between the two the weight of theta_i / s grows linearly with i from the
// last whole dimension below r = beta_fast to the first whole dimension above r = beta_slow.

export interface YarnSpec {
  headDim: number;
  base: number;
  factor: number;
  originalContext: number;
  betaFast?: number;
  betaSlow?: number;
}

export function yarnReference(y: YarnSpec): { invFreq: Float64Array; attentionScaling: number } {
  const D = y.headDim, L = y.originalContext, s = y.factor;
  const betaFast = y.betaFast ?? 32, betaSlow = y.betaSlow ?? 1;
  // r_i = beta  <=>  i = (D / 2) log_base(L / (2 pi beta))
  const indexWhereTurns = (beta: number): number => (D / 2) * (Math.log(L / (2 * Math.PI * beta)) / Math.log(y.base));
  const first = Math.max(0, Math.floor(indexWhereTurns(betaFast)));
  const last = Math.min(D - 1, Math.ceil(indexWhereTurns(betaSlow)));
  const invFreq = new Float64Array(D / 2);
  for (let i = 0; i < D / 2; i++) {
    const theta = y.base ** (-2 * i / D);
    const interpolated = i <= first ? 0 : i >= last ? 1 : (i - first) / (last - first);
    invFreq[i] = (1 - interpolated) * theta + interpolated * (theta / s);
  }
  return { invFreq, attentionScaling: s > 1 ? 1 + 0.1 * Math.log(s) : 1 };
}
