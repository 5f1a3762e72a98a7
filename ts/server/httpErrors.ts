// Every error the server answers with becomes `{ error: <message>, code: <ERR_*> }` with the
// status from the registry in ts/errors.ts: package errors keep their code; fastify's own request
// errors (bad JSON, body too large, unsupported media type) map onto registry codes. No stacks.
import { ERROR_CODES, httpStatusOf, type ErrorCode } from '../errors';

export interface ErrorReply {
  status: number;
  body: { error: string; code: ErrorCode };
}

function isRegistryCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

export function errorReply(error: unknown): ErrorReply {
  const e = error as { code?: unknown; message?: unknown; statusCode?: unknown };
  const message = typeof e?.message === 'string' && e.message ? e.message : String(error);
  if (isRegistryCode(e?.code)) return { status: httpStatusOf(e.code), body: { error: message, code: e.code } };
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status === 413) return { status, body: { error: message, code: 'ERR_PAYLOAD_TOO_LARGE' } };
  if (status === 503) return { status, body: { error: message, code: 'ERR_SHUTTING_DOWN' } };
  if (status >= 400 && status < 500) return { status: 400, body: { error: message, code: 'ERR_BAD_REQUEST' } };
  return { status: 500, body: { error: message, code: 'ERR_INTERNAL' } };
}
