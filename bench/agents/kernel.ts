import { defineAgent } from '../../workers/agent.js';

/** Pure CPU work: counts the primes below `limit` by trial division. */
export function countPrimes(limit: number): number {
  let count = 0;
  for (let n = 2; n < limit; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

export default defineAgent((prompt) => countPrimes(Number(prompt)));
