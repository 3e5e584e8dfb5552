// The seeded world, generated deterministically from one seed: organizations of Zipf-skewed size, their
// users, projects, episodes with blocks, highlights, chat sessions and messages, planning notes, agent
// memory, token usage over the last 30 days, queue items, product and engagement events, and embeddings.
// Every row respects the schema's constraints and tenancy: a child row always carries its parent's
// organization_id, a user only acts inside their organization.
import { EmbeddingSpace } from '../lib/embeddings.js';
import { apportion, Rng, zipfWeights } from '../lib/prng.js';
import type { Scale } from './scale.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MIN = 60_000;

export const FOCUSES = ['goals', 'context', 'challenges', 'market', 'technology', 'regulation', 'reflection'] as const;
export const DEPTHS = ['surface', 'moderate', 'deep'] as const;
const TIMEZONES = ['UTC', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo', 'Australia/Sydney', 'Asia/Kolkata'];
const WORDS = (
  'market regulation pricing supply demand policy risk growth capital energy carbon battery grid solar wind ' +
  'lithium export tariff inflation rates central bank housing labour wages productivity software model data ' +
  'privacy security cloud chip fabrication logistics freight shipping port retail consumer sentiment survey ' +
  'forecast quarter revenue margin guidance merger acquisition startup funding venture climate adaptation water ' +
  'agriculture harvest drought insurance reinsurance health trial approval vaccine hospital staffing budget ' +
  'election coalition reform treaty sanctions trade corridor infrastructure rail transit urban density zoning'
).split(' ');
const EMBEDDING_MODEL = 'text-embedding-ada-002';

function sentence(rng: Rng, min: number, max: number): string {
  const n = rng.int(min, max);
  let s = '';
  for (let i = 0; i < n; i++) s += (i ? ' ' : '') + WORDS[Math.floor(rng.next() * WORDS.length)];
  return s.charAt(0).toUpperCase() + s.slice(1) + '.';
}

function paragraph(rng: Rng, minChars: number, maxChars: number): string {
  const target = rng.int(minChars, maxChars);
  let p = '';
  while (p.length < target) p += (p ? ' ' : '') + sentence(rng, 6, 16);
  return p;
}

export interface Org { id: string; idx: number; slug: string; name: string; created: number; users: number[]; projects: number[]; topics: number[] }
export interface User { id: string; org: number; email: string; name: string; tz: string; created: number }
export interface Project { id: string; org: number; name: string; created: number; topic: number; episodes: number[] }
export interface Episode { id: string; org: number; project: number; number: number; status: string; created: number; published: number | null; blockStart: number; blockCount: number; topic: number }
export interface Session { id: string; org: number; user: number; project: number; episode: number; scenario: number; created: number; open: boolean; last: number }

export class World {
  readonly rng: Rng;
  readonly now: number;
  readonly orgs: Org[] = [];
  readonly users: User[] = [];
  readonly projects: Project[] = [];
  readonly episodes: Episode[] = [];
  readonly blockIds: string[] = [];
  readonly blockEpisode: Int32Array;
  readonly sessions: Session[] = [];
  readonly scenarioIds: string[] = [];
  readonly templates: Array<{ id: string; code: string; focus: string; depth: string; topic: number }> = [];
  readonly memories: Array<{ id: string; org: number; project: number; created: number; topic: number }> = [];
  readonly space: EmbeddingSpace;

  constructor(
    readonly scale: Scale,
    readonly seed: string,
    now = Date.now(),
    embeddingDim = 1536,
  ) {
    this.rng = new Rng(`${seed}/world`);
    // Timestamps are relative to the start of the current UTC hour: ids and values repeat exactly for a
    // seed, timestamps move with the day the seed runs (token usage covers "the last 30 days").
    this.now = Math.floor(now / HOUR) * HOUR;
    this.space = new EmbeddingSpace({ dim: embeddingDim, seed: `${seed}/embeddings` });
    const r = this.rng;
    const T = this.now;

    const userCounts = apportion(scale.users, zipfWeights(scale.organizations, 1.0), 1);
    const projectCounts = apportion(scale.projects, userCounts, 1);
    for (let o = 0; o < scale.organizations; o++) {
      const slug = `org-${String(o + 1).padStart(5, '0')}`;
      const topics: number[] = [];
      const nt = Math.min(this.space.topics, r.int(3, 8));
      while (topics.length < nt) {
        const t = r.int(0, this.space.topics - 1);
        if (!topics.includes(t)) topics.push(t);
      }
      this.orgs.push({ id: r.uuid(), idx: o, slug, name: `Organization ${o + 1}`, created: T - r.int(300, 400) * DAY, users: [], projects: [], topics });
    }
    for (const org of this.orgs) {
      for (let i = 0; i < userCounts[org.idx]; i++) {
        const u = this.users.length;
        this.users.push({
          id: r.uuid(),
          org: org.idx,
          email: `user${String(u + 1).padStart(6, '0')}@${org.slug}.example.com`,
          name: `User ${u + 1}`,
          tz: r.pick(TIMEZONES),
          created: org.created + r.int(1, 100) * DAY,
        });
        org.users.push(u);
      }
      for (let i = 0; i < projectCounts[org.idx]; i++) {
        const p = this.projects.length;
        this.projects.push({ id: r.uuid(), org: org.idx, name: `${sentence(r, 2, 4).slice(0, -1)} watch`, created: T - r.int(150, 200) * DAY, topic: r.pick(org.topics), episodes: [] });
        org.projects.push(p);
      }
    }
    // Episodes per project: a little skew around the mean.
    const epCounts = apportion(scale.episodes, this.projects.map(() => 0.5 + r.next()), 1);
    let blockCursor = 0;
    const blockCounts: number[] = [];
    for (let p = 0; p < this.projects.length; p++) {
      const proj = this.projects[p];
      const n = epCounts[p];
      for (let k = 0; k < n; k++) {
        const created = proj.created + Math.floor(((k + 1) / (n + 1)) * (T - DAY - proj.created));
        const x = r.next();
        const status = x < 0.8 ? 'published' : x < 0.85 ? 'ready' : x < 0.89 ? 'draft' : x < 0.91 ? 'generating' : x < 0.94 ? 'failed' : 'archived';
        const published = status === 'published' || (status === 'archived' && r.chance(0.7)) ? created + r.int(5, 120) * MIN : null;
        const bc = r.int(1, 5);
        const e = this.episodes.length;
        this.episodes.push({ id: r.uuid(), org: proj.org, project: p, number: k + 1, status, created, published, blockStart: blockCursor, blockCount: bc, topic: r.chance(0.8) ? proj.topic : r.pick(this.orgs[proj.org].topics) });
        proj.episodes.push(e);
        blockCounts.push(bc);
        blockCursor += bc;
      }
    }
    this.blockEpisode = new Int32Array(blockCursor);
    for (let e = 0; e < this.episodes.length; e++) {
      const ep = this.episodes[e];
      for (let b = 0; b < ep.blockCount; b++) {
        this.blockIds.push(r.uuid());
        this.blockEpisode[ep.blockStart + b] = e;
      }
    }
    for (let i = 0; i < 12; i++) this.scenarioIds.push(r.uuid());
    for (const focus of FOCUSES) for (const depth of DEPTHS) for (let i = 0; i < 10; i++) {
      this.templates.push({ id: r.uuid(), code: `${focus}_${depth}_${i + 1}`, focus, depth, topic: r.int(0, this.space.topics - 1) });
    }
    // Chat sessions: two per user on average; each user's first session stays open (the load tests post into it).
    for (let u = 0; u < this.users.length; u++) {
      const user = this.users[u];
      const org = this.orgs[user.org];
      const n = r.chance(0.5) ? 1 : r.chance(0.6) ? 2 : r.int(3, 5);
      for (let k = 0; k < n; k++) {
        const project = r.pick(org.projects);
        const eps = this.projects[project].episodes;
        const created = T - r.int(60, 60 * 24 * 60) * MIN;
        this.sessions.push({
          id: r.uuid(), org: user.org, user: u, project,
          episode: eps.length && r.chance(0.7) ? r.pick(eps) : -1,
          scenario: r.chance(0.3) ? r.int(0, 11) : -1,
          created, open: k === 0 || r.chance(0.3), last: created,
        });
      }
    }
    for (const proj of this.projects) {
      const n = r.int(0, 2);
      for (let k = 0; k < n; k++) this.memories.push({ id: r.uuid(), org: proj.org, project: this.projects.indexOf(proj), created: proj.created + r.int(1, 100) * DAY, topic: proj.topic });
    }
  }

  // ---- rows, in the column order of SEED_TABLES in tables.ts ----

  *organizations() {
    for (const o of this.orgs) yield [o.id, o.name, o.slug, o.created, o.created];
  }

  *users_() {
    for (const u of this.users) yield [u.id, u.email, u.name, u.tz, u.created, u.created];
  }

  *memberships() {
    const r = new Rng(`${this.seed}/memberships`);
    for (const o of this.orgs) {
      for (let i = 0; i < o.users.length; i++) {
        const u = this.users[o.users[i]];
        const role = i === 0 ? 'owner' : i < 3 ? 'admin' : r.chance(0.1) ? 'viewer' : 'member';
        yield [r.uuid(), o.id, u.id, role, u.created, u.created];
      }
    }
  }

  *projects_() {
    const r = new Rng(`${this.seed}/projects`);
    for (const p of this.projects) {
      const mode = r.pick(['weekly', 'daily', 'weekdays', 'custom']);
      const days = mode === 'weekly' ? [r.int(0, 6)] : mode === 'custom' ? [1, 3, 5] : [1, 2, 3, 4, 5];
      yield [p.id, this.orgs[p.org].id, p.name, sentence(r, 8, 20), { mode, days, hour: r.int(6, 20) }, r.chance(0.05), p.created, p.created];
    }
  }

  *episodes_() {
    const r = new Rng(`${this.seed}/episodes`);
    for (const e of this.episodes) {
      const errors = e.status === 'failed' ? [{ at: new Date(e.created).toISOString(), error: r.pick(['model timeout', 'rate limited by provider', 'content filter']) }] : [];
      const attempts = e.status === 'draft' ? 0 : e.status === 'failed' ? 3 : 1;
      yield [e.id, this.orgs[e.org].id, this.projects[e.project].id, e.number, `#${e.number}: ${sentence(r, 3, 8).slice(0, -1)}`, e.status, e.published, attempts, errors, e.created, e.published ?? e.created];
    }
  }

  *blocks() {
    const r = new Rng(`${this.seed}/blocks`);
    for (let b = 0; b < this.blockIds.length; b++) {
      const e = this.episodes[this.blockEpisode[b]];
      const pos = b - e.blockStart;
      const type = pos === 0 ? 'heading' : r.chance(0.1) ? 'quote' : 'markdown';
      const content = type === 'heading' ? sentence(r, 3, 8) : paragraph(r, 200, 700);
      const citations = r.chance(0.4) ? [{ url: `https://example.org/r/${r.int(1, 99999)}`, title: sentence(r, 2, 5) }] : [];
      yield [this.blockIds[b], this.orgs[e.org].id, e.id, type, pos, content, r.chance(0.3) ? sentence(r, 6, 14) : null,
        r.chance(0.5) ? Math.round(r.next() * 1000) / 1000 : null, citations,
        { model: 'gpt-4o', temperature: 0.7, promptVersion: 'v3' }, Math.ceil(content.length / 4), e.created, e.created];
    }
  }

  *highlights(count: number) {
    const r = new Rng(`${this.seed}/highlights`);
    for (let i = 0; i < count; i++) {
      const e = this.episodes[r.int(0, this.episodes.length - 1)];
      const org = this.orgs[e.org];
      const u = this.users[r.pick(org.users)];
      const b = e.blockStart + r.int(0, e.blockCount - 1);
      const start = r.int(0, 150);
      const created = Math.max(e.created, u.created) + r.int(1, 600) * MIN;
      yield [r.uuid(), org.id, u.id, e.id, this.blockIds[b], sentence(r, 4, 12), r.chance(0.3) ? sentence(r, 3, 10) : null, start, start + r.int(10, 120), created, created];
    }
  }

  *planningNotes(count: number) {
    const r = new Rng(`${this.seed}/planning_notes`);
    for (let i = 0; i < count; i++) {
      const p = this.projects[r.int(0, this.projects.length - 1)];
      const org = this.orgs[p.org];
      const u = this.users[r.pick(org.users)];
      const created = this.now - r.int(1, 90 * 24) * HOUR;
      const x = r.next();
      const status = x < 0.4 ? 'pending' : x < 0.6 ? 'acknowledged' : p.episodes.length && x < 0.9 ? 'incorporated' : 'archived';
      const inc = status === 'incorporated' ? this.episodes[r.pick(p.episodes)].id : null;
      yield [r.uuid(), org.id, p.id, u.id, `More on ${sentence(r, 3, 12).toLowerCase()}`, status,
        status === 'pending' ? null : created + r.int(1, 48) * HOUR, inc, created, created];
    }
  }

  *agentMemory() {
    const r = new Rng(`${this.seed}/agent_memory`);
    for (const m of this.memories) {
      yield [m.id, this.orgs[m.org].id, this.projects[m.project].id, r.pick(['preference', 'fact', 'instruction', 'context']), sentence(r, 6, 20), Math.round(r.next() * 100) / 100, r.chance(0.2) ? m.created + r.int(30, 365) * DAY : null, m.created, m.created];
    }
  }

  *scenarios() {
    const emojis = ['🎯', '🧭', '📈', '⚖️', '🔬', '🌍', '🏗️', '💡', '🧪', '🛰️', '🏦', '🚢'];
    for (let i = 0; i < this.scenarioIds.length; i++) {
      yield [this.scenarioIds[i], `scenario_${i + 1}`, `Scenario ${i + 1}`, emojis[i], `Guided conversation number ${i + 1}`, 'You are a helpful interviewer.', 1 + (i % 5), i, true];
    }
  }

  *questionTemplates() {
    const r = new Rng(`${this.seed}/templates`);
    for (const t of this.templates) {
      const used = r.int(0, 500);
      yield [t.id, t.code, t.focus, t.depth, r.pick(['technical', 'creative', 'reflective']),
        `How does {topic} affect your ${t.focus} at a ${t.depth} level? ${sentence(r, 5, 12)}`,
        { placeholders: [{ key: 'topic', description: 'Subject of the question', type: 'string', required: true, example: 'carbon pricing' }] },
        used, used > 0 ? this.now - r.int(1, 1000) * HOUR : null];
    }
  }

  *chatSessions() {
    const r = new Rng(`${this.seed}/chat_sessions`);
    for (const s of this.sessions) {
      yield [s.id, this.orgs[s.org].id, this.users[s.user].id, this.projects[s.project].id, s.episode >= 0 ? this.episodes[s.episode].id : null,
        s.scenario >= 0 ? this.scenarioIds[s.scenario] : null, r.chance(0.6) ? sentence(r, 2, 6) : null, s.created, s.created];
    }
  }

  /** Messages alternate user / assistant, a few minutes apart (well inside the rate limit). */
  *chatMessages(perSessionMax: number) {
    const r = new Rng(`${this.seed}/chat_messages`);
    for (const s of this.sessions) {
      const n = r.int(2, perSessionMax);
      let t = s.created + r.int(1, 30) * 1000;
      for (let k = 0; k < n; k++) {
        const user = k % 2 === 0;
        const helper = !user && r.chance(0.15);
        yield [r.uuid(), this.orgs[s.org].id, s.id, this.users[s.user].id, user ? 'user' : helper ? 'helper_assistant' : 'main_assistant',
          helper ? 'helper' : 'main', user ? sentence(r, 4, 20) : paragraph(r, 80, 600), user && r.chance(0.5) ? r.uuid() : null, t];
        s.last = t;
        t += r.int(20, 240) * 1000;
      }
    }
  }

  *tokenUsage(count: number) {
    const r = new Rng(`${this.seed}/token_usage`);
    for (let i = 0; i < count; i++) {
      const u = this.users[r.int(0, this.users.length - 1)];
      const org = this.orgs[u.org];
      const p = this.projects[r.pick(org.projects)];
      const op = r.pick(['episode_generation', 'chat', 'chat', 'chat', 'embedding', 'insight_extraction']);
      const input = op === 'embedding' ? r.int(100, 2000) : r.int(500, 6000);
      const output = op === 'embedding' ? 0 : r.int(100, 2000);
      const created = this.now - r.int(60, 30 * 24 * 60) * MIN - r.int(0, 59999);
      yield [r.uuid(), created, org.id, p.id, u.id, op === 'episode_generation' && p.episodes.length ? this.episodes[r.pick(p.episodes)].id : null, null, op,
        op === 'embedding' ? EMBEDDING_MODEL : 'gpt-4o-mini', input, output, ((input + output * 3) * 0.0000012).toFixed(6)];
    }
  }

  *queueItems(pendingPerProject: number) {
    const r = new Rng(`${this.seed}/queue`);
    for (const p of this.projects) {
      const org = this.orgs[p.org];
      const sched = this.now - 7 * DAY;
      const picked = sched + r.int(1, 60) * 1000;
      yield [r.uuid(), org.id, p.id, p.episodes.length ? this.episodes[p.episodes[p.episodes.length - 1]].id : null, 'completed', sched, picked, picked + r.int(20, 300) * 1000, 1, picked, {}, sched - DAY];
      for (let k = 0; k < pendingPerProject; k++) {
        const at = this.now - (k + 1) * HOUR - r.int(0, 3599) * 1000;
        yield [r.uuid(), org.id, p.id, null, 'pending', at, null, null, 0, null, { user_timezone: 'UTC', user_local_time: new Date(at).toISOString().slice(11, 16) }, at - DAY];
      }
    }
  }

  *userEvents(perUser: number) {
    const r = new Rng(`${this.seed}/user_events`);
    const types = ['session.started', 'episode.opened', 'project.viewed', 'onboarding.step_completed', 'search.performed'];
    for (const u of this.users) for (let k = 0; k < perUser; k++) {
      yield [r.uuid(), this.now - r.int(1, 30 * 24 * 60) * MIN, this.orgs[u.org].id, u.id, r.pick(types), { source: r.pick(['web', 'ios', 'android']) }];
    }
  }

  *engagementEvents(perUser: number) {
    const r = new Rng(`${this.seed}/engagement_events`);
    for (const u of this.users) {
      const org = this.orgs[u.org];
      for (let k = 0; k < perUser; k++) {
        const p = this.projects[r.pick(org.projects)];
        if (!p.episodes.length) continue;
        const e = this.episodes[r.pick(p.episodes)];
        const type = r.pick(['episode_opened', 'scroll_depth', 'time_on_block', 'episode_completed']);
        const b = type === 'time_on_block' ? this.blockIds[e.blockStart + r.int(0, e.blockCount - 1)] : null;
        const value = type === 'scroll_depth' ? { depth: r.int(5, 100) } : type === 'time_on_block' ? { duration: r.int(2, 240) } : {};
        yield [r.uuid(), this.now - r.int(1, 30 * 24 * 60) * MIN, org.id, u.id, e.id, b, type, value];
      }
    }
  }

  *derivedInsights() {
    const r = new Rng(`${this.seed}/derived_insights`);
    for (let i = 0; i < this.sessions.length; i += 4) {
      const s = this.sessions[i];
      const p = this.projects[s.project];
      const applied = p.episodes.length && r.chance(0.3) ? this.episodes[r.pick(p.episodes)].id : null;
      const created = s.created + HOUR;
      yield [r.uuid(), this.orgs[s.org].id, p.id, s.id, r.pick(['topic_interest', 'confusion_point', 'preference', 'open_question']),
        { text: sentence(r, 4, 10) }, Math.round(r.next() * 1000) / 1000, applied, applied ? created + DAY : null, created, applied ? created + DAY : created];
    }
  }

  /**
   * Embedding sources for `count` rows: every question template (global), then chat sessions (20%), agent
   * memories (5%) and blocks (the rest, spread evenly over all blocks; chunk_index > 0 once every block has one). Each vector is drawn from a
   * topic of its source: an episode's topic for blocks, the project's for sessions and memories.
   */
  *embeddingSources(count: number): Generator<{ org: string | null; type: string; source: string; chunk: number; topic: number; created: number }> {
    let left = count;
    for (const t of this.templates) {
      if (left-- <= 0) return;
      yield { org: null, type: 'question_template', source: t.id, chunk: 0, topic: t.topic, created: this.now - 200 * DAY };
    }
    const nSessions = Math.min(this.sessions.length, Math.floor(count * 0.2), left);
    for (let i = 0; i < nSessions; i++, left--) {
      const s = this.sessions[i];
      yield { org: this.orgs[s.org].id, type: 'chat_session', source: s.id, chunk: 0, topic: this.projects[s.project].topic, created: s.created };
    }
    const nMem = Math.min(this.memories.length, Math.floor(count * 0.05), left);
    for (let i = 0; i < nMem; i++, left--) {
      const m = this.memories[i];
      yield { org: this.orgs[m.org].id, type: 'agent_memory', source: m.id, chunk: 0, topic: m.topic, created: m.created };
    }
    // Blocks: spread evenly over all blocks (so every organization's embeddings follow its size and cover its
    // projects' topics; taking the first blocks in order gave the first organizations all of them); chunk 0
    // while there are fewer embeddings than blocks, further chunks once every block has one.
    const nBlocks = left;
    const nb = this.blockIds.length;
    for (let i = 0; left > 0 && nb > 0; i++, left--) {
      const b = nBlocks <= nb ? Math.floor((i * nb) / nBlocks) : i % nb;
      const e = this.episodes[this.blockEpisode[b]];
      yield { org: this.orgs[e.org].id, type: 'block', source: this.blockIds[b], chunk: nBlocks <= nb ? 0 : Math.floor(i / nb), topic: e.topic, created: e.created };
    }
  }
}
