// Speculative decoding with a draft model: a smaller checkpoint with the target's vocabulary
// proposes up to k tokens for every decoding sequence of a step, one draft forward per token,
// batched over the sequences; the target then verifies all drafts in its one forward of the step
// (LlmEngine.apply). The draft model's KV cache has the target's geometry (same number of blocks,
// same block size) and is addressed by the target's block tables, so its blocks are allocated,
// shared by prefix caching and freed (finish, cancel, preemption) together with the target's;
// seq.draftComputed says how many of the sequence's tokens have draft KV.
import { HsError } from '../errors';
import { nativeConfig, readModelConfig, type ModelConfig } from './config';
import { loadNativeLlm, type LlmDevice, type MatmulPrecision, type NativeLlm, type WeightType } from './native';
import { readCheckpointTensors } from './safetensors';
import { isGreedy, samplingProbs } from './sampling';
import type { ScheduledSequence } from './scheduler/scheduler';
import { nativeBatch, type BatchRow } from './scheduler/native-batch';
import { drawFrom } from './spec-sampling';
import { LlmTokenizer } from './tokenizer';

export interface DraftTarget {
  config: ModelConfig;
  tokenizer: LlmTokenizer;
  numBlocks: number;
  blockSize: number;
  /** The target's device: the draft runs beside it. */
  device?: LlmDevice;
  threads: number;
  weightType?: WeightType;
  matmulPrecision?: MatmulPrecision;
}

/** Why two tokenizers differ (the first token whose id differs), or null if they map the same tokens to the same ids. */
function vocabularyDifference(target: ReadonlyMap<string, number>, draft: ReadonlyMap<string, number>): string | null {
  for (const [token, id] of target)
    if (draft.get(token) !== id) return `token ${JSON.stringify(token)} is id ${id} in the target and ${draft.get(token) ?? 'absent'} in the draft`;
  if (draft.size !== target.size) return `the draft's tokenizer has ${draft.size} tokens, the target's ${target.size}`;
  return null;
}

export class DraftModel {
  private constructor(
    readonly model: NativeLlm,
    private readonly vocabSize: number,
  ) {}

  /** Loads the draft checkpoint after checking that it shares the target's vocabulary. */
  static async load(dir: string, target: DraftTarget): Promise<DraftModel> {
    const config = await readModelConfig(dir);
    const mismatch = (why: string) => new HsError('ERR_INVALID_MODEL', `the draft model ${dir} does not share the target's vocabulary: ${why}`);
    if (config.vocabSize !== target.config.vocabSize)
      throw mismatch(`vocab_size is ${config.vocabSize} in the draft and ${target.config.vocabSize} in the target`);
    const tokenizer = await LlmTokenizer.load(dir, config.eosTokenIds);
    const difference = vocabularyDifference(target.tokenizer.vocabulary(), tokenizer.vocabulary());
    if (difference) throw mismatch(difference);
    const model = await loadNativeLlm(nativeConfig(config), await readCheckpointTensors(dir), {
      device: target.device,
      threads: target.threads,
      numBlocks: target.numBlocks,
      blockSize: target.blockSize,
      weightType: target.weightType,
      matmulPrecision: target.matmulPrecision,
    });
    return new DraftModel(model, config.vocabSize);
  }

  /**
   * Brings every item's draft KV up to the tokens the target runs in this step, and fills the
   * drafts of the items that have room for them (item.maxDrafts): greedy sequences get the draft
   * model's argmax, sampling ones a draw from its distribution, kept in item.draftProbs.
   */
  async propose(items: readonly ScheduledSequence[]): Promise<void> {
    const catchingUp = items.filter((it) => it.seq.status === 'running');
    if (catchingUp.length === 0) return;
    let logits = await this.model.forward(nativeBatch(catchingUp.map((it): BatchRow => ({
      tokens: it.seq.tokens.slice(it.seq.draftComputed, it.seq.numComputed + it.numTokens),
      start: it.seq.draftComputed,
      blockTable: it.seq.blockTable,
      logits: it.maxDrafts > 0 ? 1 : 0,
    }))));
    for (const it of catchingUp) it.seq.draftComputed = it.seq.numComputed + it.numTokens;
    let drafting = catchingUp.filter((it) => it.maxDrafts > 0);
    for (;;) {
      drafting.forEach((it, row) => this.pick(it, logits.subarray(row * this.vocabSize, (row + 1) * this.vocabSize)));
      drafting = drafting.filter((it) => it.seq.status === 'running' && it.drafts.length < it.maxDrafts);
      if (drafting.length === 0) return;
      logits = await this.model.forward(nativeBatch(drafting.map((it): BatchRow => ({
        tokens: [it.drafts[it.drafts.length - 1]],
        start: it.seq.numComputed + it.numTokens + it.drafts.length - 1,
        blockTable: it.seq.blockTable,
        logits: 1,
      }))));
      for (const it of drafting) it.draftKv++;
    }
  }

  dispose(): void {
    this.model.dispose();
  }

  private pick(it: ScheduledSequence, row: Float32Array): void {
    const { seq } = it;
    const q = samplingProbs(row, seq.sampling, seq.promptTokens, [...seq.outputTokens, ...it.drafts]);
    if (isGreedy(seq.sampling)) {
      it.drafts.push(q.indexOf(1));
      return;
    }
    it.drafts.push(drawFrom(q, seq.random));
    (it.draftProbs ??= []).push(q);
  }
}
