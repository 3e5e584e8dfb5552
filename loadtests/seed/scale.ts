// Seeding scales. `full` is the target (10k users, 100k episodes over ~1,000 organizations);
// the others are the same shape, smaller. A number (e.g. --scale 0.25) scales `full`.
export interface Scale {
  name: string;
  organizations: number;
  users: number;
  projects: number;
  episodes: number;
  embeddings: number;
  /** Pending queue items per project (the queue-worker load drains them). */
  queuePerProject: number;
}

export const SCALES: Record<string, Scale> = {
  tiny: { name: 'tiny', organizations: 4, users: 24, projects: 8, episodes: 80, embeddings: 300, queuePerProject: 3 },
  dev: { name: 'dev', organizations: 40, users: 400, projects: 200, episodes: 4000, embeddings: 4000, queuePerProject: 4 },
  full: { name: 'full', organizations: 1000, users: 10000, projects: 5000, episodes: 100000, embeddings: 100000, queuePerProject: 4 },
};

export function resolveScale(arg: string, embeddings?: number): Scale {
  let s: Scale;
  if (SCALES[arg]) s = { ...SCALES[arg] };
  else {
    const f = Number(arg);
    if (!Number.isFinite(f) || f <= 0 || f > 10) {
      throw new Error(`--scale ${arg} is not valid: expected ${Object.keys(SCALES).join(', ')} or a factor of full in (0, 10]`);
    }
    const full = SCALES.full;
    const r = (n: number, min: number) => Math.max(min, Math.round(n * f));
    s = {
      name: `full x ${f}`,
      organizations: r(full.organizations, 2),
      users: r(full.users, 8),
      projects: r(full.projects, 4),
      episodes: r(full.episodes, 40),
      embeddings: r(full.embeddings, 300),
      queuePerProject: full.queuePerProject,
    };
  }
  if (embeddings !== undefined) {
    if (!Number.isInteger(embeddings) || embeddings < 0) throw new Error(`--embeddings ${embeddings} is not valid: a whole number >= 0`);
    s.embeddings = embeddings;
  }
  if (s.users < s.organizations) throw new Error(`scale ${s.name}: fewer users than organizations`);
  if (s.projects < s.organizations) throw new Error(`scale ${s.name}: fewer projects than organizations`);
  return s;
}
