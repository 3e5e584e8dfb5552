// The initial question-template set (seed 002 Week 1: "Seed initial templates (20 templates)"; issue 17 #4):
// product data, not load-test data (the load-test seeder writes its own synthetic templates). Inserted by
// `npm run seed:templates` as the admin (templates are global: the app role cannot write them). Idempotent: a
// template whose code exists is left as it is (its text, its usage and an `enabled = false` set by the Month 1
// review are kept), so re-running adds only templates new to this list.
import pg from 'pg';
import { withClient } from '../db/client.js';

export interface TemplateSeed {
  code: string;
  focus: 'goals' | 'context' | 'challenges' | 'market' | 'technology' | 'regulation' | 'reflection';
  depth: 'surface' | 'moderate' | 'deep';
  category: 'technical' | 'creative' | 'reflective';
  template: string;
  placeholders: Array<{ key: string; description: string; type: 'string' | 'number'; required: boolean; example: string }>;
}

const topic = { key: 'topic', description: 'what the project is about', type: 'string', required: true, example: 'a meal-planning app' } as const;
const audience = { key: 'audience', description: 'who the project serves', type: 'string', required: false, example: 'busy parents' } as const;

export const INITIAL_TEMPLATES: TemplateSeed[] = [
  { code: 'goals_surface_outcome', focus: 'goals', depth: 'surface', category: 'reflective', template: 'What would success look like for {topic} a year from now?', placeholders: [topic] },
  { code: 'goals_moderate_metric', focus: 'goals', depth: 'moderate', category: 'technical', template: 'Which single number would tell you {topic} is working?', placeholders: [topic] },
  { code: 'goals_deep_tradeoff', focus: 'goals', depth: 'deep', category: 'reflective', template: 'Which goal of {topic} would you give up first, and why that one?', placeholders: [topic] },
  { code: 'context_surface_origin', focus: 'context', depth: 'surface', category: 'creative', template: 'How did the idea for {topic} start?', placeholders: [topic] },
  { code: 'context_moderate_audience', focus: 'context', depth: 'moderate', category: 'reflective', template: 'What does a normal day look like for {audience} before {topic} exists?', placeholders: [topic, audience] },
  { code: 'context_deep_assumption', focus: 'context', depth: 'deep', category: 'reflective', template: 'What do you believe about {audience} that most people around {topic} would disagree with?', placeholders: [topic, audience] },
  { code: 'challenges_surface_blocker', focus: 'challenges', depth: 'surface', category: 'technical', template: 'What is blocking {topic} this week?', placeholders: [topic] },
  { code: 'challenges_moderate_risk', focus: 'challenges', depth: 'moderate', category: 'technical', template: 'Which risk to {topic} keeps you up at night, and what have you tried?', placeholders: [topic] },
  { code: 'challenges_deep_failure', focus: 'challenges', depth: 'deep', category: 'reflective', template: 'If {topic} failed, what would the most likely reason be?', placeholders: [topic] },
  { code: 'market_surface_competitor', focus: 'market', depth: 'surface', category: 'technical', template: 'Who else is trying to solve what {topic} solves?', placeholders: [topic] },
  { code: 'market_moderate_switch', focus: 'market', depth: 'moderate', category: 'reflective', template: 'Why would {audience} switch to {topic} from what they use today?', placeholders: [topic, audience] },
  { code: 'market_deep_pricing', focus: 'market', depth: 'deep', category: 'technical', template: 'What would {audience} pay for {topic}, and how do you know?', placeholders: [topic, audience] },
  { code: 'technology_surface_stack', focus: 'technology', depth: 'surface', category: 'technical', template: 'What is {topic} built with today?', placeholders: [topic] },
  { code: 'technology_moderate_bottleneck', focus: 'technology', depth: 'moderate', category: 'technical', template: 'Which part of {topic} will break first when usage grows tenfold?', placeholders: [topic] },
  { code: 'technology_deep_bet', focus: 'technology', depth: 'deep', category: 'creative', template: 'Which technical bet in {topic} is hardest to undo?', placeholders: [topic] },
  { code: 'regulation_surface_rules', focus: 'regulation', depth: 'surface', category: 'technical', template: 'Which rules or regulations touch {topic}?', placeholders: [topic] },
  { code: 'regulation_moderate_data', focus: 'regulation', depth: 'moderate', category: 'technical', template: 'What personal data does {topic} keep, and for how long?', placeholders: [topic] },
  { code: 'regulation_deep_change', focus: 'regulation', depth: 'deep', category: 'reflective', template: 'Which change in the law would most change {topic}?', placeholders: [topic] },
  { code: 'reflection_surface_learned', focus: 'reflection', depth: 'surface', category: 'reflective', template: 'What did you learn about {topic} since we last spoke?', placeholders: [topic] },
  { code: 'reflection_deep_again', focus: 'reflection', depth: 'deep', category: 'creative', template: 'Starting {topic} again today, what would you do differently?', placeholders: [topic] },
];

/** Inserts the templates whose code is new; returns the codes inserted. One transaction. */
export async function seedTemplates(connectionString: string, templates: TemplateSeed[] = INITIAL_TEMPLATES): Promise<string[]> {
  return withClient(connectionString, async (c: pg.ClientBase) => {
    const { rows } = await c.query<{ code: string }>(
      `INSERT INTO app.question_templates (code, focus, depth, category, template, variables)
       SELECT t.code, t.focus::app.interview_focus, t.depth::app.interview_depth, t.category::app.template_category, t.template,
              jsonb_build_object('placeholders', t.placeholders)
       FROM jsonb_to_recordset($1::jsonb) AS t(code text, focus text, depth text, category text, template text, placeholders jsonb)
       ON CONFLICT (code) DO NOTHING
       RETURNING code`,
      [JSON.stringify(templates)],
    );
    return rows.map((r) => r.code).sort();
  });
}
