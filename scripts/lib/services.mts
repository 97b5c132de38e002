import { elasticsearch } from './elasticsearch.mts';
import { stopProcess, isAlive, isLoopback } from './processes.mts';
import { redis } from './redis.mts';
import { say, ScriptError } from './say.mts';
import { listedUrls, type LocalService } from './service.mts';
import { forgetStarted, readStarted, writeStarted, type StartedService } from './state.mts';

/**
 * Services at different ports are different instances, each with its own record; a cluster
 * (several addresses) is recorded under its first one.
 */
function recordKey(service: LocalService, url: string): string {
  const { port } = new URL(listedUrls(url)[0] ?? url);
  return `${service.name}-${port || 'default'}`;
}

/** The pids of what a record names: its one process, or each node of a cluster. */
const pidsOf = (record: StartedService): number[] =>
  record.nodes?.map((node) => node.pid) ?? [record.pid];

export const SERVICES: readonly LocalService[] = [redis, elasticsearch];

export type ServiceState = 'started' | 'reused';

export interface ServiceUp {
  name: string;
  url: string;
  state: ServiceState;
}

export function selectServices(names: readonly string[]): LocalService[] {
  if (names.length === 0) return [...SERVICES];
  return names.map((name) => {
    const service = SERVICES.find((s) => s.name === name);
    if (!service) {
      throw new ScriptError(
        'services',
        `unknown service "${name}"`,
        `choose from: ${SERVICES.map((s) => s.name).join(', ')}`,
      );
    }
    return service;
  });
}

/** Makes each service answer: reuses what already does, starts the rest (loopback only). */
export async function up(services: readonly LocalService[]): Promise<ServiceUp[]> {
  return Promise.all(
    services.map(async (service): Promise<ServiceUp> => {
      const url = service.url();
      if (await service.answers(url)) {
        say(service.name, `already answering at ${url}: reused`);
        return { name: service.name, url, state: 'reused' };
      }
      if (!listedUrls(url).every((address) => isLoopback(new URL(address).hostname))) {
        throw new ScriptError(
          service.name,
          `nothing answers at ${url}, and it is not on this machine, so it cannot be started here`,
          `start ${service.name} at that address, or unset ${service.urlVariable} to use a local one`,
        );
      }
      const { pid, logFile, nodes } = await service.start(url);
      writeStarted(recordKey(service, url), {
        pid,
        url,
        logFile,
        startedAt: new Date().toISOString(),
        ...(nodes ? { nodes } : {}),
      });
      const pids = nodes ? `pids ${nodes.map((n) => n.pid).join(', ')}` : `pid ${pid}`;
      say(service.name, `up at ${url} (${pids}, log ${logFile})`);
      return { name: service.name, url, state: 'started' };
    }),
  );
}

/** Stops the services the scripts started (never one they found running). */
export async function down(services: readonly LocalService[]): Promise<void> {
  await Promise.all(
    services.map(async (service) => {
      const key = recordKey(service, service.url());
      const record = readStarted(key);
      if (!record) {
        say(service.name, 'not started by Threadline: left alone');
        return;
      }
      await Promise.all(
        pidsOf(record)
          .filter(isAlive)
          .map(async (pid) => {
            const how = await stopProcess(pid);
            say(
              service.name,
              how === 'stopped'
                ? `stopped (pid ${pid})`
                : `did not stop on SIGTERM: killed (pid ${pid})`,
            );
          }),
      );
      forgetStarted(key);
    }),
  );
}

export interface ServiceStatus {
  name: string;
  url: string;
  answers: boolean;
  managedPid: number | undefined;
}

export async function status(services: readonly LocalService[]): Promise<ServiceStatus[]> {
  return Promise.all(
    services.map(async (service) => {
      const url = service.url();
      const record = readStarted(recordKey(service, url));
      return {
        name: service.name,
        url,
        answers: await service.answers(url),
        managedPid: record ? pidsOf(record).find(isAlive) : undefined,
      };
    }),
  );
}
