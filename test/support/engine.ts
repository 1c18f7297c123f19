import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { ApiTokenStore } from '@responder/store';
import { API_TOKEN, INGEST_KEY } from './app';
import { alarmEvent } from './events';

export interface StepView {
  id: string;
  status: string;
  params?: Record<string, unknown>;
  output?: Record<string, unknown>;
  paramsHash?: string;
  plan?: string;
  reason?: string;
  error?: string;
  approval?: string;
  approvalWhy?: string;
  approvedBy?: string;
  approvals?: { by: string }[];
  startedAt?: string;
  finishedAt?: string;
  dryRun?: boolean;
  goal?: 'met' | 'missed';
}
export interface RunView {
  id: string;
  runbook: string;
  status: string;
  steps: StepView[];
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A personal API token for a catalog approver, as `npm run cli -- tokens create <user>` makes one. */
export async function personToken(redis: Redis, prefix: string, user: string): Promise<string> {
  return (await new ApiTokenStore(redis, prefix).create(user, { label: 'test' })).token;
}

/** HTTP helpers against one running app (in process, or a child's URL). */
export function client(target: INestApplication | string) {
  const server = typeof target === 'string' ? target : target.getHttpServer();
  const api = {
    alarm: async (alarmName: string, state: 'ALARM' | 'OK' = 'ALARM', at = new Date()): Promise<string> => {
      const res = await request(server).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(alarmEvent({ alarmName, state, at })).expect(202);
      return (res.body as { incidentId: string }).incidentId;
    },
    get: (path: string) => request(server).get(path).set('Authorization', `Bearer ${API_TOKEN}`),
    post: (path: string, body: object) => request(server).post(path).set('Authorization', `Bearer ${API_TOKEN}`).send(body),
    /** A POST with another credential: a person's token (approvals need one) or an OIDC JWT. */
    postAs: (token: string, path: string, body: object) => request(server).post(path).set('Authorization', `Bearer ${token}`).send(body),
    runs: async (incidentId: string): Promise<RunView[]> => ((await api.get(`/incidents/${incidentId}`).expect(200)).body as { runs: RunView[] }).runs,
    step: async (incidentId: string, stepId: string): Promise<StepView | undefined> => {
      for (const run of await api.runs(incidentId)) {
        const step = run.steps.find((s) => s.id === stepId);
        if (step) return step;
      }
      return undefined;
    },
    /** Waits until the step is in one of the statuses, and returns it. */
    waitStep: (incidentId: string, stepId: string, statuses: string[], timeoutMs = 15_000) =>
      eventually(`step ${stepId} to be ${statuses.join('|')}`, async () => {
        const step = await api.step(incidentId, stepId);
        return step && statuses.includes(step.status) ? step : undefined;
      }, timeoutMs),
    waitRun: (incidentId: string, statuses: string[], timeoutMs = 15_000) =>
      eventually(`the run to be ${statuses.join('|')}`, async () => {
        const [run] = await api.runs(incidentId);
        return run && statuses.includes(run.status) ? run : undefined;
      }, timeoutMs),
    timeline: async (incidentId: string): Promise<{ type: string; data: Record<string, unknown> }[]> =>
      ((await api.get(`/incidents/${incidentId}/timeline`).expect(200)).body as { items: { type: string; data: Record<string, unknown> }[] }).items,
  };
  return api;
}
