// Setup file of the cuda-sim test project: its suites load the simulated addon (sim-addon-setup.ts)
// when it was built; otherwise the normal one, without a device, and they skip.
import { inject } from 'vitest';

const addon = inject('simAddon');
if (addon) process.env.HS_ADDON_PATH = addon;
