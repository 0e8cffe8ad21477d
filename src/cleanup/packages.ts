// GitHub's Packages REST API for a ghcr.io container package: the registry API there has no delete, so
// versions (one per manifest, with its tags) are listed and deleted here.
// https://docs.github.com/rest/packages/packages#list-package-versions-for-a-package-owned-by-an-organization
import type { GitHubApi } from '../settings/types.js';
import type { PackageVersion } from './select.js';

/** One element of the list versions answer, the fields read here. */
interface VersionJson {
  id: number;
  name: string;
  created_at: string;
  updated_at?: string;
  metadata?: { package_type?: string; container?: { tags?: string[] } };
}

export class PackagesError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** `ghcr.io/acme/app/cache` → owner `acme`, package `app/cache`, as the Packages API names them. */
export function packageOf(registryPath: string): { owner: string; name: string } {
  const [owner, ...rest] = registryPath.split('/');
  return { owner, name: rest.join('/') };
}

/** The next page from a Link header (`<url>; rel="next"`). */
export function nextPage(link: string | null): string | undefined {
  return /<([^>]+)>;\s*rel="next"/.exec(link ?? '')?.[1];
}

export class PackagesApi {
  /** `orgs/<owner>` or `users/<owner>`, found on the first list. */
  private base?: string;
  constructor(
    private readonly api: Pick<GitHubApi, 'url' | 'token'>,
    private readonly pkg: { owner: string; name: string },
  ) {}

  private async call(method: string, url: string): Promise<Response> {
    return fetch(url, {
      method,
      signal: AbortSignal.timeout(60_000),
      headers: {
        Accept: 'application/vnd.github+json',
        Authorization: `Bearer ${this.api.token}`,
        'X-GitHub-Api-Version': '2022-11-28',
      },
    });
  }

  private async fail(res: Response, what: string): Promise<never> {
    const body = (await res.text()).slice(0, 300);
    let message = body;
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      // not JSON: the text as it came
    }
    const hint =
      res.status === 403 || res.status === 401
        ? ': the token may not manage this package. The job needs `permissions: packages: write`, and the package ' +
          "must give this repository the Admin role (the package's settings, Manage Actions access)"
        : '';
    throw new PackagesError(`${what} ${this.pkg.owner}/${this.pkg.name} failed: ${res.status} ${message}${hint}`, res.status);
  }

  /** Every version of the package: an organization's, else a user's. */
  async versions(): Promise<PackageVersion[]> {
    const name = encodeURIComponent(this.pkg.name);
    const bases = this.base ? [this.base] : [`orgs/${this.pkg.owner}`, `users/${this.pkg.owner}`];
    for (const base of bases) {
      const out: PackageVersion[] = [];
      let url: string | undefined = `${this.api.url}/${base}/packages/container/${name}/versions?per_page=100`;
      let first = true;
      while (url) {
        const res = await this.call('GET', url);
        // An organization's path answers 404 for a user's package: try the user's.
        if (first && res.status === 404 && base !== bases[bases.length - 1]) {
          await res.arrayBuffer();
          break;
        }
        if (!res.ok) await this.fail(res, 'listing the versions of');
        first = false;
        for (const v of (await res.json()) as VersionJson[]) {
          out.push({ id: v.id, digest: v.name, tags: v.metadata?.container?.tags ?? [], created: new Date(v.updated_at ?? v.created_at) });
        }
        url = nextPage(res.headers.get('link'));
      }
      if (!first) {
        this.base = base;
        return out;
      }
    }
    return [];
  }

  async deleteVersion(id: number): Promise<void> {
    if (!this.base) await this.versions();
    const name = encodeURIComponent(this.pkg.name);
    const res = await this.call('DELETE', `${this.api.url}/${this.base}/packages/container/${name}/versions/${id}`);
    if (res.status === 404) return;
    if (!res.ok) await this.fail(res, `deleting version ${id} of`);
  }
}
