// Tool calls in a chat model's output, in the two formats of the supported model families, as
// vLLM's `hermes` and `llama3_json` parsers read them:
//   Qwen2 / Hermes: <tool_call>{"name": ..., "arguments": {...}}</tool_call> blocks, with any text
//                   around them as the message's content;
//   Llama 3.1:      the whole output one JSON object {"name": ..., "parameters": {...}} (several
//                   separated by ';').
// Output that is neither (or whose JSON does not parse) is plain content. An object's arguments
// keep the text the model wrote (so that streamed pieces of it add up to the whole).

export interface ParsedToolCall {
  name: string;
  /** The arguments as a JSON string, as the OpenAI API carries them. */
  arguments: string;
}

export interface ParsedOutput {
  content: string | null;
  calls: ParsedToolCall[];
}

export const CALL_TAG = '<tool_call>';
const CALL_BLOCK = /<tool_call>([\s\S]*?)<\/tool_call>/g;

/** What a (possibly unfinished) call object shows so far. */
export interface ScannedCall {
  /** The name, once its string is complete. */
  name: string | null;
  /** The arguments' (or parameters') value: where it starts, where it ends (null: not yet), whether it is an object. */
  args: { start: number; end: number | null; object: boolean } | null;
  /** The index after the object's closing brace (null: not yet). */
  end: number | null;
}

const WS = /\s/;

// The index after the string starting at `i` (a quote), or -1 when it is not finished.
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  return -1;
}

// The index after the JSON value starting at `i`, or -1 when it is not finished. Scalars end at a
// delimiter (a number at the end of the text may go on).
function valueEnd(text: string, i: number): number {
  if (text[i] === '"') return stringEnd(text, i);
  if (text[i] === '{' || text[i] === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const c = text[j];
      if (c === '"') {
        j = stringEnd(text, j) - 1;
        if (j < 0) return -1;
      } else if (c === '{' || c === '[') depth++;
      else if ((c === '}' || c === ']') && --depth === 0) return j + 1;
    }
    return -1;
  }
  for (let j = i; j < text.length; j++) if (/[,}\]\s]/.test(text[j])) return j;
  return -1;
}

/** Reads the call object starting at `from` (after whitespace) as far as the text goes; null: not an object. */
export function scanCall(text: string, from = 0): ScannedCall | null {
  const out: ScannedCall = { name: null, args: null, end: null };
  let i = from;
  const skip = () => {
    while (i < text.length && WS.test(text[i])) i++;
  };
  skip();
  if (i >= text.length) return out;
  if (text[i] !== '{') return null;
  i++;
  for (;;) {
    skip();
    if (i >= text.length) return out;
    if (text[i] === '}') {
      out.end = i + 1;
      return out;
    }
    if (text[i] !== '"') return null;
    const keyEnd = stringEnd(text, i);
    if (keyEnd < 0) return out;
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = keyEnd;
    skip();
    if (i >= text.length) return out;
    if (text[i] !== ':') return null;
    i++;
    skip();
    if (i >= text.length) return out;
    const end = valueEnd(text, i);
    if (key === 'arguments' || key === 'parameters') out.args = { start: i, end: end < 0 ? null : end, object: text[i] === '{' };
    if (end < 0) return out;
    if (key === 'name' && text[i] === '"') out.name = JSON.parse(text.slice(i, end)) as string;
    i = end;
    skip();
    if (i >= text.length) return out;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') return null;
  }
}

// A finished call object: its name and arguments, or null when it is not a call.
function callOf(json: string): ParsedToolCall | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as { name?: unknown; arguments?: unknown; parameters?: unknown };
  if (typeof v.name !== 'string') return null;
  const args = v.arguments ?? v.parameters ?? {};
  if (typeof args === 'string') return { name: v.name, arguments: args };
  const scanned = scanCall(json);
  const raw = scanned?.args?.object && scanned.args.end !== null ? json.slice(scanned.args.start, scanned.args.end) : JSON.stringify(args);
  return { name: v.name, arguments: raw };
}

/** The call objects of a Llama 3.1 output ('{...}; {...}'), or null when it is not one. */
export function llamaCallObjects(text: string): string[] | null {
  const objects: string[] = [];
  let i = 0;
  for (;;) {
    const scanned = scanCall(text, i);
    if (scanned === null || scanned.end === null) return null;
    const start = text.indexOf('{', i);
    objects.push(text.slice(start, scanned.end));
    const rest = text.slice(scanned.end).trim();
    if (rest === '') return objects;
    if (!rest.startsWith(';')) return null;
    i = text.indexOf(';', scanned.end) + 1;
  }
}

export function parseToolCalls(text: string): ParsedOutput {
  const blocks = [...text.matchAll(CALL_BLOCK)];
  if (blocks.length > 0) {
    const calls = blocks.map((b) => callOf(b[1].trim()));
    if (calls.every((c): c is ParsedToolCall => c !== null)) {
      const rest = text.replace(CALL_BLOCK, '').trim();
      return { content: rest === '' ? null : rest, calls };
    }
    return { content: text, calls: [] };
  }
  if (text.trimStart().startsWith('{')) {
    const calls = llamaCallObjects(text)?.map(callOf);
    if (calls && calls.every((c): c is ParsedToolCall => c !== null)) return { content: null, calls };
  }
  return { content: text, calls: [] };
}
