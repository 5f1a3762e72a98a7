// Global setup of the cuda-sim test project: builds the addon whose CUDA backend runs on the host
// (build-sim-addon.mjs), so the GPU suites check the device code and the backend's host code on
// machines without a GPU (vitest.config.ts leaves the project out where a GPU is, or HS_CUDA_SIM=0).
// Where it cannot be built (no g++ or CUDA headers), it says why and the suites load the normal
// addon, which has no device: they skip with their reasons.
// The path reaches the project's workers through provide() (use-sim-addon.ts sets HS_ADDON_PATH
// there), not the environment, which the main project's workers share.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import type { TestProject } from 'vitest/node';

import { cudaSimUnavailable } from '../native-program';

declare module 'vitest' {
  export interface ProvidedContext {
    simAddon: string | null;
  }
}

export default function setup(project: TestProject): void {
  const reason = cudaSimUnavailable();
  if (reason) console.log(`cuda-sim project: the simulated addon is not built (${reason})`);
  else execFileSync(process.execPath, [path.join(__dirname, 'build-sim-addon.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  project.provide('simAddon', reason ? null : path.resolve(__dirname, '../../../build-sim/highservice_native.node'));
}
