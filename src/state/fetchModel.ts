/**
 * Fetching a model's files by URL into the browser's storage: each file streams from the network into
 * the Cache API (never whole in the page's memory: the cache writes it to disk as it arrives), with its
 * bytes counted for progress, and is handed on as the Blob the cache gives back, which the browser keeps
 * on disk until something reads it. A reload finds the file there and fetches nothing. Where there is
 * no Cache API (Node tests, an insecure origin) the body is read into a Blob instead.
 */
import { QuantscopeError } from '../core/errors';
import { fileNameOfUrl } from '../data/modelRepo';

/** The cache the page's fetched models live in (bump the version to drop every stored model). */
export const MODEL_CACHE = 'quantscope-models-v1';

export interface FetchedFile {
  readonly name: string;
  readonly url: string;
  readonly blob: Blob;
  /** Found in the browser's storage: nothing was fetched. */
  readonly fromCache: boolean;
}

export type OnFetchProgress = (loaded: number, total: number | null) => void;

function isAbort(e: unknown, signal?: AbortSignal): boolean {
  return (e instanceof DOMException && e.name === 'AbortError') || signal?.aborted === true;
}

function pageOrigin(): string | null {
  return typeof location === 'undefined' ? null : location.origin;
}

/**
 * What a fetch that threw (not one the server answered) means. The browser tells a script nothing more
 * than "TypeError: Failed to fetch" both when the server is unreachable and when it answered without
 * allowing this page's origin (CORS), so a cross-origin failure names both, CORS first: it is by far
 * the more common cause for a server that is up.
 */
export function fetchFailure(url: string, e: unknown): QuantscopeError {
  const origin = pageOrigin();
  const target = new URL(url);
  if (origin && target.origin !== origin) {
    return new QuantscopeError(
      'URL_CORS',
      `${url}: the server at ${target.origin} does not allow this page (${origin}) to read it (CORS: it must answer ` +
        `with Access-Control-Allow-Origin for ${origin}), or it could not be reached. Download the files and drop ` +
        `them here instead.`,
    );
  }
  return new QuantscopeError(
    'URL_FETCH',
    `${url}: could not be fetched (${e instanceof Error ? e.message : String(e)})`,
  );
}

async function openCache(): Promise<Cache | null> {
  if (typeof caches === 'undefined') return null;
  try {
    return await caches.open(MODEL_CACHE);
  } catch {
    return null; // storage refused (a private window's quota, an insecure origin): fetch without keeping
  }
}

/**
 * The file's size from a HEAD request, or null when the server says it is not there (404 and the like).
 * A server that refuses the page's origin throws URL_CORS: every other probe would fail the same way.
 */
export async function probeFile(url: string, signal?: AbortSignal): Promise<{ size: number | null } | null> {
  const cached = await (await openCache())?.match(url);
  if (cached) return { size: Number(cached.headers.get('content-length')) || null };
  let r: Response;
  try {
    r = await fetch(url, { method: 'HEAD', signal });
  } catch (e) {
    if (isAbort(e, signal)) throw new QuantscopeError('CANCELLED', 'the fetch was cancelled');
    throw fetchFailure(url, e);
  }
  if (!r.ok) return null;
  return { size: Number(r.headers.get('content-length')) || null };
}

/**
 * One file from the browser's storage, or else from the network into it, with progress. A cancelled or
 * broken transfer leaves nothing stored (Cache.put commits only a complete body).
 */
export async function fetchToStorage(
  url: string,
  opts: { signal?: AbortSignal; onProgress?: OnFetchProgress } = {},
): Promise<FetchedFile> {
  const name = fileNameOfUrl(url);
  const cache = await openCache();
  const hit = await cache?.match(url);
  if (hit) {
    const blob = await hit.blob();
    opts.onProgress?.(blob.size, blob.size);
    return { name, url, blob, fromCache: true };
  }
  let r: Response;
  try {
    r = await fetch(url, { signal: opts.signal });
  } catch (e) {
    if (isAbort(e, opts.signal)) throw new QuantscopeError('CANCELLED', 'the fetch was cancelled');
    throw fetchFailure(url, e);
  }
  if (!r.ok || !r.body) throw new QuantscopeError('URL_FETCH', `${url}: the server answered HTTP ${r.status}`);
  const total = Number(r.headers.get('content-length')) || null;
  let loaded = 0;
  const counted = r.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, out) {
        loaded += chunk.byteLength;
        opts.onProgress?.(loaded, total);
        out.enqueue(chunk);
      },
    }),
  );
  const headers = { 'content-type': 'application/octet-stream', ...(total ? { 'content-length': String(total) } : {}) };
  let blob: Blob;
  try {
    if (cache) {
      await cache.put(url, new Response(counted, { headers }));
      blob = await (await cache.match(url))!.blob();
    } else {
      blob = await new Response(counted).blob();
    }
  } catch (e) {
    if (isAbort(e, opts.signal)) throw new QuantscopeError('CANCELLED', 'the fetch was cancelled');
    throw new QuantscopeError('URL_FETCH', `${url}: the transfer broke off after ${loaded} bytes (${String(e)})`);
  }
  if (total !== null && blob.size !== total) {
    await cache?.delete(url);
    throw new QuantscopeError('URL_FETCH', `${url}: ${blob.size} bytes arrived of the ${total} the server announced`);
  }
  return { name, url, blob, fromCache: false };
}
