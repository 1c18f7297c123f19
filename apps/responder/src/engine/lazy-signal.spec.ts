import { LazySignal } from './lazy-signal';

describe('LazySignal', () => {
  it('gives a live signal that the first abort aborts, with its reason', () => {
    const lazy = new LazySignal();
    const { signal } = lazy;
    expect(signal.aborted).toBe(false);
    const first = new Error('timed out');
    lazy.abort(first);
    lazy.abort(new Error('decided meanwhile'));
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(first);
    expect(lazy.signal).toBe(signal);
  });

  it('read only after an abort, gives a signal aborted already, with that reason', () => {
    const lazy = new LazySignal();
    const reason = new Error('decided meanwhile');
    lazy.abort(reason);
    expect(lazy.signal.aborted).toBe(true);
    expect(lazy.signal.reason).toBe(reason);
  });
});
