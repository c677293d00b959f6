import type { Member, MemberInfo } from '../../../../durable-objects/contracts';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { authorize, ACCESS_LEVELS } from '../../identity/permissions/authorize';
import { ApiError } from '../../../lib/errors';
import type { CollabType } from '../../../../durable-objects/contracts';

const roomName = (type: CollabType, id: string) => `${type}:${id}`;
// Addressed by name, so partyserver knows the room's name in every entry point.
const room = (env: Env, type: CollabType, id: string) => env.COLLAB_ROOM.getByName(roomName(type, id));

/** Joins the room of a resource the user may read; they may edit with write access. */
export async function connect(env: Env, user: AuthUser, type: CollabType, id: string, request: Request): Promise<Response> {
  const access = await authorize(env, user, type, id, 'read');
  if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') throw new ApiError(426, 'UPGRADE_REQUIRED', 'Connect with a WebSocket (Upgrade: websocket)');
  const member: MemberInfo = {
    user: { id: user.id, email: user.email, nickname: user.nickname, role: user.role },
    can_edit: ACCESS_LEVELS.indexOf(access.level!) >= ACCESS_LEVELS.indexOf('write'),
    resource_type: type,
    resource_id: id,
  };
  const headers = new Headers(request.headers);
  headers.set('X-Collab-Member', JSON.stringify(member));
  // The token must not travel further than here.
  const url = new URL(request.url);
  url.searchParams.delete('token');
  return room(env, type, id).fetch(new Request(url, { method: 'GET', headers }));
}

export async function onlineUsers(env: Env, user: AuthUser, type: CollabType, id: string) {
  await authorize(env, user, type, id, 'read');
  // Declared by hand: the generated stub type cannot express the members' unknown-typed cursor fields.
  const stub = room(env, type, id) as unknown as { presence(): Promise<Member[]> };
  const users = await stub.presence();
  return { resource_type: type, resource_id: id, count: users.length, users };
}
