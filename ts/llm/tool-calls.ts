// Tool calls in a chat model's output, in the two formats of the supported model families, as
// vLLM's `hermes` and `llama3_json` parsers read them:
//   Qwen2 / Hermes: <tool_call>{"name": ..., "arguments": {...}}</tool_call> blocks, with any text
//                   around them as the message's content;
//   Llama 3.1:      the whole output one JSON object {"name": ..., "parameters": {...}} (several
//                   separated by ';').
// Output that is neither (or whose JSON does not parse) is plain content.

export interface ParsedToolCall {
  name: string;
  /** The arguments as a JSON string, as the OpenAI API carries them. */
  arguments: string;
}

export interface ParsedOutput {
  content: string | null;
  calls: ParsedToolCall[];
}

function asCall(value: unknown): ParsedToolCall | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as { name?: unknown; arguments?: unknown; parameters?: unknown };
  if (typeof v.name !== 'string') return null;
  const args = v.arguments ?? v.parameters ?? {};
  return { name: v.name, arguments: typeof args === 'string' ? args : JSON.stringify(args) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function parseToolCalls(text: string): ParsedOutput {
  const blocks = [...text.matchAll(/<tool_call>([\s\S]*?)<\/tool_call>/g)];
  if (blocks.length > 0) {
    const calls = blocks.map((b) => asCall(parseJson(b[1].trim())));
    if (calls.every((c): c is ParsedToolCall => c !== null)) {
      const rest = text.replace(/<tool_call>[\s\S]*?<\/tool_call>/g, '').trim();
      return { content: rest === '' ? null : rest, calls };
    }
    return { content: text, calls: [] };
  }
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const calls = trimmed.split(/\}\s*;\s*\{/).map((part, i, all) => asCall(parseJson((i > 0 ? '{' : '') + part + (i < all.length - 1 ? '}' : ''))));
    if (calls.every((c): c is ParsedToolCall => c !== null)) return { content: null, calls };
  }
  return { content: text, calls: [] };
}
