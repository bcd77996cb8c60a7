import { defineAgent } from '../../workers/agent.js';

/** Does nothing: what a task costs the runtime itself. */
export default defineAgent(() => 0);
