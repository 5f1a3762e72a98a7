// vLLM's tokenizer endpoints: POST /tokenize (a prompt, or chat messages through the template)
// and POST /detokenize (token ids back to text), for clients that count or inspect tokens.
import type { FastifyInstance } from 'fastify';

import type { LlmEngine } from '../LlmEngine';
import { OpenAiError, invalidParam } from './errors';
import { parseChatTemplateOptions, parseMessages, type Body } from './params';

function checkModel(engine: LlmEngine, body: Body): void {
  if (body.model !== undefined && body.model !== null && body.model !== engine.modelName)
    throw new OpenAiError(404, `The model '${String(body.model)}' does not exist`, 'invalid_request_error', 'model', 'model_not_found');
}

function bodyOf(raw: unknown): Body {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new OpenAiError(400, 'the request body must be a JSON object');
  return raw as Body;
}

export function registerTokenizeRoutes(app: FastifyInstance, engine: LlmEngine): void {
  app.post('/tokenize', async (request) => {
    const body = bodyOf(request.body);
    checkModel(engine, body);
    const special = body.add_special_tokens ?? true;
    if (typeof special !== 'boolean') throw invalidParam('add_special_tokens', "'add_special_tokens' must be a boolean");
    let tokens: number[];
    if (body.messages !== undefined) tokens = engine.encodePrompt(parseMessages(body.messages), parseChatTemplateOptions(body));
    else if (typeof body.prompt === 'string') tokens = engine.tokenizer.encode(body.prompt, special);
    else throw invalidParam('prompt', "'prompt' must be a string (or give 'messages')");
    return { count: tokens.length, max_model_len: engine.maxModelLen, tokens };
  });

  app.post('/detokenize', async (request) => {
    const body = bodyOf(request.body);
    checkModel(engine, body);
    const ids = body.tokens;
    if (!Array.isArray(ids) || !ids.every((t) => Number.isInteger(t) && t >= 0 && t < engine.config.vocabSize))
      throw invalidParam('tokens', `'tokens' must be an array of token ids in [0, ${engine.config.vocabSize})`);
    return { prompt: engine.tokenizer.decode(ids as number[], false) };
  });
}
