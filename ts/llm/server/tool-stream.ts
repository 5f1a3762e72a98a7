// A streamed chat reply whose request offered tools. tool_choice auto: content goes out as it
// comes until a call may be starting (a <tool_call> tag, or output that opens with '{'), then each
// call as soon as its name (one of the offered tools) is known and its arguments object has begun,
// with the arguments' text as it comes, the rest at the end. A named function: its arguments as
// they come. 'required': the calls at the end, in one delta.
import { CALL_TAG, scanCall } from '../tool-calls';
import type { FunctionTool, ToolChoice } from './tool-choice';
import { assistantReply, callId } from './tool-response';

/**
 * How much of the output so far can stream as content: up to a <tool_call> tag (or a suffix that
 * may begin one); none of it when the output opens with '{' (a Llama 3.1 JSON call).
 */
function streamableContent(text: string): number {
  if (text.trimStart().startsWith('{')) return 0;
  const at = text.indexOf(CALL_TAG);
  if (at >= 0) return at;
  for (let keep = Math.min(CALL_TAG.length - 1, text.length); keep > 0; keep--) if (CALL_TAG.startsWith(text.slice(text.length - keep))) return text.length - keep;
  return text.length;
}

// The call objects of the output so far, as far as each goes: Hermes blocks (each up to its closing
// tag or the end), or Llama 3.1 objects separated by ';'.
function callTexts(text: string): string[] {
  if (text.includes(CALL_TAG))
    return text.split(CALL_TAG).slice(1).map((block) => block.split('</tool_call>')[0]);
  const out: string[] = [];
  let rest = text;
  while (rest.trimStart().startsWith('{')) {
    const end = scanCall(rest)?.end ?? null;
    if (end === null) {
      out.push(rest);
      break;
    }
    out.push(rest.slice(0, end));
    const next = rest.indexOf(';', end);
    if (next < 0) break;
    rest = rest.slice(next + 1);
  }
  return out;
}

type CallDelta = { index: number; id?: string; type?: 'function'; function: { name?: string; arguments: string } };
export type StreamDelta = { content?: string; tool_calls?: CallDelta[] };
/** The last delta, and the finish_reason (null: the generation's own). */
export type StreamEnd = { delta: StreamDelta; finishReason: 'tool_calls' | 'stop' | null };

/** A chat reply with tools, streamed: what each new piece of output adds, and how it ends. */
export interface ToolReplyStream {
  /** The delta the output so far (`text`, of which `piece` is new) adds, if any. */
  next(text: string, piece: string): StreamDelta | null;
  /** The last delta once the generation ended (`finished`: by itself, not at a length limit). */
  finish(text: string, piece: string, finished: boolean): StreamEnd;
}

/** `tools`: the function tools the request offered (their names may stream as calls). */
export function toolReplyStream(choice: ToolChoice, tools: readonly unknown[] | undefined): ToolReplyStream {
  if (choice === 'auto') return new AutoCallStream(new Set((tools as FunctionTool[] | undefined ?? []).map((t) => t.function.name)));
  if (choice === 'required') return { next: () => null, finish: (text, _piece, finished) => wholeReply(text, choice, finished) };
  return new NamedCallStream(choice.name);
}

// 'required': the calls at the end, in one delta.
function wholeReply(text: string, choice: ToolChoice, finished: boolean): StreamEnd {
  const r = assistantReply(text, choice, finished);
  const delta = r.message.tool_calls ? { tool_calls: r.message.tool_calls.map((t, index) => ({ index, ...t })) } : { content: text };
  return { delta, finishReason: r.finishReason };
}

// A named function: the output is its arguments, streamed as they come (the first delta names it).
class NamedCallStream implements ToolReplyStream {
  private started = false;

  constructor(private readonly name: string) {}

  next(_text: string, piece: string): StreamDelta | null {
    if (this.started && piece === '') return null;
    const first = !this.started;
    this.started = true;
    return { tool_calls: [first ? { index: 0, id: callId(), type: 'function', function: { name: this.name, arguments: piece } } : { index: 0, function: { arguments: piece } }] };
  }

  finish(text: string, piece: string): StreamEnd {
    return { delta: this.next(text, piece) ?? {}, finishReason: null };
  }
}

// tool_choice auto (see the top).
class AutoCallStream implements ToolReplyStream {
  private contentSent = 0;
  /** Per call streamed so far: the arguments' text sent. */
  private readonly streamed: string[] = [];

  constructor(private readonly toolNames: ReadonlySet<string>) {}

  next(text: string): StreamDelta | null {
    if (this.streamed.length === 0) {
      const end = streamableContent(text);
      if (end > this.contentSent) {
        const content = text.slice(this.contentSent, end);
        this.contentSent = end;
        return { content };
      }
    }
    const deltas: CallDelta[] = [];
    for (const [index, json] of callTexts(text).entries()) {
      const scanned = scanCall(json);
      const args = scanned?.args;
      if (!scanned || scanned.name === null || !this.toolNames.has(scanned.name) || !args?.object) break;
      const now = json.slice(args.start, args.end ?? json.length);
      const sent = this.streamed[index];
      if (sent === undefined) {
        this.streamed.push(now);
        deltas.push({ index, id: callId(), type: 'function', function: { name: scanned.name, arguments: now } });
      } else if (now.length > sent.length) { // the text only grows: `now` extends what was sent
        deltas.push({ index, function: { arguments: now.slice(sent.length) } });
        this.streamed[index] = now;
      }
    }
    return deltas.length > 0 ? { tool_calls: deltas } : null;
  }

  finish(text: string, _piece: string, finished: boolean): StreamEnd {
    const r = assistantReply(text, 'auto', finished);
    if (!r.message.tool_calls) return { delta: text.length > this.contentSent ? { content: text.slice(this.contentSent) } : {}, finishReason: null };
    const deltas: CallDelta[] = [];
    for (const [index, call] of r.message.tool_calls.entries()) {
      const sent = this.streamed[index];
      const args = call.function.arguments;
      if (sent === undefined) deltas.push({ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: args } });
      else if (args.length > sent.length && args.startsWith(sent)) deltas.push({ index, function: { arguments: args.slice(sent.length) } });
    }
    return { delta: deltas.length > 0 ? { tool_calls: deltas } : {}, finishReason: r.finishReason };
  }
}
