import { Test } from '@nestjs/testing';
import { ConfigModule } from '../../config/config.module';
import { loadConfig } from '../../config/load-config';
import { ThreadPool } from '../../threads/thread-pool';
import { TaskTypesModule } from '../task-types.module';
import { SubmissionChecker } from './submission-checker';

describe(SubmissionChecker.name, () => {
  afterEach(() => jest.restoreAllMocks());

  it('starts no thread at boot, nor for a small submission: each would hold about 40 MB', async () => {
    const run = jest.spyOn(ThreadPool.prototype, 'run');
    const module = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(loadConfig({})), TaskTypesModule],
      providers: [SubmissionChecker],
    }).compile();
    // Runs the lifecycle hooks, as the API's boot does.
    await module.init();
    const checked = await module.get(SubmissionChecker).check({
      body: JSON.stringify({ type: 'echo', data: { message: 'hi' } }),
      highAllowed: false,
      fingerprint: false,
    });
    expect(checked).toMatchObject({ ok: true });
    expect(run).not.toHaveBeenCalled();
    await module.close();
  });
});
