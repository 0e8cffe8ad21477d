// Who the registry client is, and to whom it says so: the credentials the docker CLI would use for a host,
// the challenge a registry answers 401 with, and where credentials may be sent at all.
import { run } from '../exec.js';
import { readCliConfig } from '../engine.js';
import type { Registry } from '../ref.js';

export interface Credentials {
  username: string;
  password: string;
}

/** Credentials the docker CLI would use for a host: config.json auths, or a credential helper. */
export async function credentialsFor(reg: Pick<Registry, 'authKey'>): Promise<{ username: string; password: string } | undefined> {
  let config: {
    auths?: Record<string, { auth?: string; identitytoken?: string }>;
    credsStore?: string;
    credHelpers?: Record<string, string>;
  } = {};
  try {
    config = JSON.parse(readCliConfig() ?? '');
  } catch {
    return undefined;
  }
  const key = reg.authKey;
  const helper = config.credHelpers?.[key] ?? config.credsStore;
  if (helper) {
    const res = await run(`docker-credential-${helper}`, ['get'], { input: key, allowFailure: true });
    if (res.exitCode === 0) {
      const c = JSON.parse(res.stdout) as { Username: string; Secret: string };
      return { username: c.Username, password: c.Secret };
    }
  }
  const entry = config.auths?.[key] ?? config.auths?.[`https://${key}`];
  if (entry?.auth) {
    const [username, ...rest] = Buffer.from(entry.auth, 'base64').toString('utf8').split(':');
    return { username, password: rest.join(':') };
  }
  return undefined;
}

/** A `WWW-Authenticate` header: its scheme (lowercase) and its parameters. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const scheme = (/^\s*(\w+)/.exec(header)?.[1] ?? '').toLowerCase();
  const params = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1].toLowerCase(), m[2]]));
  return { scheme, params };
}

/**
 * Whether a password may travel to `url`: over https, or to this machine. A token realm is whatever URL the
 * registry's challenge names, so a registry (or whoever answers in its place) could otherwise send the
 * client's credentials to a plain-http host of its choosing.
 */
export function mayCarryCredentials(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(url.hostname);
}

export function basicAuthorization(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}
