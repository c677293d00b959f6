import type { CollabType } from '../../durable-objects/contracts';
import type { Env } from '../env';
import type { AuthUser } from '../lib/auth';
import { notFound } from '../lib/errors';

/**
 * What a collaboration room (durable-objects/collab-room.ts) edits, per resource type: the
 * editable fields of the resource as one JSON document (`load`), and how the room's document is
 * saved. The collaboration module registers one adapter per type at import time (as modules
 * register tools); the CollabRoom actor runs in the same isolate as the app, so it finds them here.
 */

export type CollabDocument = Record<string, unknown>;

export interface DocumentAdapter {
  fields: readonly string[];
  load(env: Env, id: string): Promise<{ document: CollabDocument; version: number } | null>;
  save(env: Env, user: AuthUser, id: string, document: CollabDocument): Promise<{ version: number }>;
}

const adapters = new Map<CollabType, DocumentAdapter>();

/** Adds the adapter of a resource type; a type can be registered once. */
export function registerDocumentType(type: CollabType, adapter: DocumentAdapter): void {
  if (adapters.has(type)) throw new Error(`Collaboration document type ${type} is already registered`);
  adapters.set(type, adapter);
}

export function documentAdapter(type: CollabType): DocumentAdapter {
  const adapter = adapters.get(type);
  if (!adapter) throw new Error(`No collaboration document adapter for ${type}`);
  return adapter;
}

export async function loadDocument(env: Env, type: CollabType, id: string) {
  const loaded = await documentAdapter(type).load(env, id);
  if (!loaded) throw notFound(type === 'agent' ? 'Agent' : 'Workflow');
  return loaded;
}
