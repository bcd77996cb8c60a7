import { Redis } from 'ioredis';
import { AgentpoolError } from '../shared/errors.js';
import { GuardedConnector } from './guarded-connector.js';
import { before } from './outcome-wire.js';
import { redacted } from './preflight.js';
import type { ClusterSettings } from './settings.js';

/** The connection options every client is made with: Redis is reached at `url` only. */
export function connectionOptions(settings: ClusterSettings) {
  // null: BullMQ's blocking commands must not give up while Redis is away
  // for a few seconds (it retries forever, reconnecting).
  return { url: settings.url, maxRetriesPerRequest: null, Connector: GuardedConnector };
}

/**
 * A client of the cluster's Redis, at `settings.url` only. Commands wait
 * while Redis is away (`maxRetriesPerRequest: null`: BullMQ's blocking
 * commands must not give up during a few seconds' outage), and its errors
 * are listened to: ioredis reconnects by itself, and without a listener it
 * prints each failed attempt ("[ioredis] Unhandled error event", every
 * ~50 ms-2 s while Redis is down). What a caller must hear of an outage, it
 * hears as a coded error (ERR_CLUSTER_UNREACHABLE) or a bounded wait.
 * Its sockets are guarded (see `GuardedConnector`).
 */
export function connect(settings: ClusterSettings): Redis {
  const { url, ...options } = connectionOptions(settings);
  const redis = new Redis(url, options);
  redis.on('error', () => {});
  return redis;
}

// What a Redis that answers, but will not serve this client, replies:
// wrong credentials, or an ACL user without the rights it needs.
const REFUSED = /^(WRONGPASS|NOAUTH|NOPERM)/;
// Node's codes for a TLS peer this client will not trust (or that does not
// speak TLS): retrying cannot change them.
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** `error` as ERR_CLUSTER_UNREACHABLE naming the reason, if it is Redis refusing this client or a TLS peer it cannot trust; else undefined. */
function asRefusal(error: unknown, url: string): AgentpoolError | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNTRUSTED.has(code))
    return new AgentpoolError(
      'ERR_CLUSTER_UNREACHABLE',
      `the TLS connection to Redis at ${redacted(url)} failed: ${error.message} (${code}); a private CA is trusted with NODE_EXTRA_CA_CERTS=<its PEM file>`,
    );
  if (!REFUSED.test(error.message)) return undefined;
  return new AgentpoolError(
    'ERR_CLUSTER_UNREACHABLE',
    `Redis at ${redacted(url)} refused this client: ${error.message}`,
  );
}

/**
 * Rejects (see `asRefusal`) the first time Redis refuses `redis` (the URL's
 * credentials or ACL rights, or a certificate it cannot verify): connecting
 * would otherwise retry until its timeout and say only that Redis "did not
 * answer". Never resolves.
 */
function refusal(redis: Redis, url: string): Promise<never> {
  const refused = new Promise<never>((_, reject) => {
    const onError = (error: Error) => {
      const coded = asRefusal(error, url);
      if (coded === undefined) return;
      redis.off('error', onError);
      reject(coded);
    };
    redis.on('error', onError);
  });
  refused.catch(() => {});
  return refused;
}

/**
 * `first` (a first command on `redis`), or ERR_CLUSTER_UNREACHABLE: Redis
 * refused this client, or, given `timeoutMs`, did not answer within it.
 */
export async function reached<T>(
  redis: Redis,
  url: string,
  first: Promise<T>,
  timeoutMs?: number,
): Promise<T> {
  const answer = Promise.race([first, refusal(redis, url)]);
  const late = () =>
    new AgentpoolError(
      'ERR_CLUSTER_UNREACHABLE',
      `Redis at ${redacted(url)} did not answer within ${(timeoutMs ?? 0) / 1000} s`,
    );
  try {
    return await (timeoutMs === undefined ? answer : before(answer, timeoutMs, late));
  } catch (error) {
    if (error instanceof AgentpoolError) throw error;
    // Whatever else failed the first command is Redis not reached.
    throw (
      asRefusal(error, url) ??
      new AgentpoolError(
        'ERR_CLUSTER_UNREACHABLE',
        `Redis at ${redacted(url)} could not be reached: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      )
    );
  }
}
