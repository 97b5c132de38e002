import { AppConfig } from './app-config';
import { InvalidConfigError } from './invalid-config.error';
import { loadConfig } from './load-config';

describe(loadConfig.name, () => {
  it('takes the documented defaults from an empty environment', () => {
    const config = loadConfig({});
    expect(config).toBeInstanceOf(AppConfig);
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      REDIS_URL: 'redis://127.0.0.1:6379',
      ELASTICSEARCH_URL: 'http://127.0.0.1:9200',
      LOG_LEVEL: 'info',
      READY_TIMEOUT_MS: 2000,
    });
  });

  it('reads and converts the variables it knows', () => {
    const config = loadConfig({
      PORT: '8080',
      REDIS_URL: 'rediss://:secret@redis.internal:6380/2',
      ELASTICSEARCH_URL: 'https://es.internal:9243',
      LOG_LEVEL: 'debug',
    });
    expect(config.PORT).toBe(8080);
    expect(config.REDIS_URL).toBe('rediss://:secret@redis.internal:6380/2');
    expect(config.ELASTICSEARCH_URL).toBe('https://es.internal:9243');
    expect(config.LOG_LEVEL).toBe('debug');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(3000);
  });

  it.each([['abc'], ['0'], ['65536'], ['80.5'], ['-1'], ['3000abc']])('rejects PORT=%s', (port) => {
    expect(() => loadConfig({ PORT: port })).toThrow(
      /PORT: must be a whole number from 1 to 65535/,
    );
  });

  it.each([['http://127.0.0.1:6379'], ['127.0.0.1:6379'], ['redis://'], ['not a url']])(
    'rejects REDIS_URL=%s',
    (url) => {
      expect(() => loadConfig({ REDIS_URL: url })).toThrow(
        /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/,
      );
    },
  );

  it('lists every invalid variable in one error, without echoing their values', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'x', REDIS_URL: 'ftp://user:hunter2@host', LOG_LEVEL: 'loud' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidConfigError);
    const error = caught as InvalidConfigError;
    expect(error.name).toBe('InvalidConfigError');
    expect(error.problems.map((p) => p.variable).sort()).toEqual([
      'LOG_LEVEL',
      'PORT',
      'REDIS_URL',
    ]);
    expect(error.message).toContain('3 environment variable(s) are invalid');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain(
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace',
    );
  });
});
