// The OpenAI-compatible HTTP API of one LlmEngine (fastify): /v1/models, /v1/completions,
// /v1/chat/completions (JSON or SSE streaming with usage; tool calls, tool-response.ts),
// /v1/responses (responses.ts), /metrics,
// /health, and vLLM's /tokenize and /detokenize. A client that disconnects cancels its sequences;
// bad requests get OpenAI-style 4xx bodies.
import { randomUUID } from 'node:crypto';

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

import type { LlmEngine } from '../LlmEngine';
import type { GenerationChunk, LlmGeneration } from '../generation';
import type { FinishReason } from '../scheduler/sequence';
import { requireApiKeys } from '../../server/apiKeys';
import { type Choice, startChoices } from './choices';
import { OpenAiError, toOpenAiError } from './errors';
import { LlmMetrics } from './metrics';
import { parseChatRequest, parseCompletionRequest, type Body, type ParsedRequest } from './params';
import { handleResponses, registerStoredResponseRoutes } from './responses';
import { ResponseStore } from './responses-store';
import { registerTokenizeRoutes } from './tokenize';
import { assistantReply } from './tool-response';
import { toolReplyStream } from './tool-stream';

type Kind = 'completion' | 'chat';

function finishReasonOf(r: FinishReason | null): string | null {
  return r === 'length' ? 'length' : r === null ? null : 'stop';
}

// A prompt's tokens count once, however many choices it has (as OpenAI and vLLM count them).
function usageOf(choices: Choice[], n: number) {
  const prompt = choices.reduce((sum, c) => sum + (c.index % n === 0 ? c.generation.usage.promptTokens : 0), 0);
  const completion = choices.reduce((n, c) => n + c.generation.usage.completionTokens, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export interface LlmAppOptions {
  /** Log requests (fastify's logger). */
  logger?: boolean;
  /** When set, every route but /health and /metrics needs `Authorization: Bearer <key>` (as vLLM's --api-key). */
  apiKeys?: string[];
  /** How many /v1/responses results are kept for previous_response_id (default 1000; 0: none). */
  storedResponses?: number;
}

export function buildLlmApp(engine: LlmEngine, options: LlmAppOptions = {}): { app: FastifyInstance; metrics: LlmMetrics } {
  const app = Fastify({ logger: options.logger ?? false });
  const metrics = new LlmMetrics(engine);
  app.addHook('onClose', async () => metrics.close());

  app.setErrorHandler((error, _request, reply) => {
    const e = toOpenAiError(error);
    void reply.status(e.status).send(e.body());
  });
  app.setNotFoundHandler((request, reply) => {
    const e = new OpenAiError(404, `no route ${request.method} ${request.url}`, 'invalid_request_error', null, 'not_found');
    void reply.status(404).send(e.body());
  });

  requireApiKeys(app, options.apiKeys, [/^\/health$/, /^\/metrics$/]);
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/v1/models', async () => ({
    object: 'list',
    data: [{ id: engine.modelName, object: 'model', created: 0, owned_by: 'highservice', max_model_len: engine.maxModelLen, device: engine.model.info.device }],
  }));
  app.post('/v1/completions', (request, reply) => handle(engine, 'completion', request, reply));
  app.post('/v1/chat/completions', (request, reply) => handle(engine, 'chat', request, reply));
  const store = new ResponseStore(options.storedResponses ?? 1000);
  app.post('/v1/responses', (request, reply) => handleResponses(engine, store, request, reply));
  registerStoredResponseRoutes(app, store);
  registerTokenizeRoutes(app, engine);
  return { app, metrics };
}

async function handle(engine: LlmEngine, kind: Kind, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const body = (request.body ?? {}) as Body;
  if (typeof body !== 'object' || Array.isArray(body)) throw new OpenAiError(400, 'the request body must be a JSON object');
  const parsed = kind === 'chat' ? parseChatRequest(body) : parseCompletionRequest(body);
  const choices = startChoices(engine, parsed);
  const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const object = kind === 'chat' ? (parsed.stream ? 'chat.completion.chunk' : 'chat.completion') : 'text_completion';
  const base = { id, object, created, model: engine.modelName };
  const toolChoice = kind === 'chat' ? parsed.toolChoice : undefined;
  const cancelAll = () => choices.forEach((c) => void c.generation.return());
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) cancelAll();
  });

  if (!parsed.stream) {
    const results = await Promise.all(choices.map(async (c) => {
      const chunks: GenerationChunk[] = [];
      for await (const chunk of c.generation) chunks.push(chunk);
      return { c, chunks };
    }));
    return {
      ...base,
      choices: results.map(({ c, chunks }) => {
        if (kind === 'chat') {
          const r = assistantReply(c.generation.outputText, toolChoice, c.generation.finishReason === 'stop');
          const finish = r.finishReason ?? finishReasonOf(c.generation.finishReason);
          return { index: c.index, message: r.message, logprobs: chatLogprobs(engine, chunks), finish_reason: finish };
        }
        return {
          index: c.index,
          text: (c.echo ?? '') + c.generation.outputText,
          logprobs: joinLogprobs(promptLogprobsOf(engine, c.generation), completionLogprobs(engine, chunks)),
          finish_reason: finishReasonOf(c.generation.finishReason),
        };
      }),
      usage: usageOf(choices, parsed.n),
    };
  }

  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const send = (data: unknown) => reply.raw.write(`data: ${JSON.stringify(data)}\n\n`);
  try {
    if (kind === 'chat')
      for (const c of choices) send({ ...base, choices: [{ index: c.index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
    await Promise.all(choices.map(async (c) => {
      let echoed = c.echo === null;
      const tools = toolChoice === undefined ? null : toolReplyStream(toolChoice, parsed.chatTemplate?.tools);
      for await (const chunk of c.generation) {
        // The prompt's log-probabilities are complete once its first token has come.
        if (!echoed) send({ ...base, choices: [{ index: c.index, text: c.echo, logprobs: promptLogprobsOf(engine, c.generation), finish_reason: null }] });
        echoed = true;
        const finish = finishReasonOf(chunk.finishReason);
        if (tools) {
          const text = c.generation.outputText;
          if (finish === null) {
            const delta = tools.next(text, chunk.text);
            if (delta) send({ ...base, choices: [{ index: c.index, delta, logprobs: null, finish_reason: null }] });
            continue;
          }
          const end = tools.finish(text, chunk.text, chunk.finishReason === 'stop');
          send({ ...base, choices: [{ index: c.index, delta: end.delta, logprobs: null, finish_reason: end.finishReason ?? finish }] });
          continue;
        }
        if (chunk.text === '' && finish === null && !chunk.logprobs) continue;
        send({
          ...base,
          choices: [kind === 'chat'
            ? { index: c.index, delta: chunk.text ? { content: chunk.text } : {}, logprobs: chatLogprobs(engine, [chunk]), finish_reason: finish }
            : { index: c.index, text: chunk.text, logprobs: completionLogprobs(engine, [chunk]), finish_reason: finish }],
        });
      }
    }));
    if (parsed.includeUsage) send({ ...base, choices: [], usage: usageOf(choices, parsed.n) });
    reply.raw.write('data: [DONE]\n\n');
  } catch (e) {
    send(toOpenAiError(e).body());
  } finally {
    reply.raw.end();
  }
  return reply;
}

function tokenText(engine: LlmEngine, id: number): string {
  return engine.tokenizer.decode([id], false, false);
}

function completionLogprobs(engine: LlmEngine, chunks: GenerationChunk[]) {
  const withLp = chunks.filter((c) => c.logprobs && c.tokenId >= 0);
  if (withLp.length === 0) return null;
  return {
    tokens: withLp.map((c) => tokenText(engine, c.tokenId)),
    token_logprobs: withLp.map((c) => c.logprobs!.logprob),
    top_logprobs: withLp.map((c) => Object.fromEntries(c.logprobs!.top.map((t) => [tokenText(engine, t.tokenId), t.logprob]))),
  };
}

/** Completions' logprobs of the prompt's tokens (the first has none), when they were computed. */
function promptLogprobsOf(engine: LlmEngine, g: LlmGeneration) {
  const scored = g.promptLogprobs;
  if (!scored) return null;
  return {
    tokens: g.promptTokenIds.map((id) => tokenText(engine, id)),
    token_logprobs: scored.map((lp) => (lp ? lp.logprob : null)),
    top_logprobs: scored.map((lp) => (lp ? Object.fromEntries(lp.top.map((t) => [tokenText(engine, t.tokenId), t.logprob])) : null)),
  };
}

type CompletionLogprobs = ReturnType<typeof promptLogprobsOf>;

function joinLogprobs(a: CompletionLogprobs, b: CompletionLogprobs): CompletionLogprobs {
  if (!a || !b) return a ?? b;
  return { tokens: [...a.tokens, ...b.tokens], token_logprobs: [...a.token_logprobs, ...b.token_logprobs], top_logprobs: [...a.top_logprobs, ...b.top_logprobs] };
}

function chatLogprobs(engine: LlmEngine, chunks: GenerationChunk[]) {
  const withLp = chunks.filter((c) => c.logprobs && c.tokenId >= 0);
  if (withLp.length === 0) return null;
  const entry = (id: number, logprob: number) => {
    const token = tokenText(engine, id);
    return { token, logprob, bytes: [...Buffer.from(token, 'utf8')] };
  };
  return {
    content: withLp.map((c) => ({ ...entry(c.tokenId, c.logprobs!.logprob), top_logprobs: c.logprobs!.top.map((t) => entry(t.tokenId, t.logprob)) })),
  };
}
