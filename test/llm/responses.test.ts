// OpenAI's Responses API (/v1/responses) on a tiny random model, driven by the official `openai`
// client: the output equals the chat completion of the same conversation, streamed events add up
// to the whole response, tool calls become function_call items (parsed from a fixed output, or
// forced by tool_choice), input items map to chat messages, stored responses continue a
// conversation (previous_response_id) and can be retrieved and deleted, and what is not supported
// is a 400.
import Ajv from 'ajv';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { chatBodyOf } from '../../lib/llm/server/responses-request';
import { ResponseStore } from '../../lib/llm/server/responses-store';
import { TINY_VOCAB, writeTinyModel } from '../fixtures/hf-model';
import { llm } from './helpers';

let server: Awaited<ReturnType<typeof llm.serveLlm>>;
let client: OpenAI;
const MODEL = 'tiny-qwen';

beforeAll(async () => {
  const model = writeTinyModel({ arch: 'qwen2', tie: true, seed: 5 });
  server = await llm.serveLlm({ dir: model.dir, port: 0, modelName: MODEL, numBlocks: 128, blockSize: 4, threads: 2, maxModelLen: 200 });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(() => server.close());

// The events of a streamed response, in order.
async function events(params: OpenAI.Responses.ResponseCreateParamsStreaming): Promise<OpenAI.Responses.ResponseStreamEvent[]> {
  const out: OpenAI.Responses.ResponseStreamEvent[] = [];
  for await (const event of await client.responses.create(params)) out.push(event);
  return out;
}

const withoutIds = (items: unknown[]) => JSON.parse(JSON.stringify(items, (k, v) => (k === 'id' || k === 'call_id' ? undefined : v)));

describe('Responses API', () => {
  it('answers as the chat completion of the same conversation, streamed or not', async () => {
    const res = await client.responses.create({ model: MODEL, instructions: 'Be brief.', input: 'hello there', max_output_tokens: 10, temperature: 0, include: [], store: false, parallel_tool_calls: true });
    const chat = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello there' }], max_tokens: 10, temperature: 0 });
    expect(res.output_text).toBe(chat.choices[0].message.content);
    expect(res.status).toBe(chat.choices[0].finish_reason === 'length' ? 'incomplete' : 'completed');
    if (res.status === 'incomplete') expect(res.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(res.usage).toMatchObject({ input_tokens: chat.usage!.prompt_tokens, output_tokens: chat.usage!.completion_tokens, total_tokens: chat.usage!.total_tokens });
    expect(res.output).toEqual([expect.objectContaining({ type: 'message', role: 'assistant', status: 'completed', id: expect.stringMatching(/^msg_/) })]);

    const stream = await events({ model: MODEL, instructions: 'Be brief.', input: 'hello there', max_output_tokens: 10, temperature: 0, stream: true });
    const types = stream.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', res.status === 'completed' ? 'response.completed' : 'response.incomplete']);
    expect(stream.map((e) => e.sequence_number)).toEqual(stream.map((_, i) => i));
    const deltas = stream.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : []));
    expect(deltas.join('')).toBe(res.output_text);
    const last = stream.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(withoutIds(last.response.output)).toEqual(withoutIds(res.output));
    expect(last.response.usage).toEqual(res.usage);
  });

  it('maps input items to chat messages', () => {
    const { chat: body, input } = chatBodyOf({
      model: MODEL, instructions: 'sys',
      input: [
        { role: 'developer', content: 'dev' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'weather ' }, { type: 'input_text', text: 'and time?' }] },
        { type: 'function_call', call_id: 'c1', name: 'get_weather', arguments: '{"city": "Oslo"}' },
        { type: 'function_call', call_id: 'c2', name: 'get_time', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: 'sunny' },
        { type: 'function_call_output', call_id: 'c2', output: '12:00' },
      ],
      tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' } }],
      tool_choice: { type: 'function', name: 'get_weather' }, max_output_tokens: 5, text: { format: { type: 'json_schema', name: 'x', schema: { type: 'object' } } },
    });
    expect(body).toEqual({
      model: MODEL,
      messages: [
        { role: 'system', content: 'sys' }, { role: 'system', content: 'dev' }, { role: 'user', content: 'weather and time?' },
        { role: 'assistant', content: '', tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Oslo"}' } },
          { id: 'c2', type: 'function', function: { name: 'get_time', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' }, { role: 'tool', tool_call_id: 'c2', content: '12:00' },
      ],
      max_tokens: 5,
      tools: [{ type: 'function', function: { name: 'get_weather', description: undefined, parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
    });
    expect(input).toEqual(body.messages.slice(1)); // the conversation a stored response keeps: not the instructions
  });

  it('continues a stored response (previous_response_id), retrieves and deletes it', async () => {
    const first = await client.responses.create({ model: MODEL, instructions: 'Be brief.', input: 'hello there', max_output_tokens: 5, temperature: 0 });
    const second = await client.responses.create({ model: MODEL, previous_response_id: first.id, input: 'and then?', max_output_tokens: 5, temperature: 0 });
    // The same as a chat of the whole conversation; the first response's instructions are not inherited.
    const chat = await client.chat.completions.create({ model: MODEL, max_tokens: 5, temperature: 0, messages: [
      { role: 'user', content: 'hello there' }, { role: 'assistant', content: first.output_text }, { role: 'user', content: 'and then?' }] });
    expect(second.output_text).toBe(chat.choices[0].message.content);
    expect(second.usage!.input_tokens).toBe(chat.usage!.prompt_tokens);
    expect(second.previous_response_id).toBe(first.id);
    const third = await client.responses.create({ model: MODEL, previous_response_id: second.id, input: 'ok', max_output_tokens: 3, temperature: 0 });
    expect(third.usage!.input_tokens).toBeGreaterThan(second.usage!.input_tokens + second.usage!.output_tokens);
    expect(await client.responses.retrieve(first.id)).toEqual(first);
    await client.responses.delete(first.id);
    await expect(client.responses.retrieve(first.id)).rejects.toMatchObject({ status: 404 });
    await expect(client.responses.create({ model: MODEL, previous_response_id: first.id, input: 'x' })).rejects.toMatchObject({ status: 404, param: 'previous_response_id' });
    const unstored = await client.responses.create({ model: MODEL, input: 'hi', max_output_tokens: 2, store: false });
    expect(unstored.store).toBe(false);
    await expect(client.responses.retrieve(unstored.id)).rejects.toMatchObject({ status: 404 });
  });

  it('keeps the most recently used responses up to its capacity', () => {
    const store = new ResponseStore(2);
    const entry = (n: number) => ({ response: { n }, conversation: [] });
    store.set('a', entry(1));
    store.set('b', entry(2));
    expect(store.get('a')).toEqual(entry(1)); // a is now the most recent
    store.set('c', entry(3));
    expect(store.get('b')).toBeUndefined();
    expect(store.get('a')).toEqual(entry(1));
    expect(store.get('c')).toEqual(entry(3));
    const none = new ResponseStore(0);
    none.set('a', entry(1));
    expect(none.get('a')).toBeUndefined();
  });

  // As in the chat test, a random model cannot be made to write a call: the generation is replaced
  // by a fixed Hermes-style output, and what is tested is the response.
  it('returns tool calls as function_call items, their arguments streamed', async () => {
    const pieces = ['Sure.', '<tool_call>{"name": "get_weather", ', '"arguments": {"city": ', '"Oslo"}}</tool_call>'];
    const spy = vi.spyOn(server.engine, 'generate').mockImplementation((() => {
      let text = '';
      return {
        get outputText() { return text; },
        finishReason: 'stop', usage: { promptTokens: 5, completionTokens: pieces.length, cachedTokens: 0 },
        async *[Symbol.asyncIterator]() {
          for (const [i, piece] of pieces.entries()) {
            text += piece;
            yield { text: piece, tokenId: 1, logprobs: null, finishReason: i === pieces.length - 1 ? 'stop' : null };
          }
        },
        return: async () => ({ value: undefined, done: true }),
      };
    }) as never);
    const tools: OpenAI.Responses.FunctionTool[] = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
    try {
      const res = await client.responses.create({ model: MODEL, input: 'weather?', tools });
      expect(res.output_text).toBe('Sure.');
      const call = res.output[1] as OpenAI.Responses.ResponseFunctionToolCall;
      expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city": "Oslo"}', status: 'completed', call_id: expect.stringMatching(/^call_/) });
      const stream = await events({ model: MODEL, input: 'weather?', tools, stream: true });
      const added = stream.filter((e) => e.type === 'response.output_item.added').map((e) => (e as OpenAI.Responses.ResponseOutputItemAddedEvent).item.type);
      expect(added).toEqual(['message', 'function_call']);
      const args = stream.flatMap((e) => (e.type === 'response.function_call_arguments.delta' ? [e.delta] : []));
      expect(args.length).toBeGreaterThan(1);
      expect(args.join('')).toBe(call.arguments);
      const done = stream.find((e) => e.type === 'response.function_call_arguments.done') as OpenAI.Responses.ResponseFunctionCallArgumentsDoneEvent;
      expect(done.arguments).toBe(call.arguments);
      expect(withoutIds((stream.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response.output)).toEqual(withoutIds(res.output));
    } finally {
      spy.mockRestore();
    }
  });

  it('forces a named function call and a JSON schema with constrained decoding', async () => {
    const ajv = new Ajv({ strict: false });
    const logit_bias: Record<string, number> = {};
    for (let id = 0; id < TINY_VOCAB; id++) if (/^\s+$/.test(server.engine.tokenizer.decode([id]))) logit_bias[id] = -100;
    const weather = { type: 'object', properties: { city: { enum: ['Paris', 'Oslo'] }, days: { type: ['boolean', 'null'] } }, required: ['city'], additionalProperties: false };
    const extra = { logit_bias, temperature: 1, seed: 2, max_output_tokens: 60 } as object;
    const forced = await client.responses.create({ model: MODEL, input: 'weather?', tools: [{ type: 'function', name: 'get_weather', parameters: weather, strict: true }],
      tool_choice: { type: 'function', name: 'get_weather' }, ...extra } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    const call = forced.output.find((o) => o.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall;
    expect(call.name).toBe('get_weather');
    expect(ajv.validate(weather, JSON.parse(call.arguments)), call.arguments).toBe(true);
    const typed = await client.responses.create({ model: MODEL, input: 'weather?', text: { format: { type: 'json_schema', name: 'w', schema: weather } }, ...extra } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    expect(ajv.validate(weather, JSON.parse(typed.output_text)), typed.output_text).toBe(true);
  });

  it('refuses what it does not support with OpenAI-style 400s', async () => {
    const bad: [object, string | null][] = [
      [{ previous_response_id: 7 }, 'previous_response_id'], [{ tools: [{ type: 'web_search' }] }, 'tools[0]'],
      [{ input: [{ type: 'reasoning', summary: [] }] }, 'input[0]'], [{ reasoning: { effort: 'high' } }, 'reasoning'], [{ input: [] }, 'input'],
      [{ conversation: 'c1' }, 'conversation'], [{ text: { format: { type: 'xml' } } }, 'text.format'], [{ include: ['message.output_text.logprobs'] }, 'include'],
    ];
    for (const [extra, param] of bad)
      await expect(client.responses.create({ model: MODEL, input: 'hi', ...extra } as never)).rejects.toMatchObject({ status: 400, param });
    await expect(client.responses.create({ model: 'nope', input: 'hi' })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    await expect(client.responses.create({ model: MODEL, input: 'hi', previous_response_id: 'resp_unknown' })).rejects.toMatchObject({ status: 404, param: 'previous_response_id' });
  });
});
