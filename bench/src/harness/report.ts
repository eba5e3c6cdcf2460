import { readFileSync } from 'node:fs';
import os from 'node:os';
import {
  type Column,
  type Metrics,
  NOT_PINNED,
  type Placement,
  type Suite,
  type Target,
} from '../types.js';
import { median, spread } from './stats.js';

/** Every run of one case in one placement. */
export interface CaseRuns {
  caseId: string;
  runs: Metrics[];
  errors: string[];
}

export interface SuiteResult {
  suite: Suite<unknown>;
  reps: number;
  date: Date;
  placements: { placement: Placement; cases: CaseRuns[] }[];
  loadBefore: number[];
}

export function machineInfo(date: Date): [string, string][] {
  const cpus = os.cpus();
  let distro = '';
  try {
    const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    distro = match?.[1] ?? '';
  } catch {
    // Not Linux, or no os-release: the kernel line below still says what this is.
  }
  return [
    ['CPU', `${cpus[0]?.model ?? 'unknown'}, ${cpus.length} logical cores`],
    ['memory', `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ['OS', `${distro ? `${distro}, ` : ''}${os.type()} ${os.release()} (${os.arch()})`],
    ['Node', process.version],
    ['date', date.toISOString().replace(/\.\d+Z$/, 'Z')],
  ];
}

function formatValue(value: number | undefined, column: Column): string {
  if (value === undefined || Number.isNaN(value)) return 'n/a';
  if (column.format === 'si') {
    const abs = Math.abs(value);
    if (abs >= 1e9) return `${(value / 1e9).toFixed(2)} G`;
    if (abs >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
    if (abs >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
    return value.toFixed(1);
  }
  return value.toFixed(column.digits ?? 2);
}

function medianOf(runs: CaseRuns | undefined, key: string): number | undefined {
  if (!runs) return undefined;
  const values = runs.runs.map((r) => r[key]).filter((v): v is number => typeof v === 'number');
  return values.length ? median(values) : undefined;
}

function ratioOf(
  cases: CaseRuns[],
  caseId: string,
  against: string,
  metric: string,
): number | undefined {
  const a = medianOf(
    cases.find((c) => c.caseId === caseId),
    metric,
  );
  const b = medianOf(
    cases.find((c) => c.caseId === against),
    metric,
  );
  if (a === undefined || b === undefined || b === 0) return undefined;
  return a / b;
}

function targetMet(ratio: number, target: Target): boolean {
  switch (target.op) {
    case '>=':
      return ratio >= target.value;
    case '<=':
      return ratio <= target.value;
    case '<':
      return ratio < target.value;
    case '>':
      return ratio > target.value;
  }
}

function table(header: string[], rows: string[][]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

/** Markdown for one suite: a table per placement, then its targets. */
export function renderSuite(result: SuiteResult): string {
  const { suite } = result;
  const out: string[] = [];
  out.push(`## ${suite.name}: ${suite.title}`, '');
  const when = result.date.toISOString().replace(/\.\d+Z$/, 'Z');
  out.push(
    `${suite.about} Medians of ${result.reps} repetitions; cases alternate within each repetition, ` +
      `each run in a fresh process. Run ${when}, load average before: ${result.loadBefore
        .map((l) => l.toFixed(2))
        .join(' ')}.`,
    '',
  );
  const labelOf = (id: string) => suite.cases.find((c) => c.id === id)?.label ?? id;
  const columnOf = (key: string) => suite.columns.find((c) => c.key === key);
  const first = suite.columns[0];
  for (const { placement, cases } of result.placements) {
    out.push(`### ${placement.label}`, '');
    const header = [
      'case',
      ...suite.columns.map((c) => c.label),
      ...suite.ratios.map((r) => `${columnOf(r.metric)?.label ?? r.metric} vs ${r.against}`),
      first ? `spread (${first.label})` : 'spread',
    ];
    const rows = cases.map((runs) => {
      const label = labelOf(runs.caseId);
      if (runs.runs.length === 0) {
        return [
          `${label} (failed: ${runs.errors[0] ?? 'no result'})`,
          ...header.slice(1).map(() => 'n/a'),
        ];
      }
      const cells = suite.columns.map((c) => formatValue(medianOf(runs, c.key), c));
      const ratios = suite.ratios.map((r) => {
        if (r.against === runs.caseId) return '1 (base)';
        const ratio = ratioOf(cases, runs.caseId, r.against, r.metric);
        return ratio === undefined ? 'n/a' : `${ratio.toFixed(2)}x`;
      });
      const firstValues = first
        ? runs.runs.map((r) => r[first.key]).filter((v): v is number => typeof v === 'number')
        : [];
      const failed = runs.errors.length ? ` (${runs.errors.length} failed)` : '';
      return [
        `${label}${failed}`,
        ...cells,
        ...ratios,
        `${(spread(firstValues) * 100).toFixed(0)}%`,
      ];
    });
    out.push(table(header, rows), '');
    if (suite.targets.length) {
      const targetRows = suite.targets.map((t) => {
        const ratio = ratioOf(cases, t.case, t.against, t.metric);
        if (ratio === undefined) return [t.label, 'n/a', 'n/a'];
        return [t.label, `${ratio.toFixed(2)}x`, targetMet(ratio, t) ? 'yes' : '**no**'];
      });
      out.push(table(['target', 'measured', 'met'], targetRows), '');
    }
  }
  return out.join('\n');
}

export function renderHeader(date: Date, suites: readonly Suite<unknown>[]): string {
  const info = machineInfo(date);
  const pinning = suites
    .map((s) => `${s.name}: ${(s.placements ?? [NOT_PINNED]).map((p) => p.label).join('; ')}`)
    .join('<br>');
  info.push(['pinning', pinning]);
  return [
    '# Benchmark results',
    '',
    'Written by `pnpm bench` (see README.md for how to read it). `pnpm bench <suite>` replaces',
    "only that suite's section; each section says when it ran.",
    '',
    table(['machine', ''], info),
    '',
  ].join('\n');
}

const SECTION = /<!-- suite:([\w-]+) -->\n[\s\S]*?<!-- \/suite:\1 -->\n?/g;

/**
 * RESULTS.md with the given sections replaced (or added) and the others kept as they were, in
 * registry order.
 */
export function mergeResults(
  previous: string,
  header: string,
  sections: Map<string, string>,
  order: string[],
): string {
  const kept = new Map<string, string>();
  for (const match of previous.matchAll(SECTION)) {
    kept.set(match[1] as string, match[0].trimEnd());
  }
  for (const [name, body] of sections) {
    kept.set(name, `<!-- suite:${name} -->\n${body.trimEnd()}\n<!-- /suite:${name} -->`);
  }
  const parts = [header.trimEnd()];
  for (const name of order) {
    const section = kept.get(name);
    if (section) parts.push(section);
  }
  return `${parts.join('\n\n')}\n`;
}
