// The images a Dockerfile builds from: each FROM that is not an earlier stage or scratch, and each
// `COPY --from=` and `RUN --mount=…,from=` that names an image rather than a stage. When one of them moves
// (a base-image bump, a nightly rebuild), steps run again, so the build fingerprint must see it.
import { type Stage, stages, substitute } from './reader.js';

export interface ExternalImages {
  /** Image references, as written with ARGs substituted, each once. */
  images: string[];
  /** References still holding a variable nothing sets: no digest can be found for them. */
  unresolved: string[];
}

const isStageRef = (name: string, earlier: Stage[]) =>
  /^\d+$/.test(name) || earlier.some((s) => s.name !== undefined && s.name.toLowerCase() === name.toLowerCase());

/** Pure: the external images of a Dockerfile, with `buildArgs` substituted. */
export function externalImages(text: string, buildArgs: Record<string, string>): ExternalImages {
  const all = stages(text, buildArgs);
  const found = new Set<string>();
  all.forEach((st, i) => {
    const earlier = all.slice(0, i);
    if (!isStageRef(st.base, earlier)) found.add(st.base);
    for (const ins of st.ins) {
      const froms: string[] = [];
      if (ins.keyword === 'COPY') froms.push(...[...ins.rest.matchAll(/--from=(\S+)/g)].map((m) => m[1]));
      if (ins.keyword === 'RUN')
        for (const m of ins.rest.matchAll(/--mount=(\S+)/g)) froms.push(...[...m[1].matchAll(/(?:^|,)from=([^,]+)/g)].map((x) => x[1]));
      for (const f of froms) {
        const ref = substitute(f.replace(/^"(.*)"$/, '$1'), ins.vars);
        if (!isStageRef(ref, all.slice(0, i + 1))) found.add(ref);
      }
    }
  });
  found.delete('scratch');
  const images = [...found].sort();
  return { images: images.filter((r) => !r.includes('$')), unresolved: images.filter((r) => r.includes('$')) };
}
