import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { errorResponse, errors, jsonContent } from '../../../lib/schemas';
import { OnlineUsersSchema, RoomParams, SocketQuery } from './schemas';

const tags = ['collaboration'];

/**
 * The room's WebSocket (`?token=<JWT or API key>`): read access joins, write access edits. See
 * durable-objects/collab-room.ts for the message protocol.
 */
export const socket = createRoute({
  tags,
  method: 'get',
  path: '/{resource_type}/{resource_id}/ws',
  summary: 'WebSocket of the editing room of an agent or workflow: document state, presence, sequenced edits, save',
  request: { params: RoomParams, query: SocketQuery },
  responses: {
    101: { description: 'Switching protocols: the socket is open; the first message is {type:"sync", ...}' },
    ...errors(401, 404, 422),
    426: errorResponse('Not a WebSocket upgrade request'),
  },
});

export const users = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/{resource_type}/{resource_id}/users',
  summary: 'Who is in the editing room of a resource now, with cursors and selections',
  request: { params: RoomParams },
  responses: { 200: jsonContent(OnlineUsersSchema, 'The online users'), ...errors(401, 404, 422) },
});
