// tool_choice: 'auto' (the model decides; its calls are read from the output, tool-calls.ts), or a
// forced call, as vLLM makes one: the output is constrained (JSON mode) to the calls' JSON. A named
// function: its arguments object, matching the function's parameters. 'required': an array of one
// or more {"name", "parameters"} objects of the offered tools.
import type { ParsedToolCall } from '../tool-calls';

export type ToolChoice = 'auto' | 'required' | { name: string };

export interface FunctionTool {
  type: 'function';
  function: { name: string; parameters?: unknown };
}

/** A function's parameters schema; one without takes none. */
export const parametersOf = (t: FunctionTool): unknown => t.function.parameters ?? { type: 'object', properties: {} };

// A schema moved to `at` inside a larger one: its own references ('#/$defs/...') follow it.
function rebase(schema: unknown, at: string): unknown {
  if (Array.isArray(schema)) return schema.map((s) => rebase(s, at));
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#')) return [k, `#${at}${v.slice(1)}`];
    return [k, k === 'const' || k === 'enum' ? v : rebase(v, at)];
  }));
}

/** The JSON schema a forced call's output follows. */
export function forcedCallSchema(tools: readonly FunctionTool[], choice: Exclude<ToolChoice, 'auto'>): unknown {
  if (choice !== 'required') return parametersOf(tools.find((t) => t.function.name === choice.name)!);
  const items = tools.length === 1 ? '/items' : '/items/anyOf/';
  const calls = tools.map((t, i) => ({
    type: 'object',
    properties: { name: { const: t.function.name }, parameters: rebase(parametersOf(t), `${items}${tools.length === 1 ? '' : i}/properties/parameters`) },
    required: ['name', 'parameters'],
    additionalProperties: false,
  }));
  return { type: 'array', minItems: 1, items: calls.length === 1 ? calls[0] : { anyOf: calls } };
}

/** The calls in a forced call's finished output (valid JSON of forcedCallSchema). */
export function forcedCalls(text: string, choice: Exclude<ToolChoice, 'auto'>): ParsedToolCall[] {
  if (choice !== 'required') return [{ name: choice.name, arguments: text.trim() }];
  return (JSON.parse(text) as { name: string; parameters: unknown }[]).map((c) => ({ name: c.name, arguments: JSON.stringify(c.parameters) }));
}
