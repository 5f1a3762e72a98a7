// The assistant message of a chat whose request offered tools: tool calls found in the output
// (ts/llm/tool-calls.ts) become OpenAI tool_calls with fresh ids and finish_reason 'tool_calls';
// other output stays content. Streamed, such a reply is held back and sent as one delta at the end.
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

/** The streamed form: one delta with the content and the calls (each with its index). */
export function replyDelta(r: AssistantReply): { content?: string; tool_calls?: (ToolCall & { index: number })[] } {
  if (!r.toolCalls) return r.message.content ? { content: r.message.content } : {};
  return { ...(r.message.content ? { content: r.message.content } : {}), tool_calls: r.message.tool_calls!.map((t, index) => ({ index, ...t })) };
}
