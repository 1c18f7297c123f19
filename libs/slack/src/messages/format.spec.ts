import { LIMITS, code, codeBlock, duration, escapeMrkdwn, mention, packLines, safe, truncate, utc } from './format';

describe('format helpers', () => {
  it('escapes the three characters Slack reads as markup', () => {
    expect(escapeMrkdwn('a & b <!channel> c > d')).toBe('a &amp; b &lt;!channel&gt; c &gt; d');
  });

  it('masks secrets before escaping free text', () => {
    expect(safe('token=xoxb-123456789012-abcdefABCDEF <x>')).toBe('token=[REDACTED] &lt;x&gt;');
  });

  it.each([
    ['U01ALICE0', '<@U01ALICE0>'],
    ['W0123ABCD', '<@W0123ABCD>'],
    ['S01ONCALL', '<!subteam^S01ONCALL>'],
    ['policy:business-hours', 'policy _business-hours_'],
    ['alice@example.com', 'alice@example.com'],
    ['Bob <!here>', 'Bob &lt;!here&gt;'],
  ])('mentions %s as %s', (who, expected) => {
    expect(mention(who)).toBe(expected);
  });

  it.each([
    [0, '0s'],
    [45_000, '45s'],
    [200_000, '3m 20s'],
    [3_900_000, '1h 05m'],
    [(2 * 24 + 3) * 3_600_000 + 59_000, '2d 3h'],
    [-5_000, '0s'],
  ])('renders %i ms as %s', (ms, expected) => {
    expect(duration(ms)).toBe(expected);
  });

  it('renders times in UTC to the minute, whatever the offset given', () => {
    expect(utc('2026-11-22T18:03:59.999Z')).toBe('2026-11-22 18:03 UTC');
    expect(utc('2026-11-22T19:03:00+01:00')).toBe('2026-11-22 18:03 UTC');
    expect(utc('not a time <x>')).toBe('not a time &lt;x&gt;');
  });

  it('never cuts an escape, a mention or a surrogate pair in half', () => {
    expect(truncate('abc &amp; def', 7)).toBe('abc …');
    expect(truncate('hi <@U01ALICE0> there', 10)).toBe('hi …');
    expect(truncate('ab😀cd', 4)).toBe('ab…');
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('x'.repeat(5000), LIMITS.sectionText)).toHaveLength(LIMITS.sectionText);
  });

  it('keeps code spans and fences closed whatever the text holds', () => {
    expect(code('a`b')).toBe('`aˋb`');
    expect(codeBlock('x```y', 100)).toBe('```xˋˋˋy```');
    expect(code('')).toBe('');
  });

  it('packs lines into at most the blocks allowed and counts what it left out', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `${i} ${'x'.repeat(290)}`);
    const blocks = packLines(lines, 3);
    expect(blocks).toHaveLength(3);
    for (const b of blocks) expect(b.text!.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
    const shown = blocks.flatMap((b) => b.text!.text.split('\n')).filter((l) => /^\d+ x/.test(l)).length;
    expect(blocks[2].text!.text).toContain(`and ${100 - shown} more lines`);
  });
});
