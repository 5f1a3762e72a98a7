// The table `highservice bench --profile` prints: the nodes that took the most time, then the time by
// operator, as trtexec's --dumpProfile does for layers.
import type { EngineProfile } from '../engine/Engine';

const TOP = 15;

const ms = (v: number) => v.toFixed(3);
const percent = (v: number) => `${(v * 100).toFixed(1)} %`;
const shapes = (s: number[][]) => s.map((dims) => dims.join('x') || 'scalar').join(', ');

export function formatProfile(profile: EngineProfile): string {
  const runs = Math.max(1, profile.runs);
  const lines = [`${profile.runs} runs, the nodes ${ms(profile.totalMs / runs)} ms per run`, '', '| node | op | inputs | device | ms per run | share |', '|---|---|---|---|---|---|'];
  const byTime = [...profile.nodes].sort((a, b) => b.totalMs - a.totalMs);
  for (const n of byTime.slice(0, TOP)) lines.push(`| ${n.node} | ${n.op} | ${shapes(n.inputShapes)} | ${n.device} | ${ms(n.totalMs / runs)} | ${percent(n.share)} |`);
  const rest = byTime.slice(TOP);
  if (rest.length) {
    const restMs = rest.reduce((sum, n) => sum + n.totalMs, 0);
    lines.push(`| ${rest.length} more | | | | ${ms(restMs / runs)} | ${percent(profile.totalMs ? restMs / profile.totalMs : 0)} |`);
  }
  const byOp = new Map<string, { nodes: number; totalMs: number }>();
  for (const n of profile.nodes) {
    const entry = byOp.get(n.op) ?? { nodes: 0, totalMs: 0 };
    entry.nodes++;
    entry.totalMs += n.totalMs;
    byOp.set(n.op, entry);
  }
  lines.push('', '| op | nodes | ms per run | share |', '|---|---|---|---|');
  for (const [op, e] of [...byOp].sort((a, b) => b[1].totalMs - a[1].totalMs))
    lines.push(`| ${op} | ${e.nodes} | ${ms(e.totalMs / runs)} | ${percent(profile.totalMs ? e.totalMs / profile.totalMs : 0)} |`);
  return lines.join('\n');
}
