// Errors in the OpenAI API shape: { error: { message, type, param, code } } with a 4xx/5xx status.
// Package errors (HsError codes) map through ts/errors.ts.
import { httpStatusOf } from '../../errors';

export class OpenAiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export function invalidParam(param: string, message: string): OpenAiError {
  return new OpenAiError(400, message, 'invalid_request_error', param, null);
}

/** Any thrown value as an OpenAiError: package errors keep their status and code. */
export function toOpenAiError(e: unknown): OpenAiError {
  if (e instanceof OpenAiError) return e;
  const err = e as { code?: string; message?: string; statusCode?: number };
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500)
    return new OpenAiError(err.statusCode, err.message ?? 'bad request', 'invalid_request_error', null, err.code ?? null);
  const status = err.code ? httpStatusOf(err.code) : 500;
  const type = status < 500 ? 'invalid_request_error' : 'server_error';
  return new OpenAiError(status, err.message ?? String(e), type, null, err.code ?? null);
}
