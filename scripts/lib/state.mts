import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { servicesDir } from './paths.mts';
import type { StartedNode } from './service.mts';

/** What the scripts know about a service they started: enough to stop it later. */
export interface StartedService {
  pid: number;
  url: string;
  logFile: string;
  startedAt: string;
  /** Each process of a service started as several (an Elasticsearch cluster), `pid` among them. */
  nodes?: StartedNode[];
}

const recordFile = (name: string): string => join(servicesDir, `${name}.json`);

export function readStarted(name: string): StartedService | undefined {
  try {
    return JSON.parse(readFileSync(recordFile(name), 'utf8')) as StartedService;
  } catch {
    return undefined;
  }
}

export function writeStarted(name: string, record: StartedService): void {
  mkdirSync(servicesDir, { recursive: true });
  writeFileSync(recordFile(name), `${JSON.stringify(record, null, 2)}\n`);
}

export function forgetStarted(name: string): void {
  rmSync(recordFile(name), { force: true });
}
