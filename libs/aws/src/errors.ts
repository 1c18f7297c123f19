import type { DeserializeMiddleware, MiddlewareStack } from '@smithy/types';
import { PermanentActionError } from '@responder/domain';

/**
 * A mutating call that certainly did not change anything (AWS rejected every attempt, or nothing
 * was sent). The engine reads `notApplied` and lets a retry call the action again instead of
 * reconciling (apps/responder/src/engine/run-engine.service.ts `callOnce`).
 */
export class NotAppliedError extends Error {
  override readonly name = 'NotAppliedError';
  readonly notApplied = true;
}

/** What a failed AWS call was, for the message the step fails or retries with. */
export interface AwsCall {
  /** The IAM action the call needs, e.g. "ecs:UpdateService": named when access is denied. */
  iamAction: string;
  /** What it was called on, for people: "ECS service prod/checkout". */
  resource: string;
}

/** The parts of an SDK error (smithy ServiceException, or a Node network error) read here. */
interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

/** 4xx answers that a later attempt can get past: throttling, a concurrent update, credentials being refreshed. */
const TRANSIENT_4XX = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  // Application Auto Scaling: another change to the same target is in progress.
  'ConcurrentUpdateException',
  'ExpiredToken',
  'ExpiredTokenException',
]);

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);

/** Errors raised before a request left the process: the call cannot have had an effect. */
const NOT_SENT_NAMES = new Set(['CredentialsProviderError', 'ProviderError', 'TokenProviderError']);
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

function shape(error: unknown): SdkErrorShape {
  return typeof error === 'object' && error !== null ? error : { message: String(error) };
}

function statusOf(e: SdkErrorShape): number | undefined {
  return e.$metadata?.httpStatusCode;
}

export function isTransient4xx(error: unknown): boolean {
  const e = shape(error);
  return (e.name !== undefined && TRANSIENT_4XX.has(e.name)) || statusOf(e) === 429;
}

export function isAccessDenied(error: unknown): boolean {
  const e = shape(error);
  // ECS answers some denials as ClientException "... is not authorized to perform: ecs:X ...".
  return (e.name !== undefined && ACCESS_DENIED.has(e.name)) || /not authorized to perform/i.test(e.message ?? '');
}

/**
 * How one attempt ended, for deciding whether a mutating call took effect:
 * - 'rejected': AWS answered 4xx (validation, throttling, denied, not found): nothing changed;
 * - 'not-sent': it failed before the request left (credentials, DNS, connection refused);
 * - 'unknown': a 5xx, a timeout, a reset connection, an abort: the change may have happened.
 */
export type AttemptOutcome = 'rejected' | 'not-sent' | 'unknown';

/**
 * Records how each attempt of the SDK's retry ends for one command (a deserialize middleware on that
 * command only), for `toActionError`'s `attempts`: a 5xx in an early attempt may have changed
 * production even if the last attempt was refused (e.g. throttled).
 */
export function recordAttempts<I extends object, O extends object>(command: { middlewareStack: MiddlewareStack<I, O> }): AttemptOutcome[] {
  const attempts: AttemptOutcome[] = [];
  const middleware: DeserializeMiddleware<I, O> = (next) => async (args) => {
    try {
      return await next(args);
    } catch (err) {
      attempts.push(attemptOutcome(err));
      throw err;
    }
  };
  command.middlewareStack.add(middleware, { step: 'deserialize', name: 'responderRecordAttemptOutcome', priority: 'high' });
  return attempts;
}

export function attemptOutcome(error: unknown): AttemptOutcome {
  const e = shape(error);
  const status = statusOf(e);
  if (status !== undefined) return status >= 400 && status < 500 && status !== 408 ? 'rejected' : 'unknown';
  if (e.$fault === 'client') return 'rejected';
  if (e.$fault === 'server') return 'unknown';
  if ((e.name !== undefined && NOT_SENT_NAMES.has(e.name)) || (e.code !== undefined && NOT_SENT_CODES.has(e.code))) return 'not-sent';
  return 'unknown';
}

/**
 * Turns an SDK error into what the engine acts on (retryable, permanent, not applied):
 * - access denied → PermanentActionError naming the IAM action (retrying cannot help);
 * - a resource that does not exist, or any other 4xx (validation) → PermanentActionError;
 * - throttling (and the other transient 4xx), 5xx and network errors, which the SDK has already
 *   retried → a plain Error, for the step's own retries. For a mutating call, when every attempt
 *   was rejected or never sent (`attempts`: the outcome of each attempt the SDK's retry made),
 *   it is a NotAppliedError, so that the retry calls again instead of reconciling.
 * `notFound` names the missing resource for the error names that mean "it does not exist".
 */
export function toActionError(
  error: unknown,
  call: AwsCall,
  options: { notFound?: Record<string, string>; mutating?: boolean; attempts?: readonly AttemptOutcome[] } = {},
): Error {
  const e = shape(error);
  // The step's timeout or shutdown, not AWS: passed on as it is (for a mutating call it is not
  // `notApplied`, since the request may have been sent).
  if (e.name === 'AbortError' && error instanceof Error) return error;
  const detail = `${e.name ?? 'Error'}: ${e.message ?? ''}`.trim();
  if (isAccessDenied(error)) {
    return new PermanentActionError(`access denied: the role Responder runs as needs ${call.iamAction} on ${call.resource} (AWS: ${detail})`, { cause: error });
  }
  const missing = e.name !== undefined ? options.notFound?.[e.name] : undefined;
  if (missing) return new PermanentActionError(`${missing} (${detail})`, { cause: error });
  const status = statusOf(e);
  const clientFault = (status !== undefined && status >= 400 && status < 500 && status !== 408) || (status === undefined && e.$fault === 'client');
  if (clientFault && !isTransient4xx(error)) {
    return new PermanentActionError(`${call.iamAction} on ${call.resource} was refused: ${detail}`, { cause: error });
  }
  const tries = e.$metadata?.attempts;
  const message = `${call.iamAction} on ${call.resource} failed${tries && tries > 1 ? ` after ${tries} attempts` : ''}: ${detail}`;
  if (options.mutating) {
    // Every attempt that reached the network is in `attempts` (recorded below the SDK's retry);
    // one that is missing there failed before it was sent. Without a record (a stubbed client),
    // the final error is all there is to go by.
    const outcomes = options.attempts?.length ? options.attempts : [attemptOutcome(error)];
    if (outcomes.every((o) => o !== 'unknown')) return new NotAppliedError(`${message} (not applied: retrying is safe)`, { cause: error });
  }
  return new Error(message, { cause: error });
}
