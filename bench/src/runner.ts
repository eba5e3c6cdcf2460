/**
 * Child-process entry point. The harness runs every case here, one process per run, so that
 * peak RSS and JIT state belong to that case alone:
 *
 *   node dist/runner.js <suite> <case> [context-json]   prints `@@bench-result {metrics}`
 *   node dist/runner.js --peer <suite> <peer> [args...] runs a helper process of a case
 */
import { RESULT_PREFIX } from './harness/paths.js';
import { PEER_CPUS_ENV } from './harness/peer.js';
import { suites } from './suites/index.js';
import { type CaseContext, NOT_PINNED } from './types.js';

function findSuite(name: string | undefined) {
  const suite = suites.find((s) => s.name === name);
  if (!suite)
    throw new Error(`unknown suite '${name}' (have: ${suites.map((s) => s.name).join(', ')})`);
  return suite;
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--peer') {
    const [, suiteName, peerName, ...args] = argv;
    const suite = findSuite(suiteName);
    const peer = peerName === undefined ? undefined : suite.peers?.[peerName];
    if (!peer) throw new Error(`suite '${suiteName}' has no peer '${peerName}'`);
    await peer(args);
    return;
  }
  const [suiteName, caseId, contextJson] = argv;
  const suite = findSuite(suiteName);
  const benchCase = suite.cases.find((c) => c.id === caseId);
  if (!benchCase) {
    throw new Error(
      `suite '${suiteName}' has no case '${caseId}' (have: ${suite.cases.map((c) => c.id).join(', ')})`,
    );
  }
  const given = contextJson ? (JSON.parse(contextJson) as Partial<CaseContext<unknown>>) : {};
  const context: CaseContext<unknown> = {
    params: given.params ?? {},
    quick: given.quick ?? false,
    placement: given.placement ?? NOT_PINNED,
  };
  if (context.placement.peerCpus) process.env[PEER_CPUS_ENV] = context.placement.peerCpus;
  const metrics = await benchCase.run(context);
  // maxRSS is in KiB on Linux and macOS.
  const result = { ...metrics, rssMiB: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
  // A case that leaves a handle open must not keep the harness waiting.
  process.exit(0);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
