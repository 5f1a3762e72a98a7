// The sequences of one OpenAI request: each prompt (a completion's prompts, or a chat's messages)
// times n choices, started on the engine.
import type { LlmGeneration } from '../generation';
import type { LlmEngine } from '../LlmEngine';
import { OpenAiError } from './errors';
import type { ParsedRequest } from './params';

export interface Choice {
  generation: LlmGeneration;
  index: number;
  /** The prompt's text, sent before the completion (completions with echo), else null. */
  echo: string | null;
}

/** Starts every prompt of the request; a prompt that does not fit the context is a 400. */
export function startChoices(engine: LlmEngine, req: ParsedRequest): Choice[] {
  if (req.model !== engine.modelName)
    throw new OpenAiError(404, `The model '${req.model}' does not exist`, 'invalid_request_error', 'model', 'model_not_found');
  const ids = req.prompts.map((p) => engine.encodePrompt(p, req.chatTemplate));
  for (const prompt of ids)
    if (prompt.length >= engine.maxModelLen)
      throw new OpenAiError(400, `This model's maximum context length is ${engine.maxModelLen} tokens; the prompt has ${prompt.length}`,
        'invalid_request_error', 'messages', 'context_length_exceeded');
  const choices: Choice[] = [];
  try {
    // Choice index = prompt index * n + sample; a seeded request seeds its samples seed, seed + 1, ...
    ids.forEach((prompt, p) => {
      // Chat without max_tokens: the rest of the context, or generation_config.json's max_new_tokens.
      const maxTokens = req.sampling.maxTokens ?? Math.min(engine.generationDefaults.maxTokens ?? Infinity, engine.maxModelLen - prompt.length);
      const input = req.prompts[p];
      const echo = req.echo ? (typeof input === 'string' ? input : engine.tokenizer.decode(prompt, false, false)) : null;
      for (let i = 0; i < req.n; i++) {
        const seed = req.sampling.seed === undefined ? undefined : req.sampling.seed + i;
        choices.push({ index: p * req.n + i, echo, generation: engine.generate(prompt, { ...req.sampling, maxTokens, seed }) });
      }
    });
  } catch (e) {
    for (const c of choices) void c.generation.return();
    throw e;
  }
  return choices;
}
