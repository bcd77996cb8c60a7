import { parse } from 'yaml';
import { OptionsError } from '../shared/errors.js';
import { MAX_CONTEXT_BYTES, readRegularText } from './read-text.js';

/** `--context`: inline JSON (`'{"topic": "x"}'`) or a JSON/YAML file holding an object. */
export async function readContext(value: string): Promise<Record<string, unknown>> {
  let parsed: unknown;
  if (value.trimStart().startsWith('{')) {
    try {
      parsed = JSON.parse(value);
    } catch (cause) {
      throw new OptionsError(`--context: invalid JSON: ${(cause as Error).message}`, { cause });
    }
  } else {
    let text: string;
    try {
      text = await readRegularText(value, MAX_CONTEXT_BYTES);
    } catch (cause) {
      throw new OptionsError(`--context: cannot read ${value} (${(cause as Error).message})`, {
        cause,
      });
    }
    try {
      parsed = parse(text);
    } catch (cause) {
      throw new OptionsError(
        `--context: ${value} is not valid JSON or YAML: ${(cause as Error).message.split('\n')[0]}`,
        {
          cause,
        },
      );
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new OptionsError('--context: expected an object');
  }
  return parsed as Record<string, unknown>;
}
