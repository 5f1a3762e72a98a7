// The assistant message of a chat whose request offered tools: tool calls found in the output
// (ts/llm/tool-calls.ts) become OpenAI tool_calls with fresh ids and finish_reason 'tool_calls';
// other output stays content. Streamed, content goes out as it comes until a call may be starting
// (a <tool_call> tag, or output that opens with '{'); the calls follow in one delta at the end.
import { randomUUID } from 'node:crypto';

import { parseToolCalls } from '../tool-calls';

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface AssistantReply {
  message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] };
  /** Whether the output held tool calls (finish_reason 'tool_calls'). */
  toolCalls: boolean;
}

export function assistantReply(text: string, tools: boolean): AssistantReply {
  const parsed = tools ? parseToolCalls(text) : { content: text, calls: [] };
  if (parsed.calls.length === 0) return { message: { role: 'assistant', content: text }, toolCalls: false };
  const calls = parsed.calls.map((c): ToolCall => ({
    id: `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    type: 'function',
    function: { name: c.name, arguments: c.arguments },
  }));
  return { message: { role: 'assistant', content: parsed.content, tool_calls: calls }, toolCalls: true };
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
  if (!r.toolCalls) return text.length > sent ? { content: text.slice(sent) } : {};
  return { tool_calls: r.message.tool_calls!.map((t, index) => ({ index, ...t })) };
}
