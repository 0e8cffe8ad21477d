import type { WorkflowCommand } from './run-action.d.mts';
export declare const KNOWN: Set<string>;
export declare function parseCommandLine(line: string): WorkflowCommand | undefined;
export declare function workflowCommands(output: string): WorkflowCommand[];
export declare function unintendedCommands(commands: WorkflowCommand[], inputValues: string[]): WorkflowCommand[];
