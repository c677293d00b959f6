import { z } from '@hono/zod-openapi';
import { COLLAB_TYPES } from '../../../../durable-objects/contracts';

export const RoomParams = z.object({
  resource_type: z.enum(COLLAB_TYPES).openapi({ param: { name: 'resource_type', in: 'path' } }),
  resource_id: z.string().min(1).openapi({ param: { name: 'resource_id', in: 'path' } }),
});

export const SocketQuery = z.object({ token: z.string().optional().meta({ description: 'The access token (browsers cannot set headers on sockets)' }) });

export const MemberSchema = z
  .object({
    connection_id: z.string(),
    user_id: z.string(),
    nickname: z.string(),
    can_edit: z.boolean(),
    cursor: z.unknown(),
    selection: z.unknown(),
    joined_at: z.string(),
  })
  .openapi('CollaborationMember');

export const OnlineUsersSchema = z
  .object({
    resource_type: z.enum(COLLAB_TYPES),
    resource_id: z.string(),
    count: z.int(),
    users: z.array(MemberSchema),
  })
  .openapi('CollaborationOnlineUsers');
