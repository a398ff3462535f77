// The paged job list (GET /1/jobs for a user, GET /1/admin/jobs for everyone's).
import { and, asc, desc, eq, gt, lt, type SQL } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { JobListEntryResultsPage } from '../../shared/api/types.js';
import type { ServerContext } from '../context.js';
import { jobs } from '../db/schema.js';
import { badRequest } from '../http/errors.js';
import { queryBool, queryInt, queryString } from '../http/params.js';
import { isUlid } from '../../shared/ids.js';
import { jobState } from '../model/jobs.js';

export function listJobsPage(
  ctx: ServerContext,
  req: FastifyRequest,
  owner: string | undefined,
): JobListEntryResultsPage {
  const limit = queryInt(req, 'limit', 1, 1000) ?? 100;
  const token = queryString(req, 'page_token');
  const recent = queryBool(req, 'recent_first') ?? false;
  const tag = queryString(req, 'tag');
  if (token !== undefined && token !== '' && !isUlid(token))
    throw badRequest(`page_token ${JSON.stringify(token)} is not a token this server returned`);
  const conds: SQL[] = [];
  if (owner) conds.push(eq(jobs.owner, owner));
  if (token) conds.push(recent ? lt(jobs.id, token) : gt(jobs.id, token));
  const q = ctx.db
    .select()
    .from(jobs)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(recent ? desc(jobs.id) : asc(jobs.id));
  // Without a tag filter only the page (and one more, to know there is a next page) is read.
  let rows = tag ? q.all() : q.limit(limit + 1).all();
  if (tag) {
    const [k, v] = tag.includes('=')
      ? [tag.slice(0, tag.indexOf('=')), tag.slice(tag.indexOf('=') + 1)]
      : [tag, undefined];
    rows = rows.filter((j) => k in j.tags && (v === undefined || j.tags[k] === v));
  }
  const page = rows.slice(0, limit);
  return {
    items: page.map((j) => ({
      id: j.id,
      name: j.name,
      owner: j.owner,
      state: jobState(j),
      target: j.target,
      target_id: j.targetId,
      cancelled: j.cancelled,
    })),
    next_page: rows.length > limit ? page[page.length - 1].id : null,
  };
}
