import { MultipleListenerError, UnknownError } from '@slack/bolt';
import { boltErrorCauses, boltErrorText } from './slack-bolt';

describe('Bolt errors in the log', () => {
  it('names every error inside "Multiple errors", not only the wrapper', () => {
    const error = new MultipleListenerError([new TypeError('respond is not a function'), new Error('Redis is down')]);
    expect(boltErrorText(error)).toBe('2 errors: (1) respond is not a function; (2) Redis is down');
    expect(boltErrorCauses(error).map((e) => e.name)).toEqual(['TypeError', 'Error']);
  });

  it('unwraps an UnknownError and nested wrappers', () => {
    expect(boltErrorText(new UnknownError(new Error('boom')))).toBe('1 error: (1) boom');
    expect(boltErrorText(new MultipleListenerError([new UnknownError(new Error('a')), new Error('b')]))).toBe('2 errors: (1) a; (2) b');
  });

  it('keeps a plain error as it is', () => {
    expect(boltErrorText(new Error('signature mismatch'))).toBe('signature mismatch');
  });
});
