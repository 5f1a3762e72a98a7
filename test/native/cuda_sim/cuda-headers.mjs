// Where the CUDA toolkit's headers are (cuda_bf16.h and the runtime's declarations), for the programs
// and the addon that run device code on the host: CUDA_HOME, beside nvcc on PATH, /usr/local/cuda.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** @returns {string | null} the include directory, or null where there is none */
export function cudaInclude() {
  const nvcc = execFileSync('sh', ['-c', 'command -v nvcc || true'], { encoding: 'utf8' }).trim();
  const candidates = [process.env.CUDA_HOME && path.join(process.env.CUDA_HOME, 'include'), nvcc && path.join(path.dirname(nvcc), '../include'), '/usr/local/cuda/include'];
  return candidates.find((d) => d && existsSync(path.join(d, 'cuda_bf16.h'))) ?? null;
}
