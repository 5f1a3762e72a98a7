// The assistant message of a chat whose request offered tools: tool calls found in the output
// (ts/llm/tool-calls.ts), or the forced call it was constrained to (tool-choice.ts), become OpenAI
// tool_calls with fresh ids; other output stays content. finish_reason as OpenAI gives it:
// 'tool_calls', but 'stop' for a named function. Streamed replies: tool-stream.ts.
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

export const callId = () => `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`;

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
