// OpenAI request bodies -> engine inputs. Field types are checked here (each error names the
// field); value ranges are checked by resolveSampling and reported the same way.
import type { PromptInput } from '../LlmEngine';
import type { SamplingParams } from '../sampling';
import type { ChatMessage, ChatTemplateOptions } from '../tokenizer';
import { parseSchema } from '../json-schema';
import { invalidParam } from './errors';
import { forcedCallSchema, type FunctionTool, parametersOf, type ToolChoice } from './tool-choice';

export type Body = Record<string, unknown>;

export interface ParsedRequest {
  model: string;
  prompts: PromptInput[];
  sampling: SamplingParams;
  stream: boolean;
  includeUsage: boolean;
  /** Completions: the prompt comes back before the completion (with its log-probabilities if asked). */
  echo: boolean;
  /** Choices per prompt. */
  n: number;
  /** Chat: how the messages are rendered. */
  chatTemplate?: ChatTemplateOptions;
  /** Chat with tools: how calls are made (undefined: no tools). */
  toolChoice?: ToolChoice;
}

function optional<T>(body: Body, key: string, check: (v: unknown) => boolean, what: string): T | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!check(v)) throw invalidParam(key, `'${key}' must be ${what}`);
  return v as T;
}
const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown) => Number.isInteger(v);
const isTokenList = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every(isInt);

const MAX_N = 128;

// The output's constraint, in OpenAI's response_format ({ type: 'text' | 'json_object' } or
// { type: 'json_schema', json_schema: { schema } }) or vLLM's structured_outputs ({ json },
// { json_object }, { choice } or { regex }) and older guided_json / guided_choice / guided_regex;
// at most one of them.
function parseResponseFormat(body: Body): SamplingParams['responseFormat'] {
  const given = ['response_format', 'structured_outputs', 'guided_json', 'guided_choice', 'guided_regex', 'guided_grammar']
    .filter((k) => body[k] !== undefined && body[k] !== null);
  if (given.length > 1) throw invalidParam(given[1], `'${given[0]}' and '${given[1]}' cannot both constrain the output`);
  if (given[0] === 'guided_grammar') throw invalidParam('guided_grammar', "'guided_grammar' is not supported (JSON schemas, choices and regexes are)");
  if (given[0] === 'structured_outputs') return parseStructuredOutputs(body.structured_outputs);
  if (given[0] === 'guided_json') return { jsonSchema: jsonValue('guided_json', body.guided_json) };
  if (given[0] === 'guided_choice') return { choice: choiceList('guided_choice', body.guided_choice) };
  if (given[0] === 'guided_regex') return { regex: regexSource('guided_regex', body.guided_regex) };
  const format = optional<{ type?: unknown; json_schema?: { schema?: unknown } }>(body, 'response_format', (v) => typeof v === 'object' && !Array.isArray(v), 'an object');
  if (format === undefined) return undefined;
  if (format.type === 'text' || format.type === 'json_object') return format.type;
  if (format.type === 'json_schema' && typeof format.json_schema === 'object' && format.json_schema !== null && format.json_schema.schema !== undefined)
    return { jsonSchema: format.json_schema.schema };
  throw invalidParam('response_format', "response_format must be { type: 'text' | 'json_object' } or { type: 'json_schema', json_schema: { schema } }");
}

function parseStructuredOutputs(raw: unknown): SamplingParams['responseFormat'] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidParam('structured_outputs', "'structured_outputs' must be an object");
  const o = raw as Body;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined && o[k] !== null);
  if (keys.length === 1 && keys[0] === 'json') return { jsonSchema: jsonValue('structured_outputs.json', o.json) };
  if (keys.length === 1 && keys[0] === 'choice') return { choice: choiceList('structured_outputs.choice', o.choice) };
  if (keys.length === 1 && keys[0] === 'regex') return { regex: regexSource('structured_outputs.regex', o.regex) };
  if (keys.length === 1 && keys[0] === 'json_object' && o.json_object === true) return 'json_object';
  throw invalidParam('structured_outputs', "'structured_outputs' must hold one of json, json_object, choice or regex (grammar is not supported)");
}

function regexSource(field: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw invalidParam(field, `'${field}' must be a non-empty string`);
  return v;
}

// A JSON schema given as an object or as its JSON text (vLLM takes both).
function jsonValue(field: string, v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    throw invalidParam(field, `'${field}' must be a JSON schema (an object or its JSON text)`);
  }
}

function choiceList(field: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((c) => typeof c === 'string' && c.length > 0))
    throw invalidParam(field, `'${field}' must be a non-empty array of non-empty strings`);
  return v;
}

function common(body: Body, maxTokensDefault: number | undefined): Omit<ParsedRequest, 'prompts' | 'echo'> {
  if (typeof body.model !== 'string') throw invalidParam('model', "'model' is required and must be a string");
  const n = optional<number>(body, 'n', (v) => isInt(v) && (v as number) >= 1 && (v as number) <= MAX_N, `an integer in [1, ${MAX_N}]`) ?? 1;
  const stop = optional<string | string[]>(body, 'stop', (v) => typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string')), 'a string or an array of strings');
  const streamOptions = optional<Body>(body, 'stream_options', (v) => typeof v === 'object', 'an object');
  const stream = optional<boolean>(body, 'stream', (v) => typeof v === 'boolean', 'a boolean') ?? false;
  const maxTokens = optional<number>(body, 'max_completion_tokens', isInt, 'an integer') ?? optional<number>(body, 'max_tokens', isInt, 'an integer');
  return {
    model: body.model,
    n,
    stream,
    includeUsage: stream && streamOptions?.include_usage === true,
    sampling: {
      maxTokens: maxTokens ?? maxTokensDefault,
      minTokens: optional(body, 'min_tokens', isInt, 'an integer'),
      temperature: optional(body, 'temperature', isNumber, 'a number'),
      topP: optional(body, 'top_p', isNumber, 'a number'),
      topK: optional(body, 'top_k', isInt, 'an integer'),
      minP: optional(body, 'min_p', isNumber, 'a number'),
      presencePenalty: optional(body, 'presence_penalty', isNumber, 'a number'),
      frequencyPenalty: optional(body, 'frequency_penalty', isNumber, 'a number'),
      repetitionPenalty: optional(body, 'repetition_penalty', isNumber, 'a number'),
      seed: optional(body, 'seed', isInt, 'an integer'),
      logitBias: optional(body, 'logit_bias', (v) => typeof v === 'object' && !Array.isArray(v), 'an object of token ids to numbers'),
      stopTokenIds: optional(body, 'stop_token_ids', (v) => Array.isArray(v) && v.every(isInt), 'an array of token ids'),
      ignoreEos: optional(body, 'ignore_eos', (v) => typeof v === 'boolean', 'a boolean'),
      priority: optional(body, 'priority', isInt, 'an integer'),
      responseFormat: parseResponseFormat(body),
      stop: stop === undefined ? undefined : typeof stop === 'string' ? [stop] : stop,
    },
  };
}

/** /v1/completions: prompt is a string, strings, token ids, or lists of token ids. */
export function parseCompletionRequest(body: Body): ParsedRequest {
  const c = common(body, 16);
  const echo = optional<boolean>(body, 'echo', (v) => typeof v === 'boolean', 'a boolean') ?? false;
  if (body.suffix !== undefined && body.suffix !== null) throw invalidParam('suffix', "'suffix' is not supported");
  const p = body.prompt;
  let prompts: PromptInput[];
  if (typeof p === 'string') prompts = [p];
  else if (isTokenList(p)) prompts = [p as number[]];
  else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string')) prompts = p as string[];
  else if (Array.isArray(p) && p.length > 0 && p.every(isTokenList)) prompts = p as number[][];
  else throw invalidParam('prompt', "'prompt' must be a string, an array of strings, an array of token ids, or an array of those");
  const logprobs = optional<number>(body, 'logprobs', isInt, 'an integer');
  return { ...c, prompts, echo, sampling: { ...c.sampling, logprobs, promptLogprobs: echo ? logprobs : undefined } };
}

/** /v1/chat/completions: messages with string content or text parts. */
export function parseChatRequest(body: Body): ParsedRequest {
  const c = common(body, undefined);
  const messages = parseMessages(body.messages);
  const wantLogprobs = optional<boolean>(body, 'logprobs', (v) => typeof v === 'boolean', 'a boolean');
  const top = optional<number>(body, 'top_logprobs', isInt, 'an integer');
  const offered = parseTools(body);
  return {
    ...c, prompts: [messages], echo: false, chatTemplate: { ...parseChatTemplateOptions(body), tools: offered?.tools }, toolChoice: offered?.choice,
    sampling: forceToolCall({ ...c.sampling, logprobs: wantLogprobs ? top ?? 0 : undefined }, offered),
  };
}

/** vLLM's chat rendering fields: add_generation_prompt, continue_final_message, chat_template_kwargs. */
export function parseChatTemplateOptions(body: Body): ChatTemplateOptions {
  const isBool = (v: unknown) => typeof v === 'boolean';
  return {
    addGenerationPrompt: optional<boolean>(body, 'add_generation_prompt', isBool, 'a boolean'),
    continueFinalMessage: optional<boolean>(body, 'continue_final_message', isBool, 'a boolean'),
    kwargs: optional<Record<string, unknown>>(body, 'chat_template_kwargs', (v) => typeof v === 'object' && !Array.isArray(v), 'an object'),
  };
}

/** A chat's messages: roles with string content or text parts. */
export function parseMessages(raw: unknown): ChatMessage[] {
  if (!Array.isArray(raw) || raw.length === 0) throw invalidParam('messages', "'messages' must be a non-empty array");
  return raw.map((m, i) => {
    const msg = m as { role?: unknown; content?: unknown; tool_calls?: unknown; tool_call_id?: unknown; name?: unknown };
    if (typeof msg?.role !== 'string') throw invalidParam(`messages[${i}].role`, `'messages[${i}].role' must be a string`);
    const extra: Partial<ChatMessage> = {};
    if (msg.tool_calls !== undefined && msg.tool_calls !== null) extra.tool_calls = parseMessageToolCalls(msg.tool_calls, i);
    if (typeof msg.tool_call_id === 'string') extra.tool_call_id = msg.tool_call_id;
    if (typeof msg.name === 'string') extra.name = msg.name;
    let content = msg.content ?? (extra.tool_calls ? '' : undefined);
    if (Array.isArray(content))
      content = content.map((part: { type?: unknown; text?: unknown }) => {
        if (part?.type !== 'text' || typeof part.text !== 'string') throw invalidParam(`messages[${i}].content`, 'only text content parts are supported');
        return part.text;
      }).join('');
    if (typeof content !== 'string') throw invalidParam(`messages[${i}].content`, `'messages[${i}].content' must be a string or text parts`);
    return { role: msg.role, content, ...extra };
  });
}

// An assistant message's tool_calls, their JSON argument strings parsed for the chat template.
function parseMessageToolCalls(raw: unknown, i: number): NonNullable<ChatMessage['tool_calls']> {
  const where = `messages[${i}].tool_calls`;
  if (!Array.isArray(raw)) throw invalidParam(where, `'${where}' must be an array`);
  return raw.map((c: { id?: unknown; function?: { name?: unknown; arguments?: unknown } }) => {
    if (typeof c?.function?.name !== 'string') throw invalidParam(where, `'${where}' entries need function.name`);
    let args = c.function.arguments ?? {};
    if (typeof args === 'string') {
      try {
        args = JSON.parse(args);
      } catch {
        throw invalidParam(where, `'${where}' arguments must be JSON`);
      }
    }
    return { ...(typeof c.id === 'string' ? { id: c.id } : {}), type: 'function', function: { name: c.function.name, arguments: args } };
  });
}

/**
 * Chat tools: OpenAI's function tools, and tool_choice: 'auto' (the default), 'required', a named
 * function ({ type: 'function', function: { name } }), or 'none' (tools ignored). A forced call's
 * parameters must be schemas JSON mode can enforce.
 */
export function parseTools(body: Body): { tools: FunctionTool[]; choice: ToolChoice } | undefined {
  const tools = optional<FunctionTool[]>(body, 'tools', (v) => Array.isArray(v), 'an array');
  const raw = body.tool_choice ?? 'auto';
  if (!tools || tools.length === 0 || raw === 'none') return undefined;
  for (const [i, t] of tools.entries()) {
    if (t?.type !== 'function' || typeof t.function?.name !== 'string')
      throw invalidParam(`tools[${i}]`, `'tools[${i}]' must be { type: 'function', function: { name, ... } }`);
  }
  const named = (raw as { type?: unknown; function?: { name?: unknown } })?.function?.name;
  let choice: ToolChoice;
  if (raw === 'auto' || raw === 'required') choice = raw;
  else if ((raw as { type?: unknown }).type === 'function' && typeof named === 'string') choice = { name: named };
  else throw invalidParam('tool_choice', "tool_choice must be 'auto', 'required', 'none' or { type: 'function', function: { name } }");
  if (typeof choice === 'object' && !tools.some((t) => t.function.name === named))
    throw invalidParam('tool_choice', `tool_choice names '${named}', which is not among the tools`);
  if (choice !== 'auto') {
    for (const t of tools.filter((t) => choice === 'required' || t.function.name === named)) {
      try {
        parseSchema(parametersOf(t));
      } catch (e) {
        throw invalidParam('tools', `the parameters of '${t.function.name}' cannot be enforced for tool_choice: ${(e as Error).message}`);
      }
    }
  }
  return { tools, choice };
}

// A forced call: the output is constrained to the calls' JSON (tool-choice.ts).
function forceToolCall(sampling: SamplingParams, offered: ReturnType<typeof parseTools>): SamplingParams {
  if (offered === undefined || offered.choice === 'auto') return sampling;
  if (sampling.responseFormat !== undefined && sampling.responseFormat !== 'text')
    throw invalidParam('response_format', 'response_format cannot be combined with a forced tool_choice');
  return { ...sampling, responseFormat: { jsonSchema: forcedCallSchema(offered.tools, offered.choice) } };
}
