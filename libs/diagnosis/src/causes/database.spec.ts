import { readFacts } from '../facts';
import { at, scenario, sig } from '../testing';
import { databaseRule } from './database';

const assess = (input: Parameters<typeof readFacts>[0]) => databaseRule.assess(readFacts(input));

describe('database rule', () => {
  it('blames the database when the Aurora writer is down and the app cannot connect', () => {
    const h = assess(
      scenario({}, {
        aurora: { verdict: 'writer-down', writer: { instanceId: 'checkout-db-1', status: 'stopped' }, reasons: ['the writer checkout-db-1 is stopped'] },
        logs: { signatures: [sig('could not connect to database: connection refused', at(-2), 150)] },
      }),
    )!;
    expect(h.confidence).toBeGreaterThanOrEqual(0.8);
    expect(h.evidence[0]).toMatchObject({ step: 'aurora', link: 'https://console/rds', text: expect.stringContaining('stopped') });
  });

  it('counts running out of connections', () => {
    const h = assess(scenario({}, { aurora: { verdict: 'degraded', reasons: ['reader lag'] }, logs: { signatures: [sig('FATAL: remaining connection slots are reserved', at(-1), 40, 'FATAL')] } }))!;
    expect(h.evidence.map((e) => e.text)).toContain('the database is out of connections');
  });

  it('argues against database errors while the writer is available', () => {
    const h = assess(scenario({}, { logs: { signatures: [sig('SQLSTATE 40001 deadlock detected', at(-1), 5)] } }))!;
    expect(h.against[0].text).toMatch(/available/);
    expect(h.confidence).toBe(0);
  });

  it("knows the database by the drivers' words and by its port in the sample, which the signature folds away", () => {
    const pool = { ...sig('ERROR timeout acquiring a connection from the pool after <n> ms', at(-3), 60), sample: 'ERROR timeout acquiring a connection from the pool after 5000 ms' };
    const byPort = { ...sig('ERROR connect ECONNREFUSED <ip>', at(-3), 60), sample: 'ERROR connect ECONNREFUSED 10.0.3.12:5432' };
    for (const s of [pool, byPort]) {
      const h = assess(scenario({}, { aurora: { verdict: 'writer-down', writer: { instanceId: 'checkout-db-1', status: 'stopped' }, reasons: ['the writer checkout-db-1 is stopped'] }, logs: { signatures: [s] } }))!;
      expect(h.evidence.some((e) => e.step === 'logs')).toBe(true);
    }
  });

  it('has nothing to say about a healthy cluster and clean logs', () => {
    expect(assess(scenario({}))).toBeNull();
  });
});
