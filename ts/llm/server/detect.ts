// Recognises a Hugging Face LLM directory, so that `highservice serve <dir>` can choose the LLM server.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** True when `dir` holds config.json and at least one *.safetensors file. */
export function isHfModelDir(dir: string): boolean {
  try {
    return existsSync(path.join(dir, 'config.json')) && readdirSync(dir).some((f) => f.endsWith('.safetensors'));
  } catch {
    return false;
  }
}
