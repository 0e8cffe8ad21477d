export declare const ROOT: string;
export declare const BUNDLE: string;
export declare function parseFileCommands(text: string): Record<string, string>;
export declare function actionDefaults(file?: string, token?: string): Record<string, string>;
/** The log as the runner shows it: stop-commands block markers removed. */
export declare function displayedLog(raw: string): string;
export declare function savedValue(raw: string): string;
export interface WorkflowCommand {
  name: string;
  props: Record<string, string>;
  message: string;
  /** A stop-commands the runner refused (empty token, or one that names a command). */
  refused?: boolean;
}
export type EventSpec =
  | { kind: 'push'; branch?: string }
  | { kind: 'tag'; tag?: string }
  | { kind: 'pull_request'; number?: number; headRef?: string; fork?: boolean; action?: string }
  | { kind: 'workflow_dispatch'; branch?: string }
  | { kind: 'pull_request_target'; number?: number; headRef?: string; fork?: boolean; action?: string }
  | { kind: 'delete'; ref?: string; refType?: 'branch' | 'tag' }
  | { kind: 'issue_comment'; number?: number; onPullRequest?: boolean }
  | { kind: 'workflow_run' | 'repository_dispatch' | 'schedule' }
  | { kind: 'merge_group'; number?: number; base?: string };
export interface StepRun {
  exitCode: number;
  log: string;
  seconds: number;
  commands: WorkflowCommand[];
}
export interface ActionRun {
  exitCode: number;
  /** The main step's output as the runner shows it (stop-commands markers removed). */
  log: string;
  /** Exactly what the main step printed. */
  rawLog: string;
  outputs: Record<string, string>;
  /** The state as the runner keeps it for the post step (each value as src/state.ts wrote it). */
  state: Record<string, string>;
  /** The same, each value unwrapped from its authentication (src/state.ts). */
  saved: Record<string, string>;
  summary: string;
  seconds: number;
  /** Workflow commands the runner would obey in the main step's output. */
  commands: WorkflowCommand[];
  /** Commands the action did not mean to send (only non-empty with allowUnintended). */
  unintended: WorkflowCommand[];
  exported: { env: Record<string, string>; path: string };
  eventPayload: Record<string, unknown>;
  post: StepRun;
}
export interface RunOptions {
  workspace?: string;
  /** The event the run starts from; default a push to the default branch (or the branch/tag in env.GITHUB_REF). */
  event?: EventSpec;
  /** Environment over the runner's own (use event for the GITHUB_* context). */
  env?: Record<string, string>;
  runId?: string | number;
  runAttempt?: number;
  post?: boolean;
  echo?: boolean;
  signalAfterMs?: number;
  /** Send the signal 1.5 s after this first returns true for the log so far. */
  signalWhen?: (log: string) => boolean;
  signal?: NodeJS.Signals;
  toolCache?: string;
  /** Secrets a runner service issued to the step (an OIDC token from ACTIONS_ID_TOKEN_REQUEST_URL), which @actions/core masks. */
  issuedSecrets?: () => string[];
  /** Runs `run` once, synchronously, as soon as the main step's log matches (e.g. another job re-tagging an image). */
  whenLog?: { match: RegExp; run: () => void };
  /** State values as if a save-state command in the main step's output had set them (the step's own GITHUB_STATE file overrides them, as on a runner). */
  plantedState?: Record<string, string>;
  /** Return unintended workflow commands instead of throwing on them. */
  allowUnintended?: boolean;
  /** Called after the main step and before the post step. */
  beforePost?: (main: {
    exitCode: number;
    log: string;
    outputs: Record<string, string>;
    state: Record<string, string>;
  }) => Promise<void> | void;
}
export declare function runAction(inputs: Record<string, string>, opts?: RunOptions): Promise<ActionRun>;
