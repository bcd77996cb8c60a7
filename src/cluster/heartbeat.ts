import type { Redis } from 'ioredis';
import { z } from 'zod';
import { keys } from './keys.js';
import type { ClusterSettings } from './settings.js';

/** A worker's announcement, refreshed every heartbeat. */
export const announcementSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.int(),
  /** Threads of its local pool, and how many run nothing now. */
  threads: z.int().min(0),
  free: z.int().min(0),
  /** Agent name -> its module's content hash. */
  agents: z.record(z.string(), z.string()),
  /** Host service names its `--host` module offers. */
  services: z.array(z.string()),
  at: z.number(),
});
export type Announcement = z.output<typeof announcementSchema>;

/** How often a worker announces itself; it counts as gone after `HEARTBEAT_TTL_MS` unheard. */
export const HEARTBEAT_MS = 1_000;
export const HEARTBEAT_TTL_MS = 3_000;

/** Writes (or refreshes) a worker's announcement. */
export async function announce(
  redis: Redis,
  settings: ClusterSettings,
  announcement: Announcement,
): Promise<void> {
  const k = keys(settings);
  await redis
    .multi()
    .set(k.worker(announcement.id), JSON.stringify(announcement), 'PX', HEARTBEAT_TTL_MS)
    .zadd(k.workers, Date.now() + HEARTBEAT_TTL_MS, announcement.id)
    .exec();
}

/** Removes a worker's announcement (it is closing). */
export async function withdrawAnnouncement(
  redis: Redis,
  settings: ClusterSettings,
  id: string,
): Promise<void> {
  const k = keys(settings);
  await redis.multi().del(k.worker(id)).zrem(k.workers, id).exec();
}

/**
 * The workers alive now: those whose announcement has not expired. Expired
 * ids are dropped from the set on the way (the announcement key itself
 * expires on its own TTL, so a killed worker vanishes without help).
 */
export async function liveWorkers(
  redis: Redis,
  settings: ClusterSettings,
): Promise<Announcement[]> {
  const k = keys(settings);
  const now = Date.now();
  await redis.zremrangebyscore(k.workers, '-inf', now);
  const ids = await redis.zrangebyscore(k.workers, now, '+inf');
  if (ids.length === 0) return [];
  const texts = await redis.mget(ids.map((id) => k.worker(id)));
  const found: Announcement[] = [];
  for (const text of texts) {
    if (text === null) continue;
    const parsed = announcementSchema.safeParse(JSON.parse(text));
    if (parsed.success) found.push(parsed.data);
  }
  return found;
}
