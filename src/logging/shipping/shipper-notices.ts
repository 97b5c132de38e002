import { createLogger, type ServiceName } from '../logger';
import type { ShipperNotice, ShippingStats } from './shipping-stats';

/**
 * The shipper's own lines, formatted by the process's logger like every other line (ECS,
 * `service.name`, `process.pid`, …), with `log.logger: log-shipper`, the `event.action` and
 * the shipper's counters (`log_shipping`). Each line goes to `write`, which spools it and
 * writes it to stdout.
 * @see docs/log-shipping.md#watching-it
 */
export function shipperNotices(
  service: ServiceName,
  stats: ShippingStats,
  write: (line: string) => void,
  dataStream?: string,
): ShipperNotice {
  // Called synchronously by pino for each line: the line is passed on as soon as it is made.
  const logger = createLogger({
    service,
    level: 'info',
    stamp: false,
    destination: { write },
    ...(dataStream === undefined ? {} : { dataStream }),
  });
  return (level, action, message) =>
    logger[level](
      { 'event.action': action, 'log.logger': 'log-shipper', log_shipping: stats.snapshot() },
      message,
    );
}
