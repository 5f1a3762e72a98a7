#!/usr/bin/env node
// The `highservice` command line.
import { Command } from 'commander';

import { benchCommand, type BenchCommandOptions } from './bench';
import { benchHttpCommand, type HttpBenchOptions } from './bench-http';
import { infoCommand } from './info';
import { runCommand } from './run';
import { serveCommand } from './serve';
import { isHfModelDir } from '../llm';
import { benchLlmCommand, type BenchLlmCommandOptions } from '../llm/bench/benchLlmCommand';

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
  .command('serve <repository>')
  .description('serve a model repository over KServe v2 HTTP (<repo>/<model>/[config.json], <repo>/<model>/<version>/model.onnx), or a Hugging Face LLM directory over the OpenAI-compatible API')
  .option('--port <p>', 'port (0 picks a free one)', '8000')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--workers <n>', 'CPU worker processes in front of one GPU process (0: a single process)', '0')
  .option('--max-batch <n>', 'default maxBatchSize of models whose config.json does not set it')
  .option('--max-delay <ms>', 'default maxQueueDelayMs of models whose config.json does not set it')
  .option('--api-key <key>', 'require this API key (repeatable)', collect)
  .option('--alert-webhook <url>', 'POST alerts (failure rate, latency, Busy) to this URL')
  .option('--no-cache', 'do not use the engine cache')
  .option('--log', 'log requests')
  .option('--draft-model <dir>', 'LLM: speculative decoding with this draft model (a Hugging Face directory with the same vocabulary)')
  .option('--num-speculative-tokens <n>', 'LLM: tokens the draft model proposes per step (default 4)')
  .option('--device <device>', 'LLM: auto | cpu | cuda (default cpu)')
  .option('--matmul-precision <p>', 'LLM: fp32 | bf16 (projections with bf16 operands and fp32 accumulation; default fp32)')
  .option('--generation-config <mode>', "LLM: auto (generation_config.json's eos ids and sampling defaults) | none (default auto)")
  .option('--stored-responses <n>', 'LLM: /v1/responses results kept in memory for previous_response_id (default 1000; 0: none)')
  .action(serveCommand);

program
  .command('bench <model> [dir]')
  .description('latency and throughput of an ONNX model (optionally side by side with onnxruntime-node), of a running server (an http:// URL), or of an LLM: `bench llm [dir]` (a Hugging Face checkpoint directory, else a random-weight Llama)')
  .option('--vs <peer>', "peer runtime to compare with ('onnxruntime')")
  .option('--batch <list>', 'comma-separated batch sizes', '1,8')
  .option('--threads <n>', 'CPU threads for both runtimes (default 2; LLM: all cores)')
  .option('--time <ms>', 'time per measurement', '2000')
  .option('--dim <name=value>', 'value of a symbolic dimension (repeatable)', collect)
  .option('--profile', "also print the time of highservice's nodes (engine.profile())")
  .option('--concurrency <list>', 'HTTP: comma-separated numbers of concurrent connections (default 1,16,64); LLM: concurrent requests (default 1,8,32)')
  .option('--model <name>', 'HTTP: the model to load (default: the first READY one)')
  .option('--json', 'HTTP: send JSON tensors instead of binary ones')
  .option('--shape <input=AxB>', 'HTTP: the shape of an input (repeatable; default: dynamic dims = batch, then 1)', collect)
  .option('--api-key <key>', 'HTTP: API key to send')
  .option('--size <name>', 'LLM: the random model when no directory is given (small: 0.43 GB bf16 | tiny)', 'small')
  .option('--weights <type>', 'LLM: auto | float32 | float16 | bfloat16 | int8', 'auto')
  .option('--matmul-precision <p>', 'LLM: fp32 | bf16 (projections with bf16 operands and fp32 accumulation)', 'fp32')
  .option('--requests <n>', 'LLM: requests run at every concurrency level', '64')
  .option('--device <device>', 'model and LLM: auto | cpu | cuda (default cpu)')
  .option('--precision <p>', 'model: fp32 | fp16 | bf16 (on CUDA; default fp32)')
  .action((target: string, dir: string | undefined, options: BenchCommandOptions & HttpBenchOptions & BenchLlmCommandOptions) => {
    if (/^http:\/\//.test(target)) return benchHttpCommand(target, { ...options, concurrency: options.concurrency ?? '1,16,64', batch: options.batch.split(',')[0] });
    if (target === 'llm' || isHfModelDir(target)) return benchLlmCommand(target === 'llm' ? dir : target, options);
    return benchCommand(target, { ...options, threads: options.threads ?? '2' });
  });

program.parseAsync().catch((e: { code?: string; message?: string }) => {
  console.error(`highservice: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(e)}`);
  process.exit(1);
});
