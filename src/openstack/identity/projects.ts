import { z } from 'zod';

/** A Keystone v3 project. Extra properties given at create time come back as top-level fields. */
export const projectSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: z.string().nullish(),
  domain_id: z.string().optional(),
  tags: z.array(z.string()).optional(),
});

export type Project = z.infer<typeof projectSchema>;

export const projectResponseSchema = z.object({ project: projectSchema });
export const projectListResponseSchema = z.object({ projects: z.array(projectSchema) });

export interface NewProject {
  name: string;
  description: string;
  domainId: string;
  tags: string[];
  /** Properties Keystone stores beside the project's own (its `extra`), e.g. when we made it. */
  extra?: Record<string, string>;
}

export function createProjectBody(input: NewProject): unknown {
  return { project: { ...input.extra, name: input.name, description: input.description, domain_id: input.domainId, tags: input.tags, enabled: true } };
}

export const projectPaths = {
  projects: '/projects',
  project: (id: string) => `/projects/${encodeURIComponent(id)}`,
};
