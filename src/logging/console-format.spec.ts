import { loadConfig } from '../config/load-config';
import { InvalidConfigError } from '../config/invalid-config.error';
import { consoleFormat } from './console-format';

describe(consoleFormat.name, () => {
  const format = (env: NodeJS.ProcessEnv, terminal: boolean) =>
    consoleFormat(loadConfig(env), terminal);

  it('is pretty and coloured on a terminal, JSON when piped, by default', () => {
    expect(format({}, true)).toEqual({ pretty: true, colour: true });
    expect(format({}, false)).toEqual({ pretty: false, colour: false });
  });

  it('follows LOG_FORMAT whatever stdout is, colouring only a terminal', () => {
    expect(format({ LOG_FORMAT: 'json' }, true)).toEqual({ pretty: false, colour: false });
    expect(format({ LOG_FORMAT: 'pretty' }, false)).toEqual({ pretty: true, colour: false });
  });

  it('has no colour with NO_COLOR', () => {
    expect(format({ NO_COLOR: '1' }, true)).toEqual({ pretty: true, colour: false });
  });

  it('refuses any other LOG_FORMAT, naming the values it takes', () => {
    expect(() => loadConfig({ LOG_FORMAT: 'text' })).toThrow(InvalidConfigError);
    expect(() => loadConfig({ LOG_FORMAT: 'text' })).toThrow(
      /LOG_FORMAT: must be one of json, pretty/,
    );
  });
});
