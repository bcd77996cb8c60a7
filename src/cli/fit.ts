/**
 * Lines cut or wrapped to a terminal's width at word boundaries. A line
 * longer than the terminal wraps wherever the last column falls, mid-word
 * (`thre` / `ad 2`): log-update hard-wraps a frame's lines at the width,
 * and the terminal itself wraps what is written after the frame.
 */

// Built from ESC: biome forbids control characters in regex literals.
const ESC = '\u001b';
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`, 'y');
const SGR_ALL = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');

/** Visible characters of `line`: SGR colour codes take no column. */
export function visibleLength(line: string): number {
  return line.replace(SGR_ALL, '').length;
}

/**
 * `line` cut to at most `columns` visible characters, at the last space
 * that fits, with `…` where it was cut; colour codes are kept (and reset
 * after a cut, so the colour does not run into the next line).
 */
export function cutToWidth(line: string, columns: number): string {
  if (columns < 2 || visibleLength(line) <= columns) return line;
  const room = columns - 1; // the ellipsis takes one
  let visible = 0;
  let lastSpace = -1;
  let end = line.length;
  for (let i = 0; i < line.length; ) {
    SGR.lastIndex = i;
    const code = SGR.exec(line);
    if (code) {
      i += code[0].length;
      continue;
    }
    if (visible === room) {
      end = i;
      break;
    }
    if (line[i] === ' ') lastSpace = i;
    visible++;
    i++;
  }
  // A word longer than the room is cut where the room ends.
  const cut = lastSpace > 0 ? lastSpace : end;
  const head = line.slice(0, cut).trimEnd();
  return `${head}…${line.includes(`${ESC}[`) ? `${ESC}[0m` : ''}`;
}

/**
 * Plain text wrapped at spaces to `columns`, each continuation line
 * indented by `indent` spaces more than the line's own leading spaces (a
 * single word longer than a line stays whole: cutting it would lose it).
 */
export function wrapWords(text: string, columns: number, indent = 2): string {
  return text
    .split('\n')
    .map((line) => {
      if (columns < 20 || line.length <= columns) return line;
      const lead = /^ */.exec(line)?.[0] ?? '';
      const pad = `${lead}${' '.repeat(indent)}`;
      const out: string[] = [];
      let current = '';
      for (const word of line.slice(lead.length).split(' ')) {
        const prefix = out.length === 0 ? lead : pad;
        if (current === '') current = `${prefix}${word}`;
        else if (current.length + 1 + word.length <= columns) current += ` ${word}`;
        else {
          out.push(current);
          current = `${pad}${word}`;
        }
      }
      out.push(current);
      return out.join('\n');
    })
    .join('\n');
}
