#!/usr/bin/env node
// The `highservice` command line.
import { Command } from 'commander';

import { benchCommand } from './bench';
import { infoCommand } from './info';
import { runCommand } from './run';

const collect = (value: string, previous: string[] = []) => [...previous, value];

const program = new Command('highservice').description('Serve and run ONNX models from Node.js with highservice-native');

program.command('info').description('backends, devices and threads the addon can use').option('--json', 'print JSON').action(infoCommand);

program
  .command('run <model>')
  .description('load a model, run it on random inputs, print outputs and timings')
  .option('--dim <name=value>', 'value of a symbolic dimension (repeatable)', collect)
  .option('--batch <n>', 'value of the leading symbolic dimension')
  .option('--runs <n>', 'number of runs', '10')
  .option('--threads <n>', 'CPU threads')
  .option('--streams <n>', 'execution contexts')
  .option('--device <device>', 'auto | cpu | cuda', 'auto')
  .option('--no-cache', 'do not use the engine cache')
  .action(runCommand);

program
  .command('bench <model>')
  .description('latency and throughput of a model, optionally side by side with onnxruntime-node')
  .option('--vs <peer>', "peer runtime to compare with ('onnxruntime')")
  .option('--batch <list>', 'comma-separated batch sizes', '1,8')
  .option('--threads <n>', 'CPU threads for both runtimes', '2')
  .option('--time <ms>', 'time per measurement', '2000')
  .option('--dim <name=value>', 'value of a symbolic dimension (repeatable)', collect)
  .action(benchCommand);

program.parseAsync().catch((e: { code?: string; message?: string }) => {
  console.error(`highservice: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(e)}`);
  process.exit(1);
});
