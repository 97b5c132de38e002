import type { AppLogger } from './logger';
import { PinoNestLogger } from './nest-logger';

describe(PinoNestLogger.name, () => {
  const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
  const pino = (): jest.Mocked<AppLogger> =>
    Object.fromEntries(
      levels.map((level) => [level, jest.fn()]),
    ) as unknown as jest.Mocked<AppLogger>;

  it.each([
    ['RouterExplorer', 'Mapped {/api/v1/tasks, POST} route'],
    ['RoutesResolver', 'TasksController {/api/v1/tasks}:'],
    ['InstanceLoader', 'AppModule dependencies initialized'],
  ])('writes Nest start-up detail (%s) at debug', (context, message) => {
    const logger = pino();
    new PinoNestLogger(logger).log(message, context);
    expect(logger.debug).toHaveBeenCalledWith({ 'log.logger': context }, message);
    expect(logger.info).not.toHaveBeenCalled();
  });

  it('writes other log() lines at info', () => {
    const logger = pino();
    new PinoNestLogger(logger).log('Nest application successfully started', 'NestApplication');
    expect(logger.info).toHaveBeenCalledWith(
      { 'log.logger': 'NestApplication' },
      'Nest application successfully started',
    );
    expect(logger.debug).not.toHaveBeenCalled();
  });

  it('keeps a warning from those contexts a warning', () => {
    const logger = pino();
    new PinoNestLogger(logger).warn('duplicate route', 'RouterExplorer');
    expect(logger.warn).toHaveBeenCalledWith({ 'log.logger': 'RouterExplorer' }, 'duplicate route');
  });
});
