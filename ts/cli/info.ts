import { devices } from '../engine/devices';

/** `highservice info`: backends, devices and threads. */
export function infoCommand(options: { json?: boolean }): void {
  const d = devices();
  if (options.json) {
    console.log(JSON.stringify(d, null, 2));
    return;
  }
  console.log(`backends:   ${d.backends.join(', ')}`);
  console.log(`cpu threads: ${d.threads}`);
  console.log(`cuda:       compiled ${d.cuda.compiled}, available ${d.cuda.available}${d.cuda.reason ? ` (${d.cuda.reason})` : ''}`);
  for (const g of d.cuda.devices) console.log(`  [${g.index}] ${g.name}, sm_${g.sm}, ${(g.memory / 2 ** 30).toFixed(1)} GiB`);
  console.log(`operators:  ${d.operators.length}`);
}
