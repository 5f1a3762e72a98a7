// POST /v1/responses: OpenAI's Responses API on the chat machinery (the request becomes a chat
// body, responses-request.ts; tool calls are read and streamed as for chat, tool-stream.ts). The
// output is a list of items, a message with output_text and function_call items; streamed, as the
// typed events (response.created, response.output_item.added, response.output_text.delta,
// response.function_call_arguments.delta, ..., response.completed) the openai client reads.
// Responses are kept (responses-store.ts) for previous_response_id and GET /v1/responses/<id>.
import { randomUUID } from 'node:crypto';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { LlmGeneration } from '../generation';
import type { LlmEngine } from '../LlmEngine';
import { startChoices } from './choices';
import { invalidParam, OpenAiError, toOpenAiError } from './errors';
import { type Body, parseChatRequest } from './params';
import { chatBodyOf, type Message } from './responses-request';
import type { ResponseStore } from './responses-store';
import { assistantReply } from './tool-response';
import { type StreamDelta, toolReplyStream } from './tool-stream';

const newId = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, '')}`;

type Item =
  | { type: 'message'; id: string; status: string; role: 'assistant'; content: { type: 'output_text'; text: string; annotations: never[] }[] }
  | { type: 'function_call'; id: string; call_id: string; name: string; arguments: string; status: string };

/**
 * The output items of one response as its deltas (chat-shaped: content, or tool call pieces by
 * index) come in, each change announced through `emit` (a no-op when not streaming).
 */
class ResponseOutput {
  readonly items: Item[] = [];
  private open: Item | null = null;
  private readonly calls = new Map<number, Extract<Item, { type: 'function_call' }>>();

  constructor(private readonly emit: (type: string, data: object) => void) {}

  add(delta: StreamDelta): void {
    if (delta.content) {
      if (this.open?.type !== 'message') this.start({ type: 'message', id: newId('msg'), status: 'in_progress', role: 'assistant', content: [] });
      const message = this.open as Extract<Item, { type: 'message' }>;
      const index = this.items.indexOf(message);
      if (message.content.length === 0) {
        message.content.push({ type: 'output_text', text: '', annotations: [] });
        this.emit('response.content_part.added', { item_id: message.id, output_index: index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      }
      message.content[0].text += delta.content;
      this.emit('response.output_text.delta', { item_id: message.id, output_index: index, content_index: 0, delta: delta.content, logprobs: [] });
    }
    for (const t of delta.tool_calls ?? []) {
      let call = this.calls.get(t.index);
      if (!call) {
        call = { type: 'function_call', id: newId('fc'), call_id: t.id ?? newId('call'), name: t.function.name ?? '', arguments: '', status: 'in_progress' };
        this.calls.set(t.index, call);
        this.start(call);
      }
      if (t.function.arguments) {
        call.arguments += t.function.arguments;
        this.emit('response.function_call_arguments.delta', { item_id: call.id, output_index: this.items.indexOf(call), delta: t.function.arguments });
      }
    }
  }

  /** Closes the open item; the items are then complete. */
  close(): void {
    const item = this.open;
    if (!item) return;
    this.open = null;
    const output_index = this.items.indexOf(item);
    item.status = 'completed';
    if (item.type === 'message') {
      const part = item.content[0];
      this.emit('response.output_text.done', { item_id: item.id, output_index, content_index: 0, text: part.text, logprobs: [] });
      this.emit('response.content_part.done', { item_id: item.id, output_index, content_index: 0, part });
    } else {
      this.emit('response.function_call_arguments.done', { item_id: item.id, output_index, arguments: item.arguments });
    }
    this.emit('response.output_item.done', { output_index, item });
  }

  private start(item: Item): void {
    this.close();
    this.items.push(item);
    this.open = item;
    this.emit('response.output_item.added', { output_index: this.items.length - 1, item: { ...item, ...(item.type === 'message' ? { content: [] } : {}) } });
  }
}

/** The request's settings as a response echoes them, and its status and usage once done. */
function responseObject(id: string, body: Body, parsed: ReturnType<typeof parseChatRequest>, g: LlmGeneration | null, output: Item[]): object {
  const previous = body.previous_response_id ?? null;
  const done = g?.finishReason ?? null;
  const usage = g?.usage;
  return {
    id, object: 'response', created_at: Math.floor(Date.now() / 1000), model: parsed.model,
    status: done === null ? 'in_progress' : done === 'length' ? 'incomplete' : 'completed',
    error: null, incomplete_details: done === 'length' ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null, max_output_tokens: body.max_output_tokens ?? null, metadata: body.metadata ?? {},
    parallel_tool_calls: true, previous_response_id: previous, store: body.store !== false, temperature: body.temperature ?? null, top_p: body.top_p ?? null,
    tool_choice: body.tool_choice ?? 'auto', tools: body.tools ?? [], text: body.text ?? { format: { type: 'text' } },
    output,
    usage: usage && done !== null ? {
      input_tokens: usage.promptTokens, input_tokens_details: { cached_tokens: usage.cachedTokens },
      output_tokens: usage.completionTokens, output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: usage.promptTokens + usage.completionTokens,
    } : null,
  };
}

// The conversation a response's output adds: one assistant turn with its text and calls.
function outputMessages(items: Item[]): Message[] {
  const text = items.flatMap((i) => (i.type === 'message' ? [i.content[0]?.text ?? ''] : [])).join('');
  const calls = items.flatMap((i) => (i.type === 'function_call' ? [{ id: i.call_id, type: 'function', function: { name: i.name, arguments: i.arguments } }] : []));
  return [{ role: 'assistant', content: text, ...(calls.length > 0 ? { tool_calls: calls } : {}) }];
}

// The conversation before this request: its previous response's.
function historyOf(body: Body, store: ResponseStore): Message[] {
  const previous = body.previous_response_id;
  if (previous === undefined || previous === null) return [];
  if (typeof previous !== 'string') throw invalidParam('previous_response_id', "'previous_response_id' must be a string");
  const entry = store.get(previous);
  if (!entry) throw new OpenAiError(404, `No response with id '${previous}' is stored here`, 'invalid_request_error', 'previous_response_id', 'not_found');
  return entry.conversation;
}

export async function handleResponses(engine: LlmEngine, store: ResponseStore, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const body = (request.body ?? {}) as Body;
  if (typeof body !== 'object' || Array.isArray(body)) throw new OpenAiError(400, 'the request body must be a JSON object');
  const history = historyOf(body, store);
  const { chat, input } = chatBodyOf(body, history);
  const parsed = parseChatRequest(chat);
  const [{ generation }] = startChoices(engine, { ...parsed, n: 1 });
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) void generation.return();
  });
  const id = newId('resp');
  const keep = (response: object, items: Item[]) => {
    if (body.store !== false) store.set(id, { response, conversation: [...history, ...input, ...outputMessages(items)] });
  };

  if (!parsed.stream) {
    for await (const chunk of generation) void chunk; // the text gathers in outputText
    const output = new ResponseOutput(() => {});
    const r = assistantReply(generation.outputText, parsed.toolChoice, generation.finishReason === 'stop');
    if (r.message.content) output.add({ content: r.message.content });
    r.message.tool_calls?.forEach((t, index) => output.add({ tool_calls: [{ index, id: t.id, function: t.function }] }));
    output.close();
    const response = responseObject(id, body, parsed, generation, output.items);
    keep(response, output.items);
    return response;
  }

  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let sequence = 0;
  const send = (type: string, data: object) => reply.raw.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`);
  const output = new ResponseOutput(send);
  try {
    send('response.created', { response: responseObject(id, body, parsed, null, []) });
    send('response.in_progress', { response: responseObject(id, body, parsed, null, []) });
    const tools = parsed.toolChoice === undefined ? null : toolReplyStream(parsed.toolChoice, parsed.chatTemplate?.tools);
    for await (const chunk of generation) {
      if (!tools) output.add({ content: chunk.text });
      else if (chunk.finishReason === null) output.add(tools.next(generation.outputText, chunk.text) ?? {});
      else output.add(tools.finish(generation.outputText, chunk.text, chunk.finishReason === 'stop').delta);
    }
    output.close();
    const final = responseObject(id, body, parsed, generation, output.items);
    keep(final, output.items);
    send(generation.finishReason === 'length' ? 'response.incomplete' : 'response.completed', { response: final });
  } catch (e) {
    send('error', toOpenAiError(e).body().error);
  } finally {
    reply.raw.end();
  }
  return reply;
}

/** GET and DELETE /v1/responses/<id> on the stored responses. */
export function registerStoredResponseRoutes(app: FastifyInstance, store: ResponseStore): void {
  const missing = (id: string) => new OpenAiError(404, `No response with id '${id}' is stored here`, 'invalid_request_error', null, 'not_found');
  app.get<{ Params: { id: string } }>('/v1/responses/:id', async (request) => {
    const entry = store.get(request.params.id);
    if (!entry) throw missing(request.params.id);
    return entry.response;
  });
  app.delete<{ Params: { id: string } }>('/v1/responses/:id', async (request) => {
    if (!store.delete(request.params.id)) throw missing(request.params.id);
    return { id: request.params.id, object: 'response', deleted: true };
  });
}
