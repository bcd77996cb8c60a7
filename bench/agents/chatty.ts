import { defineAgent } from '../../workers/agent.js';

/** Sends one progress report and one chunk: what the worker-to-host channel adds to a task. */
export default defineAgent((prompt, ctx) => {
  ctx.progress(1, 'done');
  ctx.emit(prompt);
  return 0;
});
