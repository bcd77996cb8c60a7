import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runResultSchema } from 'agentpool';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const dags = join(root, 'test/fixtures/cli');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function agentpool(args: string[], options: { timeout?: number } = {}): Promise<Outcome> {
  // These tests are about fresh runs: a result cached by an earlier test (or run) would hide them.
  const fresh = args[0] === 'run' ? ['--no-cache'] : [];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args, ...fresh],
      { cwd: root, timeout: options.timeout ?? 30_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
          stdout,
          stderr,
        });
      },
    );
  });
}

const ESC = '\u001b';

/** The environment without CI: the live view is for terminals people watch. */
function withoutCi(): NodeJS.ProcessEnv {
  const { CI: _ci, ...env } = process.env;
  return env;
}

/** Runs the 4-task CLI DAG under util-linux `script`, which gives it a real pseudo-terminal. */
function onPseudoTerminal(env: NodeJS.ProcessEnv): Promise<Outcome> {
  const command = `stty rows 40 cols 120; ${process.execPath} ${cli} run ${join(dags, 'dag.yaml')} --no-cache`;
  return new Promise<Outcome>((resolve) => {
    execFile(
      'script',
      ['-qfec', command, '/dev/null'],
      { cwd: root, timeout: 30_000, env },
      (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
    );
  });
}

describe('agentpool run', () => {
  it('prints plain lines without escape codes when not on a terminal, and exits 0', async () => {
    const { code, stdout } = await agentpool(['run', join(dags, 'dag.yaml')]);
    expect(code).toBe(0);
    expect(stdout).not.toContain(ESC);
    expect(stdout).toMatch(/\[1\/4\] done\s+research \(sleep\) \d+ ms, thread \d+/);
    expect(stdout).toContain('4/4 done, 0 failed, 0 skipped, 0 cancelled');
    // Then the outputs of the final tasks (nothing depends on them), not of the others.
    const preview = stdout.slice(stdout.indexOf('Outputs of the final tasks:'));
    expect(preview).toMatch(
      /^Outputs of the final tasks:\nreview \(sleep\)\n {2}id: review\n {2}slept: 40\n/,
    );
    expect(preview).toContain('translate (sleep)\n  id: translate');
    expect(preview).not.toContain('draft');
  });

  it('shows tokens against each task budget, and cuts long outputs in the preview', async () => {
    const { code, stdout } = await agentpool(['run', join(dags, 'budget.yaml')]);
    expect(code).toBe(0);
    // The task's own budget, else its agent's, else the file's default.
    expect(stdout).toMatch(/done\s+spend \(tokens\) \d+ ms, thread \d+, \d+ \/ 1,000 tokens/);
    expect(stdout).toMatch(/done\s+thrifty \(frugal\) \d+ ms, thread \d+, \d+ \/ 500 tokens/);
    expect(stdout).toMatch(/done\s+own \(tokens\) \d+ ms, thread \d+, \d+ \/ 2,000 tokens/);
    expect(stdout).toMatch(/\nown \(tokens\) · \d+ \/ 2,000 tokens\n {2}used: 50\n/);
    const echo = stdout.slice(stdout.indexOf('\necho (echo)'));
    expect(echo).toContain('    line 1\n');
    expect(echo).toMatch(/ {4}… \d+ more lines\n/);
    expect(echo).not.toContain('line 16');
  });

  it('runs the bundled example workload: every task done, a readable summary shown', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-cli-'));
    const out = join(dir, 'results.json');
    const { code, stdout } = await agentpool(
      ['run', join(root, 'examples/research/dag.yaml'), '--out', out],
      { timeout: 60_000 },
    );
    expect(code).toBe(0);
    const run = runResultSchema.parse(JSON.parse(await readFile(out, 'utf8')));
    expect(run).toMatchObject({ total: 12, done: 12 });
    expect(run.tasks.draft?.status).toBe('done');
    expect(JSON.stringify(run.tasks.draft?.output)).toMatch(/ship|port|maritime/i);
    // What the run found is on screen without --out: the review (with the summary) and keywords.
    const preview = stdout.slice(stdout.indexOf('Outputs of the final tasks:'));
    expect(preview).toMatch(/\nreview \(reviewer\) · [\d,]+ \/ 2,000 tokens\n {2}verdict: \w+/);
    expect(preview).toMatch(/\n {2}summary:\n {4}\w[^\n]*(ship|port|maritime)/i);
    expect(preview).toMatch(
      /\nkeywords \(keywords\) · [\d,]+ \/ 2,000 tokens\n {2}method: RAKE\n {2}keyphrases:\n {4}\w/,
    );
    for (const line of preview.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });

  // util-linux `script -qfec` gives the command a real pseudo-terminal, as a user's shell
  // would; BSD and macOS `script` take other flags, so this runs on Linux only.
  it.runIf(process.platform === 'linux')(
    'redraws a live view in place on a pseudo-terminal (util-linux script: Linux only)',
    async () => {
      const out = await onPseudoTerminal(withoutCi());
      expect(out.code).toBe(0);
      expect(out.stdout).toContain(`${ESC}[`); // cursor movement: the block is redrawn
      // Colour codes aside (a terminal gets them), the last frame:
      expect(out.stdout.replace(new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g'), '')).toMatch(
        /█+░* 4\/4 · done 4 · failed 0 · skipped 0 · running 0 · queued 0/,
      );
      expect(out.stdout).toContain('4/4 done');
    },
  );

  // CI log viewers keep every frame, so CI=true gets plain lines even on a terminal.
  it.runIf(process.platform === 'linux')(
    'prints plain lines on a pseudo-terminal under CI (util-linux script: Linux only)',
    async () => {
      const out = await onPseudoTerminal({ ...withoutCi(), CI: 'true' });
      expect(out.code).toBe(0);
      expect(out.stdout).not.toMatch(/█/);
      expect(out.stdout.replace(new RegExp(`${ESC}\\[\\d+m`, 'g'), '')).toMatch(
        /\[4\/4\] done +(review|translate) \(sleep\)/,
      );
      expect(out.stdout).toContain('4/4 done');
    },
  );

  it('streams one JSON event per line with --format ndjson', async () => {
    const { code, stdout } = await agentpool(['run', join(dags, 'dag.yaml'), '--format', 'ndjson']);
    expect(code).toBe(0);
    const events = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.filter((e) => e.type === 'started')).toHaveLength(4);
    expect(
      events
        .filter((e) => e.type === 'done')
        .map((e) => e.id)
        .sort(),
    ).toEqual(['draft', 'research', 'review', 'translate']);
    expect(events.at(-1)).toMatchObject({ type: 'run', total: 4, done: 4 });
  });

  it('prints outputs JSON has no form for, and streams chunks as ndjson', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-cli-'));
    const out = join(dir, 'results.json');
    const json = await agentpool(['run', join(dags, 'odd.yaml'), '--format', 'json', '--out', out]);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const expected = { big: String(2n ** 70n), map: { k: '1' }, set: ['a'], self: '[Circular]' };
    expect(JSON.parse(json.stdout).tasks.odd.output).toEqual(expected);
    expect(JSON.parse(await readFile(out, 'utf8')).tasks.odd.output).toEqual(expected);

    const ndjson = await agentpool(['run', join(dags, 'odd.yaml'), '--format', 'ndjson']);
    expect(ndjson.code).toBe(0);
    const events = ndjson.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.find((e) => e.type === 'done' && e.id === 'odd')?.result.output).toEqual(
      expected,
    );
    const chunks = events.filter((e) => e.type === 'chunk').map((e) => e.chunk);
    expect(chunks).toEqual(['chunk-0', 'chunk-1', 'chunk-2']);
  });

  it('prints the results as JSON, writes --out, --trace and --report, and exits 1 when a task failed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-cli-'));
    const { code, stdout } = await agentpool([
      'run',
      join(dags, 'fails.yaml'),
      '--format',
      'json',
      '--out',
      join(dir, 'results.json'),
      '--trace',
      join(dir, 'trace.json'),
      '--report',
      join(dir, 'timeline.html'),
    ]);
    expect(code).toBe(1);
    const run = runResultSchema.parse(JSON.parse(stdout));
    expect(run).toMatchObject({ done: 1, failed: 1, skipped: 1 });
    expect(JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'))).toMatchObject({
      runId: run.runId,
    });
    const trace = JSON.parse(await readFile(join(dir, 'trace.json'), 'utf8'));
    expect(
      trace.traceEvents
        .filter((e: { ph: string }) => e.ph === 'X')
        .map((e: { name: string }) => e.name)
        .sort(),
    ).toEqual(['bad', 'ok']);
    // The chart says what it is (biome's noSvgWithoutTitle, and screen readers).
    expect(await readFile(join(dir, 'timeline.html'), 'utf8')).toMatch(
      /<svg [^>]*><title>Timeline of fails\.yaml: one lane per thread slot/,
    );
  });

  it('keeps what a run writes in the repo root (the README quick start) out of git and the lint', async () => {
    // Names the ignore patterns cover, but not the quick start's own, so a user's timeline.html survives.
    const files = [
      `timeline-${process.pid}.html`,
      `trace-${process.pid}.json`,
      `results-${process.pid}.json`,
    ];
    try {
      const run = await agentpool([
        'run',
        join(dags, 'dag.yaml'),
        '--report',
        files[0] as string,
        '--trace',
        files[1] as string,
        '--out',
        files[2] as string,
      ]);
      expect(run.code).toBe(0);
      for (const file of files) expect(existsSync(join(root, file))).toBe(true);
      const lint = await new Promise<Outcome>((resolve) => {
        execFile(
          join(root, 'node_modules/.bin/biome'),
          ['check', ...files],
          { cwd: root },
          (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
        );
      });
      // Biome refuses paths it ignores; it lints nothing, so nothing in them can fail `npm test`.
      expect(lint.stderr + lint.stdout).toContain('These paths were provided but ignored');
      for (const file of files) expect(lint.stderr + lint.stdout).toContain(`- ${file}`);
      if (existsSync(join(root, '.git'))) {
        const ignored = await new Promise<string>((resolve) => {
          execFile('git', ['check-ignore', ...files], { cwd: root }, (_error, stdout) =>
            resolve(stdout),
          );
        });
        expect(ignored.trim().split('\n').sort()).toEqual([...files].sort());
      }
    } finally {
      await Promise.all(files.map((file) => rm(join(root, file), { force: true })));
    }
  });

  it('runs .ts agents as ES modules from a folder whose package.json has no "type": "module"', async () => {
    // A user's project: agentpool installed, a package.json without `type` (so Node and tsx
    // default .ts files to CommonJS), agents written with import/export.
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-ts-'));
    await cp(join(dags, 'no-type'), dir, { recursive: true });
    await writeFile(join(dir, 'package.json'), '{ "name": "user-project", "private": true }\n');
    await mkdir(join(dir, 'node_modules'));
    await symlink(root, join(dir, 'node_modules/agentpool'), 'dir');
    // validate loads them the same way, on the main thread.
    const validate = await agentpool(['validate', join(dir, 'dag.yaml')]);
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
    for (const threads of ['1', '0']) {
      const { code, stdout, stderr } = await agentpool([
        'run',
        join(dir, 'dag.yaml'),
        '--format',
        'json',
        '--threads',
        threads,
      ]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(JSON.parse(stdout).tasks.hello).toMatchObject({
        status: 'done',
        output: { text: 'HELLO!', task: 'hello' },
      });
    }
  });

  it('cancels cleanly on Ctrl-C: partial results written, exit 130', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-cli-'));
    const out = join(dir, 'partial.json');
    const child: ChildProcess = spawn(
      process.execPath,
      [
        cli,
        'run',
        join(dags, 'slow.json'),
        '--no-cache',
        '--out',
        out,
        '--report',
        join(dir, 'timeline.html'),
      ],
      { cwd: root },
    );
    let stdout = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stdout?.on('data', (data: Buffer) => {
        stdout += data;
        if (stdout.includes('done      quick') && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (exitCode) => resolve(exitCode));
    });
    expect(code).toBe(130);
    const run = JSON.parse(await readFile(out, 'utf8'));
    expect(run.tasks.quick.status).toBe('done');
    expect(run.tasks.long.status).toBe('cancelled');
    expect(run.tasks.never.status).toBe('cancelled');
    expect(run.stoppedBy).toBe('signal');
    // Not measured against the lower bound as if it had run to the end.
    expect(stdout).toContain('1/3 done, 0 failed, 0 skipped, 2 cancelled');
    expect(stdout).not.toContain('lower bound');
    expect(stdout).toContain('stopped by signal');
    expect(await readFile(join(dir, 'timeline.html'), 'utf8')).toContain(
      'n/a (stopped by signal before the end)',
    );
  });

  it('overlays --context on the file context and applies --retries, --timeout and --fail-fast', async () => {
    const { code, stdout } = await agentpool([
      'run',
      join(dags, 'dag.yaml'),
      '--format',
      'json',
      '--context',
      '{"topic": "flags", "extra": 1}',
      '--retries',
      '2',
      '--timeout',
      '5000',
    ]);
    expect(code).toBe(0);
    const run = runResultSchema.parse(JSON.parse(stdout));
    expect((run.tasks.draft as { output: { context: object } }).output.context).toEqual({
      topic: 'flags',
      extra: 1,
    });
    const failFast = await agentpool([
      'run',
      join(dags, 'fails.yaml'),
      '--format',
      'json',
      '--fail-fast',
    ]);
    expect(failFast.code).toBe(1);
    expect(JSON.parse(failFast.stdout).stoppedBy).toBe('fail-fast');
    const badContext = await agentpool(['run', join(dags, 'dag.yaml'), '--context', '{not json']);
    expect(badContext.code).toBe(2);
    expect(badContext.stderr).toContain('--context: invalid JSON');
  });

  it('exits 2 for bad input, naming the file and the problem', async () => {
    const missing = await agentpool(['run', join(dags, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.yaml: cannot read the file (ENOENT)');
    const cycle = await agentpool(['run', join(dags, 'cycle.yaml')]);
    expect(cycle.code).toBe(2);
    expect(cycle.stderr).toContain('research -> draft -> research');
    const syntax = await agentpool(['run', join(dags, 'syntax.yaml')]);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(/syntax\.yaml: invalid YAML: line \d+, column \d+/);
    const alias = await agentpool(['run', join(dags, 'alias.yaml')]);
    expect(alias.code).toBe(2);
    expect(alias.stderr).toContain('alias.yaml: invalid YAML: Unresolved alias');
    expect(alias.stderr).not.toContain('    at ');
    const flag = await agentpool(['run', join(dags, 'dag.yaml'), '--threads', 'many']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--threads must be an integer >= 0, got "many"');
    const unknown = await agentpool(['run', join(dags, 'dag.yaml'), '--bogus']);
    expect(unknown.code).toBe(2);
  });
});

describe('bad input', () => {
  it('run exits 2 for a missing agent module before any task starts, naming the file and the agent', async () => {
    const { code, stdout, stderr } = await agentpool(['run', join(dags, 'missing-module.yaml')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /missing-module\.yaml: agents\.ghost: ERR_AGENT_LOAD: module \S+agents\/missing\.js does not exist/,
    );
    expect(stdout).toBe(''); // not even the task that could have run
  });

  it('names the file in the errors of run as validate does', async () => {
    const run = await agentpool(['run', join(dags, 'cycle.yaml')]);
    const validate = await agentpool(['validate', join(dags, 'cycle.yaml')]);
    const line = `${join(dags, 'cycle.yaml')}: ERR_DAG_CYCLE: cycle: research -> draft -> research`;
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(line);
    expect(validate.stderr).toContain(line);
  });

  it('reads a document with a misspelt top-level field as a document', async () => {
    for (const command of ['run', 'validate']) {
      const { code, stderr } = await agentpool([command, join(dags, 'typo.yaml')]);
      expect(code).toBe(2);
      expect(stderr).toContain('typo.yaml: unknown field `default` (did you mean `defaults`?)');
      // Not read as a task map with tasks named `agents`, `default` and `tasks`.
      expect(stderr).not.toContain('tasks.default');
      expect(stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('prints one line per document field problem, naming the value received', async () => {
    const { code, stderr } = await agentpool(['validate', join(dags, 'fields.yaml')]);
    expect(code).toBe(2);
    const file = join(dags, 'fields.yaml');
    expect(stderr.trim().split('\n')).toEqual([
      `agentpool: ${file}: agents.a.module: missing (expected a module path, file URL string or URL)`,
      `agentpool: ${file}: agents.a: unknown field \`modul\` (did you mean \`module\`?)`,
      `agentpool: ${file}: agents.b: expected a module path or { module, concurrency, retries, timeoutMs, limits }, got 5`,
      `agentpool: ${file}: defaults.retries: expected a number or an object, got "x"`,
      `agentpool: ${file}: defaults.timeoutMs: expected an integer from 1 to 2147483647 (ms), or 0 or Infinity for no time limit, got -1`,
      `agentpool: ${file}: context: expected an object, got 7`,
      `agentpool: ${file}: ERR_DAG_INVALID: tasks.x.limits: unknown field \`token\` (did you mean \`tokens\`?)`,
    ]);
  });

  it('gives a line and column for bad JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-cli-'));
    const file = join(dir, 'bad.json');
    await writeFile(file, '{\n  "tasks": {\n    "x": { "agent": "echo", }\n  }\n}\n');
    const { code, stderr } = await agentpool(['validate', file]);
    expect(code).toBe(2);
    expect(stderr).toContain(
      `${file}: invalid JSON: line 3, column 29: Expected double-quoted property name`,
    );
    expect(stderr).not.toContain('position');
  });
});

describe('agentpool validate', () => {
  it('accepts a good file', async () => {
    const { code, stdout } = await agentpool(['validate', join(dags, 'dag.yaml')]);
    expect(code).toBe(0);
    expect(stdout).toContain('ok');
  });

  it('prints every problem and exits 2', async () => {
    const { code, stderr } = await agentpool(['validate', join(dags, 'broken.yaml')]);
    expect(code).toBe(2);
    // All four problems: a schema error in one task does not hide the others' structure.
    expect(stderr).toContain('agents.ghost: ERR_AGENT_LOAD: module');
    expect(stderr).toContain('does not exist');
    expect(stderr).toContain('tasks.d: unknown field `timeout`');
    expect(stderr).toContain('a depends on "reserch", which is not a task');
    expect(stderr).toContain('b uses agent "writer", which is not registered');
    const cycle = await agentpool(['validate', join(dags, 'cycle.yaml')]);
    expect(cycle.code).toBe(2);
    expect(cycle.stderr).toContain('ERR_DAG_CYCLE');
  });

  it('loads each agent module with the loader the workers use, reporting those that are no agent', async () => {
    const started = Date.now();
    const { code, stderr } = await agentpool(['validate', join(dags, 'unloadable.yaml')]);
    expect(code).toBe(2);
    // ticking.js's timer did not keep validate alive (it loads modules in a thread it ends).
    expect(Date.now() - started).toBeLessThan(15_000);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /unloadable\.yaml: agents\.plain: ERR_AGENT_LOAD: module \S+no-default\.js must have a default export made with defineAgent\(\)/,
    );
    expect(lines[1]).toMatch(
      /unloadable\.yaml: agents\.broken: ERR_AGENT_LOAD: cannot load module \S+bad-handler\.js: defineAgent expects a handler function/,
    );
    expect(lines[2]).toMatch(
      /unloadable\.yaml: agents\.quitter: ERR_AGENT_LOAD: cannot load module \S+exits-on-load\.js: it called process\.exit\(3\) while loading/,
    );
  });

  it('reports every independent cycle, next to schema errors', async () => {
    const { code, stderr } = await agentpool(['validate', join(dags, 'knots.yaml')]);
    expect(code).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines.filter((line) => line.includes('ERR_DAG_CYCLE'))).toEqual([
      expect.stringContaining('cycle: draft -> review -> draft'),
      expect.stringContaining('index depends on itself'),
    ]);
    expect(stderr).toContain('ERR_DAG_INVALID: tasks.slow.timeoutMs');
    expect(stderr).not.toContain('publish ->');
  });

  it('reports unknown dependencies and agents once the schema is right', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-cli-'));
    const file = join(dir, 'dag.json');
    await writeFile(
      file,
      JSON.stringify({
        research: { agent: 'echo' },
        draft: { agent: 'writer', depends_on: ['reserch'] },
      }),
    );
    const { code, stderr } = await agentpool(['validate', file]);
    expect(code).toBe(2);
    expect(stderr).toContain(
      'draft depends on "reserch", which is not a task (did you mean "research"?)',
    );
    expect(stderr).toContain('ERR_UNKNOWN_AGENT');
    expect(stderr).toContain('agents/<name>.js next to the file');
  });
});

describe('the live view', () => {
  it('never shows a negative elapsed time (a worker clock a little ahead)', async () => {
    const { LiveView, seconds } = await import('../dist/src/cli/live-view.js');
    expect(seconds(-40)).toBe('0.0s');
    expect(seconds(1540)).toBe('1.5s');
    let text = '';
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => {
      text += chunk;
    });
    const view = new LiveView(Object.assign(stream, { columns: 120, rows: 40 }), 1);
    const running = new Map([
      ['early', { id: 'early', agent: 'echo', attempt: 1, threadId: 1, since: Date.now() + 500 }],
    ]);
    const recorder = { counts: { done: 0, failed: 0, skipped: 0, cancelled: 0 }, running };
    view.start(recorder as unknown as Parameters<typeof view.start>[0]);
    view.stop();
    expect(text).toContain('early  echo  thread 1  0.0s');
    expect(text).not.toContain('-0.0s');
  });
});

describe('agentpool graph and help', () => {
  it('prints Mermaid and Graphviz with the critical path marked', async () => {
    const mermaid = await agentpool(['graph', join(dags, 'dag.yaml')]);
    expect(mermaid.stdout).toContain('flowchart LR');
    expect(mermaid.stdout).toContain('n0 ==> n1');
    expect(mermaid.stdout).toContain('class n0,n1,n2 critical');
    const dot = await agentpool(['graph', join(dags, 'dag.yaml'), '--format', 'dot']);
    expect(dot.stdout).toContain('digraph agentpool');
    expect(dot.stdout).toContain('n0 -> n1 [color="#d64545", penwidth=2]');
  });

  it('shows help with examples and the version', async () => {
    const help = await agentpool(['run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    const top = await agentpool(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Examples:\n {2}\$ agentpool run examples\/research\/dag\.yaml/);
    expect(top.stdout).toContain('$ agentpool validate dag.yaml');
    const version = await agentpool(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(existsSync(cli)).toBe(true);
  });
});
