// Tool calls: the output parser (ts/llm/tool-calls.ts) on the Qwen2/Hermes and Llama 3.1 formats,
// streamed calls adding up to the whole, the schemas of forced calls (tool_choice required or named),
// assistant tool_calls and tool messages as the chat template gets them, and tools in the template.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { feed, isComplete, jsonStart } from '../../lib/llm/json-checker';
import { parseSchema } from '../../lib/llm/json-schema';
import { parseMessages, parseTools } from '../../lib/llm/server/params';
import { forcedCalls, forcedCallSchema } from '../../lib/llm/server/tool-choice';
import { assistantReply } from '../../lib/llm/server/tool-response';
import { type StreamDelta, toolReplyStream } from '../../lib/llm/server/tool-stream';
import { parseToolCalls, scanCall } from '../../lib/llm/tool-calls';
import { writeTinyModel } from '../fixtures/hf-model';
import { llm } from './helpers';

describe('tool calls in model output', () => {
  it('reads Hermes <tool_call> blocks (Qwen2), with the text around them as content', () => {
    const text = 'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}\n</tool_call>\n' +
      '<tool_call>{"name": "get_time", "arguments": {}}</tool_call>';
    expect(parseToolCalls(text)).toEqual({
      content: 'Let me check.',
      calls: [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 2}' }, { name: 'get_time', arguments: '{}' }],
    });
    expect(parseToolCalls('<tool_call>{"name": "f", "arguments": "{\\"x\\": 1}"}</tool_call>').calls).toEqual([{ name: 'f', arguments: '{"x": 1}' }]);
  });

  it('reads Llama 3.1 JSON calls ({"name", "parameters"}, several separated by ;)', () => {
    expect(parseToolCalls(' {"name": "search", "parameters": {"q": "cats"}} ')).toEqual({ content: null, calls: [{ name: 'search', arguments: '{"q": "cats"}' }] });
    expect(parseToolCalls('{"name": "a", "parameters": {}}; {"name": "b", "parameters": {"k": [1, 2]}}').calls.map((c) => c.name)).toEqual(['a', 'b']);
  });

  it('scans an unfinished call object as far as it goes', () => {
    const text = '{"name": "get_weather", "arguments": {"city": "Pa\\"ris", "tags": ["a}", {"x": []}], "n": -1.5}}';
    const argsStart = text.indexOf('{"city"'), argsEnd = text.length - 1;
    for (let i = 0; i <= text.length; i++) {
      const s = scanCall(text.slice(0, i))!;
      expect(s, `prefix ${i}`).not.toBeNull();
      expect(s.name).toBe(i >= text.indexOf(', "arguments"') ? 'get_weather' : null);
      expect(s.args?.start ?? null).toBe(i > argsStart ? argsStart : null);
      expect(s.args?.end ?? null).toBe(i >= argsEnd ? argsEnd : null);
      expect(s.end).toBe(i === text.length ? text.length : null);
    }
    expect(JSON.parse(text.slice(argsStart, argsEnd))).toEqual(JSON.parse(text).arguments);
    expect(scanCall('[1]')).toBeNull();
    expect(scanCall('{"a" 1}')).toBeNull();
  });

  it('leaves anything else as content', () => {
    for (const text of ['Hello there.', '<tool_call>{"name": broken}</tool_call>', '{"not": "a call"}', '{"name": "f"'])
      expect(parseToolCalls(text)).toEqual({ content: text, calls: [] });
  });
});

describe('streamed tool calls (tool_choice auto)', () => {
  // The output cut into random pieces: the deltas must add up to the reply parsed whole.
  it('add up to the whole reply however the output is cut', () => {
    const outputs = [
      'Let me look.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Pa\\"ris}", "days": [1, {"x": "]"}]}}\n</tool_call>\n<tool_call>{"name": "get_time", "arguments": {}}</tool_call>',
      '{"name": "get_weather", "parameters": {"city": "Oslo"}}; {"name": "get_time", "parameters": {"tz": "cet"}}',
      '<tool_call>{"arguments": {"q": 1}, "name": "get_time"}</tool_call>', // name after the arguments: whole at the end
      '<tool_call>{"name": "unknown_tool", "arguments": {"q": 1}}</tool_call>', // not offered: whole at the end
      '{"answer": 42}', 'Just text, with a <tool in it.',
    ];
    let seed = 3;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (const output of outputs) {
      const whole = assistantReply(output, 'auto', true);
      for (let trial = 0; trial < 30; trial++) {
        const stream = toolReplyStream('auto', ['get_weather', 'get_time'].map((name) => ({ type: 'function', function: { name } })));
        const deltas: StreamDelta[] = [];
        let text = '';
        for (let i = 0; i < output.length;) {
          const piece = output.slice(i, i + 1 + Math.floor(rand() * 6));
          i += piece.length;
          text += piece;
          if (i < output.length) {
            const d = stream.next(text, piece);
            if (d) deltas.push(d);
          } else deltas.push(stream.finish(text, piece, true).delta);
        }
        const content = deltas.map((d) => d.content ?? '').join('');
        const calls: { id?: string; name?: string; arguments: string }[] = [];
        for (const t of deltas.flatMap((d) => d.tool_calls ?? [])) {
          calls[t.index] ??= { arguments: '' };
          if (t.id) Object.assign(calls[t.index], { id: t.id, name: t.function.name });
          calls[t.index].arguments += t.function.arguments;
        }
        const expected = whole.message.tool_calls ?? [];
        expect(calls.map((c) => [c.name, c.arguments]), output).toEqual(expected.map((c) => [c.function.name, c.function.arguments]));
        for (const c of calls) expect(c.id).toMatch(/^call_/);
        // Offered tools whose name comes first stream on the way, not all at the end.
        if (/^(Let|\{"name": "get)/.test(output)) expect(deltas.filter((d) => d.tool_calls).length, output).toBeGreaterThan(2);
        expect(content, output).toBe(expected.length > 0 ? output.slice(0, Math.max(0, output.indexOf('<tool_call>'))) : output);
      }
    }
  });
});

describe('forced tool calls (tool_choice required or named)', () => {
  it('constrain the output to the calls, keeping the references inside each tool\'s parameters', () => {
    const zone = { $defs: { Zone: { enum: ['utc', 'cet'] } }, type: 'object', properties: { zone: { $ref: '#/$defs/Zone' } }, required: ['zone'] };
    const time = { type: 'function' as const, function: { name: 'get_time', parameters: zone } };
    const ping = { type: 'function' as const, function: { name: 'ping' } };
    for (const tools of [[time], [ping, time]]) {
      const start = jsonStart(parseSchema(forcedCallSchema(tools, 'required')));
      const doc = '[{"name": "get_time", "parameters": {"zone": "cet"}}]';
      expect(isComplete(feed(start, doc)!)).toBe(true);
      expect(feed(start, '[{"name": "get_time", "parameters": {"zone": "pst"}}]')).toBeNull();
      expect(forcedCalls(doc, 'required')).toEqual([{ name: 'get_time', arguments: '{"zone":"cet"}' }]);
    }
    const both = jsonStart(parseSchema(forcedCallSchema([ping, time], 'required')));
    expect(isComplete(feed(both, '[{"name": "ping", "parameters": {}}, {"name": "get_time", "parameters": {"zone": "utc"}}]')!)).toBe(true);
    expect(feed(both, '[]')).toBeNull();
    expect(feed(both, '[{"name": "ping", "parameters": {"x": 1}}]')).toBeNull(); // no parameters: none taken
    const named = jsonStart(parseSchema(forcedCallSchema([ping, time], { name: 'get_time' })));
    expect(isComplete(feed(named, '{"zone": "utc"}')!)).toBe(true);
    expect(forcedCalls(' {"zone": "utc"}', { name: 'get_time' })).toEqual([{ name: 'get_time', arguments: '{"zone": "utc"}' }]);
  });
});

describe('tools and tool messages in the chat template', () => {
  it('passes tools and parsed tool_calls arguments to the template', async () => {
    const model = writeTinyModel({ arch: 'qwen2', seed: 12 });
    const file = path.join(model.dir, 'tokenizer_config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    const template = "{% for t in tools %}[tool {{ t.function.name }}]{% endfor %}{% for m in messages %}" +
      "{% if m.tool_calls %}[call {{ m.tool_calls[0].function.name }} {{ m.tool_calls[0].function.arguments.city }}]" +
      "{% elif m.role == 'tool' %}[result {{ m.tool_call_id }}: {{ m.content }}]{% else %}[{{ m.role }}: {{ m.content }}]{% endif %}{% endfor %}";
    writeFileSync(file, JSON.stringify({ ...config, chat_template: template }));
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 8, blockSize: 4, threads: 1 });
    try {
      const messages = parseMessages([
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
      ]);
      const tools = parseTools({ tools: [{ type: 'function', function: { name: 'get_weather', parameters: {} } }] })?.tools;
      expect(engine.tokenizer.applyChatTemplate(messages, { tools, addGenerationPrompt: false }))
        .toBe('[tool get_weather][user: weather?][call get_weather Paris][result c1: sunny]');
      expect(parseTools({ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'none' })).toBeUndefined();
      expect(parseTools({ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'required' })?.choice).toBe('required');
      expect(() => parseTools({ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'g' } } })).toThrow(/tool_choice/);
      expect(() => parseTools({ tools: [{ type: 'retrieval' }] })).toThrow(/tools\[0\]/);
      expect(() => parseMessages([{ role: 'assistant', tool_calls: [{ function: { name: 'f', arguments: '{bad' } }] }])).toThrow(/JSON/);
    } finally {
      engine.dispose();
      rmSync(model.dir, { recursive: true, force: true });
    }
  });
});
