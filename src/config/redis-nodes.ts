import { registerDecorator, type ValidationArguments } from 'class-validator';

/**
 * Parses a node list of REDIS_CLUSTER_NODES: `host:port` pairs or redis:// URLs, comma-separated.
 * Undefined when an entry is neither.
 */
export function parseRedisNodes(
  value: string,
): { host: string; port: number; password?: string; tls: boolean }[] | undefined {
  const nodes = [];
  for (const entry of value.split(',').map((e) => e.trim())) {
    const text = /^[a-z]+:\/\//.test(entry) ? entry : `redis://${entry}`;
    if (!URL.canParse(text)) return undefined;
    const url = new URL(text);
    const port = Number(url.port);
    if (!['redis:', 'rediss:'].includes(url.protocol) || url.hostname === '' || !port) {
      return undefined;
    }
    nodes.push({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port,
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      tls: url.protocol === 'rediss:',
    });
  }
  return nodes;
}

/** Accepts a REDIS_CLUSTER_NODES list ({@link parseRedisNodes}); never echoes it (passwords). */
export function IsRedisNodeList(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isRedisNodeList',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown): boolean =>
          typeof value === 'string' && parseRedisNodes(value) !== undefined,
        defaultMessage: (args: ValidationArguments): string =>
          `must be host:port pairs (or redis:// URLs with a port) separated by commas, e.g. ${args.property}=10.0.0.1:7000,10.0.0.2:7000`,
      },
    });
  };
}
