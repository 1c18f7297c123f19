import { countFrom, every, stepUp } from './support/production';
import { scenario } from './support/scenario';

/**
 * The Aurora writer went down 22 minutes before the alarm; a routine checkout deployment landed 6
 * minutes before it, in the middle of the outage. The deployment is a decoy: rolling it back
 * would change nothing but add risk, so it must never happen without a person.
 */
scenario({
  name: 'decoy deployment, Aurora writer down',
  writerDown: true,
  checkout: { images: ['checkout:2026.11.4', 'checkout:2026.11.5'], deployedAt: -6 },
  metrics: { elb5xx: countFrom(8, -22), target5xx: countFrom(40, -22), responseTime: stepUp(0.12, 2.8, -22) },
  logs: () => [
    ...every(0.5, -22, () => 'ERROR [db] could not connect to server: Connection refused. Is the server running on host "orders.cluster-c8x2k1.us-east-1.rds.amazonaws.com" (10.42.3.17) and accepting TCP/IP connections on port 5432?'),
    ...every(1, -21.7, () => 'ERROR [pool] TimeoutError: ResourceRequest timed out acquiring a connection from the pool after 3000 ms'),
    { at: -6.2, message: 'INFO  [boot] checkout 2026.11.5 listening on :8080' },
  ],
  expect: {
    cause: 'database',
    evidence: [{ step: 'aurora', text: /writer/i }],
    gaps: [],
    automatic: [],
    proposed: ['failover'],
  },
  // The on-call rejects the failover (the database team restarts the writer themselves), and the alarm clears.
  then: { reject: ['failover'], recover: true },
  evidence: (o) => {
    expect(o.output('aurora')).toMatchObject({ verdict: 'writer-down' });
    expect(o.output('deploy')).toMatchObject({ correlated: true, minutes_before_onset: 6 });
    // The impact began long before the deployment, and the metrics step sees it (baseline from before it).
    expect(o.output('metrics')).toMatchObject({ errorsUp: true, impactStartedAt: o.production.at(-22) });
    const signatures = o.output<{ signatures: { sample: string; firstSeen: string }[] }>('logs').signatures;
    expect(signatures.map((s) => s.sample)).toEqual(expect.arrayContaining([expect.stringMatching(/Connection refused/)]));
    expect(signatures.find((s) => /Connection refused/.test(s.sample))!.firstSeen).toBe(o.production.at(-22));
  },
});
