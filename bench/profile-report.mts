// The "where the time goes" section of bench/RESULTS.md: the tables bench/profile.mts prints
// and writes, kept between markers that npm run bench leaves alone, one labelled part per run
// (`--label before`, `--label after`) so that two commits' profiles stand side by side.
import { processTotal, type CpuBudget } from './cpu-budget.mts';
import type { ProfileSummary } from './cpu-profile.mts';

export const PROFILE_START = '<!-- bench:profile -->';
export const PROFILE_END = '<!-- /bench:profile -->';

/** The text from `open` to `close`, both included, or undefined when `text` has no such part. */
export function sectionOf(text: string, open: string, close: string): string | undefined {
  const start = text.indexOf(open);
  const end = text.indexOf(close, start);
  return start >= 0 && end > start ? text.slice(start, end + close.length) : undefined;
}

/** `text` with its part from `open` to `close` replaced by `section`, or `section` appended. */
export function withSection(text: string, open: string, close: string, section: string): string {
  const old = sectionOf(text, open, close);
  return old === undefined ? `${text.trimEnd()}\n\n${section}\n` : text.replace(old, () => section);
}

const ms = (n: number): string => n.toLocaleString('en', { maximumFractionDigits: 0 });
const percent = (n: number): string => `${(100 * n).toFixed(1)}%`;
/** A cell's text, safe inside a Markdown table. */
const cell = (text: string): string => text.replaceAll('|', '\\|');

/** The top `top` functions and the owners of `summary`, as Markdown lines. */
export function profileTables(summary: ProfileSummary, top: number): string[] {
  return [
    '| # | function | where | self ms | share |',
    '| ---: | --- | --- | ---: | ---: |',
    ...summary.frames
      .slice(0, top)
      .map(
        (f, i) =>
          `| ${i + 1} | ${cell(f.name)} | ${f.where ? `\`${cell(f.where)}\`` : cell(f.owner)} | ${ms(f.selfMs)} | ${percent(f.share)} |`,
      ),
    '',
    '| owner | self ms | share |',
    '| --- | ---: | ---: |',
    ...summary.owners
      .slice(0, top)
      .map((o) => `| ${cell(o.owner)} | ${ms(o.selfMs)} | ${percent(o.share)} |`),
  ];
}

/** What one profiled process did: its heading and the figures of its measured window. */
export interface ProfiledRun {
  title: string;
  /** What the run achieved meanwhile, e.g. "2,104 requests/s". */
  rate: string;
  /** The main thread's profile. */
  summary: ProfileSummary;
  /** What the process's other threads did meanwhile, if any, e.g. "1 worker thread busy 80 ms". */
  threads?: string;
  /** What one unit of work is ("request", "task"), for the CPU budget table. */
  unit: string;
  /** The CPU each unit cost, this process's and its bare peer's (the first is this one). */
  budgets: { side: string; budget: CpuBudget }[];
}

const us = (n: number): string => n.toFixed(0);

/**
 * The CPU of one unit of work, for each side: by thread, the process, and Redis (all of it,
 * then the share spent inside scripts), with the commands Redis ran for it.
 */
export function budgetTable(unit: string, budgets: ProfiledRun['budgets']): string[] {
  return [
    `| µs of CPU per ${unit} | main thread | V8 helpers (GC, compiler) | libuv pool | other threads | the process | Redis | Redis in scripts | Redis commands |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...budgets
      .map(({ side, budget: b }) =>
        [
          cell(side),
          us(b.threads.main),
          us(b.threads.helpers),
          us(b.threads.pool),
          us(b.threads.others),
          us(processTotal(b)),
          us(b.redis),
          us(b.scripts),
          b.commands.toFixed(1),
        ].join(' | '),
      )
      .map((row) => `| ${row} |`),
  ];
}

/** One labelled part: a heading naming the label and commit, then each run's tables. */
export function labelledPart(
  label: string,
  heading: string,
  runs: ProfiledRun[],
  top: number,
): string {
  return [
    `<!-- profile:${label} -->`,
    `### ${heading}`,
    '',
    ...runs.flatMap((run) => [
      `**${run.title}**: ${run.rate}; the main thread busy ${ms(run.summary.busyMs)} ms of the ${ms(run.summary.windowMs)} ms measured (${percent(run.summary.windowMs > 0 ? run.summary.busyMs / run.summary.windowMs : 0)}), ${run.summary.samples.toLocaleString('en')} samples${run.threads ? `; ${run.threads}` : ''}.`,
      '',
      ...profileTables(run.summary, top),
      '',
      ...budgetTable(run.unit, run.budgets),
      '',
    ]),
    `<!-- /profile:${label} -->`,
  ].join('\n');
}

const INTRO = [
  '## Where the time goes',
  '',
  "Written by `npm run bench:profile` (bench/profile.mts): one API process under the submit load and one worker process draining no-op tasks, each run with `node --cpu-prof`; the tables are of the main thread (worker threads, such as the log shipper's, are only summed). Self time (the samples in a function's own code) is summed by function name, file and line over the measured window only (start-up and warm-up left out); files are shown in their package, or, for Threadline's own code, in src/ through the source maps. Shares are of the time on the CPU (idle left out); code without a script (V8's builtins such as JSON and regular expressions, Node's C++ bindings such as a socket's writev) is shown and owned through the nearest caller outside Node.js ('ioredis (native)': its writes to Redis), and '(program)' is V8's own work outside JavaScript. Each part below is one run on the commit it names: `--label NAME` replaces that part only, and `--target DIR` profiles another built checkout (a worktree of an older commit) with this script, for a before and after.",
  '',
  "Below each process's tables, its CPU per unit of work against its bare peer's (bare Fastify + `queue.add`; a plain BullMQ Worker), both run with `--cpu-prof` under the same load, one after the other: every thread of the process from /proc (the main thread; V8's helper threads, which do most of the garbage collection and the optimising compiles; libuv's pool; the other threads, where the log transport's worker thread is), and the Redis server's CPU from INFO cpu, of which the time inside Lua scripts from INFO commandstats (wall time within the call, so it can exceed Redis's CPU when the machine is busy). The profile sees only the first column; Redis runs on the same cores.",
];

/** The profile section of `text` with the part `label` replaced (or added after the others). */
export function withProfilePart(text: string, label: string, part: string): string {
  const section = sectionOf(text, PROFILE_START, PROFILE_END);
  const parts: string[] = [];
  if (section !== undefined) {
    for (const match of section.matchAll(
      /<!-- profile:([\w.-]+) -->[\s\S]*?<!-- \/profile:\1 -->/g,
    )) {
      parts.push(match[1] === label ? part : match[0]);
    }
  }
  if (!parts.includes(part)) parts.push(part);
  const body = [PROFILE_START, ...INTRO, '', parts.join('\n\n'), PROFILE_END].join('\n');
  return withSection(text, PROFILE_START, PROFILE_END, body);
}
