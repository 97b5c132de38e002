import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { AppConfig } from './app-config';
import { InvalidConfigError } from './invalid-config.error';

/**
 * Turns the environment into a validated {@link AppConfig}. Unset or empty variables take
 * their defaults; anything else must be valid.
 * @throws InvalidConfigError listing every invalid variable
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const defaults = new AppConfig();
  const given: Record<string, string> = {};
  for (const key of Object.keys(defaults)) {
    const value = env[key];
    if (value !== undefined && value !== '') given[key] = value;
  }
  const config = plainToInstance(AppConfig, given, { exposeDefaultValues: true });
  const errors = validateSync(config, { forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new InvalidConfigError(
      errors.map((e) => ({
        variable: e.property,
        expected: Object.values(e.constraints ?? {})[0] ?? 'is invalid',
      })),
    );
  }
  return config;
}
