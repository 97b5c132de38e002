import { IsNotEmpty, IsString, Matches } from 'class-validator';
import { BooleanFlag } from './boolean-flag.decorator';
import { IntRange } from './int-range.decorator';

const PROXY = '(loopback|linklocal|uniquelocal|[0-9A-Fa-f:.]+(/\\d{1,3})?)';
/** What TRUST_PROXY accepts: `false`, a hop count, or a list of addresses and ranges. */
export const TRUST_PROXY_PATTERN = new RegExp(`^(false|\\d{1,2}|${PROXY}( *, *${PROXY})*)$`);

/** The HTTP server: where it listens, what it accepts, whom it trusts for the client address. One section of `AppConfig`, which callers use. */
export class ServerSettings {
  /** TCP port the HTTP API listens on. Default: `3000`. */
  @IntRange(1, 65535, '', 'PORT=3000')
  PORT = 3000;

  /** Address the HTTP API binds to. Default: `127.0.0.1` (use `0.0.0.0` in a container). */
  @IsString()
  @IsNotEmpty({ message: 'must be a host name or IP address, e.g. HOST=127.0.0.1' })
  HOST = '127.0.0.1';

  /** How long one readiness probe of a dependency may take, in ms. Default: `2000`. */
  @IntRange(100, 60000, 'milliseconds')
  READY_TIMEOUT_MS = 2000;

  /**
   * Which peers may set the client address with `X-Forwarded-For` (Express's `trust proxy`):
   * `false` (none: the address is the TCP peer's), a number of proxy hops, or a comma-separated
   * list of addresses, CIDR ranges and the names `loopback`, `linklocal`, `uniquelocal`. The
   * address keys the failed-authentication limit and the per-client quotas when keys are off.
   * Default: `loopback` (a proxy on this machine, such as nginx in front of `npm start`).
   * @see docs/security.md#client-address
   */
  @Matches(TRUST_PROXY_PATTERN, {
    message:
      'must be false, a number of proxy hops, or addresses, CIDR ranges, loopback, linklocal or uniquelocal separated by commas, e.g. TRUST_PROXY=loopback or TRUST_PROXY=10.0.0.0/8',
  })
  TRUST_PROXY = 'loopback';

  /** Largest accepted request body, e.g. `1mb` or `200kb`. Default: `1mb`. */
  @Matches(/^\d+(b|kb|mb)$/i, { message: 'must be a size such as 200kb or 1mb' })
  BODY_LIMIT = '1mb';

  /**
   * Serve Prometheus metrics: `GET /metrics` on the API, and on METRICS_PORT when it is set.
   * With API_KEYS set, a scrape needs a key with the admin grant. Default: `true`.
   * @see docs/metrics.md
   */
  @BooleanFlag()
  METRICS = true;

  /**
   * A port of its own for `GET /metrics` (0: none). A worker has no other HTTP server, so this
   * is how it is scraped; on the API it is optional. Default: `0`.
   * @see docs/metrics.md
   */
  @IntRange(0, 65535, '', 'METRICS_PORT=9464')
  METRICS_PORT = 0;

  /** Address the METRICS_PORT listener binds to. Default: `127.0.0.1` (`0.0.0.0` in a container). */
  @IsString()
  @IsNotEmpty({ message: 'must be a host name or IP address, e.g. METRICS_HOST=0.0.0.0' })
  METRICS_HOST = '127.0.0.1';

  /** TRUST_PROXY as Express's `trust proxy` setting takes it. */
  get trustProxy(): boolean | number | string {
    if (this.TRUST_PROXY === 'false') return false;
    if (/^\d+$/.test(this.TRUST_PROXY)) return Number(this.TRUST_PROXY);
    return this.TRUST_PROXY;
  }
}
