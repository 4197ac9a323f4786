import { describe, expect, it } from 'vitest';
import { progressBar, type Io } from './io.ts';

function fakeIo(tty: boolean): Io & { errText: () => string } {
  let err = '';
  return {
    out: () => undefined,
    err: (t) => void (err += t),
    errIsTty: tty,
    cwd: '/',
    env: {},
    errText: () => err,
  };
}

describe('progressBar', () => {
  it('draws fraction, count, rate and ETA on a terminal, and clears the line when done', () => {
    const io = fakeIo(true);
    let now = 0;
    const bar = progressBar(io, 'verifying', 'entries', () => now);
    now = 2000;
    bar.update(5000, 20_000);
    expect(io.errText()).toContain(
      'verifying [######..................] 25% 5,000/20,000 entries 2,500/s ETA 6s',
    );
    bar.done();
    expect(io.errText().endsWith('\r\x1b[K')).toBe(true);
  });

  it('redraws at most every 100 ms, but always the final count', () => {
    const io = fakeIo(true);
    let now = 1000;
    const bar = progressBar(io, 'x', 'entries', () => now);
    bar.update(1, 10);
    now += 10;
    bar.update(2, 10);
    bar.update(10, 10);
    const draws = io
      .errText()
      .split('\r')
      .filter((s) => s.startsWith('x ['));
    expect(draws.map((d) => d.match(/ (\d+)\/10 /)?.[1])).toEqual(['1', '10']);
  });

  it('is silent when stderr is not a terminal (logs and pipes stay clean)', () => {
    const io = fakeIo(false);
    const bar = progressBar(io, 'verifying', 'entries');
    bar.update(1, 2);
    bar.done();
    expect(io.errText()).toBe('');
  });
});
