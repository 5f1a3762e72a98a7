// LlmEngine: a loaded model, its tokenizer and the step loop. Each step asks the scheduler for a
// batch, lets the draft model (if any) propose tokens, runs the native forward off the JS thread,
// then samples (or verifies drafts) for every sequence whose last scheduled token produced
// logits, and reports tokens to the generations.
import os from 'node:os';

import { devices } from '../engine/devices';
import { HsError } from '../errors';
import { BusyTracker } from '../metrics/BusyTracker';
import { nativeConfig, readModelConfig, type ModelConfig } from './config';
import { DraftModel } from './draft-model';
import { LlmGeneration } from './generation';
import { readGenerationConfig, withDefaults } from './generation-config';
import { ChoiceConstraint } from './choice-constraint';
import { JsonConstraint } from './json-constraint';
import { RegexConstraint } from './regex-constraint';
import { TokenTrie } from './token-trie';
import { loadNativeLlm, type LlmDevice, type MatmulPrecision, type NativeLlm, type WeightType } from './native';
import { readCheckpointTensors } from './safetensors';
import { adjustsLogits, argmax, isGreedy, makeRandom, resolveSampling, sampleToken, samplingProbs, tokenLogprobs, type ResolvedSampling, type SamplingParams, type TokenLogprobs } from './sampling';
import { BlockManager } from './scheduler/block-manager';
import { buildBatch, logitsRows, Scheduler, type ScheduledBatch, type ScheduledSequence, type SpeculativeConfig } from './scheduler/scheduler';
import { Sequence, type FinishReason, type OutputConstraint } from './scheduler/sequence';
import { verifyDraftToken } from './spec-sampling';
import { LlmTokenizer, type ChatMessage, type ChatTemplateOptions } from './tokenizer';

export interface LlmEngineOptions {
  /** Name served as the model id (default: the directory's base name). */
  modelName?: string;
  /**
   * 'cpu' (default), 'cuda' (rejects with ERR_CUDA_UNAVAILABLE and the addon's reason where CUDA is
   * not usable) or 'auto' (CUDA when a device is usable, else the CPU). The model's info.device says which.
   */
  device?: 'auto' | LlmDevice;
  threads?: number;
  /**
   * 'auto' keeps the checkpoint's types; 'int8' quantises weights per output channel. On CUDA
   * 'float16', 'bfloat16' and 'int8' exist (int8 multiplies in bfloat16, with a bfloat16 KV cache);
   * 'auto' keeps float16 checkpoints and makes the others bfloat16.
   */
  weightType?: 'auto' | WeightType;
  /**
   * 'fp32' (default): projections in float32. 'bf16': every projection rounds its input to bf16 and
   * multiplies bf16 weights (converted at load) with float32 accumulation, about twice the
   * arithmetic rate where the CPU has AVX512_BF16 (emulated with the same results elsewhere);
   * logits move by a few 1e-3 of the largest one. Takes weightType 'auto' or 'bfloat16' only.
   */
  matmulPrecision?: MatmulPrecision;
  blockSize?: number;
  /** KV cache size in blocks; else derived from kvCacheBytes (default 256 MiB; float32 on CPU, 16-bit on CUDA). */
  numBlocks?: number;
  kvCacheBytes?: number;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  /** Longest prompt + output (default: max_position_embeddings, within the KV cache and Mistral's sliding window). */
  maxModelLen?: number;
  enablePrefixCaching?: boolean;
  /**
   * Speculative decoding: n-gram prompt lookup (greedy requests), or a draft model, a Hugging Face
   * directory with the target's vocabulary (all requests; sampled ones keep the target's
   * distribution through speculative sampling). numSpeculativeTokens (default 4) drafts per step.
   */
  speculative?: SpeculativeOptions | null;
  /**
   * 'auto' (default): generation_config.json's eos_token_id also ends sequences, and its
   * temperature, top_k, top_p, min_p, repetition_penalty and max_new_tokens are the defaults of
   * requests that leave them out (as vLLM). 'none': the file is not read.
   */
  generationConfig?: 'auto' | 'none';
}

export type SpeculativeOptions =
  | { method: 'ngram'; numSpeculativeTokens?: number; maxNgram?: number; minNgram?: number }
  | { method: 'draft'; model: string; numSpeculativeTokens?: number; weightType?: 'auto' | WeightType; matmulPrecision?: MatmulPrecision };

export type PromptInput = string | readonly ChatMessage[] | readonly number[];

export interface EngineStats {
  running: number;
  waiting: number;
  kvCacheUsage: number;
  prefixCacheQueries: number;
  prefixCacheHits: number;
  preemptions: number;
  promptTokens: number;
  generationTokens: number;
  steps: number;
  draftTokens: number;
  acceptedDraftTokens: number;
}

/** Per-request timings, reported when a request ends. */
export interface RequestTimings {
  promptTokens: number;
  completionTokens: number;
  /** Seconds from arrival to the first token (null if none came). */
  timeToFirstToken: number | null;
  /** Mean seconds between output tokens after the first (null with fewer than two). */
  timePerOutputToken: number | null;
  finishReason: FinishReason;
}

interface RequestState {
  generation: LlmGeneration;
  arrival: number;
  firstTokenAt: number | null;
  lastTokenAt: number | null;
}

const DEFAULT_KV_CACHE_BYTES = 256 * 1024 * 1024;

export class LlmEngine {
  private readonly scheduler: Scheduler;
  private readonly requests = new Map<Sequence, RequestState>();
  private nextId = 0;
  /** JSON mode's view of the vocabulary, built on the first request that asks for it. */
  private vocabularyTrie: { tokens: (Uint8Array | null)[]; trie: TokenTrie } | null = null;
  private looping = false;
  private disposed = false;
  private readonly counters = { promptTokens: 0, generationTokens: 0, steps: 0, draftTokens: 0, acceptedDraftTokens: 0 };
  /** Busy: the fraction of the last 10 s during which the engine was running steps. */
  readonly activity = new BusyTracker();
  /** Called when a request ends (the server's metrics listen here). */
  onRequestDone: ((t: RequestTimings) => void) | null = null;

  private constructor(
    readonly modelName: string,
    readonly config: ModelConfig,
    readonly tokenizer: LlmTokenizer,
    /** The native model; tests call forward() on it directly. */
    readonly model: NativeLlm,
    private readonly draft: DraftModel | null,
    readonly maxModelLen: number,
    /** Sampling defaults from generation_config.json, under each request's own settings. */
    readonly generationDefaults: SamplingParams,
    options: Required<Pick<LlmEngineOptions, 'maxNumSeqs' | 'maxNumBatchedTokens'>> & { prefixCaching: boolean; speculative: SpeculativeConfig | null },
  ) {
    const { numBlocks, blockSize } = model.info;
    this.scheduler = new Scheduler(new BlockManager(numBlocks, blockSize, options.prefixCaching), {
      maxNumSeqs: options.maxNumSeqs,
      maxNumBatchedTokens: options.maxNumBatchedTokens,
      maxModelLen,
      speculative: options.speculative,
    });
  }

  static async load(dir: string, o: LlmEngineOptions = {}): Promise<LlmEngine> {
    const config = await readModelConfig(dir);
    const generation = await readGenerationConfig(dir, o.generationConfig ?? 'auto', config.vocabSize);
    const tokenizer = await LlmTokenizer.load(dir, [...config.eosTokenIds, ...generation.eosTokenIds]);
    const tensors = await readCheckpointTensors(dir);
    const blockSize = o.blockSize ?? 16;
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new HsError('ERR_INVALID_ARGUMENT', 'blockSize must be an integer >= 1');
    const device = pickLlmDevice(o.device, config, o.weightType);
    const bytesPerBlock = 2 * config.numLayers * blockSize * config.numKvHeads * config.headDim * (device === 'cuda' ? 2 : 4);
    const numBlocks = o.numBlocks ?? Math.max(1, Math.floor((o.kvCacheBytes ?? DEFAULT_KV_CACHE_BYTES) / bytesPerBlock));
    const speculative = resolveSpeculative(o.speculative);
    const weightType = o.weightType === 'auto' ? undefined : o.weightType;
    const matmulPrecision = checkMatmulPrecision(o.matmulPrecision, 'matmulPrecision');
    const draftPrecision = o.speculative?.method === 'draft' ? checkMatmulPrecision(o.speculative.matmulPrecision ?? matmulPrecision, 'speculative.matmulPrecision') : undefined;
    const model = await loadNativeLlm(nativeConfig(config), tensors, { device, threads: o.threads ?? os.availableParallelism(), numBlocks, blockSize, weightType, matmulPrecision });
    let draft: DraftModel | null = null;
    if (o.speculative?.method === 'draft') {
      const draftType = o.speculative.weightType ?? o.weightType;
      try {
        draft = await DraftModel.load(o.speculative.model, {
          config, tokenizer, numBlocks, blockSize, device, threads: model.info.threads, weightType: draftType === 'auto' ? undefined : draftType,
          matmulPrecision: draftPrecision,
        });
      } catch (e) {
        model.dispose();
        throw e;
      }
    }
    const maxModelLen = Math.min(o.maxModelLen ?? config.maxPositionEmbeddings, numBlocks * blockSize, config.slidingWindow ?? Infinity);
    const modelName = o.modelName ?? dir.replace(/\/+$/, '').split('/').pop()!;
    return new LlmEngine(modelName, config, tokenizer, model, draft, maxModelLen, generation.defaults, {
      maxNumSeqs: o.maxNumSeqs ?? 64,
      maxNumBatchedTokens: o.maxNumBatchedTokens ?? 512,
      prefixCaching: o.enablePrefixCaching ?? true,
      speculative,
    });
  }

  /** Token ids of a prompt: text is encoded with the tokenizer's special tokens, chats through the template. */
  encodePrompt(input: PromptInput, chat: ChatTemplateOptions = {}): number[] {
    if (typeof input === 'string') return this.tokenizer.encode(input);
    if (input.length > 0 && typeof input[0] === 'object') return this.tokenizer.encodeChat(input as readonly ChatMessage[], chat);
    const ids = [...(input as readonly number[])];
    if (!ids.every((t) => Number.isInteger(t) && t >= 0 && t < this.config.vocabSize))
      throw new HsError('ERR_INVALID_ARGUMENT', `prompt token ids must be integers in [0, ${this.config.vocabSize})`);
    return ids;
  }

  /** Streams the continuation of a prompt; break out of the loop (or abort params.signal) to cancel. */
  generate(input: PromptInput, params: SamplingParams = {}): LlmGeneration {
    if (this.disposed) throw new HsError('ERR_DISPOSED', 'the LLM engine has been disposed');
    const prompt = this.encodePrompt(input);
    if (prompt.length === 0) throw new HsError('ERR_INVALID_ARGUMENT', 'the prompt is empty');
    if (prompt.length >= this.maxModelLen)
      throw new HsError('ERR_INVALID_ARGUMENT', `the prompt has ${prompt.length} tokens; this model accepts at most ${this.maxModelLen - 1}`);
    const sampling = resolveSampling(withDefaults(params, this.generationDefaults), this.config.vocabSize, this.tokenizer.eosTokenIds);
    let seq: Sequence | null = null;
    const promptLogprobs = sampling.promptLogprobs === null ? null : [null];
    const generation = new LlmGeneration(this.tokenizer, prompt, sampling.stop, () => seq && this.abort(seq), promptLogprobs);
    const constraint = sampling.format ? this.constraint(sampling.format) : null;
    seq = new Sequence(this.nextId++, prompt, sampling, makeRandom(sampling.seed), performance.now(), generation, promptLogprobs, constraint);
    this.requests.set(seq, { generation, arrival: performance.now(), firstTokenAt: null, lastTokenAt: null });
    this.counters.promptTokens += prompt.length;
    const signal = params.signal;
    if (signal) {
      if (signal.aborted) queueMicrotask(() => seq && this.abort(seq));
      else signal.addEventListener('abort', () => seq && this.abort(seq), { once: true });
    }
    this.scheduler.add(seq);
    this.kick();
    return generation;
  }

  /** Runs a request to the end and returns its text and tokens (and the prompt's log-probabilities if asked). */
  async complete(input: PromptInput, params: SamplingParams = {}): Promise<{
    text: string;
    tokenIds: number[];
    finishReason: FinishReason | null;
    promptLogprobs: readonly (TokenLogprobs | null)[] | null;
  }> {
    const g = this.generate(input, params);
    const tokenIds: number[] = [];
    for await (const chunk of g) if (chunk.tokenId >= 0) tokenIds.push(chunk.tokenId);
    return { text: g.outputText, tokenIds, finishReason: g.finishReason, promptLogprobs: g.promptLogprobs };
  }

  stats(): EngineStats {
    const blocks = this.scheduler.blocks;
    return {
      running: this.scheduler.numRunning,
      waiting: this.scheduler.numWaiting,
      kvCacheUsage: blocks.usage,
      prefixCacheQueries: blocks.stats.queries,
      prefixCacheHits: blocks.stats.hits,
      preemptions: this.scheduler.preemptions,
      ...this.counters,
    };
  }

  /** Fails every request and frees the native model. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const seq of [...this.requests.keys()]) this.end(seq, 'error', new HsError('ERR_DISPOSED', 'the LLM engine was disposed'));
    this.model.dispose();
    this.draft?.dispose();
  }

  private constraint(format: NonNullable<ResolvedSampling['format']>): OutputConstraint {
    if (!this.vocabularyTrie) {
      // Special tokens have no bytes: they stay out of the trie (EOS is allowed apart).
      const tokens = this.tokenizer.continuationBytes(this.config.vocabSize);
      this.vocabularyTrie = { tokens, trie: new TokenTrie(tokens) };
    }
    const { tokens, trie } = this.vocabularyTrie;
    const eos = [...this.tokenizer.eosTokenIds];
    if ('json' in format) return new JsonConstraint(format.json, trie, tokens, eos);
    if ('regex' in format) return new RegexConstraint(format.regex, trie, tokens, eos);
    return new ChoiceConstraint(format.choice, trie, tokens, eos);
  }

  private abort(seq: Sequence): void {
    if (seq.status !== 'finished') this.end(seq, 'abort');
  }

  private end(seq: Sequence, reason: FinishReason, error?: Error): void {
    this.scheduler.finish(seq);
    const state = this.requests.get(seq);
    if (!state) return;
    this.requests.delete(seq);
    if (error) state.generation.onError(error);
    else state.generation.onFinish(reason);
    const n = seq.outputLength;
    this.onRequestDone?.({
      promptTokens: seq.promptLength,
      completionTokens: n,
      timeToFirstToken: state.firstTokenAt === null ? null : (state.firstTokenAt - state.arrival) / 1000,
      timePerOutputToken: n >= 2 && state.lastTokenAt !== null && state.firstTokenAt !== null ? (state.lastTokenAt - state.firstTokenAt) / 1000 / (n - 1) : null,
      finishReason: reason,
    });
  }

  private kick(): void {
    if (this.looping) return;
    this.looping = true;
    setImmediate(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      while (!this.disposed && this.scheduler.hasWork()) {
        const items = this.scheduler.schedule();
        if (!items) break;
        this.activity.begin();
        try {
          await this.step(items);
        } catch (e) {
          // A failed step (native error, a tokenizer that throws) fails the requests in it, not the engine.
          for (const it of items) if (it.seq.status !== 'finished') this.end(it.seq, 'error', e as Error);
        } finally {
          this.activity.end();
        }
      }
    } finally {
      this.looping = false;
    }
  }

  /** One step: draft-model proposals (if any), the target's forward, then the new tokens. */
  private async step(items: ScheduledSequence[]): Promise<void> {
    if (this.draft) await this.draft.propose(items);
    const live = items.filter((it) => it.seq.status === 'running'); // some may have been cancelled meanwhile
    if (live.length === 0) return;
    const batch = buildBatch(live);
    const logits = await this.model.forward(batch.native);
    this.counters.steps++;
    this.apply(batch, logits);
  }

  /** Advances every sequence of a finished step: KV counts, sampling, draft verification, stops. */
  private apply(batch: ScheduledBatch, logits: Float32Array): void {
    const vocab = this.config.vocabSize;
    let row = 0;
    for (const it of batch.items) {
      const { seq } = it;
      const rows = logitsRows(it);
      const first = row;
      row += rows;
      if (seq.status !== 'running') continue; // cancelled while the step ran
      // Prompt-scoring rows: the row at position p scores prompt token p + 1.
      for (let i = 0; i < it.promptRows; i++) {
        const scored = seq.promptLogprobs!;
        scored.push(tokenLogprobs(logits.subarray((first + i) * vocab, (first + i + 1) * vocab), seq.tokens[scored.length], seq.sampling.promptLogprobs!));
      }
      seq.numComputed += it.numTokens;
      this.counters.draftTokens += it.drafts.length;
      let accepted = 0;
      for (let i = 0; i < rows - it.promptRows; i++) {
        const at = first + it.promptRows + i;
        const logitsRow = logits.subarray(at * vocab, (at + 1) * vocab);
        const choice = this.choose(it, i, logitsRow);
        if (choice === null) {
          this.end(seq, 'error', new HsError('ERR_INVALID_ARGUMENT',
            'the constrained output cannot go on: no token of the vocabulary spells any text it may take next (a character the vocabulary cannot spell?)'));
          break;
        }
        if (i > 0) {
          seq.numComputed++; // the draft at row i - 1 was accepted, so its KV is valid
          accepted++;
        }
        const reason = this.append(seq, choice.token, logitsRow);
        if (reason !== null) {
          this.end(seq, reason);
          break;
        }
        if (!choice.accepted) break;
      }
      this.counters.acceptedDraftTokens += accepted;
      seq.draftComputed += Math.min(accepted, it.draftKv);
      // With a draft model a block is offered to the prefix cache only once both caches hold it.
      if (seq.status === 'running') this.scheduler.blocks.commitFullBlocks(seq, this.draft ? Math.min(seq.numComputed, seq.draftComputed) : seq.numComputed);
    }
  }

  /**
   * The token of logits row i of an item, and whether it keeps the draft verified at that row; null
   * when a constraint leaves no token.
   */
  private choose(it: ScheduledSequence, i: number, logits: Float32Array): { token: number; accepted: boolean } | null {
    const { seq } = it;
    const s = seq.sampling;
    const mayEnd = !s.ignoreEos && seq.outputLength >= s.minTokens;
    const row = seq.constraint ? seq.constraint.mask(logits, mayEnd) : logits;
    if (seq.constraint && !row.some((x) => x !== -Infinity)) return null;
    const draft = i < it.drafts.length ? it.drafts[i] : -1;
    if (draft >= 0 && it.draftProbs)
      return verifyDraftToken(samplingProbs(row, s, seq.promptTokens, seq.outputTokens), it.draftProbs[i], draft, seq.random);
    const token = isGreedy(s) && !adjustsLogits(s)
      ? argmax(row)
      : sampleToken(row, s, seq.promptTokens, seq.outputTokens, seq.random);
    return { token, accepted: token === draft };
  }

  /** Adds a sampled token to the sequence and its generation; returns why it ends, if it does. */
  private append(seq: Sequence, token: number, logitsRow: Float32Array): FinishReason | null {
    const state = this.requests.get(seq)!;
    const now = performance.now();
    state.firstTokenAt ??= now;
    state.lastTokenAt = now;
    seq.tokens.push(token);
    this.counters.generationTokens++;
    const s = seq.sampling;
    seq.constraint?.advance(token);
    const logprobs = s.logprobs === null ? null : tokenLogprobs(logitsRow, token, s.logprobs);
    if (state.generation.onToken({ tokenId: token, logprobs })) return 'stop';
    if ((!s.ignoreEos && this.tokenizer.eosTokenIds.has(token)) || s.stopTokenIds.includes(token)) return 'stop';
    if (seq.outputLength >= s.maxTokens || seq.tokens.length >= this.maxModelLen) return 'length';
    return null;
  }
}

/**
 * The device the LLM runs on. 'auto' settles on CUDA when the addon reports a usable device and the
 * CUDA forward takes the model (head_dim a multiple of 8 up to 256, 16-bit weights), else the CPU.
 */
function pickLlmDevice(requested: LlmEngineOptions['device'], config: ModelConfig, weightType: LlmEngineOptions['weightType']): LlmDevice {
  if (requested === undefined || requested === 'cpu') return 'cpu';
  if (requested !== 'cuda' && requested !== 'auto')
    throw new HsError('ERR_INVALID_ARGUMENT', `device must be 'auto', 'cpu' or 'cuda', got ${JSON.stringify(requested)}`);
  const cuda = devices().cuda;
  if (requested === 'cuda') {
    if (!cuda.available) throw new HsError('ERR_CUDA_UNAVAILABLE', `device 'cuda' was requested: ${cuda.reason}`);
    return 'cuda';
  }
  const fits = config.headDim % 8 === 0 && config.headDim <= 256 && weightType !== 'float32';
  return cuda.available && fits ? 'cuda' : 'cpu';
}

/** `p` if it is a matmul precision (or undefined), else ERR_INVALID_ARGUMENT naming the option or flag. */
export function checkMatmulPrecision(p: string | undefined, name: string): MatmulPrecision | undefined {
  if (p === undefined || p === 'fp32' || p === 'bf16') return p;
  throw new HsError('ERR_INVALID_ARGUMENT', `${name} must be 'fp32' or 'bf16', got ${JSON.stringify(p)}`);
}

function resolveSpeculative(o: SpeculativeOptions | null | undefined): SpeculativeConfig | null {
  if (!o) return null;
  const k = o.numSpeculativeTokens ?? 4;
  if (!Number.isInteger(k) || k < 1) throw new HsError('ERR_INVALID_ARGUMENT', `speculative.numSpeculativeTokens must be an integer >= 1, got ${JSON.stringify(k)}`);
  if (o.method === 'ngram') return { method: 'ngram', numSpeculativeTokens: k, maxNgram: o.maxNgram ?? 4, minNgram: o.minNgram ?? 1 };
  if (o.method === 'draft') {
    if (typeof o.model !== 'string' || o.model === '') throw new HsError('ERR_INVALID_ARGUMENT', 'speculative.model must name the draft model\'s directory');
    return { method: 'draft', numSpeculativeTokens: k };
  }
  throw new HsError('ERR_INVALID_ARGUMENT', `speculative.method must be 'ngram' or 'draft', got ${JSON.stringify((o as { method?: unknown }).method)}`);
}

export function startLlmEngine(dir: string, options: LlmEngineOptions = {}): Promise<LlmEngine> {
  return LlmEngine.load(dir, options);
}

