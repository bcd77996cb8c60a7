/**
 * Colour for the terminal: what each status looks like, or nothing. Chosen
 * once per run by `paintFor`, the way other CLIs of this kind decide
 * (NO_COLOR, FORCE_COLOR, the flags, then whether stdout is a colour terminal).
 */
export interface Paint {
  done(text: string): string;
  failed(text: string): string;
  skipped(text: string): string;
  cancelled(text: string): string;
}

const same = (text: string) => text;
export const PLAIN: Paint = { done: same, failed: same, skipped: same, cancelled: same };

const sgr = (open: number, close: number) => (text: string) =>
  `\u001b[${open}m${text}\u001b[${close}m`;
export const COLOUR: Paint = {
  done: sgr(32, 39),
  failed: sgr(31, 39),
  skipped: sgr(2, 22),
  cancelled: sgr(33, 39),
};

/** `--color` / `--no-color`: true, false, or undefined (decide from the environment). */
export function colourWanted(
  flag: boolean | undefined,
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv,
): boolean {
  if (flag !== undefined) return flag;
  // https://no-color.org: present and not empty.
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/**
 * Whether the redrawn live view may be used: a terminal that can move the
 * cursor, and not CI (whose log viewers keep every frame). `TERM=dumb` and
 * `CI` get the plain lines even on a pseudo-terminal.
 */
export function canRedraw(
  stream: { isTTY?: boolean; rows?: number },
  env: NodeJS.ProcessEnv,
): boolean {
  if (!stream.isTTY || env.TERM === 'dumb') return false;
  if (env.CI && env.CI !== '0' && env.CI !== 'false') return false;
  // A terminal with no rows (some pseudo-terminals) could show nothing of a redrawn block.
  return (stream.rows ?? 0) > 0;
}
