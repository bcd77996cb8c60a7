import { describe, expect, it } from 'vitest';
import {
  answerCharge,
  chargeRemote,
  isMailbox,
  newRemoteBudget,
} from '../../src/shared/remote-budget.js';
import { chargeRefused, tokensSpent } from '../../src/shared/run-budget.js';

// The main thread's part is played here by `post` (it answers at once, or never).
describe('a remote budget mailbox', () => {
  it('returns what the main thread answered, and mirrors the spent total and a refusal', () => {
    const buffer = newRemoteBudget();
    const cells = new BigInt64Array(buffer);
    expect(isMailbox(buffer)).toBe(true);
    expect(isMailbox(new SharedArrayBuffer(16))).toBe(false);
    expect(
      chargeRemote(cells, (seq) => answerCharge(buffer, seq, true, 40), 1_000),
    ).toBeUndefined();
    expect(tokensSpent(cells)).toBe(40);
    expect(chargeRefused(cells)).toBe(false);
    expect(chargeRemote(cells, (seq) => answerCharge(buffer, seq, false, 95), 1_000)).toBe(95);
    expect(tokensSpent(cells)).toBe(95);
    expect(chargeRefused(cells)).toBe(true);
  });

  it('gives up after waitMs, and never takes a late answer for a later request', () => {
    const buffer = newRemoteBudget();
    const cells = new BigInt64Array(buffer);
    let unanswered = -1;
    const ignore = (seq: number) => {
      unanswered = seq;
    };
    expect(chargeRemote(cells, ignore, 20)).toBe('unreachable');
    // The next request is refused; the late "charged" for the first one changes nothing.
    const next = chargeRemote(
      cells,
      (seq) => {
        answerCharge(buffer, unanswered, true, 10);
        answerCharge(buffer, seq, false, 7);
      },
      1_000,
    );
    expect(next).toBe(7);
    // And a late answer to a request given up on, with none pending, is dropped.
    answerCharge(buffer, unanswered, true, 10);
    expect(
      chargeRemote(cells, (seq) => answerCharge(buffer, seq, true, 12), 1_000),
    ).toBeUndefined();
  });
});
