// Turns a .cu file into C++ that runs on the host with cuda_sim.h: each `kernel<<<config>>>(args)`
// becomes cuda_sim::launch_kernel(config, kernel, args) and each `extern __shared__ T name[]` a
// pointer to the launch's dynamic shared memory. Lines keep their numbers, and a #line directive
// names the original file, so compiler errors and sanitizer reports point into the .cu source.

// A kernel name with optional template arguments (one level of nesting), then <<<config>>>(.
const LAUNCH = /([A-Za-z_][\w:]*(?:<(?:[^<>;]|<[^<>;]*>)*>)?)\s*<<<([\s\S]*?)>>>\s*\(/g;
const EXTERN_SHARED = /extern\s+__shared__\s+(?:__align__\(\d+\)\s+)?([A-Za-z_][\w:\s]*?)\s+(\w+)\s*\[\s*\]\s*;/g;

export function translateCuda(source: string, file: string): string {
  const launches = source.replace(LAUNCH, (match, kernel: string, config: string, offset: number) => {
    const noArgs = /^\s*\)/.test(source.slice(offset + match.length));
    return `cuda_sim::launch_kernel(cuda_sim::LaunchConfig(${config}), [=](auto... cuda_sim_args) { ${kernel}(cuda_sim_args...); }${noArgs ? '' : ', '}`;
  });
  const shared = launches.replace(EXTERN_SHARED, (_m, type: string, name: string) =>
    `${type}* const ${name} = reinterpret_cast<${type}*>(cuda_sim::dynamic_shared());`);
  return `#line 1 "${file}"\n${shared}`;
}
