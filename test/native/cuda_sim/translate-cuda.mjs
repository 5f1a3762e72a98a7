// Turns a .cu file into C++ that runs on the host with cuda_sim.h: each `kernel<<<config>>>(args)`
// becomes cuda_sim::launch_kernel(config, kernel, args), each `extern __shared__ T name[]` a pointer
// to the launch's dynamic shared memory, and a kernel's `__CUDA_ARCH__ >= 800` and sm_90a paths are
// taken. Lines keep their numbers, and a #line directive names the original file, so compiler errors and
// sanitizer reports point into the .cu source.

// A kernel name with optional template arguments (one level of nesting), then <<<config>>>(.
const LAUNCH = /([A-Za-z_][\w:]*(?:<(?:[^<>;]|<[^<>;]*>)*>)?)\s*<<<([\s\S]*?)>>>\s*\(/g;
const EXTERN_SHARED = /extern\s+__shared__\s+(?:__align__\(\d+\)\s+)?([A-Za-z_][\w:\s]*?)\s+(\w+)\s*\[\s*\]\s*;/g;
// The sm_80 paths of kernels: taken on the host, where ptx_sim.h emulates the PTX they use.
const SM80_PATH = /^#if defined\(__CUDA_ARCH__\) && __CUDA_ARCH__ >= 800$/gm;
// The sm_90a paths: taken on the host, where ptx_sim_sm90.h emulates their warpgroup MMA.
const SM90A_PATH = /^#if HS_SM90A_DEVICE$/gm;

/** @param {string} source the .cu text  @param {string} file its path, for #line  @returns {string} */
export function translateCuda(source, file) {
  const launches = source.replace(LAUNCH, (match, kernel, config, offset) => {
    const noArgs = /^\s*\)/.test(source.slice(offset + match.length));
    return `cuda_sim::launch_kernel(cuda_sim::LaunchConfig(${config}), [=](auto... cuda_sim_args) { ${kernel}(cuda_sim_args...); }${noArgs ? '' : ', '}`;
  });
  const shared = launches.replace(EXTERN_SHARED, (_m, type, name) =>
    `${type}* const ${name} = reinterpret_cast<${type}*>(cuda_sim::dynamic_shared());`);
  const paths = shared.replace(SM80_PATH, '#if 1  // cuda_sim: sm_80 path, PTX from ptx_sim.h')
    .replace(SM90A_PATH, '#if 1  // cuda_sim: sm_90a path, wgmma from ptx_sim_sm90.h');
  return `#line 1 "${file}"\n${paths}`;
}
