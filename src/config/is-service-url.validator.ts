import { registerDecorator, type ValidationArguments } from 'class-validator';

/** Whether `value` is an absolute URL with one of `protocols` (e.g. `http:`) and a host. */
export function isServiceUrl(value: string, protocols: readonly string[]): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return protocols.includes(url.protocol) && url.hostname !== '';
}

const schemesOf = (protocols: readonly string[]): string =>
  protocols.map((p) => `${p}//`).join(' or ');

/**
 * Accepts an absolute URL whose scheme is one of `protocols` (e.g. `['redis:', 'rediss:']`)
 * and which names a host. The message shows `example`, never the rejected value, because
 * service URLs may carry passwords.
 */
export function IsServiceUrl(protocols: readonly string[], example: string): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isServiceUrl',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown): boolean =>
          typeof value === 'string' && isServiceUrl(value, protocols),
        defaultMessage(args: ValidationArguments): string {
          return `must be a ${schemesOf(protocols)} URL with a host, e.g. ${args.property}=${example}`;
        },
      },
    });
  };
}

/**
 * Like {@link IsServiceUrl}, for one URL or several separated by commas (the nodes of one
 * cluster). The message names the first bad entry by its position, never by its text.
 */
export function IsServiceUrlList(
  protocols: readonly string[],
  example: string,
  listExample: string,
): PropertyDecorator {
  const entries = (value: string): string[] => value.split(',').map((entry) => entry.trim());
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isServiceUrlList',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown): boolean =>
          typeof value === 'string' && entries(value).every((e) => isServiceUrl(e, protocols)),
        defaultMessage(args: ValidationArguments): string {
          const rule = `must be a ${schemesOf(protocols)} URL with a host, e.g. ${args.property}=${example}`;
          const list = typeof args.value === 'string' ? entries(args.value) : [];
          if (list.length < 2) return rule;
          const bad = list.findIndex((e) => !isServiceUrl(e, protocols));
          const which =
            list[bad] === '' ? 'is empty' : `is not a ${schemesOf(protocols)} URL with a host`;
          return (
            `entry ${bad + 1} of ${list.length} ${which}: list the nodes as URLs separated by commas, ` +
            `e.g. ${args.property}=${listExample}`
          );
        },
      },
    });
  };
}
