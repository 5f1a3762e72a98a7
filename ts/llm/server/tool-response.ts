// The assistant message of a chat whose request offered tools: tool calls found in the output
// (ts/llm/tool-calls.ts), or the forced call it was constrained to (tool-choice.ts), become OpenAI
// tool_calls with fresh ids; other output stays content. finish_reason as OpenAI gives it:
// 'tool_calls', but 'stop' for a named function. Streamed, content goes out as it comes until a
// call may be starting (a <tool_call> tag, or output that opens with '{'), the calls follow in one
// delta at the end; a named function's arguments stream as they come.
import { randomUUID } from 'node:crypto';

import { parseToolCalls, type ParsedOutput } from '../tool-calls';
import { forcedCalls, type ToolChoice } from './tool-choice';

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface AssistantReply {
  message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] };
  /** The finish_reason when the output held calls (null: the generation's own). */
  finishReason: 'tool_calls' | 'stop' | null;
}

const callId = () => `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`;

// A forced call's output, once finished: its calls (not when it stopped short of valid JSON).
function forcedOutput(text: string, choice: Exclude<ToolChoice, 'auto'>, finished: boolean): ParsedOutput {
  try {
    if (finished) {
      JSON.parse(text);
      return { content: null, calls: forcedCalls(text, choice) };
    }
  } catch {
    // cut by a stop string: plain content
  }
  return { content: text, calls: [] };
}

/** `finished`: the generation ended by itself (end-of-sequence or a stop), not at a length limit. */
export function assistantReply(text: string, choice: ToolChoice | undefined, finished: boolean): AssistantReply {
  const parsed = choice === undefined ? { content: text, calls: [] } : choice === 'auto' ? parseToolCalls(text) : forcedOutput(text, choice, finished);
  if (parsed.calls.length === 0) return { message: { role: 'assistant', content: text }, finishReason: null };
  const calls = parsed.calls.map((c): ToolCall => ({ id: callId(), type: 'function', function: { name: c.name, arguments: c.arguments } }));
  return { message: { role: 'assistant', content: parsed.content, tool_calls: calls }, finishReason: typeof choice === 'object' ? 'stop' : 'tool_calls' };
}

/** A streamed delta of a named function's call: the first names it, each carries the arguments' new text. */
export function namedCallDelta(name: string, first: boolean, args: string): { tool_calls: object[] } {
  return { tool_calls: [first ? { index: 0, id: callId(), type: 'function', function: { name, arguments: args } } : { index: 0, function: { arguments: args } }] };
}

const TAG = '<tool_call>';

/**
 * How much of the output so far can stream as content: up to a <tool_call> tag (or a suffix that
 * may begin one); none of it when the output opens with '{' (a Llama 3.1 JSON call).
 */
export function streamableContent(text: string): number {
  if (text.trimStart().startsWith('{')) return 0;
  const at = text.indexOf(TAG);
  if (at >= 0) return at;
  for (let keep = Math.min(TAG.length - 1, text.length); keep > 0; keep--) if (TAG.startsWith(text.slice(text.length - keep))) return text.length - keep;
  return text.length;
}

/** The final streamed delta once `sent` chars of content went out: the rest, or the calls (each with its index). */
export function finalDelta(r: AssistantReply, text: string, sent: number): { content?: string; tool_calls?: (ToolCall & { index: number })[] } {
  if (!r.message.tool_calls) return text.length > sent ? { content: text.slice(sent) } : {};
  return { tool_calls: r.message.tool_calls.map((t, index) => ({ index, ...t })) };
}
