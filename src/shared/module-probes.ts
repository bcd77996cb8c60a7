// The wire format of the two module-probing threads: `agentpool validate`'s
// check (workers/check-agent.ts, asked by src/cli/check-modules.ts) and the
// task cache's version reading (workers/agent-version.ts, asked by
// src/cache/agent-versions.ts). Both ask about one module per message.

/** One module to load, and the agent it is for (named in the loader's errors). */
export interface ModuleProbe {
  agent: string;
  href: string;
}

/** The check's answer. null: the module loads and exports an agent. */
export type CheckReply = { code: string; message: string } | null;

/** The version the module declares (null: none), or why it could not be read. */
export type VersionReply = { version: string | null } | { error: string };
