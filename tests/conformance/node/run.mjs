// Runs the conformance scenarios of the stacks named on the command line (all when none) and
// prints one JSON line: the cases, each with its expected category, its trace id and what was
// recorded. `--list` prints the cases without running them (the test collects them this way).
//
//   FAILCAT_OTLP_HTTP=http://127.0.0.1:4318 node run.mjs [--list] [stack ...]
import { recordCase, startTracing } from './record.mjs';
import { STACKS } from './scenarios/index.mjs';

const args = process.argv.slice(2);
const list = args.includes('--list');
const names = args.filter((a) => !a.startsWith('--'));
const chosen = names.length ? names : Object.keys(STACKS);
for (const name of chosen) {
  if (!(name in STACKS)) {
    console.error(`run.mjs: unknown stack ${JSON.stringify(name)}; known: ${Object.keys(STACKS).join(', ')}`);
    process.exit(2);
  }
}

if (list) {
  const cases = chosen.flatMap((stack) =>
    STACKS[stack].map(({ id, expect }) => ({ stack, id, expect })),
  );
  process.stdout.write(`${JSON.stringify({ cases })}\n`);
  process.exit(0);
}

const endpoint = process.env.FAILCAT_OTLP_HTTP;
if (!endpoint) {
  console.error('run.mjs: set FAILCAT_OTLP_HTTP to the receiver\'s OTLP/HTTP address');
  process.exit(2);
}
const provider = startTracing(endpoint, 'node-conformance');
const cases = [];
for (const stack of chosen) {
  for (const scenario of STACKS[stack]) {
    cases.push(await recordCase(stack, scenario));
  }
}
// A failed export is the run's failure (the test then reports it), but the cases are printed
// either way so that what was recorded can still be read.
let exportError = null;
try {
  await provider.forceFlush();
  await provider.shutdown();
} catch (error) {
  exportError = String(error?.message ?? error);
}
// Scenario servers and sockets are closed by their cases; exit anyway so a library's stray
// keep-alive timer cannot hold the run open, but only once the line is written: a pipe takes
// 64 KiB at a time, and exiting sooner cuts a longer line.
process.stdout.write(`${JSON.stringify({ cases, export_error: exportError })}\n`, () =>
  process.exit(exportError === null ? 0 : 1),
);
