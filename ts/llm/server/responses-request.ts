// An OpenAI Responses API request (/v1/responses) as the Chat Completions body it stands for, so
// that both APIs share one parser (params.ts): `instructions`, the conversation of a previous
// response (responses-store.ts) and `input` (a string, or message, function_call and
// function_call_output items) become messages; function `tools`, `tool_choice`, `text.format` and
// `max_output_tokens` their chat names. Tools and input items other than functions and text are
// refused.
import { invalidParam } from './errors';
import type { Body } from './params';

export type Message = { role: string; content: string; tool_calls?: unknown[]; tool_call_id?: string };

// Sampling fields both APIs (or vLLM's extensions of them) name alike.
const SHARED = ['model', 'temperature', 'top_p', 'stream', 'seed', 'top_k', 'min_p', 'repetition_penalty', 'presence_penalty', 'frequency_penalty',
  'logit_bias', 'stop', 'min_tokens', 'ignore_eos', 'priority', 'structured_outputs', 'guided_json', 'guided_choice', 'guided_regex', 'chat_template_kwargs'];

// Accepted and without effect here (bookkeeping of OpenAI's hosted service).
const IGNORED = ['metadata', 'user', 'parallel_tool_calls', 'truncation', 'service_tier', 'background', 'safety_identifier', 'prompt_cache_key', 'stream_options'];

function text(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalidParam(where, `'${where}' must be a string or text parts`);
  return content.map((part: { type?: unknown; text?: unknown }) => {
    if ((part?.type === 'input_text' || part?.type === 'output_text') && typeof part.text === 'string') return part.text;
    throw invalidParam(where, `'${where}' may hold only input_text and output_text parts`);
  }).join('');
}

function inputMessages(input: unknown): Message[] {
  const messages: Message[] = [];
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  if (!Array.isArray(input) || input.length === 0) throw invalidParam('input', "'input' must be a string or a non-empty array of items");
  for (const [i, raw] of input.entries()) {
    const item = raw as { type?: unknown; role?: unknown; content?: unknown; call_id?: unknown; name?: unknown; arguments?: unknown; output?: unknown };
    const where = `input[${i}]`;
    if (item?.type === 'function_call') {
      if (typeof item.call_id !== 'string' || typeof item.name !== 'string' || typeof item.arguments !== 'string')
        throw invalidParam(where, `'${where}' (function_call) needs call_id, name and arguments strings`);
      const call = { id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } };
      const last = messages.at(-1);
      // Calls in a row are one assistant turn.
      if (last?.role === 'assistant' && last.tool_calls && last.content === '') last.tool_calls.push(call);
      else messages.push({ role: 'assistant', content: '', tool_calls: [call] });
    } else if (item?.type === 'function_call_output') {
      if (typeof item.call_id !== 'string') throw invalidParam(where, `'${where}' (function_call_output) needs a call_id`);
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: typeof item.output === 'string' ? item.output : JSON.stringify(item.output) });
    } else if ((item?.type === undefined || item.type === 'message') && typeof item?.role === 'string') {
      const role = item.role === 'developer' ? 'system' : item.role;
      messages.push({ role, content: text(item.content, `${where}.content`) });
    } else {
      throw invalidParam(where, `'${where}': only messages, function_call and function_call_output items are supported`);
    }
  }
  return messages;
}

function toolsOf(tools: unknown): unknown[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw invalidParam('tools', "'tools' must be an array");
  return tools.map((t: { type?: unknown; name?: unknown; description?: unknown; parameters?: unknown }, i) => {
    if (t?.type !== 'function' || typeof t.name !== 'string') throw invalidParam(`tools[${i}]`, `'tools[${i}]': only function tools ({ type: 'function', name, parameters }) are supported`);
    return { type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } };
  });
}

function toolChoiceOf(choice: unknown): unknown {
  if (choice === undefined || choice === null || typeof choice === 'string') return choice ?? undefined;
  const c = choice as { type?: unknown; name?: unknown };
  if (c.type === 'function' && typeof c.name === 'string') return { type: 'function', function: { name: c.name } };
  throw invalidParam('tool_choice', "tool_choice must be 'auto', 'required', 'none' or { type: 'function', name }");
}

function formatOf(textOptions: unknown): unknown {
  const format = (textOptions as { format?: { type?: unknown; name?: unknown; schema?: unknown } } | undefined)?.format;
  if (format === undefined || format === null) return undefined;
  if (format.type === 'text' || format.type === 'json_object') return { type: format.type };
  if (format.type === 'json_schema') return { type: 'json_schema', json_schema: { name: format.name, schema: format.schema } };
  throw invalidParam('text.format', "text.format must be { type: 'text' | 'json_object' } or { type: 'json_schema', name, schema }");
}

/**
 * The chat body of a Responses request that follows `history` (the conversation of its previous
 * response), and its input as messages.
 */
export function chatBodyOf(body: Body, history: readonly Message[] = []): { chat: Body; input: Message[] } {
  if (body.reasoning !== undefined && body.reasoning !== null) throw invalidParam('reasoning', "'reasoning' is not supported by this server");
  if (body.include !== undefined && body.include !== null && !(Array.isArray(body.include) && body.include.length === 0))
    throw invalidParam('include', "'include' is not supported (no extra output data is produced here)");
  const known = new Set([...SHARED, ...IGNORED, 'input', 'instructions', 'tools', 'tool_choice', 'text', 'max_output_tokens', 'previous_response_id', 'store', 'reasoning', 'include']);
  for (const key of Object.keys(body)) if (!known.has(key)) throw invalidParam(key, `'${key}' is not supported on /v1/responses`);
  const input = inputMessages(body.input);
  const instructions = body.instructions === undefined || body.instructions === null ? [] : [{ role: 'system', content: text(body.instructions, 'instructions') }];
  const chat: Body = { messages: [...instructions, ...history, ...input] };
  for (const key of SHARED) if (body[key] !== undefined) chat[key] = body[key];
  if (body.max_output_tokens !== undefined) chat.max_tokens = body.max_output_tokens;
  const tools = toolsOf(body.tools);
  if (tools) chat.tools = tools;
  const choice = toolChoiceOf(body.tool_choice);
  if (choice !== undefined) chat.tool_choice = choice;
  const format = formatOf(body.text);
  if (format !== undefined) chat.response_format = format;
  return { chat, input };
}
