// A stand-in for GitHub's Packages REST API over a local distribution registry, answering in the shape GitHub
// documents (https://docs.github.com/rest/packages/packages): a container package's versions are the
// registry's manifest revisions, tagged or not (ghcr.io keeps an overwritten manifest as an untagged version,
// and so does distribution until it is deleted), listed 3 per page with a Link header, and deleted by id
// through the registry's own manifest DELETE. A token other than the one given answers 403, as GitHub does
// without `packages: write`.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

export interface StandIn {
  url: string;
  close: () => Promise<void>;
  /** Requests seen, `METHOD path`. */
  calls: string[];
}

/** The version id of a digest: stable, numeric, as GitHub's ids are. */
export const versionId = (digest: string) => parseInt(digest.slice('sha256:'.length, 'sha256:'.length + 12), 16);

export async function startPackagesStandIn(o: { storage: string; registry: string; owner: string; token: string }): Promise<StandIn> {
  const calls: string[] = [];
  const repoDir = (pkg: string) => path.join(o.storage, 'docker/registry/v2/repositories', o.owner, pkg, '_manifests');
  const versions = (pkg: string) => {
    const dir = path.join(repoDir(pkg), 'revisions/sha256');
    if (!fs.existsSync(dir)) return undefined;
    const tagsDir = path.join(repoDir(pkg), 'tags');
    const tagOf = new Map<string, string[]>();
    for (const t of fs.existsSync(tagsDir) ? fs.readdirSync(tagsDir) : []) {
      const link = path.join(tagsDir, t, 'current/link');
      if (!fs.existsSync(link)) continue;
      const d = fs.readFileSync(link, 'utf8').trim();
      tagOf.set(d, [...(tagOf.get(d) ?? []), t]);
    }
    return fs
      .readdirSync(dir)
      .filter((hex) => fs.existsSync(path.join(dir, hex, 'link')))
      .map((hex) => {
        const digest = `sha256:${hex}`;
        const at = fs
          .statSync(path.join(dir, hex, 'link'))
          .mtime.toISOString()
          .replace(/\.\d+Z$/, 'Z');
        const id = versionId(digest);
        const base = `https://api.github.com/orgs/${o.owner}/packages/container/${encodeURIComponent(pkg)}`;
        return {
          id,
          name: digest,
          url: `${base}/versions/${id}`,
          package_html_url: `https://github.com/orgs/${o.owner}/packages/container/package/${encodeURIComponent(pkg)}`,
          created_at: at,
          updated_at: at,
          html_url: `https://github.com/orgs/${o.owner}/packages/container/${encodeURIComponent(pkg)}/${id}`,
          metadata: { package_type: 'container', container: { tags: (tagOf.get(digest) ?? []).sort() } },
        };
      })
      .sort((a, b) => a.id - b.id);
  };
  const send = (res: http.ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    calls.push(`${req.method} ${url.pathname}${url.search}`);
    const m = /^\/(orgs|users)\/([^/]+)\/packages\/container\/([^/]+)\/versions(?:\/(\d+))?$/.exec(url.pathname);
    if (!m || m[2] !== o.owner)
      return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
    // An organization's package: the users/ path does not know it.
    if (m[1] === 'users')
      return send(res, 404, { message: 'Package not found.', documentation_url: 'https://docs.github.com/rest', status: '404' });
    if (req.headers.authorization !== `Bearer ${o.token}`) {
      return send(res, 403, {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest/packages/packages#delete-package-version-for-an-organization',
        status: '403',
      });
    }
    const pkg = decodeURIComponent(m[3]);
    const all = versions(pkg);
    if (!all) return send(res, 404, { message: 'Package not found.', documentation_url: 'https://docs.github.com/rest', status: '404' });
    if (req.method === 'GET' && !m[4]) {
      const per = 3;
      const page = Number(url.searchParams.get('page') ?? '1');
      const last = Math.max(1, Math.ceil(all.length / per));
      const link = (p: number) => `<http://${req.headers.host}${url.pathname}?per_page=${per}&page=${p}>`;
      const headers: Record<string, string> = page < last ? { Link: `${link(page + 1)}; rel="next", ${link(last)}; rel="last"` } : {};
      return send(res, 200, all.slice((page - 1) * per, page * per), headers);
    }
    if (req.method === 'DELETE' && m[4]) {
      const v = all.find((x) => x.id === Number(m[4]));
      if (!v) return send(res, 404, { message: 'Not Found', status: '404' });
      void fetch(`${o.registry}/v2/${o.owner}/${pkg}/manifests/${v.name}`, { method: 'DELETE' }).then((r) =>
        send(res, r.status === 202 ? 204 : 500),
      );
      return;
    }
    send(res, 405, { message: 'Method Not Allowed' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, calls, close: () => new Promise((r) => server.close(() => r())) };
}
