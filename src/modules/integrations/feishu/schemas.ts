import { z } from '@hono/zod-openapi';
import { orNull } from '../../../lib/schemas';

const OpenId = z.string().min(1).max(100).meta({ example: 'ou_7d8a6e6df7621556ce0d21922b676706ccs' });

export const EventBody = z
  .record(z.string(), z.unknown())
  .openapi('FeishuEventBody', { description: 'A Feishu event callback: `{"encrypt": "<base64>"}`, or the plain payload when no Encrypt Key is set' });

export const EventAck = z.object({ challenge: z.string().optional() }).openapi('FeishuEventAck');

export const BindingSchema = z
  .object({
    open_id: z.string(),
    user_id: z.string(),
    agent_id: z.string().nullable().meta({ description: 'The agent the Feishu user talks to; null: the default agent' }),
    name: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('FeishuBinding');

export const BindBody = z
  .object({
    open_id: OpenId,
    code: z.string().min(4).max(32).meta({ description: 'The one-time code the bot showed in Feishu', example: 'K7Q2M9' }),
    agent_id: z.uuid().nullable().optional().meta({ description: 'One of your agents to talk to (default: the default agent)' }),
  })
  .openapi('FeishuBindRequest');

export const UnbindBody = z
  .object({ open_id: OpenId.optional().meta({ description: 'Admins: whose binding to remove; others always remove their own' }) })
  .openapi('FeishuUnbindRequest');

export const LookupBody = z.object({ open_id: OpenId }).openapi('FeishuLookupRequest');

export const LookupSchema = z
  .object({ open_id: z.string(), bound: z.boolean(), binding: orNull(BindingSchema), pending_request: z.boolean() })
  .openapi('FeishuLookup');

export const StatusSchema = z
  .object({
    configured: z.boolean().meta({ description: 'App id and secret are set' }),
    verification_token_set: z.boolean(),
    encrypt_key_set: z.boolean(),
    api_base: z.string(),
    token_ok: z.boolean().meta({ description: 'A tenant_access_token could be obtained' }),
    token_error: z.string().nullable(),
    last_api_failure: z
      .object({ at: z.string(), operation: z.string().meta({ description: 'tenant_access_token, bot_info, reply or send_message' }), error: z.string() })
      .nullable()
      .meta({ description: 'The last failed call of the open API (a reply of the event queue, the feishu_send_message tool, this status check); null if none' }),
    default_agent_id: z.string().nullable(),
    bindings: z.int(),
    pending_requests: z.int(),
    events_last_24h: z.int(),
  })
  .openapi('FeishuStatus');

export const BindingRequestSchema = z
  .object({
    id: z.string(),
    open_id: z.string(),
    chat_id: z.string().nullable(),
    name: z.string().nullable(),
    status: z.enum(['pending', 'bound', 'rejected']),
    user_id: z.string().nullable(),
    code_expires_at: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('FeishuBindingRequest');

export const BindPendingBody = z
  .object({
    request_id: z.uuid(),
    approve: z.boolean().default(true),
    user_id: z.uuid().optional().meta({ description: 'The platform user to bind to (required when approving)' }),
    agent_id: z.uuid().nullable().optional(),
  })
  .openapi('FeishuBindPendingRequest');

export const BindPendingResult = z
  .object({ request: BindingRequestSchema, binding: orNull(BindingSchema) })
  .openapi('FeishuBindPendingResult');

export const DefaultAgentSchema = z
  .object({ agent_id: z.string().nullable(), agent_name: z.string().nullable() })
  .openapi('FeishuDefaultAgent');

export const DefaultAgentBody = z.object({ agent_id: z.uuid().nullable() }).openapi('FeishuDefaultAgentRequest');

export type Binding = z.infer<typeof BindingSchema>;
export type BindingRequest = z.infer<typeof BindingRequestSchema>;
