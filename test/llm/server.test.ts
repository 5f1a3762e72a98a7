// The OpenAI-compatible server on 127.0.0.1, driven by the official `openai` client: models,
// completions (string, token ids, several prompts, n choices, echo with prompt logprobs,
// logit_bias, stop ids, min_tokens), vLLM's /tokenize and /detokenize, chat streaming with usage,
// tool calls (parsed, or forced by tool_choice), JSON mode, OpenAI-style errors, client disconnects that cancel, and the Prometheus
// metrics.
import Ajv from 'ajv';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { feed, JSON_START, jsonStart } from '../../lib/llm/json-checker';
import { parseSchema } from '../../lib/llm/json-schema';
import { TINY_VOCAB, writeTinyModel } from '../fixtures/hf-model';
import { llm } from './helpers';

let server: Awaited<ReturnType<typeof llm.serveLlm>>;
let client: OpenAI;
const MODEL = 'tiny-qwen';
const EOS = TINY_VOCAB - 1; // the tiny checkpoints' eos_token_id

beforeAll(async () => {
  const model = writeTinyModel({ arch: 'qwen2', tie: true, seed: 5 });
  server = await llm.serveLlm({ dir: model.dir, port: 0, modelName: MODEL, numBlocks: 128, blockSize: 4, threads: 2, maxModelLen: 200 });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(() => server.close());

describe('OpenAI-compatible LLM server', () => {
  it('lists the model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);
  });

  it('completes a string, token ids and several prompts like the engine does', async () => {
    const direct = await server.engine.complete('hello world', { temperature: 0, maxTokens: 8, ignoreEos: true });
    const res = await client.completions.create({ model: MODEL, prompt: 'hello world', max_tokens: 8, temperature: 0, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(res.choices[0].text).toBe(direct.text);
    expect(res.usage).toMatchObject({ completion_tokens: 8, prompt_tokens: server.engine.encodePrompt('hello world').length });
    const ids = server.engine.encodePrompt('hello world');
    const byIds = await client.completions.create({ model: MODEL, prompt: ids, max_tokens: 8, temperature: 0, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(byIds.choices[0].text).toBe(direct.text);
    const many = await client.completions.create({ model: MODEL, prompt: ['hello world', 'the cat'], max_tokens: 4, temperature: 0 });
    expect(many.choices.map((c) => c.index)).toEqual([0, 1]);
  });

  // lm-evaluation-harness scores a continuation this way: echo, logprobs 1, max_tokens 1.
  it('echoes the prompt with its token log-probabilities, streamed or not', async () => {
    const prompt = 'the cat sat on the mat';
    const ids = server.engine.encodePrompt(prompt);
    const direct = await server.engine.complete(prompt, { temperature: 0, maxTokens: 1, ignoreEos: true, logprobs: 1, promptLogprobs: 1 });
    const res = await client.completions.create({ model: MODEL, prompt, max_tokens: 1, temperature: 0, ignore_eos: true, echo: true, logprobs: 1 } as OpenAI.CompletionCreateParamsNonStreaming);
    const choice = res.choices[0];
    expect(choice.text).toBe(prompt + direct.text);
    const lp = choice.logprobs!;
    expect(lp.tokens).toHaveLength(ids.length + 1);
    expect(lp.token_logprobs![0]).toBeNull();
    expect(lp.token_logprobs!.slice(1, ids.length)).toEqual(direct.promptLogprobs!.slice(1).map((p) => p!.logprob));
    expect(lp.top_logprobs![0]).toBeNull();
    for (const top of lp.top_logprobs!.slice(1)) expect(Object.keys(top)).toHaveLength(1);
    const stream = await client.completions.create({ model: MODEL, prompt, max_tokens: 3, temperature: 0, ignore_eos: true, echo: true, stream: true } as OpenAI.CompletionCreateParamsStreaming);
    const texts: string[] = [];
    for await (const chunk of stream) texts.push(chunk.choices[0]?.text ?? '');
    expect(texts[0]).toBe(prompt);
    const plain = await client.completions.create({ model: MODEL, prompt, max_tokens: 3, temperature: 0, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(texts.join('')).toBe(prompt + plain.choices[0].text);
  });

  it('returns n choices per prompt, each a seeded sample of its own; prompt tokens count once', async () => {
    const prompts = ['hello world', 'the cat'];
    const res = await client.completions.create({ model: MODEL, prompt: prompts, n: 3, max_tokens: 6, temperature: 1, seed: 7, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const [p, prompt] of prompts.entries())
      for (let i = 0; i < 3; i++) {
        const alone = await server.engine.complete(prompt, { temperature: 1, seed: 7 + i, maxTokens: 6, ignoreEos: true });
        expect(res.choices[p * 3 + i].text).toBe(alone.text);
      }
    const promptTokens = prompts.reduce((n, p) => n + server.engine.encodePrompt(p).length, 0);
    expect(res.usage).toMatchObject({ prompt_tokens: promptTokens, completion_tokens: 36 });
    const chat = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], n: 2, max_tokens: 5, temperature: 0 });
    expect(chat.choices).toHaveLength(2);
    expect(chat.choices[1].message.content).toBe(chat.choices[0].message.content);
    await expect(client.completions.create({ model: MODEL, prompt: 'hi', n: 0 })).rejects.toMatchObject({ status: 400, param: 'n' });
  });

  it('takes logit_bias and stop_token_ids', async () => {
    const biased = await client.completions.create({ model: MODEL, prompt: 'hello', max_tokens: 3, temperature: 0, ignore_eos: true, logit_bias: { 77: 100 } } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(biased.choices[0].text).toBe(server.engine.tokenizer.decode([77, 77, 77]));
    const stopId = (await server.engine.complete('hello', { temperature: 0, maxTokens: 8, ignoreEos: true })).tokenIds[2];
    const stopped = await client.completions.create({ model: MODEL, prompt: 'hello', max_tokens: 8, temperature: 0, ignore_eos: true, stop_token_ids: [stopId] } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(stopped.choices[0].finish_reason).toBe('stop');
    expect(stopped.usage!.completion_tokens).toBeLessThanOrEqual(3);
    await expect(client.completions.create({ model: MODEL, prompt: 'hi', logit_bias: { 5: 500 } })).rejects.toMatchObject({ status: 400 });
  });

  it('takes min_tokens, and tokenizes and detokenizes like the engine (vLLM endpoints)', async () => {
    const early = await client.completions.create({ model: MODEL, prompt: 'hello', max_tokens: 8, temperature: 0, logit_bias: { [EOS]: 100 } } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(early.usage!.completion_tokens).toBe(1);
    const late = await client.completions.create({ model: MODEL, prompt: 'hello', max_tokens: 8, temperature: 0, logit_bias: { [EOS]: 100 }, min_tokens: 3 } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(late.usage!.completion_tokens).toBe(4);
    const post = async (route: string, body: object) => {
      const res = await fetch(`${server.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: await res.json() };
    };
    const ids = server.engine.encodePrompt('hello world');
    expect((await post('/tokenize', { model: MODEL, prompt: 'hello world' })).body).toEqual({ count: ids.length, max_model_len: server.engine.maxModelLen, tokens: ids });
    const chat = [{ role: 'user', content: 'hi' }];
    expect((await post('/tokenize', { messages: chat })).body.tokens).toEqual(server.engine.encodePrompt(chat));
    expect((await post('/detokenize', { tokens: ids })).body).toEqual({ prompt: server.engine.tokenizer.decode(ids, false) });
    expect(await post('/tokenize', { model: 'nope', prompt: 'x' })).toMatchObject({ status: 404, body: { error: { code: 'model_not_found' } } });
    expect(await post('/detokenize', { tokens: [1e9] })).toMatchObject({ status: 400, body: { error: { param: 'tokens' } } });
    expect(await post('/tokenize', { prompt: 5 })).toMatchObject({ status: 400, body: { error: { param: 'prompt' } } });
    // Chat rendering options: an open final assistant message is continued.
    const open = [...chat, { role: 'assistant', content: 'well' }];
    const continued = await post('/tokenize', { messages: open, continue_final_message: true, add_generation_prompt: false });
    expect(continued.body.tokens).toEqual(server.engine.encodePrompt(open, { continueFinalMessage: true }));
    const reply = await client.chat.completions.create({ model: MODEL, messages: open, max_tokens: 2, temperature: 0,
      continue_final_message: true, add_generation_prompt: false } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(reply.usage!.prompt_tokens).toBe(continued.body.count);
    expect(await post('/tokenize', { messages: chat, continue_final_message: true })).toMatchObject({ status: 400 });
  });

  // A random tiny model cannot be made to write a tool call, so the engine's generation is replaced
  // by one that returns a fixed Hermes-style output: what is tested is the server's reply.
  it('turns tool calls in the output into tool_calls, streamed or not', async () => {
    // A generation that yields `pieces` one by one, its outputText growing with them.
    const generationOf = (pieces: string[]) => () => {
      let text = '';
      return {
        get outputText() { return text; },
        finishReason: 'stop', promptLogprobs: null, usage: { promptTokens: 5, completionTokens: pieces.length, cachedTokens: 0 },
        async *[Symbol.asyncIterator]() {
          for (const [i, piece] of pieces.entries()) {
            text += piece;
            yield { text: piece, tokenId: 1, logprobs: null, finishReason: i === pieces.length - 1 ? 'stop' : null };
          }
        },
        return: async () => ({ value: undefined, done: true }),
      };
    };
    const pieces = ['Check', 'ing.', '<tool', '_call>{"name": "get_weather", ', '"arguments": {"city": ', '"Par', 'is"}}</tool_call>'];
    const output = pieces.join('');
    const fake = generationOf(pieces);
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const messages = [{ role: 'user' as const, content: 'weather in Paris?' }];
    const spy = vi.spyOn(server.engine, 'generate').mockImplementation(fake as never);
    try {
      const res = await client.chat.completions.create({ model: MODEL, messages, tools });
      expect(res.choices[0].finish_reason).toBe('tool_calls');
      expect(res.choices[0].message.content).toBe('Checking.');
      const call = res.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
      expect(call.function).toEqual({ name: 'get_weather', arguments: '{"city": "Paris"}' }); // as the model wrote it
      expect(call.id).toMatch(/^call_/);
      const stream = await client.chat.completions.create({ model: MODEL, messages, tools, stream: true });
      const deltas: OpenAI.ChatCompletionChunk.Choice[] = [];
      for await (const chunk of stream) deltas.push(...chunk.choices);
      expect(deltas.at(-1)!.finish_reason).toBe('tool_calls');
      // The content before the call streamed as it came; nothing of the tag leaked into it. Then the
      // call: named once its arguments begin, which follow piece by piece and add up to the whole.
      expect(deltas.map((d) => d.delta.content ?? '').filter((t) => t !== '')).toEqual(['Check', 'ing.']);
      const callDeltas = deltas.flatMap((d) => d.delta.tool_calls ?? []);
      expect(callDeltas[0]).toMatchObject({ index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '{"city": ' } });
      expect(callDeltas.slice(1).map((t) => t.function?.arguments)).toEqual(['"Par', 'is"}']);
      expect(callDeltas.map((t) => t.function?.arguments).join('')).toBe(call.function.arguments);
      // A plain reply streams piece by piece even with tools offered; a possible tag start waits.
      spy.mockImplementation(generationOf(['Hello', ' <b>', ' world <tool', 's>']) as never);
      const plainStream = await client.chat.completions.create({ model: MODEL, messages, tools, stream: true });
      const texts: string[] = [];
      let plainFinish: string | null = null;
      for await (const chunk of plainStream) {
        if (chunk.choices[0]?.delta?.content) texts.push(chunk.choices[0].delta.content);
        plainFinish = chunk.choices[0]?.finish_reason ?? plainFinish;
      }
      expect(texts).toEqual(['Hello', ' <b>', ' world ', '<tools>']); // '<tool' held until it was not a tag
      expect(plainFinish).toBe('stop');
      spy.mockImplementation(fake as never);
      // Without tools in the request the same output is plain content.
      const plain = await client.chat.completions.create({ model: MODEL, messages });
      expect(plain.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: output } });
    } finally {
      spy.mockRestore();
    }
  });

  // A forced call is constrained decoding, so the random model itself makes it: its arguments must
  // validate (ajv) against the tool's parameters, streamed or not.
  it('forces tool calls: a named function, or tool_choice required', async () => {
    const ajv = new Ajv({ strict: false });
    const weather = { type: 'object', properties: { city: { enum: ['Paris', 'Oslo'] }, unit: { enum: ['c', 'f'] }, days: { type: ['boolean', 'null'] } }, required: ['city'] };
    const time = { $defs: { Zone: { enum: ['utc', 'cet'] } }, type: 'object', properties: { zone: { $ref: '#/$defs/Zone' } }, required: ['zone'], additionalProperties: false };
    const tools = [
      { type: 'function' as const, function: { name: 'get_weather', parameters: weather } },
      { type: 'function' as const, function: { name: 'get_time', parameters: time } },
    ];
    const messages = [{ role: 'user' as const, content: 'weather?' }];
    // A random model pads every gap with whitespace up to the checker's run limit; kept out here,
    // the calls fit the server's context.
    const logit_bias: Record<string, number> = {};
    for (let id = 0; id < TINY_VOCAB; id++) if (/^\s+$/.test(server.engine.tokenizer.decode([id]))) logit_bias[id] = -100;
    const params = { model: MODEL, messages, tools, max_tokens: 150, temperature: 1, logit_bias };
    const named = { type: 'function' as const, function: { name: 'get_weather' } };
    for (const seed of [1, 2, 3]) {
      const res = await client.chat.completions.create({ ...params, seed, tool_choice: named });
      expect(res.choices[0].finish_reason).toBe('stop'); // as OpenAI answers a named function
      const call = res.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
      expect(call.function.name).toBe('get_weather');
      expect(ajv.validate(weather, JSON.parse(call.function.arguments)), call.function.arguments).toBe(true);
      // Streamed: the call's id and name first, then its arguments as they come.
      const stream = await client.chat.completions.create({ ...params, seed, tool_choice: named, stream: true });
      let args = '';
      const heads: unknown[] = [];
      let finish: string | null = null;
      for await (const chunk of stream) {
        for (const t of chunk.choices[0]?.delta?.tool_calls ?? []) {
          if (t.id) heads.push({ id: t.id, name: t.function?.name });
          args += t.function?.arguments ?? '';
        }
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect(heads).toEqual([{ id: expect.stringMatching(/^call_/), name: 'get_weather' }]);
      expect(args.trim()).toBe(call.function.arguments);
      expect(finish).toBe('stop');

      const required = await client.chat.completions.create({ ...params, seed, tool_choice: 'required' });
      expect(required.choices[0].finish_reason).toBe('tool_calls');
      const calls = required.choices[0].message.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
      expect(calls.length).toBeGreaterThan(0);
      for (const c of calls)
        expect(ajv.validate(c.function.name === 'get_time' ? time : weather, JSON.parse(c.function.arguments)), `${c.function.name} ${c.function.arguments}`).toBe(true);
      const requiredStream = await client.chat.completions.create({ ...params, seed, tool_choice: 'required', stream: true });
      const deltas: OpenAI.ChatCompletionChunk.Choice[] = [];
      for await (const chunk of requiredStream) deltas.push(...chunk.choices);
      expect(deltas.flatMap((d) => (d.delta.content ? [d.delta.content] : []))).toEqual([]);
      expect(deltas.at(-1)!.finish_reason).toBe('tool_calls');
      expect(deltas.at(-1)!.delta.tool_calls!.map((t) => t.function)).toEqual(calls.map((c) => c.function));
    }
    await expect(client.chat.completions.create({ ...params, tool_choice: { type: 'function', function: { name: 'nope' } } })).rejects.toMatchObject({ status: 400, param: 'tool_choice' });
    await expect(client.chat.completions.create({ ...params, tool_choice: 'sometimes' as never })).rejects.toMatchObject({ status: 400, param: 'tool_choice' });
    const patterned = [{ type: 'function' as const, function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'number', multipleOf: 2 } } } } }];
    await expect(client.chat.completions.create({ ...params, tools: patterned, tool_choice: 'required' })).rejects.toMatchObject({ status: 400, param: 'tools' });
    await expect(client.chat.completions.create({ ...params, tool_choice: named, response_format: { type: 'json_object' } })).rejects.toMatchObject({ status: 400, param: 'response_format' });
  });

  it('takes response_format json_object and json_schema (unsupported schema keywords refused)', async () => {
    const messages = [{ role: 'user' as const, content: 'JSON please' }];
    // The checker itself is tested against JSON.parse in json-mode.test.ts; here: the server applies it.
    const res = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 150, temperature: 0.7, seed: 3, response_format: { type: 'json_object' } });
    const text = res.choices[0].message.content!;
    if (res.choices[0].finish_reason === 'stop') expect(JSON.parse(text)).toBeTypeOf('object');
    else expect(feed(JSON_START, text), text).not.toBeNull();
    const schema = { type: 'object', properties: { answer: { enum: ['yes', 'no'] } }, required: ['answer'], additionalProperties: false };
    const typed = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 150, temperature: 0.7, seed: 3,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } } });
    const typedText = typed.choices[0].message.content!;
    if (typed.choices[0].finish_reason === 'stop') expect(['yes', 'no']).toContain(JSON.parse(typedText).answer);
    else expect(feed(jsonStart(parseSchema(schema)), typedText), typedText).not.toBeNull();
    await expect(client.chat.completions.create({ model: MODEL, messages, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { anyOf: [] } } } }))
      .rejects.toMatchObject({ status: 400 });
    await expect(client.chat.completions.create({ model: MODEL, messages, response_format: { type: 'xml' } as never })).rejects.toMatchObject({ status: 400, param: 'response_format' });
  });

  it("takes vLLM's structured_outputs and guided_json / guided_choice / guided_regex (grammar refused)", async () => {
    const messages = [{ role: 'user' as const, content: 'Sentiment?' }];
    const choice = ['positive', 'negative', 'neutral'];
    for (const extra of [{ guided_choice: choice }, { structured_outputs: { choice } }]) {
      const res = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 30, temperature: 1, seed: 4, ...extra } as never) as OpenAI.ChatCompletion;
      expect(choice).toContain(res.choices[0].message.content);
      const done = await client.completions.create({ model: MODEL, prompt: 'Sentiment:', max_tokens: 30, temperature: 1, seed: 5, ...extra } as never) as OpenAI.Completion;
      expect(choice).toContain(done.choices[0].text);
    }
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
    for (const extra of [{ guided_json: schema }, { guided_json: JSON.stringify(schema) }, { structured_outputs: { json: schema } }]) {
      const res = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 150, temperature: 1, seed: 4, ...extra } as never) as OpenAI.ChatCompletion;
      const text = res.choices[0].message.content!;
      if (res.choices[0].finish_reason === 'stop') expect(typeof JSON.parse(text).ok).toBe('boolean');
      else expect(feed(jsonStart(parseSchema(schema)), text), text).not.toBeNull();
    }
    const regex = '(yes|no), [a-z]{2,8}\\.';
    for (const extra of [{ guided_regex: regex }, { structured_outputs: { regex } }]) {
      const res = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 30, temperature: 1, seed: 4, ...extra } as never) as OpenAI.ChatCompletion;
      expect(res.choices[0].message.content).toMatch(new RegExp(`^(?:${regex})$`));
    }
    for (const [extra, param] of [[{ guided_grammar: 'root ::= "x"' }, 'guided_grammar'], [{ structured_outputs: { grammar: 'x' } }, 'structured_outputs'],
      [{ guided_choice: ['a'], response_format: { type: 'json_object' } }, 'guided_choice'], [{ guided_choice: [] }, 'guided_choice']] as const)
      await expect(client.chat.completions.create({ model: MODEL, messages, ...extra } as never)).rejects.toMatchObject({ status: 400, param });
    await expect(client.chat.completions.create({ model: MODEL, messages, guided_choice: choice, min_tokens: 2 } as never)).rejects.toMatchObject({ status: 400 });
    await expect(client.chat.completions.create({ model: MODEL, messages, guided_regex: 'a(?=b)' } as never)).rejects.toMatchObject({ status: 400 });
  });

  it('streams chat completions with usage, matching the non-streamed answer', async () => {
    const messages = [{ role: 'user' as const, content: 'hello there' }];
    const whole = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 10, temperature: 0, logprobs: true, top_logprobs: 2 });
    expect(whole.choices[0].message.role).toBe('assistant');
    expect(whole.choices[0].logprobs!.content!.length).toBeGreaterThan(0);
    const stream = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(whole.choices[0].message.content);
    expect(finish).toBe(whole.choices[0].finish_reason);
    expect(usage).toEqual(whole.usage);
  });

  it('answers bad requests with OpenAI-style 4xx errors', async () => {
    await expect(client.completions.create({ model: 'nope', prompt: 'hi' })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    await expect(client.completions.create({ model: MODEL, prompt: 'x'.repeat(900) })).rejects.toMatchObject({ status: 400, code: 'context_length_exceeded' });
    await expect(client.completions.create({ model: MODEL, prompt: 'hi', temperature: -3 })).rejects.toMatchObject({ status: 400 });
    await expect(client.chat.completions.create({ model: MODEL, messages: [] })).rejects.toMatchObject({ status: 400, param: 'messages' });
    const res = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBeTruthy();
  });

  it('cancels the sequence when a streaming client disconnects', async () => {
    const controller = new AbortController();
    const before = server.engine.stats().generationTokens;
    const res = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt: 'the quick brown fox', max_tokens: 150, ignore_eos: true, stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    for (let i = 0; i < 50 && server.engine.stats().running + server.engine.stats().waiting > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(server.engine.stats()).toMatchObject({ running: 0, waiting: 0 });
    expect(server.engine.stats().generationTokens - before).toBeLessThan(150);
  });

  it('exports Prometheus metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of ['hs_llm_time_to_first_token_seconds_bucket', 'hs_llm_time_per_output_token_seconds_count', 'hs_llm_requests_running', 'hs_llm_requests_waiting',
      'hs_llm_kv_cache_usage_ratio', 'hs_llm_prefix_cache_hit_rate', 'hs_llm_generation_tokens_per_second', 'hs_llm_generation_tokens_total',
      'hs_llm_spec_draft_tokens_total', 'hs_llm_spec_accepted_tokens_total', 'hs_llm_spec_acceptance_rate', 'hs_model_busy_ratio', 'hs_process_busy_ratio'])
      expect(text).toContain(name);
    // The earlier tests kept the engine stepping for part of the last 10 s.
    const busy = Number(/hs_model_busy_ratio\{[^}]*\} ([0-9.e-]+)/.exec(text)![1]);
    expect(busy).toBeGreaterThan(0);
    expect(busy).toBeLessThanOrEqual(1);
  });
});

describe('OpenAI-compatible LLM server with API keys', () => {
  it('answers 401 without a key, serves with it, and leaves /health and /metrics open', async () => {
    const model = writeTinyModel({ arch: 'qwen2', seed: 6 });
    const keyed = await llm.serveLlm({ dir: model.dir, port: 0, modelName: MODEL, numBlocks: 32, blockSize: 4, threads: 1, apiKeys: ['s3cret'] });
    try {
      const denied = await fetch(`${keyed.url}/v1/models`);
      expect(denied.status).toBe(401);
      expect((await denied.json()).error).toMatchObject({ code: 'ERR_UNAUTHORIZED' });
      const wrong = new OpenAI({ baseURL: `${keyed.url}/v1`, apiKey: 'nope', maxRetries: 0 });
      await expect(wrong.models.list()).rejects.toMatchObject({ status: 401 });
      const right = new OpenAI({ baseURL: `${keyed.url}/v1`, apiKey: 's3cret', maxRetries: 0 });
      expect((await right.completions.create({ model: MODEL, prompt: 'hi', max_tokens: 2 })).choices).toHaveLength(1);
      expect((await fetch(`${keyed.url}/health`)).status).toBe(200);
      expect((await fetch(`${keyed.url}/metrics`)).status).toBe(200);
    } finally {
      await keyed.close();
    }
  });
});
