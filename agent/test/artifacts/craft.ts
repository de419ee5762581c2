/**
 * Builds tar.gz archives byte by byte, including the hostile ones node-tar's packer refuses to
 * write (absolute paths, "..", FIFOs), so the extractor's defences can be tested.
 */
import { gzipSync } from "node:zlib";
import { Header, Pax } from "tar";

export interface CraftedEntry {
  path: string;
  type: "File" | "Directory" | "SymbolicLink" | "Link" | "FIFO" | "CharacterDevice";
  linkpath?: string;
  body?: string | Buffer;
}

export function craftArchive(entries: readonly CraftedEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = typeof entry.body === "string" ? Buffer.from(entry.body) : (entry.body ?? Buffer.alloc(0));
    const data = {
      path: entry.path,
      type: entry.type,
      linkpath: entry.linkpath,
      size: body.length,
      mode: entry.type === "Directory" ? 0o755 : 0o644,
      uid: 0,
      gid: 0,
      mtime: new Date(0),
    };
    const header = new Header(data);
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    if (header.needPax) blocks.push(new Pax(data).encode());
    blocks.push(block);
    if (body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
