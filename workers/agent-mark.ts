/**
 * Marks what `defineAgent` makes, so a worker can tell an agent from any
 * other default export. A registered symbol: it is the same in every copy
 * of agentpool an agent module may resolve to.
 */
export const AGENT = Symbol.for('agentpool.agent');
