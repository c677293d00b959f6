import { z } from '@hono/zod-openapi';

/** `?page=&page_size=` (default 20, max 100), shared by every list endpoint. */
export const PaginationQuery = z.object({
  page: z.coerce.number().int().min(1).default(1).meta({ example: 1 }),
  page_size: z.coerce.number().int().min(1).max(100).default(20).meta({ example: 20 }),
});
export type Pagination = z.infer<typeof PaginationQuery>;

/** The list envelope `{items, total, page, page_size}` for an item schema. */
export function paginatedSchema<T extends z.ZodTypeAny>(item: T, name?: string) {
  const schema = z.object({
    items: z.array(item),
    total: z.int(),
    page: z.int(),
    page_size: z.int(),
  });
  return name ? schema.openapi(name) : schema;
}

export function pageBounds({ page, page_size }: Pagination) {
  return { limit: page_size, offset: (page - 1) * page_size };
}

export function paginated<T>(items: T[], total: number, { page, page_size }: Pagination) {
  return { items, total, page, page_size };
}

/** Paginates an in-memory list (registries, aggregates) the same way as a query. */
export function paginateArray<T>(all: T[], p: Pagination) {
  const { limit, offset } = pageBounds(p);
  return paginated(all.slice(offset, offset + limit), all.length, p);
}
