import type { WorkflowCommand } from './run-action.d.mts';
export declare const KNOWN: Set<string>;
export declare function parseV2(line: string, registered?: Set<string>): WorkflowCommand | undefined;
export declare function parseLegacy(line: string, registered?: Set<string>): WorkflowCommand | undefined;
export declare function parseCommandLine(line: string, registered?: Set<string>): WorkflowCommand | undefined;
export declare class CommandProcessor {
  commands: WorkflowCommand[];
  stopToken?: string;
  line(text: string): void;
  text(output: string): this;
}
export declare function workflowCommands(output: string): WorkflowCommand[];
export declare function honoured(commands: WorkflowCommand[], name: 'save-state' | 'set-output'): Record<string, string>;
export declare function unintendedCommands(commands: WorkflowCommand[], inputValues: string[]): WorkflowCommand[];
