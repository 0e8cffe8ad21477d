import type { EventSpec } from './run-action.d.mts';
export declare const DEFAULT_BRANCH: string;
export declare function eventOf(spec: EventSpec): { payload: Record<string, unknown>; env: Record<string, string> };
