// The hostile-image corpus (trust, round 2): images whose labels, HEALTHCHECK, build step names, build
// output, container logs and probe answers carry both workflow-command syntaxes (`::name::` at a line's
// start, the legacy `##[name]` anywhere in a line), CRs, a stop-commands of their own, very long lines and a
// huge body. The harness parses the output with the runner's own rules and honours a save-state it finds
// there, as the runner does; each run must end as designed, with the runner obeying nothing the image said.
import * as crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runAction } from '../../scripts/run-action.mjs';
import type { ActionRun } from '../../scripts/run-action.d.mts';
import { engineUp, registryTags, uniqueRepo, workspace } from './engine.js';

/** A small image with busybox as its shell and its web server, from the golang stand-in's busybox. */
function hostileImage(o: { cmdPrefix?: string; failBuild?: boolean } = {}): Record<string, string> {
  const long = `${'x'.repeat(20000)}##[warning]planted-long-line`;
  return {
    Dockerfile: [
      'FROM --platform=$BUILDPLATFORM golang:1.24 AS tools',
      'ARG NONCE',
      // The step's name carries the legacy syntax; its output carries both, a CR, a stop of its own, and a very long line.
      `RUN echo "$NONCE ##[error title=X]planted-step-name" && printf 'out ##[add-mask]planted-run\\r::save-state name=buildxCommand::planted-state\\n##[stop-commands]planted-stop\\n::STOP-COMMANDS::plantedtoken\\n${long}\\n'${o.failBuild ? " && echo '##[error]planted-failure' && exit 3" : ''}`,
      // A 1 MB answer with the legacy syntax in its first bytes.
      "RUN mkdir -p /www && { printf 'ok ##[error]planted-body ::add-mask::planted-body2'; head -c 1048576 /dev/zero | tr '\\0' 'z'; } > /www/healthz",
      'FROM scratch',
      'COPY --from=tools /bin/busybox /bin/busybox',
      'COPY --from=tools /www /www',
      'LABEL org.example.note="##[error]planted-label"',
      'HEALTHCHECK --interval=1s CMD ["/bin/busybox","sh","-c","test -s /www/healthz || echo \\"##[error]planted-healthcheck\\""]',
      'EXPOSE 8080',
      `CMD ["/bin/busybox","sh","-c","${o.cmdPrefix ?? ''}exec /bin/busybox httpd -f -p 8080 -h /www"]`,
      '',
    ].join('\n'),
    '.dockerignore': '.git\n',
  };
}

/**
 * Everything the runner would obey that the image planted: its commands (their data starts with the planted
 * text, or their properties hold it; a mask, stop or state of any kind that names it), and state or outputs
 * kept from them. The action's own annotations may quote the image's text as their data: that is shown,
 * not obeyed.
 */
function planted(r: ActionRun): unknown[] {
  const said = (c: { name: string; message: string; props: Record<string, string> }) =>
    /^\s*planted/i.test(c.message) ||
    /planted/i.test(JSON.stringify(c.props)) ||
    (['add-mask', 'stop-commands', 'save-state', 'set-output', 'set-env', 'add-path'].includes(c.name) && /planted/i.test(c.message));
  return [
    ...r.commands.filter(said),
    ...r.post.commands.filter(said),
    ...Object.entries(r.state).filter(([, v]) => /planted/i.test(v)),
    ...Object.entries(r.outputs).filter(([k]) => /planted/i.test(k)),
  ];
}

describe.runIf(engineUp)('a hostile image steers nothing (real engine, the runner’s command rules)', () => {
  it('a passing image whose HEALTHCHECK, label, step names and build output carry commands: pushed, and nothing obeyed', async () => {
    const image = uniqueRepo('hostile-ok');
    const r = await runAction(
      { tags: `${image}:1`, push: 'true', platforms: 'linux/amd64', 'build-args': `NONCE=${crypto.randomUUID()}` },
      { workspace: workspace(undefined, hostileImage()) },
    );
    expect(r.exitCode, r.log).toBe(0);
    // The texts are in the log, as the runner shows them...
    expect(r.log).toContain('##[error]planted-healthcheck');
    expect(r.log).toContain('planted-step-name');
    expect(r.log).toMatch(/passed \(HEALTHCHECK .*planted-healthcheck/);
    // ...and the runner obeys none of them; the post step saw no planted state.
    expect(planted(r)).toEqual([]);
    expect(r.post.exitCode).toBe(0);
    expect(r.post.log).not.toMatch(/Post step: /);
    expect(await registryTags(image)).toEqual(['1']);
  });

  it('a failing smoke test whose logs and 1 MB probe answer carry commands: nothing pushed, nothing obeyed, the answer cut', async () => {
    const image = uniqueRepo('hostile-smoke');
    const r = await runAction(
      {
        tags: `${image}:1`,
        push: 'true',
        platforms: 'linux/amd64',
        'build-args': `NONCE=${crypto.randomUUID()}`,
        'health-path': '/healthz',
        'health-body': 'an answer it never gives',
        'smoke-timeout': '2s',
      },
      {
        workspace: workspace(
          undefined,
          hostileImage({ cmdPrefix: "echo '##[error]planted-log'; printf 'a\\\\r::add-mask::planted-log2\\\\n'; " }),
        ),
      },
    );
    expect(r.exitCode).toBe(1);
    expect(r.commands.some((c) => c.name === 'error' && c.message.startsWith('Smoke test failed, nothing was pushed.'))).toBe(true);
    expect(r.log).toContain('planted-log');
    expect(r.log).toMatch(/over 64 KiB; the rest was not read/);
    expect(planted(r)).toEqual([]);
    expect(r.post.exitCode).toBe(0);
    expect(await registryTags(image)).toEqual([]);
  });

  it('a build step that prints commands and fails: the step fails as designed, and nothing is obeyed', async () => {
    const image = uniqueRepo('hostile-build');
    const r = await runAction(
      { tags: `${image}:1`, push: 'true', platforms: 'linux/amd64', 'build-args': `NONCE=${crypto.randomUUID()}` },
      { workspace: workspace(undefined, hostileImage({ failBuild: true })) },
    );
    expect(r.exitCode).toBe(1);
    expect(r.commands.some((c) => c.name === 'error' && /^Build failed/.test(c.message))).toBe(true);
    expect(r.log).toContain('planted-failure');
    expect(planted(r)).toEqual([]);
    expect(r.post.exitCode).toBe(0);
    expect(await registryTags(image)).toEqual([]);
  });
});
