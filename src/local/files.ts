// Files and folders of a stack, owned by the servers' OS user (ids null: the current user, nothing to change).
import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';

export type OwnerIds = { uid: number; gid: number } | null;

export function chownTo(path: string, ids: OwnerIds) {
  if (ids) chownSync(path, ids.uid, ids.gid);
}

export function writeOwnedFile(path: string, content: string, ids: OwnerIds, mode = 0o600) {
  writeFileSync(path, content, { mode });
  chownTo(path, ids);
}

/** A folder (mode 0700) the servers' user owns; `fresh` empties it first. */
export function ownedFolder(path: string, ids: OwnerIds, fresh = false) {
  if (fresh) rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chownTo(path, ids);
}
