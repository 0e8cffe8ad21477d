export declare const ROOT: string;
export declare const BUNDLE: string;
export declare function parseFileCommands(text: string): Record<string, string>;
export interface StepRun {
  exitCode: number;
  log: string;
  seconds: number;
}
export interface ActionRun {
  exitCode: number;
  log: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  seconds: number;
  post: StepRun;
}
export declare function runAction(
  inputs: Record<string, string>,
  opts?: {
    workspace?: string;
    env?: Record<string, string>;
    post?: boolean;
    echo?: boolean;
    signalAfterMs?: number;
    /** Send the signal 1.5 s after this first returns true for the log so far. */
    signalWhen?: (log: string) => boolean;
    signal?: NodeJS.Signals;
    toolCache?: string;
    /** Called after the main step and before the post step. */
    beforePost?: (main: {
      exitCode: number;
      log: string;
      outputs: Record<string, string>;
      state: Record<string, string>;
    }) => Promise<void> | void;
  },
): Promise<ActionRun>;
