export declare const GOCODE: string;
export declare const TEST_CA_DIR: string;
export declare function debToSemver(deb: string): string;
export declare function legacyModulePath(importPath: string): string;
export declare function requiredModules(goMod: string): string[];
export declare function zipStored(entries: { name: string; data: Buffer }[]): Buffer;
export declare function moduleZip(mod: string, version: string, dir: string, otherModules?: Set<string>): Buffer;
export interface ModuleEntry {
  dir: string;
  version: string;
  goMod: string;
}
export declare function indexModules(root?: string): Map<string, ModuleEntry>;
export interface ProxyStats {
  requests: number;
  failed: number;
  unauthorized: number;
  zips: Record<string, number>;
  mods: Record<string, number>;
  zipDownloads: number;
}
export interface GoProxy {
  url: string;
  port: number;
  modules: Map<string, ModuleEntry>;
  stats(): ProxyStats;
  reset(): void;
  faults: { remaining: number; status: number; auth?: string };
  close(): Promise<void>;
}
export declare function startGoProxy(opts?: {
  port?: number;
  root?: string;
  auth?: string;
  failFirst?: number;
  failStatus?: number;
  /** Serve HTTPS with the test CA's certificate (scripts/engine.sh makes it). */
  tls?: boolean;
}): Promise<GoProxy>;
export declare function goGetArgs(ws: string, proxyUrl: string, module: string): string[];
