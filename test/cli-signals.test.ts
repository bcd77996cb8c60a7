import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runResultSchema } from 'agentpool';
import { describe, expect, it } from 'vitest';
import { agentpool, cli, dags, root, userProject } from './cli-helpers.js';

interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once stdout or stderr contains `text`. */
  seen: (text: string) => Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[]): Spawned {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root });
  let stdout = '';
  let stderr = '';
  const waiting: { text: string; resolve: () => void }[] = [];
  const check = () => {
    for (const wait of [...waiting])
      if (stdout.includes(wait.text) || stderr.includes(wait.text)) {
        waiting.splice(waiting.indexOf(wait), 1);
        wait.resolve();
      }
  };
  child.stdout.on('data', (data: Buffer) => {
    stdout += data;
    check();
  });
  child.stderr.on('data', (data: Buffer) => {
    stderr += data;
    check();
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    seen: (text) =>
      new Promise((resolve) => {
        waiting.push({ text, resolve });
        check();
      }),
    exit: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
  };
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'agentpool-cli-'));
}

describe('signals', () => {
  it('treats SIGTERM as Ctrl-C: running tasks stopped, every file written, exit 143', async () => {
    const dir = await tempDir();
    const files = ['out.json', 'report.html', 'trace.json'].map((name) => join(dir, name));
    const [out, report, trace] = files as [string, string, string];
    const run = start([
      'run',
      join(dags, 'slow.json'),
      '--out',
      out,
      '--report',
      report,
      '--trace',
      trace,
    ]);
    await run.seen('done      quick');
    run.child.kill('SIGTERM');
    expect(await run.exit).toEqual({ code: 143, signal: null });
    const result = runResultSchema.parse(JSON.parse(await readFile(out, 'utf8')));
    expect(result.stoppedBy).toBe('signal');
    expect(result.tasks.quick?.status).toBe('done');
    expect(result.tasks.long?.status).toBe('cancelled');
    expect(result.tasks.long?.error?.message).toContain('interrupted (SIGTERM)');
    expect(await readFile(report, 'utf8')).toContain('<svg');
    expect(JSON.parse(await readFile(trace, 'utf8')).traceEvents.length).toBeGreaterThan(0);
    expect(run.stderr()).toContain('agentpool: SIGTERM: stopping, writing what ran');
  });

  it('takes the two SIGTERMs `timeout` sends at once (to the process and its group) as one', async () => {
    const dir = await tempDir();
    const run = start(['run', join(dags, 'slow.json'), '--out', join(dir, 'out.json')]);
    await run.seen('done      quick');
    run.child.kill('SIGTERM');
    run.child.kill('SIGTERM');
    expect((await run.exit).code).toBe(143);
    expect(JSON.parse(await readFile(join(dir, 'out.json'), 'utf8')).stoppedBy).toBe('signal');
  });

  it('exits at once on a second signal, even with a thread stuck in a native call', async () => {
    const dir = await userProject('module', {
      // Blocks its thread in a native call the runtime cannot interrupt, then leaves a mark.
      'agents/stuck.js': [
        "import { execFileSync } from 'node:child_process';",
        "import { writeFileSync } from 'node:fs';",
        'export default (prompt) => {',
        "  writeFileSync(prompt + '.started', '');",
        "  execFileSync('sleep', ['8']);",
        "  writeFileSync(prompt, 'returned');",
        "  return 'late';",
        '};',
        '',
      ].join('\n'),
      'dag.yaml': 'tasks:\n  stuck: { agent: stuck, prompt: ./returned }\n',
    });
    const marker = join(dir, 'returned');
    const run = spawn(process.execPath, [cli, 'run', join(dir, 'dag.yaml')], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    run.stderr.on('data', (data: Buffer) => {
      stderr += data;
    });
    const exit = new Promise<NodeJS.Signals | null>((resolve) =>
      run.on('exit', (_code, signal) => resolve(signal)),
    );
    const until = (ready: () => boolean) =>
      new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (ready()) {
            clearInterval(poll);
            resolve();
          }
        }, 20);
      });
    try {
      // Its thread is in the call.
      await until(() => existsSync(`${marker}.started`));
      run.kill('SIGTERM');
      await until(() => stderr.includes('SIGTERM: stopping'));
      // Later than the same-moment duplicates `timeout` sends (taken as one signal).
      await new Promise((resolve) => setTimeout(resolve, 300));
      run.kill('SIGTERM');
      // Ended by the signal itself (a shell reports 143), as its default action would.
      expect(await exit).toBe('SIGTERM');
      // It did not wait for the call to return.
      expect(existsSync(marker)).toBe(false);
    } finally {
      if (run.exitCode === null && run.signalCode === null) run.kill('SIGKILL');
    }
  });
});

describe('a closed stdout (`run … | head -1`)', () => {
  it('keeps running, writes --out/--report/--trace and exits with the run’s own status', async () => {
    const dir = await tempDir();
    const [out, report, trace] = ['r.json', 'r.html', 't.json'].map((name) => join(dir, name)) as [
      string,
      string,
      string,
    ];
    const script = `"${process.execPath}" "${cli}" run "${join(dags, 'pipe.yaml')}" --out "${out}" --report "${report}" --trace "${trace}" | head -1; echo "exit=\${PIPESTATUS[0]}"`;
    const shell = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      execFile('bash', ['-c', script], { cwd: root, timeout: 30_000 }, (_error, stdout, stderr) =>
        resolve({ stdout, stderr }),
      );
    });
    const [first, status] = shell.stdout.trim().split('\n');
    expect(first).toMatch(/done\s+first/);
    // 1: a task failed (not 0 as if all were done, not the EPIPE's doing).
    expect(status).toBe('exit=1');
    expect(shell.stderr).toBe('');
    const result = runResultSchema.parse(JSON.parse(await readFile(out, 'utf8')));
    expect(result).toMatchObject({ total: 5, done: 3, failed: 1, skipped: 1 });
    expect(await readFile(report, 'utf8')).toContain('<svg');
    expect(JSON.parse(await readFile(trace, 'utf8')).traceEvents.length).toBeGreaterThan(0);
  });
});

describe('output files', () => {
  it('checks every output path before anything runs: exit 2 naming flag and path', async () => {
    const dir = await tempDir();
    const run = await agentpool([
      'run',
      join(dags, 'dag.yaml'),
      '--report',
      '/nonexistent/dir/t.html',
      '--out',
      dir,
      '--trace',
      join(dir, 'same.json'),
      '--format',
      'ndjson',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      `agentpool: --out ${dir}: is a directory`,
      'agentpool: --report /nonexistent/dir/t.html: its folder /nonexistent/dir does not exist',
    ]);
    // Nothing ran: not one event.
    expect(run.stdout).toBe('');
    const twice = await agentpool([
      'run',
      join(dags, 'dag.yaml'),
      '--out',
      join(dir, 'x.json'),
      '--trace',
      join(dir, 'x.json'),
    ]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain(`--trace ${join(dir, 'x.json')}: the same file as --out`);
  });

  it('writes the other files when one cannot be written after the run, and says which failed', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'gone'));
    const out = join(dir, 'out.json');
    const report = join(dir, 'gone', 'report.html');
    const run = start(['run', join(dags, 'slow.json'), '--out', out, '--report', report]);
    await run.seen('done      quick');
    // Checked before the run, gone by its end.
    await rm(join(dir, 'gone'), { recursive: true });
    run.child.kill('SIGINT');
    expect((await run.exit).code).toBe(130);
    expect(JSON.parse(await readFile(out, 'utf8')).tasks.quick.status).toBe('done');
    expect(run.stderr()).toMatch(
      new RegExp(`agentpool: --report ${report.replace(/[.]/g, '\\.')}: not written: ENOENT`),
    );
    // The summary still came.
    expect(run.stdout()).toContain('1/3 done');
  });
});

describe('files that are not regular files (issue 11 item 9)', () => {
  it('refuses a FIFO as the DAG file or --context instead of waiting for a writer forever', async () => {
    const dir = await tempDir();
    const fifo = join(dir, 'dag.yaml');
    execFileSync('mkfifo', [fifo]);
    for (const command of ['run', 'validate', 'graph']) {
      const result = await agentpool([command, fifo], { timeout: 15_000 });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        `agentpool: ${fifo}: cannot read the file (a FIFO, not a regular file)\n`,
      );
    }
    const context = await agentpool(['run', join(dags, 'dag.yaml'), '--context', fifo], {
      timeout: 15_000,
    });
    expect(context.code).toBe(2);
    expect(context.stderr).toContain(`--context: cannot read ${fifo} (a FIFO, not a regular file)`);
    const folder = await agentpool(['validate', dir]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain('cannot read the file (a directory, not a regular file)');
  });

  it('refuses a DAG file over the size limit before reading it', async () => {
    const dir = await tempDir();
    const big = join(dir, 'big.yaml');
    await writeFile(big, '');
    // Sparse: no disk used, nothing to read if the size is checked first.
    await truncate(big, 300 * 1024 * 1024);
    const result = await agentpool(['validate', big]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `${big}: cannot read the file (314572800 bytes, more than the 268435456 a file may have)`,
    );
  });
});
