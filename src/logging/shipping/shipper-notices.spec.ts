import { createLogger } from '../logger';
import { shipperNotices } from './shipper-notices';
import { ShippingStats } from './shipping-stats';

type Line = Record<string, unknown>;

describe(shipperNotices.name, () => {
  it("formats the shipper's own lines as the process's logger formats every line", () => {
    const written: string[] = [];
    const stats = new ShippingStats();
    stats.add('dropped', 3);
    const notice = shipperNotices('threadline-worker', stats, (line) => written.push(line));
    notice('warn', 'log-spool-filling', 'the log spool is 50% full');

    const ordinary: string[] = [];
    const logger = createLogger({
      service: 'threadline-worker',
      level: 'info',
      stamp: false,
      destination: { write: (line: string) => ordinary.push(line) },
    });
    logger.warn({ 'event.action': 'task-started' }, 'an ordinary line');

    expect(written).toHaveLength(1);
    expect(written[0]?.endsWith('\n')).toBe(true);
    const line = JSON.parse(written[0] ?? '{}') as Line;
    const other = JSON.parse(ordinary[0] ?? '{}') as Line;
    const shared = [
      'process.pid',
      'host.hostname',
      'ecs.version',
      'service.name',
      'event.dataset',
      'data_stream.type',
      'data_stream.dataset',
      'data_stream.namespace',
    ];
    for (const field of shared) expect(line[field]).toEqual(other[field]);
    expect(Object.keys(line).slice(0, 2)).toEqual(Object.keys(other).slice(0, 2));
    expect(line).toMatchObject({
      'log.level': 'warn',
      'service.name': 'threadline-worker',
      'event.dataset': 'threadline.worker',
      'data_stream.dataset': 'threadline.worker',
      'event.action': 'log-spool-filling',
      'log.logger': 'log-shipper',
      message: 'the log spool is 50% full',
      log_shipping: { dropped: 3 },
    });
    expect(Date.parse(String(line['@timestamp']))).not.toBeNaN();
  });
});
