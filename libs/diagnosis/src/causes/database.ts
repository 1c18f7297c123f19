import { type Facts, byCount, hhmm, isDatabaseSignature, isErrorSignature, ms, quoted, short } from '../facts';
import { Assessment, type CauseRule } from '../rule';

/** The Aurora writer down, failing over, or out of connections. */
export const databaseRule: CauseRule = {
  cause: 'database',
  assess(f: Facts) {
    const a = new Assessment('database');
    const au = f.aurora;
    const name = au?.cluster ?? 'the Aurora cluster';
    if (au?.verdict === 'writer-down') a.for(0.55, 'aurora', `the writer of ${name} is ${au.writerStatus ?? 'missing'}${au.reasons[0] ? ` (${short(au.reasons[0])})` : ''}`, au.link);
    if (au?.failoverInProgress) a.for(au.verdict === 'writer-down' ? 0.1 : 0.45, 'aurora', `a failover of ${name} is under way`, au.link);
    else if (au?.verdict === 'degraded') a.for(0.2, 'aurora', `${name} is degraded${au.reasons[0] ? `: ${short(au.reasons[0])}` : ''}`, au.link);
    const db = byCount((f.signatures ?? []).filter((s) => isErrorSignature(s) && isDatabaseSignature(s)));
    if (db.length > 0) {
      const first = [...db].sort((x, y) => (ms(x.firstSeen) ?? Infinity) - (ms(y.firstSeen) ?? Infinity))[0];
      a.for(0.3, 'logs', `${db[0].count}× ${quoted(db[0])}; database errors since ${hhmm(first.firstSeen)}`, db[0].link ?? f.logsLink);
      if (db.some((s) => /too many connections|remaining connection slots|pool (is )?exhausted|connection pool/i.test(s.signature))) {
        a.for(0.15, 'logs', 'the database is out of connections');
      }
    }
    const event = (au?.events ?? []).find((e) => ms(e.at) !== null);
    const started = ms(f.startedAt);
    if (event && started !== null && ms(event.at)! <= started) a.for(0.1, 'aurora', `${short(event.message)} at ${hhmm(event.at)}, before the impact began`, au?.link);
    if (!a.hasEvidence) return null;
    if (au?.verdict === 'healthy') a.against(0.3, 'aurora', `the writer of ${name} is available and no failover is under way`);
    return a.result(au?.verdict === 'writer-down' || au?.failoverInProgress ? `the Aurora writer of ${name} is ${au.failoverInProgress ? 'failing over' : 'down'}` : 'the database fails the service');
  },
};
