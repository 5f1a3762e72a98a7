// The engine end to end on a tiny model: greedy output equals the reference, and batched,
// chunked, preempted, prefix-cached and speculative runs give the same tokens as one request
// alone; cancellation frees blocks; stop strings, limits, seeds, generation_config.json, chat
// templates and bad input.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildLlmApp } from '../../lib/llm/server/app';
import { IncrementalDetokenizer } from '../../lib/llm/tokenizer';
import { TINY_VOCAB, writeTinyModel, type TinyModel } from '../fixtures/hf-model';
import { llm, parseRopeScaling, PROMPTS, ropeFrequencies } from './helpers';
import { referenceGreedy, referenceLogits } from './reference';

type Engine = Awaited<ReturnType<typeof llm.startLlmEngine>>;

const GREEDY = { temperature: 0, maxTokens: 12, ignoreEos: true };

async function tokensOf(engine: Engine, prompt: number[], params: object = GREEDY): Promise<number[]> {
  return (await engine.complete(prompt, params)).tokenIds;
}

let model: TinyModel;
let single: Engine;
let expected: number[][];

beforeAll(async () => {
  // Untied embeddings: a tied random model mostly repeats its last token, which would test little.
  model = writeTinyModel({ arch: 'qwen2', seed: 12 });
  single = await llm.startLlmEngine(model.dir, { numBlocks: 64, blockSize: 4, maxNumSeqs: 1, enablePrefixCaching: false, threads: 2 });
  expected = [];
  for (const p of PROMPTS) expected.push(await tokensOf(single, p));
});
afterAll(() => single.dispose());

describe('LLM engine', () => {
  it('greedy decoding equals the float64 reference', () => {
    const c = model.config as Record<string, number>;
    const max = c.max_position_embeddings;
    const invFreq = ropeFrequencies(c.hidden_size / c.num_attention_heads, c.rope_theta, parseRopeScaling(undefined, max), max).invFreq.map(Math.fround);
    expect(expected[0]).toEqual(referenceGreedy(model, PROMPTS[0], 12, { invFreq }));
    expect(expected[3]).toEqual(referenceGreedy(model, PROMPTS[3], 12, { invFreq }));
  });

  it('continuous batching with chunked prefill gives each request its single-request tokens', async () => {
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 64, blockSize: 4, maxNumBatchedTokens: 8, threads: 2 });
    const outputs = await Promise.all(PROMPTS.map((p) => tokensOf(engine, p)));
    expect(outputs).toEqual(expected);
    expect(engine.stats().steps).toBeLessThan(PROMPTS.length * 12);
    engine.dispose();
  });

  it('preemption by recompute when blocks run out keeps outputs identical', async () => {
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 12, blockSize: 4, enablePrefixCaching: false, threads: 2 });
    const outputs = await Promise.all(PROMPTS.map((p) => tokensOf(engine, p)));
    expect(outputs).toEqual(expected);
    expect(engine.stats().preemptions).toBeGreaterThan(0);
    expect(engine.stats().kvCacheUsage).toBe(0);
    engine.dispose();
  });

  it('prefix caching reuses blocks of a shared prefix and keeps outputs identical', async () => {
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 64, blockSize: 4, threads: 2 });
    const shared = PROMPTS[5];
    const a = await tokensOf(engine, shared);
    const b = await tokensOf(engine, shared);
    expect(a).toEqual(expected[5]);
    expect(b).toEqual(expected[5]);
    const stats = engine.stats();
    expect(stats.prefixCacheHits).toBe(20); // the second request found 5 full blocks of its 21 tokens
    expect(stats.prefixCacheQueries).toBe(42);
    engine.dispose();
  });

  it('n-gram speculative decoding accepts drafts and gives the same greedy tokens', async () => {
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 64, blockSize: 4, threads: 2, speculative: { method: 'ngram', numSpeculativeTokens: 3 } });
    const params = { ...GREEDY, maxTokens: 16 }; // long enough for this model to repeat itself
    const alone: number[][] = [];
    for (const p of PROMPTS) alone.push(await tokensOf(single, p, params));
    const outputs = await Promise.all(PROMPTS.map((p) => tokensOf(engine, p, params)));
    expect(outputs).toEqual(alone);
    const stats = engine.stats();
    expect(stats.acceptedDraftTokens).toBeGreaterThan(0);
    expect(stats.acceptedDraftTokens).toBeLessThan(stats.draftTokens); // rejections were exercised too
    console.log(`speculative: ${stats.acceptedDraftTokens} of ${stats.draftTokens} drafts accepted in ${stats.steps} steps`);
    engine.dispose();
  });

  it('cancelling a stream (return() or AbortSignal) frees its blocks', async () => {
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 64, blockSize: 4, enablePrefixCaching: false, threads: 2 });
    const g = engine.generate(PROMPTS[1], { ...GREEDY, maxTokens: 50 });
    let n = 0;
    for await (const chunk of g) if (++n === 3) break;
    expect(g.finishReason).toBe('abort');
    const controller = new AbortController();
    const g2 = engine.generate(PROMPTS[2], { ...GREEDY, maxTokens: 50, signal: controller.signal });
    const seen: number[] = [];
    for await (const chunk of g2) {
      seen.push(chunk.tokenId);
      if (seen.length === 2) controller.abort();
    }
    expect(g2.finishReason).toBe('abort');
    expect(seen.length).toBeLessThan(50);
    await new Promise((r) => setTimeout(r, 20));
    expect(engine.stats()).toMatchObject({ running: 0, waiting: 0, kvCacheUsage: 0 });
    engine.dispose();
  });

  it('stops at max tokens, EOS and stop strings; streams text that adds up', async () => {
    const g = single.generate('the quick brown fox', { temperature: 0, maxTokens: 20, ignoreEos: true });
    let text = '';
    for await (const chunk of g) text += chunk.text;
    expect(g.finishReason).toBe('length');
    expect(g.usage.completionTokens).toBe(20);
    expect(text).toBe(g.outputText);
    expect(text).toBe(single.tokenizer.decode((await single.complete('the quick brown fox', { temperature: 0, maxTokens: 20, ignoreEos: true })).tokenIds, true, false));
    const stopAt = text.slice(3, 5);
    const stopped = await single.complete('the quick brown fox', { temperature: 0, maxTokens: 20, ignoreEos: true, stop: [stopAt] });
    expect(stopped.finishReason).toBe('stop');
    expect(stopped.text).toBe(text.slice(0, text.indexOf(stopAt)));
    const eos = expected[0][4];
    const byToken = await single.complete(PROMPTS[0], { ...GREEDY, stopTokenIds: [eos] });
    expect(byToken.tokenIds).toEqual(expected[0].slice(0, expected[0].indexOf(eos) + 1));
  });

  // Llama 3 Instruct lists its end-of-turn token only in generation_config.json; vLLM also takes the
  // file's sampling settings as request defaults.
  it('takes generation_config.json: its eos ids end sequences, its sampling settings are defaults', async () => {
    const stopToken = expected[0][4];
    const withFile = writeTinyModel({ arch: 'qwen2', seed: 12 }); // the same weights as `model`
    const file = path.join(withFile.dir, 'generation_config.json');
    writeFileSync(file, JSON.stringify({ eos_token_id: [TINY_VOCAB - 1, stopToken], temperature: 0, top_k: 5, max_new_tokens: 10, do_sample: true }));
    const auto = await llm.startLlmEngine(withFile.dir, { numBlocks: 64, blockSize: 4, threads: 2 });
    const none = await llm.startLlmEngine(withFile.dir, { numBlocks: 64, blockSize: 4, threads: 2, generationConfig: 'none' });
    try {
      // No temperature in the request: the file's 0 (greedy), and its eos id stops it.
      const stopped = await auto.complete(PROMPTS[0], { maxTokens: 12 });
      expect(stopped.finishReason).toBe('stop');
      expect(stopped.tokenIds).toEqual(expected[0].slice(0, expected[0].indexOf(stopToken) + 1));
      const ignored = await none.complete(PROMPTS[0], { temperature: 0, maxTokens: 12 });
      expect(ignored.tokenIds.length).toBeGreaterThan(expected[0].indexOf(stopToken) + 1);
      // A request's own temperature wins; the file's top_k still applies.
      const sampled = { temperature: 1, seed: 99, maxTokens: 12, ignoreEos: true };
      expect((await auto.complete(PROMPTS[1], sampled)).tokenIds).toEqual((await none.complete(PROMPTS[1], { ...sampled, topK: 5 })).tokenIds);
      expect(auto.generationDefaults).toEqual({ temperature: 0, topK: 5, maxTokens: 10 });
      // The OpenAI server's chat without max_tokens takes max_new_tokens too (not the rest of the context).
      const { app } = buildLlmApp(auto);
      const chat = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: auto.modelName, messages: [{ role: 'user', content: 'hi' }], ignore_eos: true } });
      expect(chat.json().usage.completion_tokens).toBe(10);
      await app.close();
    } finally {
      auto.dispose();
      none.dispose();
    }
    writeFileSync(file, JSON.stringify({ top_p: 2 }));
    await expect(llm.startLlmEngine(withFile.dir, { numBlocks: 4 })).rejects.toMatchObject({ code: 'ERR_INVALID_MODEL', message: expect.stringMatching(/generation_config\.json/) });
    writeFileSync(file, JSON.stringify({ eos_token_id: TINY_VOCAB }));
    await expect(llm.startLlmEngine(withFile.dir, { numBlocks: 4 })).rejects.toMatchObject({ code: 'ERR_INVALID_MODEL' });
    writeFileSync(file, '{ not json');
    await expect(llm.startLlmEngine(withFile.dir, { numBlocks: 4 })).rejects.toMatchObject({ code: 'ERR_INVALID_MODEL' });
    rmSync(withFile.dir, { recursive: true, force: true });
  });

  // Scoring a prompt (lm-eval's loglikelihood through completions with echo): every prompt token
  // after the first gets log_softmax of the logits at the position before it.
  it('reports prompt log-probabilities, also chunked, preempted and after a prefix-cache hit', async () => {
    const prompt = PROMPTS[5];
    const params = { temperature: 0, maxTokens: 3, ignoreEos: true, promptLogprobs: 2 };
    const alone = (await single.complete(prompt, params)).promptLogprobs!;
    expect(alone).toHaveLength(prompt.length);
    expect(alone[0]).toBeNull();
    const c = model.config as Record<string, number>;
    const max = c.max_position_embeddings;
    const invFreq = ropeFrequencies(c.hidden_size / c.num_attention_heads, c.rope_theta, parseRopeScaling(undefined, max), max).invFreq.map(Math.fround);
    const logits = referenceLogits(model, prompt, { invFreq });
    let worst = 0;
    for (let i = 1; i < prompt.length; i++) {
      const row = logits[i - 1];
      const top = Math.max(...row);
      const logZ = top + Math.log(row.reduce((s, v) => s + Math.exp(v - top), 0));
      worst = Math.max(worst, Math.abs(alone[i]!.logprob - (row[prompt[i]] - logZ)));
      expect(alone[i]!.top).toHaveLength(2);
      expect(alone[i]!.top[0].logprob).toBeCloseTo(top - logZ, 4);
    }
    expect(worst).toBeLessThan(1e-4);
    // Chunks of 4 tokens, a KV cache small enough to preempt, and a cached copy of the prompt.
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 12, blockSize: 4, maxNumBatchedTokens: 4, threads: 2 });
    await engine.complete(prompt, GREEDY); // leaves the prompt's full blocks in the prefix cache
    const busy = await Promise.all([...PROMPTS.map((p) => engine.complete(p, GREEDY)), engine.complete(prompt, params)]);
    expect(busy.at(-1)!.promptLogprobs).toEqual(alone);
    expect(busy.at(-1)!.tokenIds).toEqual(expected[5].slice(0, 3));
    expect(engine.stats().preemptions).toBeGreaterThan(0);
    expect(engine.stats().kvCacheUsage).toBe(0);
    engine.dispose();
  });

  it('applies logit biases, greedy and sampled; rejects bad ones', async () => {
    const forced = 77;
    const pushed = await single.complete(PROMPTS[0], { ...GREEDY, maxTokens: 5, logitBias: { [forced]: 100 } });
    expect(pushed.tokenIds).toEqual([forced, forced, forced, forced, forced]);
    const sampled = await single.complete(PROMPTS[0], { temperature: 1, seed: 3, maxTokens: 5, ignoreEos: true, logitBias: { [forced]: 100 } });
    expect(sampled.tokenIds).toEqual([forced, forced, forced, forced, forced]);
    // Banning the greedy first token gives the runner-up of the unbiased logits instead.
    const banned = await single.complete(PROMPTS[0], { ...GREEDY, maxTokens: 1, logitBias: { [expected[0][0]]: -100 } });
    expect(banned.tokenIds[0]).not.toBe(expected[0][0]);
    const g = single.generate(PROMPTS[0], { ...GREEDY, maxTokens: 1, logprobs: 2 });
    for await (const chunk of g) expect(chunk.logprobs!.top[1].tokenId).toBe(banned.tokenIds[0]);
    expect(() => single.generate(PROMPTS[0], { logitBias: { [TINY_VOCAB]: 1 } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => single.generate(PROMPTS[0], { logitBias: { 5: 101 } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => single.generate(PROMPTS[0], { logitBias: { x: 1 } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('holds back EOS and stop token ids until minTokens', async () => {
    // A bias that makes EOS the greedy choice at every step: it comes right after minTokens.
    const eos = TINY_VOCAB - 1;
    const forcedEos = { temperature: 0, maxTokens: 8, logitBias: { [eos]: 100 } };
    expect((await single.complete(PROMPTS[0], forcedEos)).tokenIds).toEqual([eos]);
    const held = await single.complete(PROMPTS[0], { ...forcedEos, minTokens: 3 });
    expect(held.tokenIds).toHaveLength(4);
    expect(held.tokenIds.slice(0, 3)).not.toContain(eos);
    expect(held.tokenIds[3]).toBe(eos);
    expect(held.finishReason).toBe('stop');
    // ignoreEos leaves EOS free to be sampled, and then it does not stop the sequence.
    expect((await single.complete(PROMPTS[0], { ...forcedEos, minTokens: 3, ignoreEos: true, maxTokens: 4 })).tokenIds).toEqual([eos, eos, eos, eos]);
    const stopId = expected[0][1];
    expect((await single.complete(PROMPTS[0], { ...GREEDY, stopTokenIds: [stopId] })).tokenIds).toEqual(expected[0].slice(0, 2));
    const late = await single.complete(PROMPTS[0], { ...GREEDY, stopTokenIds: [stopId], minTokens: 5 });
    expect(late.tokenIds.length).toBeGreaterThanOrEqual(5);
    expect(late.tokenIds.slice(0, 5)).not.toContain(stopId);
  });

  // The tiny tokenizer leaves clean_up_tokenization_spaces at its default (true), under which a
  // whole-text decode turns " ," into ","; streamed text must keep every character.
  it('streams every character, also where the clean-up of spaces would shorten the text', () => {
    const ids = single.tokenizer.encode('a , b , c !', false);
    const detokenizer = new IncrementalDetokenizer(single.tokenizer);
    let streamed = '';
    for (let i = 1; i <= ids.length; i++) streamed += detokenizer.next(ids.slice(0, i));
    streamed += detokenizer.flush(ids);
    expect(streamed).toBe('a , b , c !');
    expect(single.tokenizer.decode(ids)).toBe('a, b, c!'); // transformers' default clean-up
  });

  it('seeded sampling repeats; logprobs are reported', async () => {
    const params = { temperature: 0.8, topK: 50, topP: 0.9, seed: 1234, maxTokens: 10, ignoreEos: true, logprobs: 2 };
    const a = await single.complete(PROMPTS[1], params);
    const b = await single.complete(PROMPTS[1], params);
    expect(a.tokenIds).toEqual(b.tokenIds);
    const g = single.generate(PROMPTS[1], params);
    for await (const chunk of g) {
      expect(chunk.logprobs!.logprob).toBeLessThanOrEqual(0);
      expect(chunk.logprobs!.top).toHaveLength(2);
    }
  });

  it('renders the chat template', async () => {
    const messages = [{ role: 'user', content: 'hello there' }];
    const text = single.tokenizer.applyChatTemplate(messages);
    expect(text).toBe('<|im_start|>user\nhello there<|im_end|>\n<|im_start|>assistant\n');
    const ids = single.encodePrompt(messages);
    expect(ids[0]).toBe(single.tokenizer.encode('<|im_start|>', false)[0]);
    const out = await single.complete(messages, { temperature: 0, maxTokens: 4, ignoreEos: true });
    expect(out.tokenIds).toHaveLength(4);
    // transformers' options: no generation prompt, an open final assistant message, template variables.
    expect(single.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: false })).toBe('<|im_start|>user\nhello there<|im_end|>\n');
    const open = [...messages, { role: 'assistant', content: 'General Kenobi ' }];
    expect(single.tokenizer.applyChatTemplate(open, { continueFinalMessage: true }))
      .toBe('<|im_start|>user\nhello there<|im_end|>\n<|im_start|>assistant\nGeneral Kenobi');
    expect(() => single.tokenizer.applyChatTemplate(messages, { continueFinalMessage: true })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => single.tokenizer.applyChatTemplate(open, { continueFinalMessage: true, addGenerationPrompt: true })).toThrow(/cannot both/);
    const withHint = writeTinyModel({ arch: 'qwen2', seed: 12 });
    const configFile = path.join(withHint.dir, 'tokenizer_config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    writeFileSync(configFile, JSON.stringify({ ...config, chat_template: "{% if hint %}{{ '[' + hint + ']' }}{% endif %}" + config.chat_template }));
    const hinted = await llm.startLlmEngine(withHint.dir, { numBlocks: 8, blockSize: 4, threads: 1 });
    expect(hinted.tokenizer.applyChatTemplate(messages, { kwargs: { hint: 'be brief' } })).toBe(`[be brief]${text}`);
    expect(hinted.encodePrompt(messages, { kwargs: { hint: 'be brief' } })).toEqual(hinted.tokenizer.encode(`[be brief]${text}`, false));
    hinted.dispose();
    rmSync(withHint.dir, { recursive: true, force: true });
  });

  it('admits waiting requests by priority (lower first)', async () => {
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 64, blockSize: 4, maxNumSeqs: 1, threads: 2 });
    const order: string[] = [];
    const run = async (name: string, priority: number) => {
      await engine.complete(PROMPTS[0], { ...GREEDY, maxTokens: 3, priority });
      order.push(name);
    };
    const first = engine.generate(PROMPTS[0], { ...GREEDY, maxTokens: 3 });
    await first.next(); // running: the only sequence slot is taken
    const queued = Promise.all([run('low', 5), run('high', -1)]);
    for await (const chunk of first) void chunk;
    order.push('first');
    await queued;
    expect(order).toEqual(['first', 'high', 'low']);
    engine.dispose();
  });

  it('rejects bad input with typed errors', async () => {
    expect(() => single.generate([], GREEDY)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => single.generate(new Array(300).fill(1), GREEDY)).toThrow(/at most/);
    expect(() => single.generate([1, 2], { temperature: -1 })).toThrow(/temperature/);
    expect(() => single.generate([1, 99999], GREEDY)).toThrow(/token ids/);
    await expect(llm.startLlmEngine('/nonexistent')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });
});
