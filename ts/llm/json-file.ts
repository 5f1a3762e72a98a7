// A JSON object file of a model directory: missing is an error only if required, and text that is
// not JSON is ERR_INVALID_MODEL.
import { readFile } from 'node:fs/promises';

import { HsError } from '../errors';

export async function readJsonFile(file: string, required: boolean): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (!required) return null;
    throw new HsError('ERR_NOT_FOUND', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HsError('ERR_INVALID_MODEL', `${file} is not valid JSON`, { cause: e });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HsError('ERR_INVALID_MODEL', `${file} must hold an object`);
  return value as Record<string, unknown>;
}
