import { StoreKeys, UNROUTED_INDEX } from './keys';

describe('StoreKeys', () => {
  const k = new StoreKeys('{responder}');

  it('puts every key under the prefix, so that a {hash-tag} prefix keeps them in one Cluster slot', () => {
    const all = [
      k.incident('i'),
      k.alarms('i'),
      k.timeline('i'),
      k.runs('i'),
      k.slack('i'),
      k.event('e'),
      k.open('svc'),
      k.alarmState('arn:x'),
      k.changes(),
      k.alarmChanges(),
      k.unattached(),
      k.run('r'),
      k.runSteps('r'),
      k.runStatus('r'),
      k.activeRuns(),
      k.ledger('r:s'),
      k.lock('res'),
      k.cooldown('service:svc'),
      k.paused(),
      k.mitigations('svc', 'deploy.rollback'),
      k.index({}),
    ];
    for (const key of all) expect(key.startsWith('{responder}:')).toBe(true);
  });

  it('names the list indexes by service then status', () => {
    expect(k.index({})).toBe('{responder}:incidents');
    expect(k.index({ status: 'open' })).toBe('{responder}:incidents:status:open');
    expect(k.index({ service: 'checkout' })).toBe('{responder}:incidents:service:checkout');
    expect(k.index({ service: UNROUTED_INDEX, status: 'resolved' })).toBe('{responder}:incidents:service:(unrouted):status:resolved');
  });

  it('keeps the key names the README documents', () => {
    expect([k.incident('inc_1'), k.alarms('inc_1'), k.timeline('inc_1'), k.event('e1'), k.open('unrouted:arn')]).toEqual([
      '{responder}:incident:inc_1',
      '{responder}:incident:inc_1:alarms',
      '{responder}:incident:inc_1:timeline',
      '{responder}:event:e1',
      '{responder}:open:unrouted:arn',
    ]);
    expect([k.run('run_1'), k.runSteps('run_1'), k.runStatus('run_1'), k.ledger('run_1:s'), k.paused()]).toEqual([
      '{responder}:run:run_1',
      '{responder}:run:run_1:steps',
      '{responder}:run:run_1:status',
      '{responder}:ledger:run_1:s',
      '{responder}:automation:paused',
    ]);
    expect([k.changes(), k.alarmChanges()]).toEqual(['{responder}:changes', '{responder}:changes:alarms']);
  });
});
