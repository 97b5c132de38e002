import { setTimeout as sleep } from 'node:timers/promises';
import { LineBatcher } from './line-batcher';

describe('LineBatcher', () => {
  const target = (): { writes: string[]; write(line: string): void } => {
    const writes: string[] = [];
    return { writes, write: (line) => void writes.push(line) };
  };

  it('passes lines on together, once the delay is over', async () => {
    const sink = target();
    const batcher = new LineBatcher(sink, 5);
    batcher.write('a\n');
    batcher.write('b\n');
    expect(sink.writes).toEqual([]);
    await sleep(30);
    expect(sink.writes).toEqual(['a\nb\n']);
    batcher.write('c\n');
    await sleep(30);
    expect(sink.writes).toEqual(['a\nb\n', 'c\n']);
  });

  it('passes on what is pending at once when flushed, and nothing twice', async () => {
    const sink = target();
    const batcher = new LineBatcher(sink, 1000);
    batcher.write('last words\n');
    batcher.flush();
    batcher.flush();
    expect(sink.writes).toEqual(['last words\n']);
    await sleep(10);
    expect(sink.writes).toHaveLength(1);
  });
});
