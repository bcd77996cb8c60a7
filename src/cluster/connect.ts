import { Redis } from 'ioredis';
import type { ClusterSettings } from './settings.js';

/**
 * A client of the cluster's Redis, at `settings.url` only. Commands wait
 * while Redis is away (`maxRetriesPerRequest: null`: BullMQ's blocking
 * commands must not give up during a few seconds' outage), and its errors
 * are listened to: ioredis reconnects by itself, and without a listener it
 * prints each failed attempt ("[ioredis] Unhandled error event", every
 * ~50 ms-2 s while Redis is down). What a caller must hear of an outage, it
 * hears as a coded error (ERR_CLUSTER_UNREACHABLE) or a bounded wait.
 */
export function connect(settings: ClusterSettings): Redis {
  const redis = new Redis(settings.url, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  return redis;
}
