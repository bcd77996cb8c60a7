import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentpool, cli, dags, root } from './cli-helpers.js';

const ESC = '\u001b';
const GREEN_DONE = `${ESC}[32mdone`;
/** Without colour codes (SGR), keeping cursor movement. */
const SGR = new RegExp(`${ESC}\\[\\d+m`, 'g');
const uncoloured = (text: string) => text.replace(SGR, '');

function env(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['NO_COLOR', 'FORCE_COLOR', 'CI', 'TERM']) delete base[key];
  return { ...base, ...extra };
}

/** Runs the CLI on a real pseudo-terminal (util-linux script), 120 columns unless told. */
function onTerminal(
  args: string,
  extra: Record<string, string> = {},
  columns = 120,
): Promise<string> {
  const command = `stty rows 40 cols ${columns}; ${process.execPath} ${cli} ${args}`;
  return new Promise((resolve) => {
    execFile(
      'script',
      ['-qfec', command, '/dev/null'],
      { cwd: root, timeout: 60_000, env: env({ TERM: 'xterm-256color', ...extra }) },
      (_error, stdout) => resolve(stdout),
    );
  });
}

describe('colour', () => {
  const dag = join(dags, 'dag.yaml');
  it('follows --color/--no-color, then NO_COLOR, then FORCE_COLOR; none in a pipe by default', async () => {
    const piped = await agentpool(['run', dag], { env: env({}) });
    expect(piped.stdout).not.toContain(ESC);
    const forced = await agentpool(['run', dag], { env: env({ FORCE_COLOR: '1' }) });
    expect(forced.stdout).toContain(GREEN_DONE);
    const refused = await agentpool(['run', dag], {
      env: env({ FORCE_COLOR: '1', NO_COLOR: '1' }),
    });
    expect(refused.stdout).not.toContain(ESC);
    const flagOff = await agentpool(['run', dag, '--no-color'], { env: env({ FORCE_COLOR: '1' }) });
    expect(flagOff.stdout).not.toContain(ESC);
    const flagOn = await agentpool(['run', dag, '--color'], { env: env({ NO_COLOR: '1' }) });
    expect(flagOn.stdout).toContain(GREEN_DONE);
  });
});

// A pseudo-terminal comes from util-linux `script`, so these run on Linux only.
describe.runIf(process.platform === 'linux')(
  'on a terminal (a util-linux `script` pty: Linux only)',
  () => {
    it('fits a narrow terminal: no line wider than it, cut or wrapped between words', async () => {
      const out = uncoloured(
        await onTerminal(`run ${join(dags, 'fails.yaml')} --no-cache`, {}, 40),
      );
      // Each piece between line breaks and cursor moves is what one terminal line shows.
      const pieces = out.split(new RegExp(`\r?\n|\r|${ESC}\\[[0-9;?]*[A-Za-z]`));
      const wide = pieces.filter((piece) => piece.length > 40);
      expect(wide).toEqual([]);
      expect(out).toMatch(/…/); // the live frame's bar line, cut at a word
      expect(out).toMatch(/^\d+\/\d+ done/m); // the summary, wrapped, its words whole
    });

    it('gives TERM=dumb and CI plain lines, no redrawn block', async () => {
      const cases: Record<string, string>[] = [{ TERM: 'dumb' }, { CI: 'true' }];
      for (const extra of cases) {
        const out = uncoloured(await onTerminal(`run ${join(dags, 'dag.yaml')}`, extra));
        expect(out).toMatch(/\[1\/4\] done\s+research/);
        expect(out).not.toContain(`${ESC}[2K`); // log-update's line erase
      }
    });

    it('shows the truth in the last frame after Ctrl-C: what was done, what was cancelled', async () => {
      // coreutils timeout sends SIGINT (twice: to the process and its group), taken as one.
      const frame = uncoloured(
        await new Promise<string>((resolve) => {
          const command = `stty rows 40 cols 120; timeout -s INT 8 ${process.execPath} ${cli} run ${join(dags, 'slow.json')} --no-cache`;
          execFile(
            'script',
            ['-qfec', command, '/dev/null'],
            { cwd: root, timeout: 60_000, env: env({ TERM: 'xterm-256color' }) },
            (_error, stdout) => resolve(stdout),
          );
        }),
      );
      const bars = frame.match(/[█░]+ \d+\/3 · [^\r\n]*/g) ?? [];
      const last = bars.at(-1) ?? '';
      expect(last).toMatch(
        / 1\/3 · done 1 · failed 0 · skipped 0 · cancelled 2 · running 0 · queued 0/,
      );
      expect(frame).toContain('1/3 done, 0 failed, 0 skipped, 2 cancelled');
    });
  },
);

describe('how much is printed', () => {
  it('--quiet prints only the summary and errors', async () => {
    const quiet = await agentpool(['run', join(dags, 'fails.yaml'), '--quiet']);
    expect(quiet.code).toBe(1);
    expect(quiet.stdout).not.toMatch(/\[\d\/3\]/);
    expect(quiet.stdout).not.toContain('Outputs of the final tasks');
    expect(quiet.stdout).toContain('1/3 done, 1 failed, 1 skipped');
    expect(quiet.stdout).toContain('failed    bad: E_BOOM: boom');
  });

  it('--verbose prints every event, each streamed chunk as it comes', async () => {
    const verbose = await agentpool(['run', join(dags, 'odd.yaml'), '--verbose']);
    expect(verbose.code).toBe(0);
    const lines = verbose.stdout.split('\n');
    const of = (re: RegExp) => lines.findIndex((line) => re.test(line));
    expect(of(/queued\s+chatty \(chatty\)/)).toBeGreaterThanOrEqual(0);
    expect(of(/handed\s+chatty \(chatty\) attempt 1/)).toBeGreaterThan(of(/queued\s+chatty/));
    const chunks = [0, 1, 2].map((n) =>
      of(new RegExp(`chunk\\s+chatty \\(chatty\\): chunk-${n}$`)),
    );
    expect(chunks.every((at) => at > 0)).toBe(true);
    expect(chunks).toEqual([...chunks].sort((a, b) => a - b));
    expect(of(/done\s+chatty \(chatty\)/)).toBeGreaterThan(chunks[2] as number);
  });

  it('tells cancelled tasks in one line, in the stream and in the summary', async () => {
    const child = spawn(process.execPath, [cli, 'run', join(dags, 'slow.json')], { cwd: root });
    let stdout = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (data: Buffer) => {
        stdout += data;
        if (stdout.includes('done      quick') && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', resolve);
    });
    expect(code).toBe(130);
    expect(stdout).toMatch(
      /\n {6}cancelled 2 tasks \(long, never\): ERR_CANCELLED: run cancelled: interrupted \(SIGINT\)\n/,
    );
    expect(stdout).not.toMatch(/cancelled long \(wait\)/);
    expect(stdout).toContain('\n  cancelled 2: long, never\n');
  });
});

describe('the summary', () => {
  it('says a run too short to measure is so, counts threads in good English, names the slowest tasks', async () => {
    const short = await agentpool(['run', join(dags, 'odd.yaml'), '--threads', '1']);
    expect(short.stdout).toMatch(
      /on 1 thread, too short \(\d+ ms of work\) to compare with the lower bound/,
    );
    expect(short.stdout).not.toContain('×');
    const long = await agentpool(['run', join(dags, 'dag.yaml'), '--threads', '1']);
    expect(long.stdout).toMatch(/; \d+\.\d\d× the lower bound on 1 thread\n/);
    expect(long.stdout).toMatch(/\n {2}slowest: research \d\.\d\d s, /);
  });

  it('the report shows tokens only where they were counted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-cli-'));
    await agentpool(['run', join(dags, 'dag.yaml'), '--report', join(dir, 'plain.html')]);
    expect(await readFile(join(dir, 'plain.html'), 'utf8')).not.toContain('<b>tokens</b>');
    await agentpool(['run', join(dags, 'budget.yaml'), '--report', join(dir, 'budget.html')]);
    expect(await readFile(join(dir, 'budget.html'), 'utf8')).toContain('<b>tokens</b>');
  });
});
