/** The four ways a task can end. Every task ends in exactly one. (No zod here: worker threads load this.) */
export const TASK_STATUSES = ['done', 'failed', 'skipped', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
