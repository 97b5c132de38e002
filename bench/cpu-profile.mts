// Where a process's CPU time goes, from the .cpuprofile that `node --cpu-prof` writes: the
// samples' time summed by the function they were in (its own code only: self time), by name,
// script and line, and by who owns the code (Threadline, a package, Node.js, V8). Pure: the
// caller reads the file and says where a script's code comes from (bench/profile.mts maps
// compiled files back to src/ through their source maps).

/** A function as V8 names it: line and column are 0-based, url is empty for V8's own code. */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** The parts of a .cpuprofile this reads (Chrome DevTools' format, times in microseconds). */
export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a function's code is, shortened (`bullmq/dist/cjs/classes/job.js:120`), and its owner. */
export interface Place {
  where: string;
  owner: string;
}

export interface FrameTime {
  name: string;
  where: string;
  owner: string;
  selfMs: number;
  /** Of the busy time: every sample but idle ones. */
  share: number;
}

export interface OwnerTime {
  owner: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  /** The span of the profile counted, in ms. */
  windowMs: number;
  /** Time in samples that were not idle, in ms. */
  busyMs: number;
  samples: number;
  /** Every function, most self time first. */
  frames: FrameTime[];
  /** Every owner, most self time first. */
  owners: OwnerTime[];
}

/** The owner of Threadline's own code (anything outside node_modules). */
export const OWN_CODE = 'Threadline';

/**
 * Where a frame's code is and who owns it, from its url alone: a package by its name (the
 * last node_modules in the path), Node.js by its `node:` scheme; frames without a script are
 * V8's garbage collector, V8's `(program)`, or native code (V8's builtins such as JSON and
 * regular expressions, Node's C++ bindings such as a socket's writev); anything else is
 * Threadline's
 * own, shown from its dist/, src/ or bench/ folder.
 */
export function placeOf(frame: CallFrame): Place {
  const line = frame.lineNumber + 1;
  if (frame.url === '') {
    const owner =
      frame.functionName === '(garbage collector)'
        ? 'V8: garbage collector'
        : frame.functionName === '(program)'
          ? 'V8: (program)'
          : 'native: builtins and bindings';
    return { where: '', owner };
  }
  if (frame.url.startsWith('node:')) return { where: `${frame.url}:${line}`, owner: 'Node.js' };
  const path = frame.url.replace(/^file:\/\//, '');
  const at = path.lastIndexOf('/node_modules/');
  if (at >= 0) {
    const rest = path.slice(at + '/node_modules/'.length);
    const parts = rest.split('/');
    const pkg = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    return { where: `${rest}:${line}`, owner: pkg };
  }
  const own = /\/((?:dist|src|bench|scripts)\/.*)$/.exec(path)?.[1] ?? path.split('/').at(-1);
  return { where: `${own}:${line}`, owner: OWN_CODE };
}

/** V8's own entries, which stand for no function. */
const META = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

/**
 * Sums `profile`'s samples by function and by owner. Native code (a frame without a script:
 * a socket's or a file's write, JSON) is told apart by the nearest function outside Node.js
 * that called it, and owned by that function's owner: `writeBuffer` under pino's destination
 * is pino's, under ioredis's command queue ioredis's. A sample lasts until the next one (the
 * last until the profile's end), as DevTools counts it. With `window` (microseconds on the
 * profile's clock, which is the machine's monotonic clock: process.hrtime in any process),
 * only the samples taken within it count: the load, not the start-up.
 */
export function summarize(
  profile: CpuProfile,
  locate: (frame: CallFrame) => Place = placeOf,
  window?: { from: number; to: number },
): ProfileSummary {
  const frameOf = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  }
  /**
   * The nearest function above node `id` outside Node.js (whose code a socket's write passes
   * through, whoever wrote), or else the nearest with a script, if any.
   */
  const caller = (id: number): CallFrame | undefined => {
    let nearest: CallFrame | undefined;
    for (let at = parentOf.get(id); at !== undefined; at = parentOf.get(at)) {
      const frame = frameOf.get(at);
      if (!frame || frame.url === '') continue;
      if (!frame.url.startsWith('node:')) return frame;
      nearest ??= frame;
    }
    return nearest;
  };
  const from = Math.max(window?.from ?? profile.startTime, profile.startTime);
  const to = Math.min(window?.to ?? profile.endTime, profile.endTime);
  const byFrame = new Map<string, { frame: CallFrame; via?: CallFrame; us: number }>();
  let busy = 0;
  let counted = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    const next =
      i + 1 < profile.samples.length ? at + (profile.timeDeltas[i + 1] ?? 0) : profile.endTime;
    if (at < from || at >= to) continue;
    const frame = frameOf.get(profile.samples[i]);
    if (!frame || frame.functionName === '(idle)') continue;
    const us = Math.max(0, next - at);
    const via =
      frame.url === '' && !META.has(frame.functionName) ? caller(profile.samples[i]) : undefined;
    const key = [frame, via]
      .map((f) => (f ? `${f.functionName}\0${f.url}\0${f.lineNumber}` : ''))
      .join('\0');
    const entry = byFrame.get(key) ?? { frame, via, us: 0 };
    entry.us += us;
    byFrame.set(key, entry);
    busy += us;
    counted++;
  }
  const share = (us: number): number => (busy > 0 ? us / busy : 0);
  const frames: FrameTime[] = [...byFrame.values()]
    .map(({ frame, via, us }) => ({
      name: frame.functionName || '(anonymous)',
      ...(via ? nativeVia(via, locate) : locate(frame)),
      selfMs: us / 1000,
      share: share(us),
    }))
    .sort((a, b) => b.selfMs - a.selfMs);
  const byOwner = new Map<string, number>();
  for (const frame of frames) {
    byOwner.set(frame.owner, (byOwner.get(frame.owner) ?? 0) + frame.selfMs);
  }
  const owners = [...byOwner.entries()]
    .map(([owner, selfMs]) => ({ owner, selfMs, share: share(selfMs * 1000) }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return {
    windowMs: Math.max(0, to - from) / 1000,
    busyMs: busy / 1000,
    samples: counted,
    frames,
    owners,
  };
}

/** Native code called from `via`: shown and owned through its caller. */
function nativeVia(via: CallFrame, locate: (frame: CallFrame) => Place): Place {
  const place = locate(via);
  return {
    where: `native, from ${via.functionName || '(anonymous)'} ${place.where}`,
    owner: `${place.owner} (native)`,
  };
}
