// A generated request workload with ShareGPT-like lengths: prompt and output lengths drawn from
// log-normal distributions (long right tails, as in real chat logs), clipped, from a fixed seed.
import { makeRandom } from '../sampling';

export interface WorkloadRequest {
  prompt: number[];
  maxTokens: number;
}

export interface WorkloadOptions {
  count: number;
  vocabSize: number;
  promptMedian: number;
  outputMedian: number;
  maxPrompt: number;
  maxOutput: number;
  seed: number;
}

export function shareGptLikeWorkload(o: WorkloadOptions): WorkloadRequest[] {
  const random = makeRandom(o.seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const logNormal = (median: number, min: number, max: number) => Math.round(Math.min(max, Math.max(min, median * Math.exp(0.8 * normal()))));
  return Array.from({ length: o.count }, () => ({
    prompt: Array.from({ length: logNormal(o.promptMedian, 4, o.maxPrompt) }, () => 3 + Math.floor(random() * (o.vocabSize - 3))),
    maxTokens: logNormal(o.outputMedian, 4, o.maxOutput),
  }));
}
