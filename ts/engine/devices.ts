import { loadAddon, type DevicesInfo } from '../binding';

/** What the addon can use: backends compiled in, CUDA state and devices, default threads; live native memory. */
export function devices(): DevicesInfo {
  return loadAddon().devices();
}
